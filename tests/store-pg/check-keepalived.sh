#!/usr/bin/env bash
# The keepalived sample of docs/store.md passes `keepalived --config-test`, in a network
# namespace of its own holding the interfaces it names. usage: check-keepalived.sh STORE_MD
set -euo pipefail
doc=$1
if ((EUID != 0)); then
	echo "SKIP: the keepalived check makes a network namespace: run it as root"
	exit 77
fi
keepalived=$(command -v keepalived || echo /usr/sbin/keepalived)
if [[ ! -x $keepalived ]]; then
	echo "SKIP: keepalived is not installed (Debian: keepalived; tools/setup installs it)"
	exit 77
fi
ns=ipref-ka-$$
tmp=$(mktemp -d)
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# the first fenced block after the keepalived heading
awk '/^### Moving the addresses: keepalived/ { s = 1 } s && /^```/ { if (b) exit; b = 1; next }
     b { print }' "$doc" >"$tmp/keepalived.conf"
grep -q vrrp_instance "$tmp/keepalived.conf" || {
	echo "FAIL: no keepalived sample found in $doc"
	exit 1
}
# --config-test wants the tracked script to exist; gwctl need not be installed here
sed -i "s#\"/usr/bin/gwctl health\"#\"$(command -v true)\"#" "$tmp/keepalived.conf"

ip netns add "$ns"
for i in $(sed -n 's/^ *interface \(.*\)$/\1/p' "$tmp/keepalived.conf" | sort -u); do
	ip -n "$ns" link add "$i" type veth peer name "p$i"
done
if ! out=$(ip netns exec "$ns" "$keepalived" --config-test -f "$tmp/keepalived.conf" 2>&1) ||
	[[ -n $out ]]; then
	echo "FAIL: keepalived --config-test on the sample of $doc:"
	echo "$out"
	exit 1
fi
echo "ok: the keepalived sample of $doc passes keepalived --config-test"
