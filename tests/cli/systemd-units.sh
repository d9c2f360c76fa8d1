#!/usr/bin/env bash
# Checks the systemd units meson generated from dist/systemd/*.in (in the build's dist/) with
# systemd-analyze verify. The programs are not installed on a build machine, so "is not
# executable" is the one complaint accepted here; tests/install/check-install.sh checks the
# installed units with their programs in place.
# usage: systemd-units.sh BUILD_DIST_DIR
set -u
dist=$1
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
passed=0 failed=0
for unit in "$dist"/*.service "$dist"/*.socket; do
	out=$(systemd-analyze verify --man=no "$unit" 2>&1 | grep -v 'is not executable: No such file')
	if [[ -z $out ]]; then
		echo "ok   $(basename "$unit")"
		passed=$((passed + 1))
	else
		echo "FAIL $(basename "$unit"):"
		echo "$out"
		failed=$((failed + 1))
	fi
done
# the socket and the service agree on nothing by name but the unit names; the daemon checks the
# path, so the unit's must be the sample gwctl.conf's
sock=$(sed -n 's/^ListenSequentialPacket=//p' "$dist/gwctld.socket")
if grep -qx "socket = $sock" "$dist/gwctl.conf"; then
	echo "ok   gwctld.socket listens where the sample gwctl.conf says"
	passed=$((passed + 1))
else
	echo "FAIL gwctld.socket listens on $sock, not the sample gwctl.conf's socket"
	failed=$((failed + 1))
fi
# the drop-in (built with the module) must at least parse as a unit file section by section
dropin=$dist/unbound-ipref.conf
if [[ ! -f $dropin ]]; then
	echo "(no unbound.service drop-in: the module is not built here)"
elif grep -q '^\[Service\]' "$dropin" && grep -q '^ExecStart=$' "$dropin"; then
	echo "ok   unbound.service.d/ipref.conf"
	passed=$((passed + 1))
else
	echo "FAIL $dropin: no [Service] section resetting ExecStart"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
