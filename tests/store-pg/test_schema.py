#!/usr/bin/env python3
"""The PostgreSQL store's schema against SQLite's: the same migration numbers and names, the
same columns, views that give the same rows for the same data, counts the triggers keep alike,
the same UNIQUE constraints; migrations applied on a fresh database and again (nothing
changes); two sessions binding one value at once (exactly one wins); the change log and its
NOTIFY seen by another session, never skipping a change a slower transaction commits later.
usage: test_schema.py SCHEMA_DIR (schema/, with pg/ inside)"""
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import pg  # noqa: E402
from polling import wait_until  # noqa: E402

SCHEMA = sys.argv[1]
PG_SCHEMA = os.path.join(SCHEMA, "pg")
# What only the shared store has: its version row, the change log and how far it was trimmed,
# and the gateway of a reserved value, of a clean-stop mark and of a count's row (each gateway
# counts in its own).
PG_ONLY_TABLES = {"ipref_schema", "change_log", "change_log_trimmed"}
PG_ONLY_COLUMNS = {("reserve", "gateway"), ("store_state", "gateway"), ("counts", "gateway")}
VIEWS = ["mappings", "quarantined"]

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def same_migrations():
    lite, post = pg.migrations(SCHEMA), pg.migrations(PG_SCHEMA)
    check(sorted(lite) == list(range(1, len(lite) + 1)), f"SQLite migrations numbered 1..n: "
          f"{sorted(lite)}")
    check({n: v[0] for n, v in lite.items()} == {n: v[0] for n, v in post.items()},
          f"the same migration numbers and names in schema/ and schema/pg/: "
          f"{sorted((n, v[0]) for n, v in lite.items())} vs "
          f"{sorted((n, v[0]) for n, v in post.items())}")


def sqlite_store(path):
    db = sqlite3.connect(path)
    for number, (_, file) in sorted(pg.migrations(SCHEMA).items()):
        with open(file) as f:
            db.executescript("BEGIN;" + f.read() + f"; PRAGMA user_version = {number}; COMMIT;")
    return db


def lite_columns(db, table):
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


def pg_columns(cluster, db, table):
    return [r[0] for r in cluster.sql(db, "SELECT column_name FROM information_schema.columns "
                                          f"WHERE table_schema = 'public' AND table_name = "
                                          f"'{table}' ORDER BY ordinal_position")]


