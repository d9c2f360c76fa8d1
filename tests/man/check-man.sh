#!/usr/bin/env bash
# Every man page renders with man -l, all of groff's warnings on (-ww), without a warning, and
# has its sections. usage: check-man.sh PAGE...
set -u
if ! command -v man >/dev/null; then
	echo "SKIP: man (package man-db) is not installed"
	exit 77
fi
passed=0 failed=0
for page in "$@"; do
	name=$(basename "$page")
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null)
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null)
	missing=""
	for section in NAME DESCRIPTION "SEE ALSO"; do
		grep -qx "$section" <<<"$out" || missing+=" $section"
	done
	if [[ -n $err || -n $missing || $out == *@[A-Z]*@* ]]; then
		echo "FAIL $name:${missing:+ no$missing}"
		[[ -n $err ]] && echo "$err"
		failed=$((failed + 1))
	else
		echo "ok   $name ($(wc -l <<<"$out") lines)"
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
