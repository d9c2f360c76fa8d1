#!/usr/bin/env bash
# Benchmarks the ipref Unbound module with dnsperf against the same Unbound without the module,
# both measured in the same run: cached IPREF names against cached native names, and first
# lookups of unique IPREF names against first lookups of unique native names from the same
# NSD. Prints a Markdown report for docs/BENCHMARKS.md.
# Usage: bash bench/resolver.sh [NAMES] [THREADS] (default 20000 names, 8 worker threads)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
source tools/lib.sh

bash tools/setup >/dev/null
configure_build build-bench --buildtype=release -Dtests=disabled
ninja -C build-bench >/dev/null
exec python3 bench/resolver.py "$(readlink -f .cache/unbound/current/build)" \
	build-bench/resolver/ipref.so build-bench/gwctl/gwctld "${1:-20000}" "${2:-8}"
