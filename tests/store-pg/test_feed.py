#!/usr/bin/env python3
"""Every gateway sees every change (docs/store.md, "Hearing the other gateways"): two gwctld on
one PostgreSQL store; a subscriber of gw2, as the dataplane is, hears a mapping made on gw1 as
EV_ADDED (the same encoded address) and its unmap as EV_REMOVED, gw2's own changes once only,
a rename and a delete by hand in psql, and the feed again after the database connections are cut. Prints the delay from a request on
gw1 to the event on gw2 over 100 changes (median and p99; printed, never asserted).
A throwaway cluster (tests/common/pg.py); skips (77) without root or PostgreSQL's server.
usage: test_feed.py GWCTLD GWCTL"""
import os
import statistics
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "common"))
sys.path.insert(0, os.path.join(here, "..", "gwctl"))
import gateways  # noqa: E402
import polling  # noqa: E402
from ctl import (A_ENCODED, A_REF, EV_ADDED, EV_REMOVED, EV_SNAPSHOT_DONE, OK, REPLY,  # noqa: E402
                 SUBSCRIBE, check, ip_text)

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]


def gateway(cluster, db, name, root):
    return gateways.gateway(GWCTLD, GWCTL, cluster, db, name, root).start()


def encode(d, ipref):
    run = d.cli("encode", ipref)
    return [l.split()[1] for l in run.stdout.splitlines() if l.startswith("encoded:")][0]


def subscribe(d):
    """A subscriber past its snapshot, reading events with a generous timeout."""
    sub = d.client()
    sub.sock.settimeout(30)
    sub_id = sub.send(SUBSCRIBE)
    r = sub.recv()
    check(r.kind == SUBSCRIBE | REPLY and r.status == OK, "subscribed")
    while sub.recv().kind != EV_SNAPSHOT_DONE:
        pass
    return sub, sub_id


def event(sub, sub_id):
    while True:
        ev = sub.recv()
        if ev.id == sub_id and ev.kind in (EV_ADDED, EV_REMOVED):
            return ev


def feed_ready(d):
    return "peers-feed: ready" in d.cli("status", ok=False).stdout


def test_feed(cluster, root):
    db = cluster.createdb("feed")
    gw1 = gateway(cluster, db, "gw1", root)
    gw2 = gateway(cluster, db, "gw2", root)
    polling.wait_until(lambda: feed_ready(gw2), 30, "gw2's peers feed to be ready")
    sub, sub_id = subscribe(gw2)

    e = encode(gw1, "192.0.2.7 + 1")
    ev = event(sub, sub_id)
    check(ev.kind == EV_ADDED and ip_text(ev.get(A_ENCODED)) == e,
          f"gw1's mapping heard on gw2: {hex(ev.kind)} {ev.attrs}")
    gw1.cli("unmap", e)
    ev = event(sub, sub_id)
    check(ev.kind == EV_REMOVED and ip_text(ev.get(A_ENCODED)) == e,
          f"gw1's unmap heard on gw2: {hex(ev.kind)} {ev.attrs}")
    check(int.from_bytes(ev.get(A_REF), "big") == 1, "the removed mapping's reference")

    # gw2's own change: told once at its commit, not again when its own log row comes back;
    # a change on gw1 after it is the next event
    own = encode(gw2, "192.0.2.7 + 2")
    ev = event(sub, sub_id)
    check(ev.kind == EV_ADDED and ip_text(ev.get(A_ENCODED)) == own, "gw2's own, once")
    polling.wait_until(lambda: gw2.stats().get("gwctld.peers_feed.own", 0) >= 1, 30,
                       "gw2 to hear its own change in the log")
    marker = encode(gw1, "192.0.2.7 + 3")
    ev = event(sub, sub_id)
    check(ip_text(ev.get(A_ENCODED)) == marker, "no second event for gw2's own change")
    stats = gw2.stats()
    check(stats["gwctld.peers_feed.added"] >= 2 and stats["gwctld.peers_feed.removed"] >= 1,
          stats)

    # by hand in psql (gateway ''): an encoded address renamed is the old one removed and the
    # new one added (migrations 9 and 10); a row deleted is removed
    renamed = "10.255.255.254" if "." in marker else "fd00::fffe"
    cluster.sql(db, f"UPDATE remote_mapping SET encoded = '{renamed}' WHERE encoded = '{marker}'")
    # the rename: EV_REMOVED of the old address, then EV_ADDED of the new one
    first, second = event(sub, sub_id), event(sub, sub_id)
    check((first.kind, ip_text(first.get(A_ENCODED))) == (EV_REMOVED, marker) and
          (second.kind, ip_text(second.get(A_ENCODED))) == (EV_ADDED, renamed),
          f"a rename by hand: {hex(first.kind)} {first.attrs} {hex(second.kind)} {second.attrs}")
    cluster.sql(db, f"DELETE FROM remote_mapping WHERE encoded = '{renamed}'")
    ev = event(sub, sub_id)
    check(ev.kind == EV_REMOVED and ip_text(ev.get(A_ENCODED)) == renamed, "a delete by hand")

    # the database connections cut: the feed reconnects and reads what it missed
    cluster.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{db}' AND pid <> pg_backend_pid()")
    after = polling.wait_until(lambda: try_encode(gw1, "192.0.2.7 + 4"), 30,
                               "gw1 to allocate again")
    ev = event(sub, sub_id)
    check(ev.kind == EV_ADDED and ip_text(ev.get(A_ENCODED)) == after,
          "heard after the connections were cut")
    polling.wait_until(lambda: gw2.stats()["gwctld.peers_feed.failures"] >= 1, 30,
                       "the cut to be counted")

    measure(gw1, sub, sub_id)
    sub.close()
    gw1.stop()
    gw2.stop()


def try_encode(d, ipref):
    run = d.cli("encode", ipref, ok=False)
    lines = [l.split()[1] for l in run.stdout.splitlines() if l.startswith("encoded:")]
    return lines[0] if run.returncode == 0 and lines else None


def measure(gw1, sub, sub_id):
    """From a request sent to gw1 to its event at gw2's subscriber, 100 times."""
    c = gw1.client()
    delays = []
    for n in range(1000, 1100):
        t0 = time.monotonic()
        r = c.get_ea("192.0.2.8", n)
        check(r.status == OK, "allocated on gw1")
        ev = event(sub, sub_id)
        delays.append((time.monotonic() - t0) * 1000)
        check(ev.get(A_ENCODED) == r.get(A_ENCODED), "in order")
    c.close()
    delays.sort()
    print(f"change on gw1 to event on gw2, {len(delays)} changes: "
          f"median {statistics.median(delays):.1f} ms, "
          f"p99 {delays[int(len(delays) * 0.99) - 1]:.1f} ms, max {delays[-1]:.1f} ms")


sys.exit(gateways.run([test_feed], "ipref-pg-feed-"))
