#!/usr/bin/env bash
# Runs the shell blocks of docs/operations.md's "A lab on one machine" as they stand, with this
# build's binaries, namespaces tagged with this PID and a temporary folder, and removes what
# they made also when one fails. usage: check-lab.sh OPERATIONS.md GWCTLD GWCTL DATAPLANE
set -euo pipefail
doc=$1
if [[ $(id -u) != 0 ]]; then
	echo "SKIP: the lab needs root for network namespaces and TUN devices"
	exit 77
fi
bin=$(mktemp -d)
for exe in "$2" "$3" "$4"; do ln -s "$(realpath "$exe")" "$bin/$(basename "$exe")"; done
export PATH="$bin:$PATH" LAB="ipr$$lab" DIR
DIR=$(mktemp -d)
rmdir "$DIR" # the lab makes it
script="$bin/lab.sh"
# the ```sh blocks between the section's heading and the next one
awk '/^## A lab on one machine/ {on = 1; next} /^## / {on = 0}
     on && /^```sh$/ {code = 1; next} code && /^```$/ {code = 0; next} code' "$doc" >"$script"
[[ -s $script ]] || {
	echo "no shell blocks found in the lab section of $doc"
	exit 1
}
cleanup() {
	if [[ -f $DIR/pids ]]; then
		while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$DIR/pids"
	fi
	for n in inet gwa gwb ha hb; do ip netns del "$LAB-$n" 2>/dev/null || true; done
	rm -rf "$DIR" "$bin"
}
trap cleanup EXIT
if ! bash -euo pipefail "$script"; then
	echo "the lab's commands failed; logs:"
	cat "$DIR"/a/log "$DIR"/b/log 2>/dev/null || true
	exit 1
fi
# the last block removed everything
for n in inet gwa gwb ha hb; do
	if ip netns list | grep -qw "$LAB-$n"; then
		echo "namespace $LAB-$n left behind"
		exit 1
	fi
done
echo "ok: the lab's commands ran, hosts reached each other, all removed"
