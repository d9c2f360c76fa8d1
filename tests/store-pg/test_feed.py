#!/usr/bin/env python3
"""Every gateway sees every change (docs/store.md, "Hearing the other gateways"): two gwctld on
one PostgreSQL store; a subscriber of gw2, as the dataplane is, hears a mapping made on gw1 as
EV_ADDED (the same encoded address) and its unmap as EV_REMOVED, gw2's own changes once only,
a rename and a delete by hand in psql, and the feed again after the database connections are
cut. Prints the delay from a request on gw1 to the event on gw2 over 100 changes (median and
p99; printed, never asserted). Two gaps closed: gw2's feed kept away while gw1 changes things
and the log is trimmed past gw2's cursor (its subscribers start again from a snapshot, the
changes the log lost included); and a change gw1 commits after a subscriber of gw2 came but
before gw2's feed first connected (the snapshot waits for the feed's first cursor). And a
catch-up read in bites: 5,000 mappings and 100,000 rows of the log written while gw2's feed was
held off, each heard once, nothing dropped, no start-over. gw2's feed
is held off by a role of its own whose CONNECTION LIMIT leaves room for its store's connection
only.
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
import pg  # noqa: E402
import polling  # noqa: E402
from ctl import (A_ENCODED, A_REF, EV_ADDED, EV_REMOVED, EV_SNAPSHOT_DONE, OK, REPLY,  # noqa: E402
                 SUBSCRIBE, Daemon, check, ip_text)

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]


def gateway(cluster, db, name, root):
    return gateways.gateway(GWCTLD, GWCTL, cluster, db, name, root).start()


def limited_role(cluster, role, limit):
    """A login role with the rights of the cluster's user (the owner of the store's tables) but
    not its superuser's exemption from CONNECTION LIMIT."""
    cluster.sql("postgres", f"CREATE ROLE {role} LOGIN CONNECTION LIMIT {limit} IN ROLE {pg.USER}")
    return role


def gateway_as(cluster, db, name, root, role):
    """A gwctld named name on db that connects as role (started)."""
    workdir = os.path.join(root, name)
    os.mkdir(workdir)
    conninfo = cluster.conninfo(db).replace(f"user={pg.USER}", f"user={role}")
    d = Daemon(GWCTLD, workdir, f"store = postgresql:{conninfo}\ngateway-id = {name}\n",
               gwctl=GWCTL)
    gateways.made.append(d)
    return d.start()


def set_limit(cluster, role, limit):
    cluster.sql("postgres", f"ALTER ROLE {role} CONNECTION LIMIT {limit}")


def hold_off(cluster, role, gw):
    """gw's feed cut and kept away: its role has room for gw's store's connection only."""
    failures = gw.stats()["gwctld.peers_feed.failures"]
    set_limit(cluster, role, 1)
    cluster.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE usename = '{role}' AND query LIKE '%ipref_changes_after%'")
    polling.wait_until(lambda: gw.stats()["gwctld.peers_feed.failures"] > failures, 30,
                       "the feed to lose its connection")


class Mirror:
    """The encoded addresses a subscriber of d holds, as the dataplane keeps its table: the
    snapshot and the events after it. Closed by gwctld (told to start over), it subscribes
    again and holds what the new snapshot and the events after it say."""

    def __init__(self, d):
        self.d = d
        self.sub = None
        self.resubscribes = -1
        self.subscribe()

    def subscribe(self):
        if self.sub:
            self.sub.close()
        self.resubscribes += 1
        self.sub = self.d.client()
        self.sub.sock.settimeout(30)
        self.sub_id = self.sub.send(SUBSCRIBE)
        r = self.sub.recv()
        check(r.kind == SUBSCRIBE | REPLY and r.status == OK, "subscribed")
        self.held, self.synced = set(), False

    def pump(self):
        """One message applied; a closed connection subscribed again."""
        try:
            ev = self.sub.recv()
        except ConnectionError:
            self.subscribe()
            return
        if ev.id != self.sub_id:
            return
        if ev.kind == EV_SNAPSHOT_DONE:
            self.synced = True
        elif ev.kind in (EV_ADDED, EV_REMOVED) and ev.get(A_ENCODED):
            (self.held.add if ev.kind == EV_ADDED else self.held.discard)(
                ip_text(ev.get(A_ENCODED)))

    def until(self, address, seconds=60):
        """Reads until the snapshot is done and address is held."""
        deadline = time.monotonic() + seconds
        while not (self.synced and address in self.held):
            check(time.monotonic() < deadline,
                  f"{address} held by gw2's subscriber in {seconds} s: {sorted(self.held)}")
            self.pump()

    def close(self):
        self.sub.close()


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

    # gw2's own change: told once at its commit, and its log row not read back at all (the
    # read leaves it out: a busy gateway reading back all it wrote stalled); a change on gw1
    # after it is the next event
    own = encode(gw2, "192.0.2.7 + 2")
    ev = event(sub, sub_id)
    check(ev.kind == EV_ADDED and ip_text(ev.get(A_ENCODED)) == own, "gw2's own, once")
    marker = encode(gw1, "192.0.2.7 + 3")
    ev = event(sub, sub_id)
    check(ip_text(ev.get(A_ENCODED)) == marker, "no second event for gw2's own change")
    check(gw2.stats().get("gwctld.peers_feed.own") == 0, "gw2's own rows not read back: " +
          str(gw2.stats().get("gwctld.peers_feed.own")))
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
    check(gw2.stats()["gwctld.peers_feed.resyncs"] == 0,
          "a reconnect the log kept up with is no resync")
    sub.close()
    gw1.stop()
    gw2.stop()


