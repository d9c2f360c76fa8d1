#!/usr/bin/env bash
# Checks the systemd units in dist/ with systemd-analyze verify. The programs are not installed
# on a build machine, so "is not executable" is the one complaint accepted.
# usage: systemd-units.sh DIST_DIR
set -u
dist=$1
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
passed=0 failed=0
for unit in "$dist"/systemd/*.service; do
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
# the drop-in must at least parse as a unit file section by section
dropin=$dist/systemd/unbound.service.d/ipref.conf
if grep -q '^\[Service\]' "$dropin" && grep -q '^ExecStart=$' "$dropin"; then
	echo "ok   $(basename "$dropin")"
	passed=$((passed + 1))
else
	echo "FAIL $dropin: no [Service] section resetting ExecStart"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
