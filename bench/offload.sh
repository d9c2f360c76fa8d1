#!/usr/bin/env bash
# Single-stream TCP through two gateways, in the same run: the plain TUN<->UDP relay
# (bench/relay.c, no offloads), ipref-dataplane with its offloads off, ipref-dataplane with
# them on (TUN TSO + UDP GSO + UDP GRO + TCP coalescing), and the kernel routing the same
# topology with no tunnel at all (veth only). ROUNDS rounds (default 3) in rotating order;
# prints every round, the medians and the spread as Markdown, and writes an SVG plot.
# PERF=1 also samples the whole machine (perf, cpu-clock) during one more run with offloads
# on and prints where the time goes.
# Usage (root): bash bench/offload.sh [SVG-PATH] (default docs/offload-bench.svg)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
svg=${1:-docs/offload-bench.svg}
build=${BUILD:-build-bench}
seconds=${SECONDS_PER_RUN:-5} # a TCP run lasts twice this
rounds=${ROUNDS:-3}

source "$top/bench/netns.sh"

offloads_off="tun-offload = off
udp-gso = off
udp-gro = off"

# The same path routed by the kernels of the gateways and the "Internet" namespace.
veth_routes() { # add|del
	ip -n "$(ns ga)" route "$1" 10.2.0.0/24 via 198.18.1.254
	ip -n "$(ns gb)" route "$1" 10.1.0.0/24 via 198.18.2.254
	ip -n "$(ns net)" route "$1" 10.1.0.0/24 via 198.18.1.1
	ip -n "$(ns net)" route "$1" 10.2.0.0/24 via 198.18.2.1
}

start_mode() { # mode -> sets target
	case $1 in
	relay)
		start_relay
		target=10.2.0.2
		;;
	ipref-off | ipref-on)
		for side in a b; do
			dataplane_conf $side "$([[ $1 == ipref-off ]] && echo "$offloads_off")"
		done
		start_ipref
		target=10.240.0.21
		;;
	veth)
		veth_routes add
		target=10.2.0.2
		;;
	esac
	ip netns exec "$(ns c)" ping -c 2 -W 2 "$target" >/dev/null
}

stop_mode() {
	[[ $1 == veth ]] && veth_routes del
	stop_forwarders
}

modes=(relay ipref-off ipref-on veth)
declare -A results
: >"$work/rounds"
for round in $(seq "$rounds"); do
	# a different mode goes first each round
	order=("${modes[@]:$(((round - 1) % 4))}" "${modes[@]:0:$(((round - 1) % 4))}")
	for mode in "${order[@]}"; do
		start_mode "$mode"
		t=$(tcp_rate "$target")
		printf 'round %s %s: TCP %d Mbit/s\n' "$round" "$mode" $((t / 1000000)) |
			tee -a "$work/rounds" >&2
		results[$mode]="${results[$mode]:-} $t"
		if [[ $mode == ipref-on ]]; then
			sleep 2.5 # the next counter report
			for side in a b; do
				ip netns exec "$(ns g$side)" "$build/gwctl/gwctl" \
					--socket "$work/$side/gwctl.sock" stats |
					awk -v s="$side" '/^dataplane\.(drop|offload|tun|udp)/ && $2 > 0 {
						printf "  %s %s %s\n", s, $1, $2 }' >&2
			done
		fi
		stop_mode "$mode"
	done
done

if [[ ${PERF:-0} == 1 ]]; then
	for mode in ipref-on ipref-off; do
		start_mode "$mode"
		iperf_server 5201
		ip netns exec "$(ns c)" iperf3 -c "$target" -p 5201 -t $((2 * seconds + 2)) \
			>/dev/null &
		client=$!
		sleep 1
		perf record -q -e cpu-clock -a -g -o "$work/perf.data" -- sleep $((2 * seconds)) \
			2>/dev/null
		wait $client || true
		echo
		# awk, not head: an early close would kill perf with SIGPIPE under pipefail
		echo "perf, $mode: share of all samples (2 cores) by process, by process and"
		echo "kernel or user space, then by symbol"
		for sort in comm comm,dso comm,sym; do
			echo
			perf report -i "$work/perf.data" --no-children --sort $sort --stdio \
				-g none 2>/dev/null |
				awk -v n=$([[ $sort == comm,sym ]] && echo 25 || echo 8) \
					'/^ +[0-9]/ && k++ < n { print "    " $0 }'
		done
		stop_mode "$mode"
	done
fi

python3 - "$svg" "${results[relay]}" "${results[ipref-off]}" "${results[ipref-on]}" \
	"${results[veth]}" <<'PY'
import statistics, sys
svg = sys.argv[1]
names = ["relay", "ipref-off", "ipref-on", "veth"]
labels = {"relay": "plain relay, no offloads", "ipref-off": "ipref-dataplane, offloads off",
          "ipref-on": "ipref-dataplane, offloads on", "veth": "kernel only (veth, no tunnel)"}
runs = {n: [int(x) / 1e6 for x in a.split()] for n, a in zip(names, sys.argv[2:])}
med = {n: statistics.median(v) for n, v in runs.items()}
print("| path | median Mbit/s | min - max | runs | ratio to the relay |")
print("|---|---|---|---|---|")
for n in names:
    v = runs[n]
    print(f"| {labels[n]} | {med[n]:.0f} | {min(v):.0f} - {max(v):.0f} | {len(v)} | "
          f"{med[n] / med['relay']:.2f} |")
w, h, top = 560, 300, 50
scale = 200 / max(max(v) for v in runs.values())
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
       '<text x="10" y="18" font-size="14">Single-stream TCP through two gateways, Mbit/s (median, min-max)</text>']
colors = {"relay": "#999", "ipref-off": "#8ab", "ipref-on": "#36c", "veth": "#c63"}
for i, n in enumerate(names):
    x = 30 + i * 130
    bh = med[n] * scale
    out.append(f'<rect x="{x}" y="{top + 200 - bh:.1f}" width="80" height="{bh:.1f}" fill="{colors[n]}"/>')
    lo, hi = min(runs[n]) * scale, max(runs[n]) * scale
    out.append(f'<line x1="{x + 40}" x2="{x + 40}" y1="{top + 200 - hi:.1f}" y2="{top + 200 - lo:.1f}" stroke="black"/>')
    out.append(f'<text x="{x}" y="{top + 195 - max(bh, hi):.1f}">{med[n]:,.0f}</text>')
    out.append(f'<text x="{x}" y="{top + 218}">{n}</text>')
out.append('</svg>')
open(svg, "w").write("\n".join(out) + "\n")
PY
echo
echo "Every round:"
echo
sed 's/^/    /' "$work/rounds"
