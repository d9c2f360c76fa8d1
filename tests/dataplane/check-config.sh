#!/usr/bin/env bash
# The sample dataplane.conf is valid (pointed at the sample gwctl.conf), and a bad file is refused
# with its line and column. usage: check-config.sh IPREF-DATAPLANE DIST-DIR
set -euo pipefail
dp=$1
dist=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed "s|^gwctl-config = .*|gwctl-config = $dist/gwctl.conf|" "$dist/dataplane.conf" >"$work/ok.conf"
out=$("$dp" --check --config "$work/ok.conf")
[[ $out == *"configuration is valid"* ]] || {
	echo "sample refused: $out"
	exit 1
}
printf 'tun = x\nport = 0\n' >"$work/bad.conf"
if err=$("$dp" --check --config "$work/bad.conf" 2>&1); then
	echo "a bad file was accepted"
	exit 1
fi
[[ $err == *"bad.conf:2:8: "* ]] || {
	echo "unexpected message: $err"
	exit 1
}
printf 'gwctl-config = %s/missing.conf\n' "$work" >"$work/nogw.conf"
if err=$("$dp" --check --config "$work/nogw.conf" 2>&1); then
	echo "a missing gwctl.conf was accepted"
	exit 1
fi
[[ $err == *"missing.conf"* ]] || {
	echo "unexpected message: $err"
	exit 1
}
# a device never ends: refused at once, not read
if err=$(timeout 20 "$dp" --check --config /dev/zero 2>&1); then
	echo "/dev/zero was accepted"
	exit 1
fi
[[ $err == *"/dev/zero: not a regular file"* ]] || {
	echo "unexpected message for /dev/zero: $err"
	exit 1
}
echo "ok: sample valid, bad files refused"
