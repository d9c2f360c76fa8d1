#!/usr/bin/env bash
# Benchmarks gwctld: durable allocations, lookups and their latency, and a store of 1,000,000
# mappings (start-up time and memory), and how long a GET_EA waits behind work that once held
# the event loop (a 200,000-record reload, STATUS with 1,000,000 mappings). Prints a Markdown
# report for docs/BENCHMARKS.md.
#
# BENCH_ONLY=pg runs the durable allocations by the resolver's path on the SQLite store and on
# the PostgreSQL store (docs/store.md, "Several gateways") in the same run: BENCH_ROUNDS rounds
# of each, interleaved (their order alternates), without LAN clients and with BENCH_CLIENTS
# (default 1000), each round into a fresh database, and the ratio PostgreSQL / SQLite. The
# PostgreSQL server is a throwaway cluster the script starts (initdb as the postgres user into
# a folder of its own beside the SQLite store, a Unix socket there only) and stops by its PID
# at the end; it runs with the server's defaults (fsync, synchronous_commit, shared_buffers as
# Debian ships them) but for listening only on that socket, and PG_SETTINGS="-c NAME=VALUE
# ..." adds settings of the postgres command line. Needs root; otherwise only SQLite is
# measured, saying so.
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
pg_pid=
pg_dir=
cleanup() {
	[[ -n $probe_pid ]] && kill "$probe_pid" 2>/dev/null
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	pg_stop
	rm -rf "$work"
}
trap cleanup EXIT

# pg_start: a throwaway PostgreSQL cluster on a Unix socket in $pg_dir/run, its postmaster $pg_pid
pg_start() {
	local bindir
	bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4n | tail -n 1)
	pg_dir=$(mktemp -d /var/tmp/ipref-bench-pg-XXXXXX)
	chmod 755 "$pg_dir"
	install -d -m 700 -o postgres -g postgres "$pg_dir/data" "$pg_dir/run"
	# trust on the socket only: the folder is the cluster's, and it listens nowhere else;
	# --no-sync spares initdb's own fsync of the new files, not the server's
	(cd "$pg_dir" && setpriv --reuid=postgres --regid=postgres --init-groups \
		"$bindir/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
		--no-sync >/dev/null)
	# started from its folder (the postgres user may not read ours), $! the postmaster itself
	cd "$pg_dir"
	# shellcheck disable=SC2086 # PG_SETTINGS is words of the command line
	setpriv --reuid=postgres --regid=postgres --init-groups "$bindir/postgres" -D "$pg_dir/data" \
		-k "$pg_dir/run" -c listen_addresses= ${PG_SETTINGS:-} >>"$pg_dir/server.log" 2>&1 &
	pg_pid=$!
	cd "$top"
	until pg_sql postgres 'SELECT 1' >/dev/null 2>&1; do
		kill -0 "$pg_pid" 2>/dev/null || { cat "$pg_dir/server.log"; exit 1; }
		sleep 0.1
	done
	echo "PostgreSQL $(pg_sql postgres 'SHOW server_version'): fsync $(pg_sql postgres 'SHOW fsync')," \
		"synchronous_commit $(pg_sql postgres 'SHOW synchronous_commit')," \
		"wal_writer_delay $(pg_sql postgres 'SHOW wal_writer_delay')," \
		"shared_buffers $(pg_sql postgres 'SHOW shared_buffers')${PG_SETTINGS:+, set: $PG_SETTINGS}." >&2
}

pg_stop() { # a fast shutdown of the cluster pg_start made, by its PID; then its folder goes
	if [[ -n $pg_pid ]]; then
		kill -INT "$pg_pid" 2>/dev/null && wait "$pg_pid" 2>/dev/null
		pg_pid=
	fi
	[[ -z $pg_dir ]] || rm -rf "$pg_dir"
	pg_dir=
}

pg_sql() { # pg_sql DB SQL: one statement, its rows unaligned
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$pg_dir/run" -U postgres -d "$1" -c "$2"
}

