#!/usr/bin/env bash
# The store's interface names no engine (docs/store.md, "The store interface on two engines"):
# no file of gwctld but the SQLite engine's own (store*.c and their private headers) includes or
# calls SQLite, store.h, store_hold.h and store_ops.h included, so that a second engine implements
# those headers and nothing else. usage: check-store-engine.sh GWCTL_DIR
set -euo pipefail
cd "$1"
bad=()
for f in *.c *.h; do
	case $f in
	store_hold.h | store_ops.h) ;;
	store*.c | store_*.h) continue ;;
	esac
	grep -qE 'sqlite3|SQLITE_' "$f" && bad+=("$f")
done
if ((${#bad[@]})); then
	echo "SQLite outside the store's engine (keep it behind store.h and store_hold.h):"
	grep -nHE 'sqlite3|SQLITE_' "${bad[@]}"
	exit 1
fi
echo "no file of gwctld outside store*.c includes or calls SQLite"
