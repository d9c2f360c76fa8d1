#!/usr/bin/env python3
"""Runs the C tests of the PostgreSQL store's connection (gwctl/tests/test_pgstore_conn.c)
against a throwaway cluster: a fresh database to connect to and migrate, and a spare one the
tests may spoil. usage: test_conn.py TEST_PGSTORE_CONN"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import pg  # noqa: E402

with pg.Cluster() as cluster:
    env = dict(os.environ,
               IPREF_PG_CONNINFO=cluster.conninfo(cluster.createdb("store")),
               IPREF_PG_CONNINFO_SPARE=cluster.conninfo(cluster.createdb("spare")))
    rc = subprocess.run([sys.argv[1]], env=env, timeout=240).returncode
    if rc != 0:
        print(f"test_pgstore_conn exited with {rc}; the server's log:\n{cluster.server_log()}")
sys.exit(rc)
