#!/usr/bin/env bash
# Single-stream TCP through two gateways, in the same run: the plain TUN<->UDP relay
# (bench/relay.c, no offloads), ipref-dataplane with its offloads off, ipref-dataplane with
# them on (TUN TSO + UDP GSO + UDP GRO + TCP coalescing), and the kernel routing the same
# topology with no tunnel at all (veth only). ROUNDS rounds (default 3) in rotating order;
# prints every round, the medians and the spread as Markdown, and writes an SVG plot.
# BUILDS="NAME=DIR ..." adds ipref-dataplane with offloads off and on (modes NAME-off, NAME-on)
# from other builds (release builds of the commits to compare with), so that before and after
# come from the same run; BASE_BUILD=DIR is BUILDS="base=DIR".
# Each round also gives the forwarders' CPU time (user + system, both gateways) per megabyte
# carried: what the path costs, which a busy machine blurs less than the rate it reaches.
# A round where iperf3 gives no result is reported as failed and left out of the figures.
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
	*-off | *-on)
		for side in a b; do
			dataplane_conf $side "$([[ $1 == *-off ]] && echo "$offloads_off")"
		done
		[[ $1 == ipref-* ]] || build=${other_builds[${1%-*}]}
		start_ipref
		build=$own_build
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

own_build=$build
modes=(relay ipref-off ipref-on veth)
declare -A other_builds
for b in ${BUILDS:-${BASE_BUILD:+base=$BASE_BUILD}}; do
	other_builds[${b%%=*}]=${b#*=}
	modes+=("${b%%=*}-off" "${b%%=*}-on")
done
declare -A results cpu_mb
hz=$(getconf CLK_TCK)
: >"$work/rounds"
for round in $(seq "$rounds"); do
	# a different mode goes first each round
	first=$(((round - 1) % ${#modes[@]}))
	order=("${modes[@]:$first}" "${modes[@]:0:$first}")
	for mode in "${order[@]}"; do
		start_mode "$mode"
		c0=$(cpu)
		read -r -a each0 <<<"$(cpu_each)"
		read -r busy0 all0 <<<"$(machine_ticks)"
		t=$(tcp_rate "$target")
		c1=$(cpu)
		read -r -a each1 <<<"$(cpu_each)"
		read -r busy1 all1 <<<"$(machine_ticks)"
		# where the limit is: each gateway's share of one core, the machine's of all of them
		share="machine busy $(((busy1 - busy0) * 100 / (all1 - all0)))%"
		if [[ $mode != veth ]]; then
			share+=", gateway A $(((each1[0] - each0[0]) * 100 / (hz * 2 * seconds)))%"
			share+=" and B $(((each1[1] - each0[1]) * 100 / (hz * 2 * seconds)))% of a core"
		fi
		if ((t == 0)); then
			printf 'round %s %s: failed (iperf3 gave no result)\n' "$round" "$mode" |
				tee -a "$work/rounds" >&2
		else
			# CPU microseconds of both forwarders per megabyte carried
			us_mb=$(((c1 - c0) * 1000000000000 / hz / (t * 2 * seconds / 8)))
			printf 'round %s %s: TCP %d Mbit/s, forwarders %s us CPU per MB; %s\n' \
				"$round" "$mode" $((t / 1000000)) \
				"$([[ $mode == veth ]] && echo - || echo "$us_mb")" "$share" |
				tee -a "$work/rounds" >&2
			cpu_mb[$mode]="${cpu_mb[$mode]:-} $us_mb"
			results[$mode]="${results[$mode]:-} $t"
		fi
		if [[ $mode == *-on ]]; then
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

args=("$svg")
for mode in "${modes[@]}"; do args+=("$mode=${results[$mode]:-}"); done
args+=("--")
for mode in "${modes[@]}"; do args+=("$mode=${cpu_mb[$mode]:-}"); done
python3 - "${args[@]}" <<'PY'
import statistics, sys
svg = sys.argv[1]
labels = {"relay": "plain relay, no offloads", "ipref-off": "ipref-dataplane, offloads off",
          "ipref-on": "ipref-dataplane, offloads on", "veth": "kernel only (veth, no tunnel)",
}
runs, cpu = {}, {}
sep = sys.argv.index("--")
for a in sys.argv[2:sep]:
    n, _, v = a.partition("=")
    runs[n] = [int(x) / 1e6 for x in v.split()]
for a in sys.argv[sep + 1:]:
    n, _, v = a.partition("=")
    cpu[n] = [int(x) for x in v.split()]
names = [n for n in runs if runs[n]]  # a mode whose every round failed has no figures
med = {n: statistics.median(runs[n]) for n in names}
rel = lambda n, d: f"{med[n] / med[d]:.2f}" if d in med else "-"
for n in runs:
    if n not in labels:
        labels[n] = f"{n[:-3] if n.endswith('-on') else n[:-4]}'s ipref-dataplane, offloads {n.rsplit('-', 1)[1]}"
print("| path | median Mbit/s | min - max | runs | ratio to the relay | to kernel only | "
      "forwarders' CPU per MB (median) |")
print("|---|---|---|---|---|---|---|")
for n in names:
    v = runs[n]
    c = f"{statistics.median(cpu[n]):.0f} us" if n != "veth" and cpu.get(n) else "-"
    print(f"| {labels[n]} | {med[n]:.0f} | {min(v):.0f} - {max(v):.0f} | {len(v)} | "
          f"{rel(n, 'relay')} | {rel(n, 'veth')} | {c} |")
names = [n for n in ("relay", "ipref-off", "ipref-on", "veth") if n in med]
if not names:
    sys.exit("no round gave a result")
w, h, top = 560, 300, 50
scale = 200 / max(max(runs[n]) for n in names)
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
