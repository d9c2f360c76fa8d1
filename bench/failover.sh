#!/usr/bin/env bash
# Failover of a site's two gateways (issue 20): ROUNDS runs (default 5) of the failover test
# (tests/failover/test_failover.py: keepalived with docs/store.md's sample, the leader cut off
# during a 60 MB download and a ping every 10 ms, first one gateway, then, back as the backup,
# the other: two cuts a round; then the leader's dataplane alone killed); prints each cut and
# the medians as
# Markdown: the time from the cut until the other gateway holds both addresses, the pings lost
# and the longest gap between ping replies (the path's outage as a host sees it).
# STORE=shared runs tests/failover/test_shared_store.py instead: the two gateways on one
# PostgreSQL store, every mapping made on demand by name through their resolvers (a build with
# the resolver module and the dynlib Unbound of tools/setup; no dataplane-only kill).
# Usage (root): bash bench/failover.sh    (BUILD=build by default: any build of the suite)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
build=${BUILD:-build}
rounds=${ROUNDS:-5}
if ((EUID != 0)); then
	echo "$0 needs root (network namespaces, TUN devices)" >&2
	exit 77
fi
if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" gwctl/gwctld gwctl/gwctl dataplane/ipref-dataplane >/dev/null
run_test() {
	if [[ ${STORE:-} == shared ]]; then
		ninja -C "$build" resolver/ipref.so >/dev/null
		python3 tests/failover/test_shared_store.py "$build" \
			"${UNBOUND_BUILD:-.cache/unbound/current/build}" docs/store.md
	else
		python3 tests/failover/test_failover.py "$build/gwctl/gwctld" "$build/gwctl/gwctl" \
			"$build/dataplane/ipref-dataplane" docs/store.md
	fi
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
	if ! run_test >"$out.run" 2>&1; then
		echo "round $round failed:" >&2
		tail -20 "$out.run" >&2
		rm -f "$out.run"
		exit 1
	fi
	grep '^measured' "$out.run" | tee -a "$out" | sed "s/^measured/round $round/" >&2
	rm -f "$out.run"
done
python3 - "$out" <<'PY'
import re, statistics, sys
lines = [line for line in open(sys.argv[1]) if line.startswith("measured")]
rows = [line for line in lines if "pings lost" in line]  # a gateway cut off
dataplane = [line for line in lines if "dataplane lost" in line]  # its dataplane alone
get = lambda what, rows: [float(re.search(what + r" ([\d.]+)", r).group(1)) for r in rows]
moved, lost, gap = (get(w, rows) for w in ("addresses moved after", "pings lost", "replies"))
alone = get("addresses moved after", dataplane)
print(f"| measure ({len(rows)} cuts, either gateway) | median | min - max |")
print("|---|---|---|")
for name, v, unit in (("cut to the other gateway holding both addresses", moved, " s"),
                      ("pings lost (one every 10 ms)", lost, ""),
                      ("longest gap between ping replies", gap, " s")):
    fmt = (lambda x: f"{x:.2f}{unit}") if unit else (lambda x: f"{x:.0f}")
    print(f"| {name} | {fmt(statistics.median(v))} | {fmt(min(v))} - {fmt(max(v))} |")
if alone:
    print(f"| the leader's dataplane killed ({len(alone)} times) to the other holding both "
          f"addresses | {statistics.median(alone):.2f} s | {min(alone):.2f} s - "
          f"{max(alone):.2f} s |")
PY
