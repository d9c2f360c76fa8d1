#!/usr/bin/env python3
"""Runs the store's C tests (gwctl/tests) on the PostgreSQL engine: each test binary gets a
fresh database of a throwaway cluster in IPREF_TEST_PG, and each of its tests empties it first.
Skips (77) without root or PostgreSQL's server, as tests/common/pg.py says.
usage: test_engine.py TEST_BINARY..."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import pg  # noqa: E402

failed = []
with pg.Cluster() as cluster:
    for i, binary in enumerate(sys.argv[1:]):
        name = os.path.basename(binary)
        env = dict(os.environ, IPREF_TEST_PG=cluster.conninfo(cluster.createdb(f"engine{i}")))
        print(f"== {name} on PostgreSQL", flush=True)
        rc = subprocess.run([binary], env=env, timeout=500).returncode
        if rc != 0:
            failed.append(f"{name} (exit {rc})")
    if failed:
        print(f"failed: {', '.join(failed)}; the server's log:\n{cluster.server_log()}")
sys.exit(1 if failed else 0)
