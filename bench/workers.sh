#!/usr/bin/env bash
# TCP through two gateways with one and with two dataplane workers (`workers`, issue 22), one
# stream and four, offloads on, in the same run: ROUNDS rounds (default 3) in rotating order;
# prints every round and the medians with the ratio of two workers to one as Markdown.
# Usage (root): bash bench/workers.sh    (BUILD=build by default: any build of the suite)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
build=${BUILD:-build}
seconds=${SECONDS_PER_RUN:-5} # a TCP run lasts twice this
rounds=${ROUNDS:-3}

source "$top/bench/netns.sh"

modes=("1 1" "2 1" "1 4" "2 4") # workers streams
declare -A results
for round in $(seq "$rounds"); do
	order=("${modes[@]:$(((round - 1) % 4))}" "${modes[@]:0:$(((round - 1) % 4))}")
	for mode in "${order[@]}"; do
		read -r workers streams <<<"$mode"
		for side in a b; do dataplane_conf $side "workers = $workers"; done
		start_ipref
		ip netns exec "$(ns c)" ping -c 2 -W 2 10.240.0.21 >/dev/null
		t=$(IPERF_ARGS="-P $streams" tcp_rate 10.240.0.21)
		printf 'round %s: %s worker(s), %s stream(s): %d Mbit/s\n' "$round" "$workers" \
			"$streams" $((t / 1000000)) >&2
		results[$mode]="${results[$mode]:-} $t"
		if ((workers > 1)); then
			sleep 2.5 # the next counter report: which worker carried what
			for side in a b; do
				ip netns exec "$(ns g$side)" "$build/gwctl/gwctl" \
					--socket "$work/$side/gwctl.sock" stats |
					awk -v s="$side" '/^dataplane\.worker[0-9]/ {
						printf "  %s %s %s\n", s, $1, $2 }' >&2
			done
		fi
		stop_forwarders
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "| streams | 1 worker Mbit/s | 2 workers Mbit/s | 2 / 1 |"
echo "|---|---|---|---|"
for streams in 1 4; do
	one=$(median <<<"${results[1 $streams]}")
	two=$(median <<<"${results[2 $streams]}")
	printf '| %s | %d | %d | %s |\n' "$streams" $((one / 1000000)) $((two / 1000000)) \
		"$(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2f", a / b }')"
done
