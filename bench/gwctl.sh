#!/usr/bin/env bash
# Benchmarks gwctld: durable allocations, lookups and their latency, and a store of 1,000,000
# mappings (start-up time and memory), and how long a GET_EA waits behind work that once held
# the event loop (a 200,000-record reload, STATUS with 1,000,000 mappings). Prints a Markdown
# report for docs/BENCHMARKS.md.
#
# BENCH_ONLY=alloc runs only the durable allocations by the resolver's path (GET_EA, 4 x 64 in
# flight), BENCH_ROUNDS rounds (default 3), interleaved with GWCTLD_BEFORE's when given, each
# round into a fresh store; BENCH_CLIENTS=N has those requests name N LAN clients in turn, as
# the resolver module does, so that each goes through the per-client quota checks (N at least
# ALLOCATIONS / 512, the default client-limit). BENCH_ONLY=waits runs only the waits, BENCH_ONLY=store all but them; GWCTLD_BEFORE=PATH measures the waits with that gwctld
# too (an older build), for a before/after comparison from the same run. BENCH_NO_SETUP=1 skips
# tools/setup (the packages are there already).
#
# Every rate has its baseline from the same run: raw SQLite inserts with the daemon's
# durability settings and the same rows per commit. Speeds are measured here, never asserted
# in tests. Usage: bash bench/gwctl.sh [ALLOCATIONS] (default 200000)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
source tools/lib.sh
allocations=${1:-200000}

[[ -n ${BENCH_NO_SETUP:-} ]] || bash tools/setup >/dev/null
configure_build build-bench --buildtype=release -Dtests=disabled
ninja -C build-bench >/dev/null
bench=build-bench/bench/gwctl_bench
gwctld=build-bench/gwctl/gwctld
gwctl=build-bench/gwctl/gwctl

work=$(mktemp -d /var/tmp/ipref-bench-XXXXXX)
pid=
probe_pid=
cleanup() {
	[[ -n $probe_pid ]] && kill "$probe_pid" 2>/dev/null
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

start_daemon() { # start_daemon DB [GWCTLD [CONFIG-LINE]]
	local db=$1 daemon=${2:-$gwctld} t0
	cat >"$work/gwctl.conf" <<EOF
database = $db
socket = $work/gwctl.sock
gateway = 198.51.100.1
log-level = warn
${3:-}
EOF
	t0=$(date +%s.%N)
	"$daemon" --config "$work/gwctl.conf" 2>>"$work/gwctld.log" &
	pid=$!
	until "$gwctl" --socket "$work/gwctl.sock" status >/dev/null 2>&1; do
		kill -0 "$pid" || { cat "$work/gwctld.log"; exit 1; }
		sleep 0.01
	done
	startup=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { print a - b }')
}

stop_daemon() {
	kill "$pid"
	wait "$pid" || true
	pid=
}

stat_of() {
	"$gwctl" --socket "$work/gwctl.sock" stats | awk -v k="$1" '$1 == k { print $2 }'
}

rss_mb() {
	awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"
}

field() { # field NAME LINE: the value of NAME=... in a result line
	sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"
}

make_big_db() { # make_big_db GWCTLD PATH: 1,000,000 mappings, written as the daemon writes them
	start_daemon "$2" "$1"
	stop_daemon
	sqlite3 "$2" <<'EOF'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
INSERT INTO remote_mapping (kind, encoded, family, context, ref, name, expires, source, created)
SELECT 3, printf('10.%d.%d.%d', 240 + (i + 2) / 65536, ((i + 2) / 256) % 256, (i + 2) % 256), 4,
       printf('198.18.%d.%d', i / 50000, (i / 200) % 250), printf('%d', 5000 + i),
       printf('host%d.example.net', i), unixepoch() + 14400, 'bench', unixepoch()
  FROM n;
COMMIT;
EOF
}

# A GET_EA of one existing mapping at a time, in the background, until probe_stop.
probe_start() {
	"$bench" "$work/gwctl.sock" probe 3600 >"$work/probe.out" &
	probe_pid=$!
	sleep 0.5
}

probe_stop() { # probe_stop NAME: prints NAME=the probe's result, spaces turned into commas
	kill -TERM "$probe_pid"
	wait "$probe_pid" || true
	probe_pid=
	echo "$1=$(tr ' ' ',' <"$work/probe.out")"
}

hosts_file() { # hosts_file COUNT [VARIANT]: published hosts; each variant changes one line
	awk -v n="$1" -v v="${2:-0}" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "10.%d.%d.%d h%d #= public + %d\n", 1 + int(i / 65536),
			       int(i / 256) % 256, i % 256, i, (i == 0 ? 5000000 + v : 5000 + i)
	}' >"$work/hosts.tmp"
	mv "$work/hosts.tmp" "$work/hosts"
}

