#!/usr/bin/env bash
# Benchmarks two ipref-dataplanes (each with its gwctld) against a plain TUN<->UDP relay
# (bench/relay.c, same TUN and socket code, no translation) in the same run, in network
# namespaces: client - gateway A - "Internet" - gateway B - server. Measures TCP throughput
# (iperf3), the highest 64-byte UDP packet rate with under 1% loss, and CPU time per packet of
# the two forwarders. Prints a Markdown report and writes an SVG plot.
# MODES adds forwarders to the default "relay ipref" (ipref: offloads off): ipref-on (offloads
# on), base and base-on (the same from BASE_BUILD, a release build of another commit); the
# report and plot compare relay and ipref, the rounds list every mode. CPU_ONLY=1 measures only
# the CPU per packet at CPU_PPS (no TCP, no search for the highest rate): quicker, for many
# rounds. UDP_ONLY=1 measures only the highest 64-byte rate (no TCP, no fixed-rate CPU figure).
# The receiving iperf3 gets a receive buffer of UDP_BUFFER (default 4M): with the default 208 KiB
# it dropped most of what was lost, at every rate and with every forwarder, whenever it was not
# scheduled for a moment, and the search measured the sink rather than the forwarders. Each
# round also prints the UDP receive-buffer drops of every namespace (where what was lost went).
# Usage (root): bash bench/dataplane.sh [SVG-PATH] (default docs/dataplane-bench.svg)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
svg=${1:-docs/dataplane-bench.svg}
build=${BUILD:-build-bench}
seconds=${SECONDS_PER_RUN:-5}
fixed=${CPU_PPS:-20000} # offered 64-byte packets/s for the CPU-per-packet figure

source "$top/bench/netns.sh"
own_build=$build
# the per-packet path this benchmark compares with the relay: kernel offloads off (see offload.sh)
offloads() { # on|off
	for side in a b; do
		dataplane_conf $side "$([[ $1 == off ]] && printf 'tun-offload = off\nudp-gso = off\nudp-gro = off')"
	done
}

udp_run() { # target pps -> "received_pps lost_percent packets"
	iperf_server 5202
	ip netns exec "$(ns c)" iperf3 -c "$1" -p 5202 -u -w "${UDP_BUFFER:-4M}" -l 64 \
		-b "$(($2 * 64 * 8))" \
		-t "$seconds" -J |
		python3 -c 'import json,sys
e = json.load(sys.stdin)["end"]["sum"]
print(int(e["packets"] / e["seconds"]), e["lost_percent"], e["packets"])'
}

# Runs at a rate: succeeds when one of two tries lost under 1% (a burst of the machine's other
# load fails a single try); cpu_pp gets the forwarders' CPU nanoseconds per packet of the last
# try.
try_rate() { # target pps
	local c0 c1 r loss pkts
	for _ in 1 2; do
		c0=$(cpu_ns)
		read -r r loss pkts < <(udp_run "$1" "$2")
		c1=$(cpu_ns)
		cpu_pp=$(((c1 - c0) / (pkts > 0 ? pkts : 1)))
		python3 -c "import sys; sys.exit(0 if $loss < 1 else 1)" && return 0
	done
	return 1
}

# Every namespace's count of UDP datagrams dropped for a full receive buffer, "ns=N ..."
udp_drops() {
	local n
	for n in c ga net gb s; do
		printf '%s=%s ' "$n" \
			"$(ip netns exec "$(ns $n)" awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp)"
	done
}
udp_drops_since() { # output of udp_drops -> "ns +N ..." for the namespaces that dropped since
	local now
	now=$(udp_drops)
	python3 -c 'import sys
before = dict(kv.split("=") for kv in sys.argv[1].split())
after = dict(kv.split("=") for kv in sys.argv[2].split())
grown = [f"{n} +{int(after[n]) - int(before[n])}" for n in after if int(after[n]) > int(before[n])]
print(", ".join(grown) or "none")' "$1" "$now"
}

# Doubling, then bisecting: the highest offered rate with under 1% loss.
udp_best() { # target -> "pps cpu_ns_per_packet"
	local lo=0 hi=0 rate=10000 best_cpu=0
	while try_rate "$1" "$rate"; do
		lo=$rate
		best_cpu=$cpu_pp
		((rate >= 3200000)) && break
		rate=$((rate * 2))
	done
	((lo == rate)) || hi=$rate
	for _ in 1 2 3 4; do
		((hi == 0)) && break
		rate=$(((lo + hi) / 2))
		if try_rate "$1" "$rate"; then
			lo=$rate
			best_cpu=$cpu_pp
		else
			hi=$rate
		fi
	done
	echo "$lo $best_cpu"
}

# Rounds alternate the two forwarders, and each keeps its best figures: on a shared machine the
# other load only ever makes a run slower.
read -ra all_modes <<<"${MODES:-relay ipref}"
declare -A tcp udp cpt
for mode in relay ipref "${all_modes[@]}"; do
	tcp[$mode]=0 udp[$mode]=0 cpt[$mode]=0
