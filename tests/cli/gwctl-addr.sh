#!/usr/bin/env bash
# Checks `gwctl addr` against a table of inputs and the exact canonical text (or an error).
# usage: gwctl-addr.sh GWCTL TABLE   (TABLE: lines "INPUT<TAB>EXPECTED", EXPECTED "error" or text)
set -u
gwctl=$1
table=$2
passed=0
failed=0

while IFS=$'\t' read -r input expected; do
	[[ -z $input || $input == \#* ]] && continue
	out=$("$gwctl" addr "$input" 2>/tmp/gwctl-addr-err.$$)
	rc=$?
	err=$(cat /tmp/gwctl-addr-err.$$)
	if [[ $expected == error ]]; then
		# exit 1, nothing on stdout, exactly one line on stderr naming the input
		if ((rc == 1)) && [[ -z $out && $(wc -l <<<"$err") -eq 1 && $err == *"'$input'"* ]]; then
			passed=$((passed + 1))
		else
			echo "FAIL: '$input': want an error, got rc=$rc out='$out' err='$err'"
			failed=$((failed + 1))
		fi
	elif ((rc == 0)) && [[ $out == "$expected" && -z $err ]]; then
		passed=$((passed + 1))
	else
		echo "FAIL: '$input': want '$expected', got rc=$rc out='$out' err='$err'"
		failed=$((failed + 1))
	fi
done <"$table"
rm -f /tmp/gwctl-addr-err.$$

# Several arguments: valid ones printed in order, invalid ones reported, exit status 1.
out=$("$gwctl" addr '192.0.2.1 + 5' 'bad' 'gw + 0-705' 2>/dev/null)
if [[ $? -eq 1 && $out == $'192.0.2.1 + 5\ngw + 1797' ]]; then
	passed=$((passed + 1))
else
	echo "FAIL: mixed arguments: got '$out'"
	failed=$((failed + 1))
fi
# --hex prints 16-bit groups; no argument is a usage error (exit 2).
out=$("$gwctl" addr --hex '198.18.0.2 + 1797' '192.0.2.1 + 116641317238923459704')
if [[ $out == $'198.18.0.2 + 0-705\n192.0.2.1 + 6-52b9-3409-5fad-fc78' ]]; then
	passed=$((passed + 1))
else
	echo "FAIL: --hex: got '$out'"
	failed=$((failed + 1))
fi
"$gwctl" addr >/dev/null 2>&1
if [[ $? -eq 2 ]]; then passed=$((passed + 1)); else echo "FAIL: no argument"; failed=$((failed + 1)); fi
# A control character in a rejected argument stays on one line.
err=$("$gwctl" addr $'1.2.3.4 + 5\nX' 2>&1 >/dev/null)
if [[ $(wc -l <<<"$err") -eq 1 && $err == *'\x0a'* ]]; then
	passed=$((passed + 1))
else
	echo "FAIL: control character: got '$err'"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
((failed == 0))