wait_published() { # wait_published N DB: until the store holds N published mappings
	until [[ $(sqlite3 "$2" 'SELECT count(*) FROM local_mapping WHERE kind = 1' 2>/dev/null) == "$1" ]]; do
		sleep 0.1
	done
}

# measure_waits GWCTLD: the waits of a GET_EA behind STATUS with 1,000,000 mappings and behind
# reloads of 200,000 published hosts, as NAME=VALUE lines
measure_waits() {
	local daemon=$1 rounds=5 i
	make_big_db "$daemon" "$work/waits.db"
	start_daemon "$work/waits.db" "$daemon"
	probe_start
	sleep 5 # the noise floor: nothing else asks
	probe_stop idle_probe
	probe_start
	"$bench" "$work/gwctl.sock" status $((64 * 3)) 64 >"$work/status.out"
	probe_stop status_probe
	echo "status_rate=$(field rate "$(cat "$work/status.out")")"
	stop_daemon
	rm -f "$work"/waits.db*

	: >"$work/hosts"
	start_daemon "$work/waits.db" "$daemon" "hosts = $work/hosts"
	probe_start
	hosts_file 200000
	kill -HUP "$pid"
	wait_published 200000 "$work/waits.db"
	probe_stop first_probe
	probe_start
	for ((i = 0; i < rounds; i++)); do
		"$gwctl" --socket "$work/gwctl.sock" reload >/dev/null
	done
	probe_stop noop_probe
	probe_start
	for ((i = 1; i <= rounds; i++)); do
		hosts_file 200000 "$i"
		"$gwctl" --socket "$work/gwctl.sock" reload >/dev/null
	done
	probe_stop changed_probe
	stop_daemon
	rm -f "$work"/waits.db* "$work/hosts"
}

waits_table() {
	local after before=
	after=$(measure_waits "$gwctld")
	[[ -n ${GWCTLD_BEFORE:-} ]] && before=$(measure_waits "$GWCTLD_BEFORE")
	get() { sed -n "s/^$1=//p" <<<"$2" | tr ',' ' '; }
	waits() {
		local r
		r=$(get "$1" "$2")
		echo "max $(field max "$r") ms, p99 $(field p99 "$r") ms," \
			"$(field over10ms "$r") of $(field count "$r") over 10 ms"
	}
	row() { # row LABEL KEY
		echo "| $1 | $(waits "$2" "$after") | ${before:+$(waits "$2" "$before")} |"
	}
	echo "| a GET_EA of an existing mapping, one at a time, waits behind | this build | before (GWCTLD_BEFORE) |"
	echo "|---|---|---|"
	row "nothing: an idle daemon, 5 s (the noise floor of a shared machine)" idle_probe
	row "3 x 64 pipelined STATUS on another connection, 1,000,000 mappings" status_probe
	row "a SIGHUP reload adding 200,000 published hosts, until all are stored" first_probe
	row "5 x \`gwctl reload\` of 200,000 hosts, unchanged" noop_probe
	row "5 x \`gwctl reload\` of 200,000 hosts, one line changed each time" changed_probe
	echo
	echo "STATUS with 1,000,000 mappings: $(get status_rate "$after")/s this build${before:+, $(get status_rate "$before")/s before}."
}

echo "Running on $(nproc) cores, $(uname -r), SQLite $(sqlite3 --version | cut -d' ' -f1)," \
	"store on $(df --output=fstype "$work" | tail -n 1)." >&2

cpu_ticks() { # the daemon's CPU time so far (all its threads, user and system), in clock ticks
	awk '{ print $14 + $15 }' "/proc/$pid/stat"
}

