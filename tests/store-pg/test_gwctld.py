#!/usr/bin/env python3
"""gwctld on the PostgreSQL store (`store = postgresql:CONNINFO`, docs/gwctl.conf.md): one
gateway's mappings in the database, read back after a restart; two gateways on one store seeing
each other's mappings and never handing out one value twice; an unclean stop of one quarantining
its own reserve only; the database away failing requests with E_STORE and coming back by itself;
the server restarted, recovered from as an unclean stop.
A throwaway cluster (tests/common/pg.py); skips (77) without root or PostgreSQL's server.
usage: test_gwctld.py GWCTLD GWCTL"""
import os
import signal
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "common"))
sys.path.insert(0, os.path.join(here, "..", "gwctl"))
import gateways  # noqa: E402
import polling  # noqa: E402
from ctl import (A_CLIENT, A_CONTEXT, A_ENCODED, GET_EA, OK, SUBSCRIBE, attr, check, ip,  # noqa: E402
                 ip_text, ref)

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]
MIGRATION_LOCK = 0x49505246  # the migrations' advisory lock: the application id, "IPRF"


def gateway(cluster, db, name, root):
    return gateways.gateway(GWCTLD, GWCTL, cluster, db, name, root)


def one(cluster, db, sql):
    """The first column of the first row, as text."""
    return cluster.sql(db, sql)[0][0]


def encode(d, ipref, ok=True):
    run = d.cli("encode", ipref, ok=ok)
    lines = [l.split()[1] for l in run.stdout.splitlines() if l.startswith("encoded:")]
    return lines[0] if lines else run


def mapped(d, ipref):
    """ipref's encoded address from gateway d, None when it failed."""
    got = encode(d, ipref, ok=False)
    return got if isinstance(got, str) else None


def test_one_gateway(cluster, root):
    db = cluster.createdb("one")
    d = gateway(cluster, db, "gw1", root).start()
    first = d.cli("encode", "--name", "b6.example.net", "192.0.2.7 + 2466").stdout
    encoded = [l.split()[1] for l in first.splitlines() if l.startswith("encoded:")][0]
    check(not os.path.exists(d.db), "no SQLite file is made")
    # psql shows what sqlite3 would
    rows = cluster.sql(db, "SELECT kind, address, ipref, name, source FROM mappings")
    check(["dynamic remote", encoded, "192.0.2.7 + 2466", "b6.example.net", "cli"] in rows, rows)
    check(d.stop() == 0, "clean stop")
    check(one(cluster, db, "SELECT value FROM store_state WHERE gateway = 'gw1'"
              " AND name = 'clean'") == "1", "gw1 stopped clean")
    d.start()
    check(encode(d, "192.0.2.7 + 2466") == encoded, "the mapping survives the restart")
    check("did not stop cleanly" not in open(d.log).read(), open(d.log).read())
    d.stop()


