#!/usr/bin/env python3
"""Runs the C tests of the PostgreSQL store's connection (gwctl/tests/test_pgstore_conn.c)
against a throwaway cluster: a fresh database to connect to and migrate, and a spare one the
tests may spoil; then checks that the migrations gwctld ran made what tests/common/pg.py's
runner makes. usage: test_conn.py TEST_PGSTORE_CONN SCHEMA_PG_DIR"""
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
    else:
        catalog = ("SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod),"
                   " a.attnotnull FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                   " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
                   " WHERE n.nspname = 'public' ORDER BY 1, 3;"
                   "SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE NOT tgisinternal"
                   " ORDER BY 1; SELECT proname FROM pg_proc WHERE pronamespace ="
                   " 'public'::regnamespace ORDER BY 1; SELECT * FROM ipref_schema")
        py = cluster.createdb("py")
        pg.migrate(cluster, py, sys.argv[2])
        same = cluster.sql("store", catalog) == cluster.sql(py, catalog)
        print(("ok" if same else "FAIL") + ": gwctld's migrations make what tests/common/pg.py's"
              " runner makes")
        rc = 0 if same else 1
sys.exit(rc)