# alloc_round GWCTLD: one round of new allocations into a fresh store (4 x 64 in flight, then
# 1 in flight), as one line of NAME=VALUE fields
alloc_round() {
	local piped serial t0 cpu
	rm -f "$work"/alloc.db*
	start_daemon "$work/alloc.db" "$1"
	t0=$(cpu_ticks)
	# the client's CPU too: it shares the two cores with the daemon
	piped=$(/usr/bin/time -f "%U %S" -o "$work/client.time" \
		"$bench" "$work/gwctl.sock" alloc "$allocations" 4 64 "${BENCH_CLIENTS:-0}")
	# CPU per allocation depends far less on the other load of a shared machine than a rate
	cpu=$(awk -v a="$(cpu_ticks)" -v b="$t0" -v n="$allocations" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f", (a - b) * 1e6 / hz / n }')
	client_cpu=$(awk -v n="$allocations" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$work/client.time")
	serial=$("$bench" "$work/gwctl.sock" alloc 5000 1 1)
	echo "rate=$(field rate "$piped") serial=$(field rate "$serial") cpu=$cpu client=$client_cpu" \
		"flushes=$(stat_of gwctld.store.flushes) sync_commits=$(stat_of gwctld.store.sync_commits)" \
		"commits=$(stat_of gwctld.store.commits)"
	stop_daemon
}

alloc_table() {
	local rounds=${BENCH_ROUNDS:-3} i this before
	echo "| round | this build: 4 x 64 in flight | before | ratio | daemon CPU per allocation: this build | before | ratio | client CPU per allocation: this build | before | this build: 1 in flight | before | ratio | load average |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for ((i = 1; i <= rounds; i++)); do
		this=$(alloc_round "$gwctld")
		before=
		[[ -n ${GWCTLD_BEFORE:-} ]] && before=$(alloc_round "$GWCTLD_BEFORE")
		r() { field "$1" "$2"; }
		q() { [[ -n $before ]] && awk -v a="$(r "$1" "$this")" -v b="$(r "$1" "$before")" 'BEGIN { printf "%.2f", a / b }'; }
		echo "| $i | $(r rate "$this")/s (commits $(r commits "$this"), flushes $(r flushes "$this"), synced on the spot $(r sync_commits "$this")) |" \
			"${before:+$(r rate "$before")/s} | $(q rate) | $(r cpu "$this") us | ${before:+$(r cpu "$before") us} | $(q cpu) |" \
			"$(r client "$this") us | ${before:+$(r client "$before") us} |" \
			"$(r serial "$this")/s | ${before:+$(r serial "$before")/s} | $(q serial) |" \
			"$(cut -d' ' -f1 /proc/loadavg) |"
	done
}

if [[ ${BENCH_ONLY:-} == alloc ]]; then
	alloc_table
	exit 0
fi

if [[ ${BENCH_ONLY:-} == waits ]]; then
	waits_table
	exit 0
fi

# 1. New durable allocations: 4 clients, 64 requests in flight each.
start_daemon "$work/gw.db"
alloc=$("$bench" "$work/gwctl.sock" alloc "$allocations" 4 64)
commits=$(stat_of gwctld.store.commits)
requests=$(stat_of gwctld.store.committed_requests)
batch=$((requests / commits))
serial=$("$bench" "$work/gwctl.sock" alloc 2000 1 1)
# 2. Lookups of existing mappings, pipelined, and one at a time for latency.
lookup=$("$bench" "$work/gwctl.sock" lookup 500000 10000 4 64)
latency=$("$bench" "$work/gwctl.sock" latency 20000 10000)
rss_small=$(rss_mb)
stop_daemon

# Baselines: raw SQLite with the same durability, at the daemon's batch size and at one row.
baseline=$("$bench" "$work/baseline.db" sqlite-baseline "$allocations" "$batch")
baseline1=$("$bench" "$work/baseline1.db" sqlite-baseline 2000 1)

# 3. 1,000,000 mappings written as the daemon writes them, then a cold start.
make_big_db "$gwctld" "$work/big.db"
size_mb=$(du -m "$work/big.db" | cut -f1)
start_daemon "$work/big.db"
startup_big=$startup
rss_big=$(rss_mb)
big_latency=$("$bench" "$work/gwctl.sock" latency 20000 1)
stop_daemon

rate() { printf "%'.0f" "$(field rate "$1")"; }
ratio() { awk -v a="$(field rate "$1")" -v b="$(field rate "$2")" 'BEGIN { printf "%.2f", a / b }'; }

cat <<EOF
| measurement | result | baseline (same run) | ratio |
|---|---|---|---|
| new durable allocations, 4 clients x 64 in flight | $(rate "$alloc")/s (mean $batch per commit) | raw SQLite, $batch rows per commit: $(rate "$baseline")/s | $(ratio "$alloc" "$baseline") |
| new durable allocations, 1 client, 1 in flight | $(rate "$serial")/s | raw SQLite, 1 row per commit: $(rate "$baseline1")/s | $(ratio "$serial" "$baseline1") |
| lookups of existing mappings, 4 x 64 in flight | $(rate "$lookup")/s | | |
| lookups one at a time | $(rate "$latency")/s, p50 $(field p50 "$latency") us, p99 $(field p99 "$latency") us | | |
| daemon memory after the runs above | $rss_small MB RSS | | |
| 1,000,000 mappings: start-up to first answer | $(printf '%.2f' "$startup_big") s (store ${size_mb} MB) | | |
| 1,000,000 mappings: memory after start | $rss_big MB RSS | | |
| 1,000,000 mappings: lookups one at a time | p50 $(field p50 "$big_latency") us, p99 $(field p99 "$big_latency") us | | |
EOF

if [[ ${BENCH_ONLY:-} != store ]]; then
	echo
	waits_table
fi