def test_two_gateways(cluster, root):
    db = cluster.createdb("two")
    a = gateway(cluster, db, "gw1", root).start()
    b = gateway(cluster, db, "gw2", root).start()
    e = encode(a, "192.0.2.7 + 1")
    check(encode(b, "192.0.2.7 + 1") == e, "the other gateway finds the same mapping")
    seen = {}
    for i in range(2, 62):
        for d in (a, b):
            got = encode(d, f"192.0.2.{8 if d is a else 9} + {i}")
            check(got not in seen, f"{got} handed out twice: {seen.get(got)} and {d.dir}")
            seen[got] = d.dir
    count = cluster.sql(db, "SELECT count(*), count(DISTINCT encoded) FROM remote_mapping")
    check(count == [["121", "121"]], count)
    gateways = cluster.sql(db, "SELECT DISTINCT gateway FROM reserve ORDER BY 1")
    check(gateways == [["gw1"], ["gw2"]], gateways)
    # both at once, each sent 150 new names without waiting, every third a LAN client's, the
    # same 30 names to both: the batches' new names are bound by one statement each
    # (store_bind_ahead), and still no value is handed out twice nor a name mapped twice
    got = {}

    def burst(d, base):
        c = d.client()
        ids = {}
        for n in range(150):
            i = n if n < 30 else base + n
            extra = attr(A_CLIENT, ip(f"192.168.7.{n % 5 + 1}")) if n % 3 == 0 else b""
            ids[c.send(GET_EA, attr(A_CONTEXT, ip("192.0.2.20")) + ref(1000 + i) + extra)] = i
        while ids:
            r = c.recv()
            check(r.status == OK, r.message)
            got[(d.dir, ids.pop(r.id))] = ip_text(r.get(A_ENCODED))
        c.close()

    threads = [threading.Thread(target=burst, args=(d, base)) for d, base in ((a, 0), (b, 500))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(len(got) == 300, f"every request answered: {len(got)}")
    for i in range(30):
        check(got[(a.dir, i)] == got[(b.dir, i)], f"name {i}: one mapping on both gateways")
    count = cluster.sql(db, "SELECT count(*), count(DISTINCT encoded) FROM remote_mapping")
    check(count == [["391", "391"]], count)
    for d in (a, b):
        stats = d.stats()
        ahead = stats["gwctld.allocations.ahead"]
        check(ahead > 0, f"{d.dir}: new names bound in a batch's statement: {ahead}")
    a.stop()
    b.stop()


def wait_reserved(cluster, db, gateway_id):
    """The gateway's refills behind its loop (docs/store.md) have committed values: a test that
    stops or kills it to look at its reserve must have one to look at."""
    polling.wait_until(lambda: int(one(cluster, db, "SELECT count(*) FROM reserve"
                                       f" WHERE gateway = '{gateway_id}'")) > 0, 30,
                       f"{gateway_id} reserved values")


def test_unclean_stop_quarantines_own_reserve(cluster, root):
    db = cluster.createdb("unclean")
    a = gateway(cluster, db, "gw1", root).start()
    b = gateway(cluster, db, "gw2", root).start()
    encode(a, "192.0.2.7 + 1")
    encode(b, "192.0.2.7 + 2")
    wait_reserved(cluster, db, "gw1")
    wait_reserved(cluster, db, "gw2")
    check(b.stop() == 0, "gw2 stops cleanly")  # its refills done: its reserve stays as it is
    theirs = one(cluster, db, "SELECT count(*) FROM reserve WHERE gateway = 'gw2'")
    check(int(theirs) > 0, "gw2 reserved values")
    a.stop(signal.SIGKILL)
    a.start()
    log = open(a.log).read()
    check("did not stop cleanly" in log, log)
    check(one(cluster, db, "SELECT count(*) FROM reserve WHERE gateway = 'gw2'") == theirs,
          "gw2's reserve untouched")
    check(int(one(cluster, db, "SELECT count(*) FROM quarantine")) > 0, "gw1's rest")
    a.stop()


def test_unclean_start_waits_for_its_work(cluster, root):
    """The start's recovery after an unclean stop (its reserve to quarantine, every lease
    extended) is work in proportion to the store, and may wait for a lock: it is not held to a
    batch's time limits (1.4 s on the server, 1.5 s for an answer), which once failed the start
    for good ("cannot record the start in the store", and again at each restart)."""
    db = cluster.createdb("unclean_slow")
    a = gateway(cluster, db, "gw1", root).start()
    encode(a, "192.0.2.7 + 1")
    wait_reserved(cluster, db, "gw1")
    a.stop(signal.SIGKILL)
    holder = cluster.session(db)
    try:
        # a table the recovery writes, held for longer than both limits
        holder.run("BEGIN; LOCK TABLE quarantine IN SHARE MODE;")
        released = holder.send("SELECT pg_sleep(3); COMMIT;")
        started = time.monotonic()
        a.start()
        waited = time.monotonic() - started
        holder.collect(released)
    finally:
        holder.close()
    log = open(a.log).read()
    check("did not stop cleanly" in log, log)
    check(waited > 2, f"the start waited for the lock: {waited:.1f} s")
    check(int(one(cluster, db, "SELECT count(*) FROM quarantine")) > 0, "gw1's reserve rests")
    check(encode(a, "192.0.2.7 + 1") == encode(a, "192.0.2.7 + 1"), "allocations work")
    a.stop()


def test_database_away(cluster, root):
    db = cluster.createdb("away")
    d = gateway(cluster, db, "gw1", root).start()
    encode(d, "192.0.2.7 + 1")
    # as the dataplane does: subscribed, reporting (`gwctl health` wants both)
    dataplane = d.client()
    check(dataplane.call(SUBSCRIBE).status == 0, "subscribed")
    check(dataplane.report_counters("dataplane", [("tun.rx", 1)]).status == 0, "reported")
    check(d.cli("health").returncode == 0, "healthy before")
    asked = d.stats()["gwctld.requests.status"]
    cluster.sql("postgres", f"ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false")
    cluster.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{db}'")
    run = encode(d, "192.0.2.7 + 2", ok=False)
    check(not isinstance(run, str) and run.returncode != 0 and "store" in run.stderr,
          getattr(run, "stderr", run))
    check(d.proc.poll() is None, "gwctld goes on")
    # the dataplane's reports live in memory: taken while the store is away, or its report
    # ages and `gwctl health` fails on every gateway of the site at once
    check(dataplane.report_counters("dataplane", [("tun.rx", 2)]).status == 0,
          "a report taken while the store is away")
    # the counters too, but the store's counts, which cannot be read
    away = d.stats()
    check(away.get("dataplane.tun.rx") == 2 and "gwctld.errors.store" in away and
          "gwctld.mappings.dynamic_remote" not in away, away)
    # the shared store away is every gateway's trouble at once, and the dataplanes' tables stay
    # in force: health stays good, so keepalived moves nothing (unless asked with --store);
    # status answers with what it knows and fails, saying why
    run = d.cli("health", ok=False)
    check(run.returncode == 0 and "store unavailable" in run.stdout, run)
    run = d.cli("health", "--store", ok=False)
    check(run.returncode == 1 and "store" in run.stderr, run)
    run = d.cli("status", ok=False)
    check(run.returncode == 1 and "dataplanes-connected: 1" in run.stdout and
          "store: unavailable" in run.stdout, run)
    check("database: postgresql, as gateway gw1" in run.stdout and
          cluster.conninfo(db) not in run.stdout, run)
    dataplane.close()
    cluster.sql("postgres", f"ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true")
    polling.wait_until(lambda: isinstance(encode(d, "192.0.2.7 + 3", ok=False), str), 30,
                       "allocations to work again")
    # the three STATUS requests of the outage, each answered again outside its failed batch,
    # are counted once each
    check(d.stats()["gwctld.requests.status"] == asked + 3, d.stats())
    d.stop()


def test_server_restart(cluster, root):
    """The server started again may have lost the last moments: recovered as an unclean stop."""
    db = cluster.createdb("restart")
    d = gateway(cluster, db, "gw1", root).start()
    encode(d, "192.0.2.7 + 1")
    polling.wait_until(lambda: int(one(cluster, db, "SELECT count(*) FROM reserve")) > 0, 30,
                       "the reserve to be refilled")
    cluster.restart()
    polling.wait_until(lambda: isinstance(encode(d, "192.0.2.7 + 2", ok=False), str), 30,
                       "allocations to work after the restart")
    log = open(d.log).read()
    check("the server started again" in log, log)
    check(int(one(cluster, db, "SELECT count(*) FROM quarantine")) > 0, "the reserve rests")
    d.stop()


def feed_state(d):
    """`gwctl status`'s peers-feed word: ready, connecting, down; None without the line."""
    for line in d.cli("status", ok=False).stdout.splitlines():
        if line.startswith("peers-feed: "):
            return line.split()[1]
    return None


def test_server_frozen(cluster, root):
    """The database server frozen (alive, its sockets open, answering nothing: a storage stall,
    a paused virtual machine) must not hold gwctld's event loop: a new mapping's request fails
    with the store's error rather than waiting on the server, `gwctl health` answers while the
    server stays frozen (keepalived would otherwise take the addresses from every gateway of
    the site at once), and once the server runs again allocations work by themselves."""
    db = cluster.createdb("frozen_server")
    d = gateway(cluster, db, "gw1", root).start()
    encode(d, "192.0.2.7 + 1")
    dataplane = d.client()  # `gwctl health` wants a subscribed dataplane and its reports
    check(dataplane.call(SUBSCRIBE).status == 0, "subscribed")
    check(dataplane.report_counters("dataplane", [("tun.rx", 1)]).status == 0, "reported")
    cluster.freeze()
    try:
        # the request reaches the server, which never answers it: the CLI's own timeout (5 s)
        # says "timed out" where the loop waited, the store's error where it gave up
        run = encode(d, "192.0.2.7 + 2", ok=False)
        check(not isinstance(run, str) and "store" in run.stderr, getattr(run, "stderr", run))
        check(dataplane.report_counters("dataplane", [("tun.rx", 2)]).status == 0,
              "a report taken while the server is frozen")
        run = d.cli("health", ok=False)
        check(run.returncode == 0, f"health while the server is frozen: {run}")
        run = d.cli("status", ok=False)
        check("store: unavailable" in run.stdout, run)
        # the peers feed's next read goes unanswered too: given up, not "ready" for ever
        polling.wait_until(lambda: feed_state(d) not in ("ready", None), 30,
                           "the peers feed to give up its unanswered read")
    finally:
        cluster.thaw()
    dataplane.close()
    polling.wait_until(lambda: mapped(d, "192.0.2.7 + 3"), 30,
                       "allocations to work again once the server runs")
    polling.wait_until(lambda: feed_state(d) == "ready", 60, "the peers feed back")
    count = cluster.sql(db, "SELECT count(*) = count(DISTINCT encoded) FROM remote_mapping")
    check(count == [["t"]], "no value bound twice")
    d.stop()


def test_feed_reconnect_bounded(cluster, root):
    """The peers feed's connection, made again inside the event loop, runs the migrations'
    check under the site's migration lock: held elsewhere (another gateway's long migration,
    here a session that took it and waits), the reconnect must not hold the loop, and `gwctl
    status` answers meanwhile; the feed connects once the lock is free."""
    db = cluster.createdb("feed_lock")
    d = gateway(cluster, db, "gw1", root).start()
    encode(d, "192.0.2.7 + 1")
    polling.wait_until(lambda: feed_state(d) == "ready", 30, "the feed to connect")
    holder = cluster.session(db)
    try:
        holder.run(f"BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        cluster.sql(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                    " pid <> pg_backend_pid() AND (query LIKE 'LISTEN%'"
                    " OR query LIKE '%ipref_changes%')")
        waiting = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                   " AND wait_event = 'advisory'")
        polling.wait_until(lambda: one(cluster, db, waiting) != "0", 30,
                           "the feed's reconnect to wait for the migration lock")
        state = feed_state(d)
        check(state not in ("ready", None), f"status while the feed waits for the lock: {state}")
        check(encode(d, "192.0.2.7 + 2") is not None, "allocations go on meanwhile")
    finally:
        holder.run("COMMIT")
        holder.close()
    polling.wait_until(lambda: feed_state(d) == "ready", 30,
                       "the feed to connect once the lock is free")
    d.stop()


def freeze_in_transaction(cluster, db, d, tries=300):
    """Stops d (SIGSTOP) at a moment its session is inside a transaction that has written (a
    transaction ID assigned: it holds locks), as a gateway cut off or frozen mid-batch."""
    inside = ("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND "
              "state = 'idle in transaction' AND backend_xid IS NOT NULL" % db)
    for _ in range(tries):
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            polling.wait_until(lambda: one(cluster, db, inside) == "1", 0.3, "in a transaction")
            return
        except AssertionError:
            os.kill(d.proc.pid, signal.SIGCONT)
            time.sleep(0.01)
    raise AssertionError(f"gw1 never stopped inside a transaction in {tries} tries")


def test_gateway_frozen_mid_batch(cluster, root):
    """A gateway stopped inside its transaction (cut off mid-batch: the server never hears its
    connection close) must not hold the other gateways' writes: asked for the very name the
    frozen batch was mapping, the other answers within seconds, once the server ended the
    frozen session; the frozen one, woken, recovers and finds the other's mapping."""
    db = cluster.createdb("frozen")
    a = gateway(cluster, db, "gw1", root).start()
    b = gateway(cluster, db, "gw2", root).start()
    encode(b, "192.0.2.9 + 1")
    asked = [0]  # the reference of gw1's request in flight
    busy = threading.Event()

    def allocate():  # gw1 kept busy with new mappings, one request in flight at a time
        c = a.client()
        busy.set()
        try:
            while True:
                asked[0] += 1
                c.get_ea("192.0.2.8", 10000 + asked[0])
        except OSError:
            pass  # gw1 frozen: the call timed out
    threading.Thread(target=allocate, daemon=True).start()
    busy.wait(10)
    freeze_in_transaction(cluster, db, a)
    ipref = f"192.0.2.8 + {10000 + asked[0]}"  # inserted by the frozen, uncommitted batch
    try:
        start = time.monotonic()
        got = polling.wait_until(lambda: mapped(b, ipref), 30,
                                 f"gw2 to map {ipref} while gw1 is frozen mapping it",
                                 interval=0.2)
        print(f"     gw2 mapped it {time.monotonic() - start:.1f} s after gw1 froze")
    finally:
        os.kill(a.proc.pid, signal.SIGCONT)
    polling.wait_until(lambda: mapped(a, ipref) == got, 30,
                       "gw1, woken, to find gw2's mapping")
    count = cluster.sql(db, "SELECT count(*) = count(DISTINCT encoded) FROM remote_mapping")
    check(count == [["t"]], "no value bound twice")
    a.stop()
    b.stop()


sys.exit(gateways.run([test_one_gateway, test_two_gateways,
                       test_unclean_stop_quarantines_own_reserve,
                       test_unclean_start_waits_for_its_work, test_database_away,
                       test_server_restart, test_server_frozen, test_feed_reconnect_bounded,
                       test_gateway_frozen_mid_batch],
                      "ipref-pg-gwctld-"))