def test_trimmed_log(cluster, root):
    """gw2's feed away while gw1 adds two mappings and removes one gw2's subscriber holds, and
    the log trimmed meanwhile (as the sweep trims it after an hour): back, gw2's cursor is older
    than the oldest row left; its subscriber is closed, subscribes again, and holds exactly
    what the store holds."""
    db = cluster.createdb("trimmed")
    role = limited_role(cluster, "feed_trimmed", -1)
    gw1 = gateway(cluster, db, "gw1", root)
    gw2 = gateway_as(cluster, db, "gw2", root, role)
    polling.wait_until(lambda: feed_ready(gw2), 30, "gw2's peers feed to be ready")
    mirror = Mirror(gw2)
    gone = encode(gw1, "192.0.2.10 + 1")
    mirror.until(gone)

    hold_off(cluster, role, gw2)
    added = [encode(gw1, f"192.0.2.10 + {n}") for n in (2, 3)]
    gw1.cli("unmap", gone)
    # the sweep's trim, by hand: every row so far; then a row newer than gw2's cursor is left
    cluster.sql(db, "DELETE FROM change_log WHERE seq IN (SELECT seq FROM change_log"
                " ORDER BY seq LIMIT 10000)")
    left = encode(gw1, "192.0.2.10 + 4")
    set_limit(cluster, role, -1)

    mirror.until(left)
    check(all(a in mirror.held for a in added) and gone not in mirror.held,
          f"after the trim, gw2's subscriber holds {sorted(mirror.held)}: {added} and {left},"
          f" not {gone}")
    check(mirror.resubscribes == 1, f"closed once to start over: {mirror.resubscribes}")
    stats = gw2.stats()
    check(stats["gwctld.peers_feed.resyncs"] == 1, f"one resync counted: {stats}")
    # the feed goes on from the new cursor
    later = encode(gw1, "192.0.2.10 + 5")
    mirror.until(later)
    check(mirror.resubscribes == 1, "no second start-over")
    mirror.close()
    gw1.stop()
    gw2.stop()


def lone_gw2(cluster, db, root, role):
    """gw2 alone on db (the other gateway is psql's), its feed ready, a subscriber past a
    mapping of gw2's own; and its counters then."""
    gw2 = gateway_as(cluster, db, "gw2", root, role)
    polling.wait_until(lambda: feed_ready(gw2), 30, "gw2's peers feed to be ready")
    mirror = Mirror(gw2)
    mirror.until(encode(gw2, "192.0.2.10 + 1"))
    return gw2, mirror, gw2.stats()


def test_catch_up_in_bites(cluster, root):
    """gw2's feed held off while another gateway puts 5,000 mappings in (more than two bites of
    2,000, in three transactions): back, gw2 reads them in bites, the next at once while one
    comes back full, and its subscriber holds every one, with no start-over."""
    db = cluster.createdb("bites")
    role = limited_role(cluster, "feed_bites", -1)
    gw2, mirror, before = lone_gw2(cluster, db, root, role)

    hold_off(cluster, role, gw2)
    added = []
    for block, count in ((0, 2100), (1, 1700), (2, 1200)):
        cluster.sql(db, "SET ipref.gateway = 'gw1';"
                    "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires,"
                    " source, created) SELECT 3, '10.250.' || "
                    f"({block} * 20 + g / 250) || '.' || (g % 250 + 1), 4, '192.0.2.72',"
                    f" ({block} * 10000 + g + 1)::text, 2000000000, 'resolver', 1"
                    f" FROM generate_series(0, {count - 1}) g")
        added += [f"10.250.{block * 20 + g // 250}.{g % 250 + 1}" for g in range(count)]
    set_limit(cluster, role, -1)

    mirror.until(added[-1], seconds=120)
    missing = [a for a in added if a not in mirror.held]
    check(not missing, f"gw2's subscriber holds all 5,000: {len(missing)} missing")
    check(mirror.resubscribes == 0, f"no start-over: {mirror.resubscribes}")
    stats = gw2.stats()
    got = {k: stats[k] - before[k] for k in ("gwctld.peers_feed.changes",
                                             "gwctld.peers_feed.reads",
                                             "gwctld.peers_feed.full_reads",
                                             "gwctld.peers_feed.dropped",
                                             "gwctld.peers_feed.resyncs")}
    check(got["gwctld.peers_feed.changes"] == 5000, f"each heard once: {got}")
    check(got["gwctld.peers_feed.full_reads"] >= 2 and got["gwctld.peers_feed.reads"] >= 3,
          f"in bites of 2,000, full ones followed at once: {got}")
    check(got["gwctld.peers_feed.dropped"] == 0 and got["gwctld.peers_feed.resyncs"] == 0,
          f"nothing dropped or lost: {got}")
    mirror.close()
    gw2.stop()


