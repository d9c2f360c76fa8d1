#!/usr/bin/env bash
# Benchmarks gwctld: durable allocations, lookups and their latency, and a store of 1,000,000
# mappings (start-up time and memory). Prints a Markdown report for docs/BENCHMARKS.md.
#
# Every rate has its baseline from the same run: raw SQLite inserts with the daemon's
# durability settings and the same rows per commit. Speeds are measured here, never asserted
# in tests. Usage: bash bench/gwctl.sh [ALLOCATIONS] (default 200000)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
source tools/lib.sh
allocations=${1:-200000}

bash tools/setup >/dev/null
configure_build build-bench --buildtype=release -Dtests=disabled
ninja -C build-bench >/dev/null
bench=build-bench/bench/gwctl_bench
gwctld=build-bench/gwctl/gwctld
gwctl=build-bench/gwctl/gwctl

work=$(mktemp -d /var/tmp/ipref-bench-XXXXXX)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

start_daemon() {
	local db=$1 t0
	cat >"$work/gwctl.conf" <<EOF
database = $db
socket = $work/gwctl.sock
log-level = warn
EOF
	t0=$(date +%s.%N)
	"$gwctld" --config "$work/gwctl.conf" 2>>"$work/gwctld.log" &
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

echo "Running on $(nproc) cores, $(uname -r), SQLite $(sqlite3 --version | cut -d' ' -f1)," \
	"store on $(df --output=fstype "$work" | tail -n 1)." >&2

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
start_daemon "$work/big.db"
stop_daemon
sqlite3 "$work/big.db" <<'EOF'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
INSERT INTO remote_mapping (kind, encoded, family, context, ref, name, expires, source, created)
SELECT 3, printf('10.%d.%d.%d', 240 + (i + 2) / 65536, ((i + 2) / 256) % 256, (i + 2) % 256), 4,
       printf('198.18.%d.%d', i / 50000, (i / 200) % 250), printf('%d', 5000 + i),
       printf('host%d.example.net', i), unixepoch() + 14400, 'bench', unixepoch()
  FROM n;
COMMIT;
EOF
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
