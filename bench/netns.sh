# The benchmarks' shared topology (sourced): client c (10.1.0.2) - gateway ga - "Internet" net -
# gateway gb - server s (10.2.0.2), IPv4 everywhere, in network namespaces removed on exit;
# starting and stopping two ipref gateways (gwctld + ipref-dataplane) or two plain relays.
# Expects top, build and seconds to be set; IPERF_ARGS adds iperf3 client options (-P 4: four
# streams).
if ((EUID != 0)); then
	echo "$0 needs root (network namespaces, TUN devices)" >&2
	exit 77
fi
command -v iperf3 >/dev/null || {
	echo "iperf3 is missing: run tools/setup as root" >&2
	exit 1
}
if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" gwctl/gwctld gwctl/gwctl dataplane/ipref-dataplane bench/relay >/dev/null

tag=iprb$$
ns() { echo "$tag$1"; }
work=$(mktemp -d /var/tmp/ipref-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for n in c ga net gb s; do ip netns del "$(ns $n)" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# client c (10.1.0.2) - ga - net - gb - server s (10.2.0.2); the Internet is IPv4.
for n in c ga net gb s; do
	ip netns add "$(ns $n)"
	ip -n "$(ns $n)" link set lo up
done
veth() {
	ip -n "$(ns "$1")" link add "$2" type veth peer name "$4" netns "$(ns "$3")"
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns "$3")" link set "$4" up
}
veth c eth0 ga lan
veth ga wan net to-a
veth gb wan net to-b
veth s eth0 gb lan
ip -n "$(ns c)" addr add 10.1.0.2/24 dev eth0
ip -n "$(ns c)" route add default via 10.1.0.1
ip -n "$(ns s)" addr add 10.2.0.2/24 dev eth0
ip -n "$(ns s)" route add default via 10.2.0.1
ip -n "$(ns ga)" addr add 10.1.0.1/24 dev lan
ip -n "$(ns gb)" addr add 10.2.0.1/24 dev lan
ip -n "$(ns ga)" addr add 198.18.1.1/24 dev wan
ip -n "$(ns gb)" addr add 198.18.2.1/24 dev wan
ip -n "$(ns net)" addr add 198.18.1.254/24 dev to-a
ip -n "$(ns net)" addr add 198.18.2.254/24 dev to-b
ip -n "$(ns ga)" route add default via 198.18.1.254
ip -n "$(ns gb)" route add default via 198.18.2.254
for n in ga gb net; do
	ip netns exec "$(ns $n)" sysctl -qw net.ipv4.ip_forward=1
done

gateway_conf() { # side gateway-address hosts-lines
	mkdir -p "$work/$1"
	printf '%s\n' "$3" >"$work/$1/hosts"
	cat >"$work/$1/gwctl.conf" <<EOF
database = $work/$1/gw.db
socket = $work/$1/gwctl.sock
socket-group = nogroup
gateway = $2
encoded-ipv4 = 10.240.0.0/16
encoded-ipv6 = none
hosts = $work/$1/hosts
log-level = warn
EOF
	dataplane_conf "$1" ""
}
dataplane_conf() { # side extra-lines
	cat >"$work/$1/dataplane.conf" <<EOF
gwctl-socket = $work/$1/gwctl.sock
user = nobody
internet = ipv4
$2
EOF
}
gateway_conf a 198.18.1.1 "10.240.0.21 srv #= ext 198.18.2.1 + 2001"
gateway_conf b 198.18.2.1 "10.2.0.2 srv #= pub + 2001"
# the TUN MTU the dataplane derives for an IPv4 Internet and 16-byte references
mtu=1440
forwarders=()

# Exits the benchmark with the log's tail when a daemon it started is gone.
require_alive() { # pid what
	kill -0 "$1" 2>/dev/null && return
	echo "bench: $2 exited; the last lines of $work/log:" >&2
	tail -n 20 "$work/log" >&2
	exit 1
}

start_ipref() {
	local side n db gwctld
	for side in a b; do
		n=g$side
		# a store of each build's own: an older gwctld refuses a newer schema left behind
		db=$work/$side/gw-$(printf '%s' "$build" | cksum | cut -d' ' -f1).db
		sed -i "s|^database = .*|database = $db|" "$work/$side/gwctl.conf"
		ip netns exec "$(ns $n)" "$build/gwctl/gwctld" --config "$work/$side/gwctl.conf" \
			2>>"$work/log" &
		gwctld=$!
		pids+=($gwctld)
		until [[ -S $work/$side/gwctl.sock ]]; do
			require_alive "$gwctld" "gwctld of $build ($side)"
			sleep 0.05
		done
		ip netns exec "$(ns $n)" "$build/dataplane/ipref-dataplane" \
			--config "$work/$side/dataplane.conf" 2>>"$work/log" &
		pids+=($!)
		forwarders+=($!)
	done
	sleep 1
	for p in "${forwarders[@]}"; do require_alive "$p" "a dataplane of $build"; done
}

start_relay() {
	ip netns exec "$(ns ga)" "$build/bench/relay" relay0 "$mtu" 1045 198.18.2.1 1045 10.2.0.0 &
	pids+=($!)
	forwarders+=($!)
	ip netns exec "$(ns gb)" "$build/bench/relay" relay0 "$mtu" 1045 198.18.1.1 1045 10.1.0.0 &
	pids+=($!)
	forwarders+=($!)
	sleep 0.5
}

stop_forwarders() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	forwarders=()
	rm -f "$work"/?/gwctl.sock
}

# CPU seconds (user + system) of the forwarders so far.
# CPU ticks (user + system) of each forwarder so far, side a first, on one line.
cpu_each() {
	local p out=()
	for p in "${forwarders[@]}"; do out+=("$(awk '{print $14 + $15}' "/proc/$p/stat")"); done
	echo "${out[*]}"
}

# The whole machine's busy and total ticks so far (all cores; idle and iowait are not busy).
machine_ticks() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

cpu() {
	local total=0 p t
	for p in "${forwarders[@]}"; do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat")
		total=$((total + t))
	done
	echo "$total"
}

# CPU time of the forwarders so far in nanoseconds, every thread's, as the scheduler counts it
# (/proc/PID/task/TID/schedstat): the clock ticks of cpu() are 10 ms, a quarter of a microsecond
# a packet in a 5-second try at 8,000 packets/s, as much as the differences looked for.
cpu_ns() {
	local total=0 p f t
	for p in "${forwarders[@]}"; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r t _ <"$f"
			total=$((total + t))
		done
	done
	echo "$total"
}

iperf_server() {
	ip netns exec "$(ns s)" iperf3 -s -1 -p "$1" >/dev/null 2>&1 &
	pids+=($!)
	sleep 0.3
}

# 0 when iperf3 gave no result (it prints an error, or nothing, under heavy load): the caller
# reports the round as failed instead of stopping the whole run.
tcp_rate() { # target -> bits/s
	iperf_server 5201
	{ ip netns exec "$(ns c)" iperf3 -c "$1" -p 5201 -t $((2 * seconds)) ${IPERF_ARGS:-} -J ||
		true; } |
		python3 -c 'import json,sys
try:
    print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))
except (ValueError, KeyError, TypeError) as e:
    print(f"iperf3 gave no result ({type(e).__name__}: {e})", file=sys.stderr)
    print(0)'
}

