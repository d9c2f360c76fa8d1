#!/usr/bin/env bash
# Checks that the project's Unbound build has the dynlib module the resolver needs.
# usage: check-dynlib.sh UNBOUND_BUILD_DIR
set -u
build=$1
if [[ ! -x $build/unbound ]]; then
	echo "SKIP: no Unbound build in $build (tools/setup builds it)"
	exit 77
fi
version=$("$build/unbound" -V)
echo "$version"
if grep -qw dynlib <<<"$version"; then
	echo "1 passed, 0 failed"
else
	echo "FAIL: $build/unbound -V does not list dynlib"
	echo "0 passed, 1 failed"
	exit 1
fi