def same_columns(cluster, pgdb, lite):
    lite_tables = {r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    pg_tables = {r[0] for r in cluster.sql(pgdb, "SELECT table_name FROM "
                                                 "information_schema.tables WHERE table_schema "
                                                 "= 'public' AND table_type = 'BASE TABLE'")}
    check(pg_tables == lite_tables | PG_ONLY_TABLES,
          f"the same tables (PostgreSQL adds {sorted(PG_ONLY_TABLES)}): "
          f"{sorted(lite_tables)} vs {sorted(pg_tables)}")
    for t in sorted(lite_tables & pg_tables):
        ours = [c for c in pg_columns(cluster, pgdb, t) if (t, c) not in PG_ONLY_COLUMNS]
        check(ours == lite_columns(lite, t), f"table {t}: the same columns in the same order")
    for v in VIEWS:
        check(pg_columns(cluster, pgdb, v) == lite_columns(lite, v) != [],
              f"view {v}: the same columns ({lite_columns(lite, v)})")


# Rows written to both stores by statements both engines take as they are. Times are fixed so
# that the views' text is compared, not the clock.
DATA = """
INSERT INTO local_mapping (kind, ref, family, address, context, name, expires, source, created)
VALUES (1, '5000', 4, '172.17.1.80', '198.51.100.1', 'www.example.net', NULL, 'hosts:12', 1764136000),
       (2, '22612868171174347', 4, '172.17.1.75', '198.51.100.1', NULL, 1764138341, 'dataplane', 1764136000),
       (2, '77', 6, 'fd00::17', '2001:db8::1', 'h6.example.net', 1764138342, 'resolver', 1764136001),
       (1, '5001', 4, '172.17.1.80', '198.51.100.1', 'alias.example.net', NULL, 'hosts:13', 1764136000);
INSERT INTO remote_mapping (kind, encoded, family, context, ref, name, expires, source, created)
VALUES (3, '10.249.23.56', 4, '192.0.2.7', '2466', 'b6.example.net', 1764138341, 'resolver', 1764136002),
       (3, '10.249.23.57', 4, '192.0.2.7', '2467', NULL, 1764138343, 'dataplane', 1764136003),
       (4, '10.250.0.1', 4, '192.0.2.9', '1', 'static.example.net', NULL, 'hosts:3', 1764136004),
       (3, 'fd01::1:2', 6, '2001:db8:9::1', '99', 'v6.example.net', 1764138344, 'resolver', 1764136005);
INSERT INTO quarantine (value, until)
VALUES ('encoded:10.249.23.9', 1764139000), ('encoded:fd01::9', 1764139001), ('ref:12345', 1764139002);
INSERT INTO quota_hold (value, pool, live, until)
VALUES ('10.249.23.57', 'client:172.17.1.9', 1, 1764139000),
       ('10.249.23.58', 'inbound:192.0.2.7', 0, 1764139001),
       ('10.249.23.59', 'client:172.17.1.9', 0, 1764139002);
-- an expiry: the mapping goes, its value rests (renewed by an upsert when it rests already)
DELETE FROM remote_mapping WHERE encoded = '10.249.23.57';
INSERT INTO quarantine (value, until) VALUES ('encoded:10.249.23.57', 1764139100)
ON CONFLICT (value) DO UPDATE SET until = excluded.until;
INSERT INTO quarantine (value, until) VALUES ('encoded:10.249.23.9', 1764139200)
ON CONFLICT (value) DO UPDATE SET until = excluded.until;
UPDATE remote_mapping SET kind = 4, expires = NULL WHERE encoded = 'fd01::1:2';
UPDATE remote_mapping SET last_used = 1764136100 WHERE encoded = '10.249.23.56';
DELETE FROM quota_hold WHERE value = '10.249.23.57';
DELETE FROM local_mapping WHERE ref = '5001';
-- a hold renewed for another pool moves between the pools' counts (migration 7)
INSERT INTO quota_hold (value, pool, live, until)
VALUES ('10.249.23.59', 'client:172.17.1.10', 1, 1764139300)
ON CONFLICT (value) DO UPDATE SET pool = excluded.pool, live = excluded.live, until = excluded.until;
-- and to another kind of pool, a peer's: hold.client and hold.inbound too (migration 8)
INSERT INTO quota_hold (value, pool, live, until)
VALUES ('10.249.23.59', 'inbound:192.0.2.7', 0, 1764139400),
       ('10.249.23.60', 'inbound:192.0.2.7', 0, 1764139400)
ON CONFLICT (value) DO UPDATE SET pool = excluded.pool, live = excluded.live, until = excluded.until;
-- a resting value renamed by hand, to another family: its quarantine count moves (migration 8)
UPDATE quarantine SET value = 'encoded:fd01::a' WHERE value = 'encoded:10.249.23.9';
"""

# Each must fail in both engines: the constraints that keep a value bound once.
DUPLICATES = [
    ("our reference bound twice",
     "INSERT INTO local_mapping (kind, ref, family, address, context, expires, source, created) "
     "VALUES (1, '5000', 4, '172.17.1.81', '198.51.100.1', NULL, 'cli', 1)"),
    ("a second dynamic reference for one host",
     "INSERT INTO local_mapping (kind, ref, family, address, context, expires, source, created) "
     "VALUES (2, '78', 4, '172.17.1.75', '198.51.100.1', 5, 'cli', 1)"),
    ("an encoded address bound twice",
     "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source, created) "
     "VALUES (3, '10.249.23.56', 4, '192.0.2.8', '1', 5, 'cli', 1)"),
    ("one remote IPREF address given two encoded addresses",
     "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source, created) "
     "VALUES (3, '10.249.23.99', 4, '192.0.2.7', '2466', 5, 'cli', 1)"),
    ("a dynamic mapping with no lease",
     "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source, created) "
     "VALUES (3, '10.249.23.98', 4, '192.0.2.7', '3000', NULL, 'cli', 1)"),
]

QUERIES = {
    "mappings": "SELECT * FROM mappings ORDER BY kind, address, ipref",
    "quarantined": "SELECT * FROM quarantined ORDER BY value",
    # how gwctld reads them from either engine: PostgreSQL keeps a row per gateway
    "counts": "SELECT name, sum(value) FROM counts GROUP BY name ORDER BY name",
    "hold_counts": "SELECT pool, value FROM hold_counts ORDER BY pool",
}


def text(v):
    return "" if v is None else str(v)


def same_rows(cluster, pgdb, lite):
    lite.executescript("BEGIN;" + DATA + "COMMIT;")
    cluster.sql(pgdb, DATA, args=["-1"])
    for what, query in QUERIES.items():
        a = [[text(v) for v in row] for row in lite.execute(query)]
        b = cluster.sql(pgdb, query)
        check(a == b and len(a) > 0, f"{what}: the same rows in psql as in sqlite3 ({len(a)})")
        if a != b:
            print(f"  sqlite3: {a}\n  psql:    {b}")
    kept = [[text(v) for v in row] for row in lite.execute(QUERIES["counts"]) if row[1] != 0]
    rows = [[text(v) for v in row] for row in lite.execute(LITE_TRUE_COUNTS)]
    check(kept == rows, f"the counts sqlite3 keeps are the tables' counts: {kept}")
    if kept != rows:
        print(f"  counted: {rows}")
    for what, stmt in DUPLICATES:
        try:
            lite.execute(stmt)
            lite_refused = False
        except sqlite3.IntegrityError:
            lite_refused = True
        r = cluster.sql(pgdb, stmt, check=False)
        check(lite_refused and r.returncode != 0 and ("violates" in r.stderr),
              f"refused by both engines: {what}")


def idempotent(cluster):
    db = cluster.createdb("again")
    v1 = pg.migrate(cluster, db, PG_SCHEMA)
    check(v1 == len(pg.migrations(SCHEMA)), f"migrations apply on a fresh database ({v1})")
    catalog = ("SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod) "
               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
               "WHERE n.nspname = 'public' ORDER BY 1, 3;"
               "SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE NOT tgisinternal "
               "ORDER BY 1;"
               "SELECT * FROM counts ORDER BY name; SELECT count(*) FROM change_log")
    before = cluster.sql(db, catalog)
    v2 = pg.migrate(cluster, db, PG_SCHEMA)
    check(v2 == v1 and cluster.sql(db, catalog) == before,
          "migrations applied again change nothing")
    # a store written by a newer gwctld carries a higher version; the runner leaves it alone
    cluster.sql(db, "UPDATE ipref_schema SET version = 99")
    check(pg.migrate(cluster, db, PG_SCHEMA) == 99, "a newer store's version is left alone")


BIND = ("INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source, "
        "created) VALUES (3, '10.249.40.1', 4, '{ctx}', '{ref}', 2000000000, 'resolver', 1);")


def concurrent_bind(cluster, db):
    a, b = cluster.session(db), cluster.session(db)
    try:
        a.run("SET ipref.gateway = 'gw-a'")
        b.run("SET ipref.gateway = 'gw-b'")
        b_pid = b.run("SELECT pg_backend_pid()")[0]
        a.run("BEGIN; " + BIND.format(ctx="192.0.2.50", ref="1"))
        # b binds the same encoded address to another IPREF address: it waits on a's row
        mark = b.send(BIND.format(ctx="192.0.2.51", ref="2"))
        wait_until(lambda: cluster.sql(db, "SELECT wait_event_type FROM pg_stat_activity "
                                           f"WHERE pid = {b_pid}") == [["Lock"]],
                   60, "the second binding to wait on the first one's lock")
        a.run("COMMIT")
        out = b.collect(mark)
        check(any("duplicate key value violates unique constraint" in line for line in out),
              f"two gateways binding one value at once: the second is refused ({out})")
        rows = cluster.sql(db, "SELECT context FROM remote_mapping WHERE encoded = '10.249.40.1'")
        check(rows == [["192.0.2.50"]], f"exactly one binding, the first: {rows}")
        # two gateways reserving the same value: it goes to one block only
        a.run("INSERT INTO reserve (gateway, pool, value, seq) VALUES "
              "('gw-a', 'encoded:10.249.0.0/16', 'encoded:10.249.40.2', 1) "
              "ON CONFLICT DO NOTHING")
        b.run("INSERT INTO reserve (gateway, pool, value, seq) VALUES "
              "('gw-b', 'encoded:10.249.0.0/16', 'encoded:10.249.40.2', 1) "
              "ON CONFLICT DO NOTHING")
        rows = cluster.sql(db, "SELECT gateway FROM reserve WHERE value = 'encoded:10.249.40.2'")
        check(rows == [["gw-a"]], f"a value reserved by two gateways is in one block: {rows}")
    finally:
        a.close()
        b.close()


def many_binders(cluster, db, sessions=4, each=300):
    """Gateways binding values of one /24 at random, at once, each binding its own commit: no
    value bound twice, every success there, and the counts of all gateways' rows true."""
    gateways = [cluster.session(db) for _ in range(sessions)]
    try:
        marks = []
        for i, s in enumerate(gateways):
            s.run(f"SET ipref.gateway = 'gw-{i}'")
            rng = random.Random(i)
            stmts = "\n".join(
                "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, "
                f"source, created) VALUES (3, '10.249.60.{rng.randrange(256)}', 4, "
                f"'192.0.2.{100 + i}', '{n}', 2000000000, 'resolver', 1) "
                "ON CONFLICT DO NOTHING RETURNING 1;" for n in range(each))
            marks.append(s.send(stmts))
        won = [s.collect(m, 240) for s, m in zip(gateways, marks)]
        errors = [line for out in won for line in out if line != "1"]
        check(errors == [], f"{sessions} gateways binding at once: no errors ({errors[:3]})")
        wins = sum(len(out) for out in won)
        rows = cluster.sql(db, "SELECT count(*), count(DISTINCT encoded) FROM remote_mapping "
                               "WHERE encoded LIKE '10.249.60.%'")[0]
        check(rows == [str(wins), str(wins)] and 200 < wins <= 256,
              f"{sessions * each} bindings at once of 256 values: {wins} won, each value once "
              f"({rows})")
    finally:
        for s in gateways:
            s.close()


def changes(cluster, db, cursor):
    rows = cluster.sql(db, f"SELECT * FROM ipref_changes_since('{cursor}')")
    return rows


def notify(cluster, db):
    listener, a, b = cluster.session(db), cluster.session(db), cluster.session(db)
    try:
        listener.run("LISTEN ipref_changes")
        start = cluster.sql(db, "SELECT pg_snapshot_xmin(pg_current_snapshot())")[0][0]
        a.run("SET ipref.gateway = 'gw-a'")
        b.run("SET ipref.gateway = 'gw-b'")
        # a's transaction starts first and commits last; b's change must not be read before
        # a's, or a reader's cursor would pass a's change by
        a.run("BEGIN; " + BIND.format(ctx="192.0.2.60", ref="1").replace("40.1", "41.1"))
        b.run(BIND.format(ctx="192.0.2.61", ref="1").replace("40.1", "41.2"))
        got = wait_until(lambda: [l for l in listener.run("SELECT 1")
                                  if "ipref_changes" in l], 60,
                         "the listener to hear of the other session's change")
        check(any('Asynchronous notification "ipref_changes"' in l for l in got),
              f"NOTIFY reaches a listener for a change made by another session: {got}")
        held = changes(cluster, db, start)
        check(held == [], f"a change behind a transaction still running is held back: {held}")
        a.run("COMMIT")
        rows = changes(cluster, db, start)
        keys = [(r[2], r[3], r[4], r[5]) for r in rows]
        check(keys == [("gw-a", "remote_mapping", "insert", "10.249.41.1"),
                       ("gw-b", "remote_mapping", "insert", "10.249.41.2")],
              f"then both, in the order their transactions began, with their gateways: {keys}")
        cursor = rows[-1][1]
        check(changes(cluster, db, cursor) == [], "the next cursor is past them")
        b.run("UPDATE remote_mapping SET last_used = 5 WHERE encoded = '10.249.41.2'")
        check(changes(cluster, db, cursor) == [], "a use report is not a change for the others")
        # someone reading with psql, in a transaction left open: it holds nothing back
        a.run("BEGIN; SELECT count(*) FROM mappings")
        b.run("DELETE FROM remote_mapping WHERE encoded = '10.249.41.2'")
        keys = [(r[3], r[4], r[5]) for r in changes(cluster, db, cursor)]
        check(keys == [("remote_mapping", "delete", "10.249.41.2")],
              f"a delete is logged, and read while a read-only transaction stays open: {keys}")
        a.run("COMMIT")
    finally:
        for s in (listener, a, b):
            s.close()


def renames(cluster, db):
    """An update that changes a row's key (a value renamed in quarantine, a mapping's encoded
    address edited by hand) logs the old key as deleted: a reader reads each logged key's row
    again, and would otherwise keep the old one forever."""
    cluster.sql(db, "INSERT INTO quarantine (value, until) VALUES ('encoded:10.249.42.1', 5);"
                + BIND.format(ctx="192.0.2.62", ref="1").replace("40.1", "42.3"))
    cursor = cluster.sql(db, "SELECT pg_snapshot_xmin(pg_current_snapshot())")[0][0]
    cluster.sql(db, "UPDATE quarantine SET value = 'encoded:10.249.42.2' "
                "WHERE value = 'encoded:10.249.42.1';"
                "UPDATE remote_mapping SET encoded = '10.249.42.4' WHERE encoded = '10.249.42.3';"
                "UPDATE quarantine SET until = 6 WHERE value = 'encoded:10.249.42.2'")
    keys = [(r[3], r[4], r[5]) for r in changes(cluster, db, cursor)]
    check(keys == [("quarantine", "delete", "encoded:10.249.42.1"),
                   ("quarantine", "update", "encoded:10.249.42.2"),
                   ("remote_mapping", "delete", "10.249.42.3"),
                   ("remote_mapping", "update", "10.249.42.4"),
                   ("quarantine", "update", "encoded:10.249.42.2")],
          f"a changed key is logged under the old key as a delete, then the new: {keys}")
    cluster.sql(db, "DELETE FROM quarantine WHERE value = 'encoded:10.249.42.2';"
                "DELETE FROM remote_mapping WHERE encoded = '10.249.42.4'")


def trimmed(cluster, db):
    """How far the change log was trimmed (migration 11), for a reader to know it lost rows:
    the highest txid any deleted row had, never lowered; a TRUNCATE raises it above every row
    the log can have held."""
    def upto():
        return int(cluster.sql(db, "SELECT upto FROM change_log_trimmed")[0][0])

    for n in (1, 2):
        cluster.sql(db, BIND.format(ctx="192.0.2.63", ref=str(n)).replace("40.1", f"43.{n}"))
    older, newer = [int(r[0]) for r in cluster.sql(
        db, "SELECT txid FROM change_log WHERE key IN ('10.249.43.1', '10.249.43.2')"
        " ORDER BY txid")]
    before = upto()
    cluster.sql(db, "DELETE FROM change_log WHERE seq < 0")
    check(upto() == before, "a trim that removes nothing leaves change_log_trimmed")
    cluster.sql(db, "DELETE FROM change_log WHERE key = '10.249.43.2'")
    check(upto() == newer, f"a trim raises it to the txid of the newest row it removed: "
          f"{upto()} {newer}")
    cluster.sql(db, "DELETE FROM change_log WHERE key = '10.249.43.1'")
    check(upto() == newer, f"a trim of older rows leaves it: {upto()} {older} {newer}")
    cluster.sql(db, "DELETE FROM remote_mapping WHERE encoded LIKE '10.249.43.%'")
    last = int(cluster.sql(db, "SELECT max(txid::text::bigint) FROM change_log")[0][0])
    cluster.sql(db, "TRUNCATE change_log")
    check(upto() > last, f"a TRUNCATE raises it above every row: {upto()} {last}")


def bites(cluster, db):
    """The log read in bites (migration 13): at most a bite of rows after a (txid, seq)
    cursor, in the log's order, never the reader's own; and how far the log was trimmed, to the
    row, for a bite that ended inside a transaction."""
    def bite(txid, seq, n, reader):
        return cluster.sql(db, f"SELECT txid, seq, gateway, key FROM ipref_changes_after("
                           f"'{txid}', {seq}, {n}, {reader})")

    def upto():
        return tuple(int(v) for v in cluster.sql(
            db, "SELECT upto, upto_seq FROM change_log_trimmed")[0])

    start = cluster.sql(db, "SELECT pg_snapshot_xmin(pg_current_snapshot())")[0][0]
    for gateway, net, n in (("gw-a", 44, 5), ("gw-b", 45, 3), ("gw-a", 46, 4)):
        cluster.sql(db, f"SET ipref.gateway = '{gateway}';"
                    "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires,"
                    f" source, created) SELECT 3, '10.249.{net}.' || g, 4, '192.0.2.64',"
                    f" ({net} * 100 + g)::text, 2000000000, 'resolver', 1"
                    f" FROM generate_series(1, {n}) g")
    everything = bite(start, 0, 1000, "NULL")
    keys = [r[3] for r in everything]
    check(keys == [f"10.249.{net}.{g}" for net, n in ((44, 5), (45, 3), (46, 4))
                   for g in range(1, n + 1)], f"a bite large enough reads all, in order: {keys}")
    read, txid, seq = [], start, 0
    while True:
        rows = bite(txid, seq, 4, "'gw-b'")
        check(len(rows) <= 4, f"a bite returns at most its rows: {len(rows)}")
        read += [r[3] for r in rows]
        if len(rows) < 4:
            break
        txid, seq = rows[-1][0], rows[-1][1]
    check(read == [k for k, r in zip(keys, everything) if r[2] != "gw-b"],
          f"bites after each other's last row read each row once, not the reader's: {read}")
    first, middle = everything[0], everything[2]
    before = upto()
    cluster.sql(db, f"DELETE FROM change_log WHERE seq = {middle[1]}")
    check(upto() == (int(middle[0]), int(middle[1])),
          f"a trim records the transaction and seq of the newest row it removed: {upto()}")
    cluster.sql(db, f"DELETE FROM change_log WHERE seq = {first[1]}")
    check(upto() == (int(middle[0]), int(middle[1])) and upto() > before,
          f"an older row of the same transaction leaves it: {upto()}")
    cluster.sql(db, "DELETE FROM remote_mapping WHERE encoded LIKE '10.249.4_.%'")


# The counts the tables' rows make, as QUERIES["counts"] reads them, in each engine.
LITE_TRUE_COUNTS = """
SELECT 'mappings.' || kind, count(*) FROM (SELECT kind FROM local_mapping
                                           UNION ALL SELECT kind FROM remote_mapping) GROUP BY 1
UNION ALL SELECT 'encoded.' || family, count(*) FROM remote_mapping GROUP BY 1
UNION ALL SELECT 'quarantine.' || CASE WHEN value GLOB 'encoded:*:*' THEN 'encoded.6'
                                       WHEN value GLOB 'encoded:*' THEN 'encoded.4'
                                       ELSE 'ref' END, count(*) FROM quarantine GROUP BY 1
UNION ALL SELECT 'hold.' || CASE WHEN pool GLOB 'client:*' THEN 'client' ELSE 'inbound' END,
                 count(*) FROM quota_hold GROUP BY 1
ORDER BY 1
"""
TRUE_COUNTS = """
SELECT 'mappings.' || kind, count(*) FROM (SELECT kind FROM local_mapping
                                           UNION ALL SELECT kind FROM remote_mapping) m GROUP BY 1
UNION ALL SELECT 'encoded.' || family, count(*) FROM remote_mapping GROUP BY 1
UNION ALL SELECT ipref_quarantine_count_name(value), count(*) FROM quarantine GROUP BY 1
UNION ALL SELECT 'hold.' || CASE WHEN pool LIKE 'client:%' THEN 'client' ELSE 'inbound' END,
                 count(*) FROM quota_hold GROUP BY 1
ORDER BY 1
"""


def counts_true(cluster, db, when=""):
    kept = [r for r in cluster.sql(db, QUERIES["counts"]) if r[1] != "0"]
    rows = cluster.sql(db, TRUE_COUNTS)
    gateways = cluster.sql(db, "SELECT DISTINCT gateway FROM counts ORDER BY 1")
    check(kept == rows, f"{when}the counts kept by {len(gateways)} gateways' rows are the "
          f"tables' counts: {kept}")
    if kept != rows:
        print(f"  counted: {rows}")


# Two gateways' changes to a store of schema 7, whose counts missed a change of pool or value.
MISSED_MOVES = """
SET ipref.gateway = 'gw-a';
INSERT INTO quota_hold (value, pool, live, until)
VALUES ('10.249.70.1', 'client:172.17.1.9', 1, 1), ('10.249.70.2', 'client:172.17.1.9', 0, 1);
INSERT INTO quarantine (value, until) VALUES ('encoded:10.249.70.9', 1), ('ref:5', 1);
SET ipref.gateway = 'gw-b';
UPDATE quota_hold SET pool = 'inbound:192.0.2.7' WHERE value = '10.249.70.2';
UPDATE quarantine SET value = 'encoded:fd01::70:9' WHERE value = 'encoded:10.249.70.9';
DELETE FROM quota_hold WHERE value = '10.249.70.1';
"""
MOVES_AFTER = """
SET ipref.gateway = 'gw-b';
INSERT INTO quota_hold (value, pool, live, until) VALUES ('10.249.70.2', 'client:172.17.1.9', 1, 2)
ON CONFLICT (value) DO UPDATE SET pool = excluded.pool, live = excluded.live, until = excluded.until;
INSERT INTO quota_hold (value, pool, live, until) VALUES ('10.249.70.3', 'inbound:192.0.2.7', 0, 2);
UPDATE quarantine SET value = 'ref:6' WHERE value = 'encoded:fd01::70:9';
"""
RECOUNTED = ("'hold.client', 'hold.inbound', 'quarantine.encoded.4', 'quarantine.encoded.6', "
             "'quarantine.ref'")


def recount(cluster):
    """Migration 8 counts again the counts that a change of pool or value left wrong, in the
    row of '' alone, and after it such changes move their counts."""
    db = cluster.createdb("recount")
    pg.migrate(cluster, db, PG_SCHEMA, upto=7)
    cluster.sql(db, MISSED_MOVES, args=["-1"])
    kept = [r for r in cluster.sql(db, QUERIES["counts"]) if r[1] != "0"]
    check(kept != cluster.sql(db, TRUE_COUNTS),
          f"a store of schema 7 counts a change of pool or value wrong: {kept}")
    pg.migrate(cluster, db, PG_SCHEMA)
    counts_true(cluster, db, "after migration 8, ")
    rows = cluster.sql(db, f"SELECT DISTINCT gateway FROM counts WHERE name IN ({RECOUNTED})")
    check(rows == [[""]], f"the recounted counts are in the row of '' alone: {rows}")
    cluster.sql(db, MOVES_AFTER, args=["-1"])
    counts_true(cluster, db, "moved after migration 8, ")


def main():
    same_migrations()
    with pg.Cluster() as cluster:
        lite_path = os.path.join(cluster.dir, "lite.db")
        lite = sqlite_store(lite_path)
        pgdb = cluster.createdb("store")
        pg.migrate(cluster, pgdb, PG_SCHEMA)
        same_columns(cluster, pgdb, lite)
        same_rows(cluster, pgdb, lite)
        lite.close()
        idempotent(cluster)
        concurrent_bind(cluster, pgdb)
        notify(cluster, pgdb)
        renames(cluster, pgdb)
        trimmed(cluster, pgdb)
        bites(cluster, pgdb)
        many_binders(cluster, pgdb)
        counts_true(cluster, pgdb)
        recount(cluster)
    if failures:
        print(f"{len(failures)} checks failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
