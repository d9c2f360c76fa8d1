#!/usr/bin/env bash
# The sample dataplane.conf is valid, a bad file is refused with its line and column, and the
# key of earlier releases (gwctl-config) with what to write instead. usage: check-config.sh IPREF-DATAPLANE DIST-DIR
set -euo pipefail
dp=$1
dist=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$dist/dataplane.conf" "$work/ok.conf"
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
printf 'gwctl-config = /etc/ipref/gwctl.conf\n' >"$work/old.conf"
if err=$("$dp" --check --config "$work/old.conf" 2>&1); then
	echo "gwctl-config was accepted"
	exit 1
fi
[[ $err == *"old.conf:1:16: "*"gwctl-socket = PATH"* ]] || {
	echo "unexpected message for gwctl-config: $err"
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
echo "ok: sample valid, bad files and the old gwctl-config refused"