done
for round in $(seq "${ROUNDS:-2}"); do
	# a different mode goes first each round
	first=$(((round - 1) % ${#all_modes[@]}))
	modes="${all_modes[*]:$first} ${all_modes[*]:0:$first}"
	for mode in $modes; do
		if [[ $mode == relay ]]; then
			start_relay
			target=10.2.0.2
		else
			offloads "$([[ $mode == *-on ]] && echo on || echo off)"
			[[ $mode == base* ]] && build=$BASE_BUILD
			start_ipref
			build=$own_build
			target=10.240.0.21
		fi
		# neighbours resolved and (ipref) mappings made before anything is measured
		ip netns exec "$(ns c)" ping -c 2 -W 2 "$target" >/dev/null
		t=0 u=0 c=0
		[[ ${CPU_ONLY:-0} != 1 && ${UDP_ONLY:-0} != 1 ]] && t=$(tcp_rate "$target")
		udp_drops_before=$(udp_drops)
		[[ ${CPU_ONLY:-0} != 1 ]] && read -r u _ < <(udp_best "$target")
		# CPU per packet at one offered rate for both: at a lower rate each wake-up carries
		# fewer packets, so figures taken at each forwarder's own best rate would not compare
		if [[ ${UDP_ONLY:-0} != 1 ]]; then
			try_rate "$target" "$fixed" || true
			c=$cpu_pp
		fi
		printf 'round %s %s: TCP %d Mbit/s, UDP %d packets/s, CPU %d.%02d us/packet at %d/s\n' \
			"$round" "$mode" $((t / 1000000)) "$u" $((c / 1000)) $(((c / 10) % 100)) "$fixed" |
			tee -a "$work/rounds" >&2
		printf '  UDP receive-buffer drops meanwhile: %s\n' \
			"$(udp_drops_since "$udp_drops_before")" | tee -a "$work/rounds" >&2
		((t > tcp[$mode])) && tcp[$mode]=$t
		((u > udp[$mode])) && udp[$mode]=$u
		((cpt[$mode] == 0 || c < cpt[$mode])) && cpt[$mode]=$c
		if [[ $mode != relay ]]; then
			sleep 2.5 # the next counter report
			for side in a b; do
				ip netns exec "$(ns g$side)" "$build/gwctl/gwctl" \
					--socket "$work/$side/gwctl.sock" stats |
					awk -v s="$side" '/^dataplane\.(drop|tun|udp)/ && $2 > 0 {
						printf "  %s %s %s\n", s, $1, $2 }' >&2
			done
		fi
		stop_forwarders
	done
done

python3 - "$svg" "${tcp[relay]}" "${tcp[ipref]}" "${udp[relay]}" "${udp[ipref]}" \
	"${cpt[relay]}" "${cpt[ipref]}" "$fixed" <<'EOF'
import sys
svg, tr, ti, ur, ui, cr, ci, fixed = sys.argv[1], *map(int, sys.argv[2:])
us = lambda ns: ns / 1000  # CPU microseconds per packet (both gateways)
print("| measurement | ipref-dataplane | baseline relay (same run) | ratio |")
print("|---|---|---|---|")
print(f"| TCP throughput (iperf3) | {ti/1e6:.0f} Mbit/s | {tr/1e6:.0f} Mbit/s | {ti/max(tr,1):.2f} |")
print(f"| 64-byte UDP, under 1% loss | {ui:,} packets/s | {ur:,} packets/s | {ui/max(ur,1):.2f} |")
print(f"| CPU per packet, both gateways, at {fixed:,} packets/s | {us(ci):.2f} us | {us(cr):.2f} us | {ci/max(cr,1):.2f} |")
bars = [("TCP Mbit/s", tr / 1e6, ti / 1e6), ("UDP kpps (64 B)", ur / 1e3, ui / 1e3)]
w, h = 520, 260
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
       '<text x="10" y="18" font-size="14">ipref-dataplane vs baseline relay (same run)</text>']
for i, (name, base, ours) in enumerate(bars):
    x0, top = 40 + i * 240, 40
    scale = 160 / max(base, ours, 1)
    for j, (label, v, color) in enumerate((("relay", base, "#999"), ("ipref", ours, "#36c"))):
        bh = v * scale
        x = x0 + j * 80
        out.append(f'<rect x="{x}" y="{top + 160 - bh:.1f}" width="60" height="{bh:.1f}" fill="{color}"/>')
        out.append(f'<text x="{x}" y="{top + 175}">{label}</text>')
        out.append(f'<text x="{x}" y="{top + 155 - bh:.1f}">{v:,.0f}</text>')
    out.append(f'<text x="{x0}" y="{top + 195}">{name}</text>')
out.append('</svg>')
open(svg, "w").write("\n".join(out) + "\n")
EOF
echo
echo "Every round (best figures above):"
echo
sed 's/^/    /' "$work/rounds"