def test_long_catch_up(cluster, root):
    """A catch-up far longer than the queue of changes waiting (16,384): 100,000 rows of the
    log (written into it directly, of keys no table holds: each is read again and found gone)
    come while gw2's feed is held off. Back, its bites come no faster than gw2 applies them,
    so none is dropped and its subscriber is not told to start over."""
    db = cluster.createdb("longcatchup")
    role = limited_role(cluster, "feed_long", -1)
    gw2, mirror, before = lone_gw2(cluster, db, root, role)

    hold_off(cluster, role, gw2)
    cluster.sql(db, "INSERT INTO change_log (gateway, tbl, op, key) SELECT 'gw1',"
                " 'remote_mapping', 'insert', '10.251.' || (g / 250) || '.' || (g % 250 + 1)"
                " FROM generate_series(0, 99999) g")
    set_limit(cluster, role, -1)
    last = encode(gw2, "192.0.2.10 + 2")  # its own: told at its commit, whatever the feed does

    def heard():
        return gw2.stats()["gwctld.peers_feed.changes"] - before["gwctld.peers_feed.changes"]
    polling.wait_until(lambda: heard() >= 100000 or gw2.stats()["gwctld.peers_feed.dropped"],
                       240, "gw2's feed to hear the 100,000 rows (or drop some)")
    mirror.until(last)
    stats = gw2.stats()
    got = {k: stats[k] - before[k] for k in ("gwctld.peers_feed.changes",
                                             "gwctld.peers_feed.full_reads",
                                             "gwctld.peers_feed.dropped",
                                             "gwctld.peers_feed.resyncs")}
    check(got["gwctld.peers_feed.dropped"] == 0 and got["gwctld.peers_feed.resyncs"] == 0,
          f"none dropped: {got}")
    check(got["gwctld.peers_feed.full_reads"] >= 50, f"in bites: {got}")
    print(f"long catch-up: {got}")
    check(mirror.resubscribes == 0, f"no start-over: {mirror.resubscribes}")
    mirror.close()
    gw2.stop()


def test_startup_window(cluster, root):
    """A subscriber of gw2 comes before gw2's feed first connects (held off here by its role's
    connection limit); gw1 commits a change; then gw2's feed connects. The change must reach the
    subscriber, in its snapshot or as an event: the feed's cursor is taken before any snapshot
    is read."""
    db = cluster.createdb("startup")
    role = limited_role(cluster, "feed_startup", 1)
    gw1 = gateway(cluster, db, "gw1", root)
    gw2 = gateway_as(cluster, db, "gw2", root, role)
    # (gw2's first reload opens a reader connection of its own: refused too, and logged;
    # nothing here needs it)
    polling.wait_until(lambda: gw2.stats().get("gwctld.peers_feed.failures", 0) >= 1, 30,
                       "gw2's feed to be refused")
    mirror = Mirror(gw2)
    # a request answered after SUBSCRIBE's: a snapshot read at once has been read by now
    gw2.cli("status")
    early = encode(gw1, "192.0.2.11 + 1")
    set_limit(cluster, role, -1)
    polling.wait_until(lambda: feed_ready(gw2), 30, "gw2's peers feed to be ready")
    marker = encode(gw1, "192.0.2.11 + 2")
    mirror.until(marker)
    check(early in mirror.held,
          f"gw1's change between gw2's subscriber and its feed's first connect held by the"
          f" subscriber: {sorted(mirror.held)}")
    check(mirror.resubscribes == 0, "no start-over needed")
    mirror.close()
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


sys.exit(gateways.run([test_feed, test_trimmed_log, test_catch_up_in_bites,
                       test_long_catch_up, test_startup_window], "ipref-pg-feed-"))