pg_cpu_ticks() { # the PostgreSQL server's CPU time so far: its postmaster and every process of it
	local p
	for p in "$pg_pid" $(pgrep -P "$pg_pid"); do
		cat "/proc/$p/stat" 2>/dev/null
	done | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

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

per_alloc() { # per_alloc TICKS-AFTER TICKS-BEFORE: microseconds of CPU per allocation
	awk -v a="$1" -v b="$2" -v n="$allocations" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f", (a - b) * 1e6 / hz / n }'
}

# alloc_round GWCTLD [PG-DATABASE]: one round of new allocations into a fresh store (4 x 64 in
# flight, then 1 in flight), SQLite's or, given a database, the PostgreSQL cluster's (fresh
# too); as one line of NAME=VALUE fields. $clients: LAN clients named (default BENCH_CLIENTS).
alloc_round() {
	local piped serial t0 pg0 cpu pg_cpu='' store=''
	rm -f "$work"/alloc.db*
	if [[ -n ${2:-} ]]; then
		pg_sql postgres "CREATE DATABASE $2"
		store="store = postgresql:host=$pg_dir/run user=postgres dbname=$2
gateway-id = bench"
	fi
	start_daemon "$work/alloc.db" "$1" "$store"
	t0=$(cpu_ticks)
	[[ -z $store ]] || pg0=$(pg_cpu_ticks)
	# the client's CPU too: it shares the two cores with the daemon
	piped=$(/usr/bin/time -f "%U %S" -o "$work/client.time" \
		"$bench" "$work/gwctl.sock" alloc "$allocations" 4 64 "${clients:-${BENCH_CLIENTS:-0}}")
	# CPU per allocation depends far less on the other load of a shared machine than a rate
	cpu=$(per_alloc "$(cpu_ticks)" "$t0")
	[[ -z $store ]] || pg_cpu=$(per_alloc "$(pg_cpu_ticks)" "$pg0")
	client_cpu=$(awk -v n="$allocations" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$work/client.time")
	serial=$("$bench" "$work/gwctl.sock" alloc 5000 1 1)
	echo "rate=$(field rate "$piped") serial=$(field rate "$serial") cpu=$cpu client=$client_cpu" \
		"flushes=$(stat_of gwctld.store.flushes) sync_commits=$(stat_of gwctld.store.sync_commits)" \
		"commits=$(stat_of gwctld.store.commits)${pg_cpu:+ server=$pg_cpu}"
	stop_daemon
	[[ -z $store ]] || pg_sql postgres "DROP DATABASE $2"
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

# pg_table: allocations on SQLite and on PostgreSQL, interleaved, without and with LAN clients
pg_table() {
	local rounds=${BENCH_ROUNDS:-3} i c e lite pg n=0 order rates=
	local -a variants=(0 "${BENCH_CLIENTS:-1000}")
	if [[ $(id -u) != 0 ]]; then
		echo "Skipping the PostgreSQL store: its throwaway cluster runs as the postgres user" \
			"(initdb, postgres), which needs root; measuring SQLite only." >&2
	else
		pg_start
	fi
	echo "| round | LAN clients | SQLite: 4 x 64 in flight | PostgreSQL | ratio | SQLite: 1 in flight | PostgreSQL | ratio | gwctld CPU per allocation: SQLite | PostgreSQL | postgres server CPU per allocation | client CPU per allocation: SQLite | PostgreSQL | load average |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for ((i = 1; i <= rounds; i++)); do
		for c in "${variants[@]}"; do
			n=$((n + 1))
			pg=
			# the order alternates, so that a drift of the machine's load favours neither
			if ((n % 2)); then order="lite pg"; else order="pg lite"; fi
			for e in $order; do
				if [[ $e == lite ]]; then
					lite=$(clients=$c alloc_round "$gwctld")
				elif [[ -n $pg_pid ]]; then
					pg=$(clients=$c alloc_round "$gwctld" "ipref_bench_$n")
				fi
			done
			r() { field "$1" "$2"; }
			q() { [[ -n $pg ]] && awk -v a="$(r "$1" "$pg")" -v b="$(r "$1" "$lite")" 'BEGIN { printf "%.2f", a / b }'; }
			echo "| $i | $c | $(r rate "$lite")/s | ${pg:+$(r rate "$pg")/s (commits $(r commits "$pg"), synchronous $(r flushes "$pg"))} | $(q rate) |" \
				"$(r serial "$lite")/s | ${pg:+$(r serial "$pg")/s} | $(q serial) |" \
				"$(r cpu "$lite") us | ${pg:+$(r cpu "$pg") us} | ${pg:+$(r server "$pg") us} |" \
				"$(r client "$lite") us | ${pg:+$(r client "$pg") us} | $(cut -d' ' -f1 /proc/loadavg) |"
			[[ -z $pg ]] || rates+="$c $(r rate "$lite") $(r rate "$pg")"$'\n'
		done
	done
	[[ -n $rates ]] || return 0
	echo
	# the spread of the rounds: lowest, median and highest of each engine's rate and of the ratio
	awk 'function spread(k, what, a, n, i, j, t) {
		n = split(v[k, what], a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return sprintf(what == "ratio" ? "%.3f / %.3f / %.3f" : "%d / %d / %d", a[1], a[int((n + 1) / 2)], a[n])
	}
	NF == 3 { v[$1, "lite"] = v[$1, "lite"] " " $2; v[$1, "pg"] = v[$1, "pg"] " " $3
		  v[$1, "ratio"] = v[$1, "ratio"] " " $3 / $2; if (!($1 in seen)) { seen[$1]; order[++k] = $1 } }
	END {
		print "| LAN clients | SQLite, lowest / median / highest | PostgreSQL | ratio PostgreSQL / SQLite |"
		print "|---|---|---|---|"
		for (i = 1; i <= k; i++)
			printf "| %s | %s /s | %s /s | %s |\n", order[i], spread(order[i], "lite"),
			       spread(order[i], "pg"), spread(order[i], "ratio")
	}' <<<"$rates"
}

if [[ ${BENCH_ONLY:-} == pg ]]; then
	pg_table
	exit 0
fi

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
