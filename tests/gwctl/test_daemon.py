#!/usr/bin/env python3
"""gwctld end to end: the CLI, the socket's rules, bad messages, pipelining, subscriptions,
refusing foreign stores. usage: test_daemon.py GWCTLD GWCTL"""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from ctl import *  # noqa: F401,F403 (the protocol constants)

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]


def test_cli_round_trip(make, workdir):
    d = make().start()
    out = d.cli("encode", "--name", "b6.example.net", "192.0.2.7 + 2466").stdout
    check("kind:    dynamic_remote" in out and "ipref:   192.0.2.7 + 2466" in out, out)
    encoded = [l.split()[1] for l in out.splitlines() if l.startswith("encoded:")][0]
    check(encoded.startswith("10."), encoded)
    # the same IPREF address keeps its encoded address
    again = d.cli("encode", "192.0.2.7 + 0-9a2").stdout
    check(f"encoded: {encoded}" in again, again)
    d.cli("ref", "172.17.1.75")
    d.cli("map", "10.240.0.99", "203.0.113.5 + 0-705")
    d.cli("map", "--publish", "172.17.1.80", "198.51.100.1 + 5000")
    rows = json.loads(d.cli("list", "--json").stdout)
    kinds = sorted(r["kind"] for r in rows)
    check(kinds == ["dynamic_local", "dynamic_remote", "published", "static_external"], kinds)
    by_addr = {r["address"]: r for r in rows}
    check(by_addr[encoded]["name"] == "b6.example.net", by_addr[encoded])
    check(by_addr["10.240.0.99"]["context"] == "203.0.113.5" and
          by_addr["10.240.0.99"]["ref"] == "1797", by_addr["10.240.0.99"])
    check("ipref:   203.0.113.5 + 1797" in d.cli("show", "10.240.0.99").stdout, "show")
    check("172.17.1.80" in d.cli("show", "5000").stdout, "show ref")
    check(d.cli("show", "10.240.0.98", ok=False).returncode == 3, "show missing")
    conflict = d.cli("map", "10.240.0.99", "203.0.113.6 + 1", ok=False)
    check(conflict.returncode == 1 and "in use" in conflict.stderr, conflict.stderr)
    # the addresses no allocator hands out cannot be mapped by hand either
    for addr, why in (("10.240.0.0", "network address"), ("10.240.0.1", "gateway's own"),
                      ("10.255.255.255", "broadcast address"), ("10.0.0.9", "outside")):
        bad = d.cli("map", addr, "203.0.113.6 + 1", ok=False)
        check(bad.returncode == 1 and why in bad.stderr, f"{addr}: {bad.stderr}")
    d.cli("unmap", "10.240.0.99")
    stats = d.stats()
    check(stats["gwctld.allocated.encoded"] == 1 and stats["gwctld.mappings.static_external"] == 0, stats)
    check("encoded-ipv4: 10.240.0.0/12" in d.cli("status").stdout, "status")
    # people read the store with sqlite3 while the daemon runs
    rows = sqlite3.connect(d.db).execute(
        "SELECT kind, address, ipref, name, source FROM mappings ORDER BY kind").fetchall()
    check(("dynamic remote", encoded, "192.0.2.7 + 2466", "b6.example.net", "cli") in rows, rows)


def test_cli_without_daemon(make, workdir):
    d = make()
    run = d.cli("status", ok=False)
    check(run.returncode == 1 and "gwctld is not running" in run.stderr, run.stderr)
    run = subprocess.run([GWCTL, "--config", "/nonexistent/gwctl.conf", "status"],
                         capture_output=True, text=True)
    check(run.returncode == 1, run.stderr)


def test_socket_permissions(make, workdir):
    d = make().start()
    mode = os.stat(d.sock).st_mode & 0o777
    check(mode == 0o600, oct(mode))
    if os.geteuid() != 0:
        return
    # another user is refused by the socket's mode, and by the peer check behind it
    os.chmod(workdir, 0o755)
    os.chmod(d.sock, 0o666)
    run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          GWCTL, "--socket", d.sock, "status"], capture_output=True, text=True)
    check(run.returncode == 1, run.stdout + run.stderr)
    c = d.client()
    stats = d.stats()
    check(stats["gwctld.peers.denied"] == 1, stats)
    c.close()


def test_bad_messages(make, workdir):
    d = make().start()
    c = d.client()
    # short, broken framing, bad values, unknown kind: error replies, the connection stays
    c.sock.send(b"\x01\x01")
    check(c.recv().status == E_MALFORMED, "short")
    c.sock.send(message(GET_EA, b"\x00\x01\x00\x09\x01", 7))
    r = c.recv()
    check(r.status == E_MALFORMED and r.id == 7, "framing")
    c.sock.send(message(GET_EA, attr(A_CONTEXT, b"123") + ref(5), 8))
    check(c.recv().status == E_MALFORMED, "bad value")
    c.sock.send(message(GET_EA, attr(A_NAME, b"Not.Canonical") + ref(5), 9))
    check(c.recv().status == E_MALFORMED, "name")
    c.sock.send(message(77, b"", 10))
    check(c.recv().status == E_KIND, "kind")
    c.sock.send(message(GET_EA, ref(5), 11))
    r = c.recv()
    check(r.status == E_INVALID and "CONTEXT" in r.message, r.message)
    c.sock.send(message(GET_EA, b"x" * 70000, 12))  # larger than any message may be
    check(c.recv().status == E_MALFORMED, "oversized")
    check(c.call(STATUS).status == OK, "still serving")
    # another protocol version: an error reply, then the connection is closed
    c.sock.send(message(STATUS, b"", 13, version=2))
    r = c.recv()
    check(r.status == E_VERSION and r.id == 13, "version")
    try:
        c.recv()
        raise AssertionError("connection left open")
    except (ConnectionError, OSError):
        pass
    stats = d.stats()
    check(int(stats["gwctld.messages.malformed"]) >= 5, stats)
    check(d.proc.poll() is None, "daemon alive")


def test_pipelining_and_races(make, workdir):
    d = make().start()
    c = d.client()
    ids = {}
    for n in range(1, 301):
        ids[c.send(GET_EA, attr(A_CONTEXT, ip("192.0.2.9")) + ref(n))] = n
    replies = {}
    while len(replies) < 300:
        r = c.recv()
        check(r.status == OK, r.message)
        replies[ids[r.id]] = r.get(A_ENCODED)
    check(len(set(replies.values())) == 300, "distinct encoded addresses")

    # many clients asking for the same new address at once get one mapping
    results, errors = [], []

    def ask():
        try:
            cl = d.client()
            results.append(cl.get_ea("192.0.2.10", 77).get(A_ENCODED))
            cl.close()
        except Exception as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors and len(results) == 16 and len(set(results)) == 1, (errors, results))
    count = sqlite3.connect(d.db).execute(
        "SELECT count(*) FROM remote_mapping WHERE context = '192.0.2.10'").fetchone()[0]
    check(count == 1, count)


def test_subscription(make, workdir):
    d = make().start()
    c = d.client()
    for n in range(1, 101):
        check(c.get_ea("192.0.2.7", n).status == OK, "alloc")
    sub = d.client()
    sub_id = sub.send(SUBSCRIBE)
    r = sub.recv()
    check(r.kind == SUBSCRIBE | REPLY and r.status == OK and r.id == sub_id, "subscribed")
    snapshot = set()
    while True:
        ev = sub.recv()
        check(ev.id == sub_id, "event id")
        if ev.kind == EV_SNAPSHOT_DONE:
            break
        check(ev.kind == EV_ADDED, hex(ev.kind))
        snapshot.add(ev.get(A_ENCODED))
    check(len(snapshot) == 100, len(snapshot))
    # a change after the snapshot arrives as an event, after its commit
    added = c.get_ea("192.0.2.7", 1000).get(A_ENCODED)
    ev = sub.recv()
    check(ev.kind == EV_ADDED and ev.get(A_ENCODED) == added, "added event")
    gen = int.from_bytes(ev.get(A_GENERATION), "big")
    d.cli("unmap", ip_text(added))
    ev = sub.recv()
    check(ev.kind == EV_REMOVED and ev.get(A_ENCODED) == added, "removed event")
    check(int.from_bytes(ev.get(A_GENERATION), "big") == gen + 1, "generation")


def test_refuses_foreign_database(make, workdir):
    d = make()
    db = sqlite3.connect(d.db)
    db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    db.commit()
    db.close()
    before = open(d.db, "rb").read()
    d.start(wait=False)
    code = d.proc.wait(10)
    log = open(d.log).read()
    check(code == 1 and "belongs to another application" in log, log)
    check(open(d.db, "rb").read() == before, "foreign database changed")
    with open(d.db, "wb") as f:
        f.write(b"this is a text file, not a database\n" * 100)
    d.start(wait=False)
    check(d.proc.wait(10) == 1 and "not a usable SQLite database" in open(d.log).read(), "text")


def test_upgrades_a_version_1_store(make, workdir):
    # a store as the first released schema left it, with a mapping in it
    d = make()
    schema = os.path.join(os.path.dirname(__file__), "..", "..", "schema", "001-initial.sql")
    db = sqlite3.connect(d.db)
    db.executescript(open(schema).read())
    db.execute("INSERT INTO remote_mapping (kind, encoded, family, context, ref, name, expires,"
               " source, created) VALUES (3, '10.240.1.2', 4, '192.0.2.7', '2466', NULL,"
               " 4102444800, 'resolver', 1)")
    db.execute("PRAGMA application_id = 1230000710")  # 0x49505246, "IPRF"
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    d.start()
    migrations = len([n for n in os.listdir(os.path.dirname(schema)) if n[:3].isdigit()])
    check(sqlite3.connect(d.db).execute("PRAGMA user_version").fetchone()[0] == migrations,
          "migrated")
    r = d.client().get_ea("192.0.2.7", 2466)
    check(r.status == OK and r.get(A_ENCODED) == ip("10.240.1.2"), "the mapping is kept")
    cols = [c[1] for c in sqlite3.connect(d.db).execute("PRAGMA table_info(remote_mapping)")]
    check("last_used" in cols, cols)


def test_second_daemon_and_stale_socket(make, workdir):
    d = make().start()
    other = make()
    other.db = os.path.join(workdir, "other.db")
    with open(other.conf, "w") as f:
        f.write(f"database = {other.db}\nsocket = {d.sock}\n")
    other.start(wait=False)
    check(other.proc.wait(10) == 1 and "another gwctld" in open(other.log).read(), "second")
    d.stop(signal.SIGKILL)  # leaves its socket file behind
    check(os.path.exists(d.sock), "stale socket kept")
    d.start()
    check(d.client().call(STATUS).status == OK, "restarted over a stale socket")


def test_restart_keeps_mappings(make, workdir):
    d = make().start()
    c = d.client()
    first = {n: c.get_ea("192.0.2.7", n).get(A_ENCODED) for n in range(1, 51)}
    c.close()
    check(d.stop() == 0, "clean stop")
    d.start()
    c = d.client()
    for n, encoded in first.items():
        r = c.call(LOOKUP_EA, attr(A_ENCODED, encoded))
        check(r.status == OK and int.from_bytes(r.get(A_REF), "big") == n, n)


def test_reload(make, workdir):
    d = make().start()
    with open(d.conf, "a") as f:
        f.write("lease = 2h\n")
    r = d.cli("reload")
    check("reloaded" in r.stdout, r.stdout)
    check("lease: 7200 s" in d.cli("status").stdout, "lease applied")
    with open(d.conf, "a") as f:
        f.write("lease = forever\n")
    r = d.cli("reload", ok=False)
    check(r.returncode == 1 and "gwctl.conf:" in r.stderr, r.stderr)
    check("lease: 7200 s" in d.cli("status").stdout, "previous settings kept")


def test_drops_privileges(make, workdir):
    if os.geteuid() != 0:
        print("     needs root to start as root and switch user: skipped")
        return "skip"
    os.chmod(workdir, 0o777)  # the store's folder must be writable by the daemon's user
    d = make("user = nobody\nsocket-group = nogroup\n").start()
    nobody = str(__import__("pwd").getpwnam("nobody").pw_uid)
    # the socket listens a moment before the switch: wait for it
    deadline = time.time() + 10
    while time.time() < deadline:
        uids = [l.split()[1:] for l in open(f"/proc/{d.proc.pid}/status")
                if l.startswith("Uid:")]
        if uids[0] == [nobody] * 4:
            break
        time.sleep(0.02)
    check(uids[0] == [nobody] * 4, uids)
    check(os.stat(d.sock).st_mode & 0o777 == 0o660, oct(os.stat(d.sock).st_mode))
    check(os.stat(d.sock).st_gid == __import__("grp").getgrnam("nogroup").gr_gid, "group")
    check(os.stat(d.db).st_uid == int(nobody), "store handed over")
    c = d.client()  # root may always connect
    for n in range(1, 20):
        check(c.get_ea("192.0.2.7", n).status == OK, "allocations as nobody")
    c.close()
    check(d.stop() == 0, "clean stop")
    d.start()
    check(d.client().call(LOOKUP_EA, attr(A_CONTEXT, ip("192.0.2.7")) + ref(5)).status == OK,
          "kept")


def test_ranges(make, workdir):
    # the default ranges and the one configured gateway address, in wire form
    d = make("encoded-ipv6 = none\ngateway = 2001:db8::1\n").start()
    r = d.client().call(RANGES)
    check(r.status == OK, r.message)
    check(r.all(A_RANGE) == [bytes([12]) + ip("10.240.0.0")], r.all(A_RANGE))
    check(r.all(A_GATEWAY) == [ip("198.51.100.1"), ip("2001:db8::1")], r.all(A_GATEWAY))
def test_layout_change(make, workdir):
    # a reload that changes what RANGES answers: subscribers get EV_LAYOUT, connections that
    # asked RANGES without subscribing (the resolver's) are closed to ask again, others stay
    d = make("encoded-ipv6 = none\n").start()
    sub = d.client()
    sub_id = sub.send(SUBSCRIBE)
    while sub.recv().kind != EV_SNAPSHOT_DONE:
        pass
    resolver, other = d.client(), d.client()
    check(resolver.call(RANGES).status == OK, "ranges")
    check(other.call(STATUS).status == OK, "status")
    d.cli("reload")  # nothing changed: nobody is told
    check(resolver.call(RANGES).all(A_RANGE) == [bytes([12]) + ip("10.240.0.0")], "unchanged")
    with open(d.conf, "a") as f:
        f.write("encoded-ipv4 = 10.250.0.0/16\n")
    d.cli("reload")
    ev = sub.recv()
    check(ev.kind == EV_LAYOUT and ev.id == sub_id and ev.status == OK, hex(ev.kind))
    try:
        resolver.recv()
        check(False, "the resolver's connection stayed open")
    except ConnectionError:
        pass
    check(other.call(STATUS).status == OK, "a connection that never asked RANGES stays")
    check(sub.call(RANGES).all(A_RANGE) == [bytes([16]) + ip("10.250.0.0")], "new layout")
    stats = d.stats()
    check(stats.get("gwctld.layout.changes") == 1 and stats.get("gwctld.layout.closed") == 1,
          stats)


def test_report_counters(make, workdir):
    d = make().start()
    c = d.client()
    r = c.report_counters("dataplane", [("rx.tun", 5), ("drop.bad_version", 2)])
    check(r.status == OK and struct.unpack(">Q", r.get(A_VALUE))[0] == 2, "stored")
    stats = d.stats()
    check(stats["dataplane.rx.tun"] == 5 and stats["dataplane.drop.bad_version"] == 2, stats)
    # the next report replaces the set; another component keeps its own
    check(c.report_counters("dataplane", [("rx.tun", 9)]).status == OK, "replaced")
    check(c.report_counters("resolver", [("queries", 1)]).status == OK, "second component")
    stats = d.stats()
    check(stats["dataplane.rx.tun"] == 9 and "dataplane.drop.bad_version" not in stats, stats)
    check(stats["resolver.queries"] == 1 and stats["gwctld.requests.report_counters"] == 3,
          stats)
    # bad names and bad nests are refused and change nothing
    # (the naming rule: lowercase words joined by underscores, dots between levels)
    for component, counters in [("Data plane", []), ("dataplane", [("x y", 1)]),
                                ("dataplane", [("a" * 48, 1)]), ("data-plane", []),
                                ("dataplane", [("drop.bad-version", 1)]),
                                ("dataplane", [("drop..x", 1)]), ("dataplane", [(".x", 1)])]:
        check(c.report_counters(component, counters).status == E_INVALID, component)
    check(c.report_counters("", []).status == E_MALFORMED, "texts are never empty")
    # up to 256 counters a report (core/ctl_proto.h): the dataplane with 8 workers shown sends ~110
    many = [(f"many.c{i}", i) for i in range(257)]
    check(c.report_counters("resolver", many[:256]).status == OK, "256 counters are taken")
    check(c.report_counters("resolver", many).status == E_INVALID, "257 are refused whole")
    check(c.call(REPORT_COUNTERS, attr(A_TEXT, b"dataplane") + attr(A_COUNTER, attr(A_TEXT, b"x")))
          .status == E_INVALID, "counter without value")
    # dataplane and resolver have slots of their own; four others share the rest
    check(all(c.report_counters(n, []).status == OK for n in "abcd"), "four others")
    check(c.report_counters("e", []).status == E_BUSY, "a fifth other is refused")
    stats = d.stats()
    check(stats["dataplane.rx.tun"] == 9, stats)


def inbound_ea(c, peer, ref):
    """GET_EA as the dataplane asks it, for an unknown remote source."""
    return c.call(GET_EA, attr(A_CONTEXT, ip(peer)) + ref_attr(ref) + attr(A_FAMILY, b"\x04") +
                  attr(A_SOURCE, b"dataplane"))


def ref_attr(n):
    return attr(A_REF, n.to_bytes(16, "big"))


def until_ok(ask, what, deadline=10.0):
    """Asks again until OK: room comes back when reclaimed values end their rest (1 s)."""
    end = time.monotonic() + deadline
    while True:
        r = ask()
        if r.status == OK or time.monotonic() > end:
            check(r.status == OK, f"{what}: {r.message}")
            return r
        time.sleep(0.1)


def test_inbound_limits(make, workdir):
    d = make("inbound-per-peer = 3\ninbound-total = 5\ninbound-rate = 1000\n"
             "inbound-quarantine = 1s\n").start()
    c = d.client()
    made = [inbound_ea(c, "203.0.113.1", n) for n in (1, 2, 3)]
    check(all(r.status == OK for r in made), [r.message for r in made])
    # the dataplane reports the first one as having carried a reply (a local host sent to it),
    # so it stays; the second only received (a stranger's probe), so it may go
    first, second = made[0].get(A_ENCODED), made[1].get(A_ENCODED)
    check(c.call(REPORT_USE, attr(A_MAPPING, attr(A_ENCODED, first) + attr(A_REPLIED, b"")) +
                 attr(A_MAPPING, attr(A_ENCODED, second))).status == OK, "use")
    # a fourth from the same peer puts that peer's oldest one that never carried a reply
    # (ref 2, not ref 1) to rest; its value counts until the rest ends, so room comes then
    refused = inbound_ea(c, "203.0.113.1", 4)
    check(refused.status == E_BUSY and "reclaimed" in refused.message, refused.message)
    refs = sorted(r[2] for r in sqlite3.connect(d.db).execute("SELECT * FROM mappings"))
    check(refs == ["203.0.113.1 + 1", "203.0.113.1 + 3"], refs)
    until_ok(lambda: inbound_ea(c, "203.0.113.1", 4), "room after the rest")
    refs = sorted(r[2] for r in sqlite3.connect(d.db).execute("SELECT * FROM mappings"))
    check(refs == ["203.0.113.1 + 1", "203.0.113.1 + 3", "203.0.113.1 + 4"], refs)
    # other sources than the dataplane (the resolver, the CLI) are not limited this way
    check(c.get_ea("203.0.113.1", 99).status == OK, "resolver-made")
    # in all: 5 inbound at most; another peer's new source reclaims the oldest idle anywhere
    check(inbound_ea(c, "203.0.113.2", 1).status == OK, "peer 2")
    check(inbound_ea(c, "203.0.113.2", 2).status == OK, "peer 2, fifth in all")
    check(inbound_ea(c, "203.0.113.2", 3).status == E_BUSY, "sixth reclaims")
    until_ok(lambda: inbound_ea(c, "203.0.113.2", 3), "sixth after the rest")
    stats = d.stats()
    check(int(stats["gwctld.inbound.reclaimed"]) >= 2, stats)
    # when every one of a peer's mappings carried a reply, its next new source is refused
    for r in sqlite3.connect(d.db).execute("SELECT encoded FROM remote_mapping"):
        c.call(REPORT_USE, attr(A_MAPPING, attr(A_ENCODED, ip(r[0])) + attr(A_REPLIED, b"")))
    # (retries above may have put more to rest: the pools fill up again first)
    for n in range(5, 12):
        refused = inbound_ea(c, "203.0.113.1", n)
        if refused.status != OK:
            break
        c.call(REPORT_USE, attr(A_MAPPING, attr(A_ENCODED, refused.get(A_ENCODED)) +
                                attr(A_REPLIED, b"")))
    check(refused.status == E_BUSY and "in use" in refused.message, refused.message)
    check(d.proc.poll() is None, "daemon alive")


def test_inbound_rate(make, workdir):
    d = make("inbound-rate = 2\ninbound-rate-total = 3\n").start()
    c = d.client()
    got = [inbound_ea(c, "203.0.113.7", n).status for n in range(1, 5)]
    check(got == [OK, OK, E_BUSY, E_BUSY], got)
    # another peer has its own bucket, but the global one is nearly empty too
    got = [inbound_ea(c, "203.0.113.8", n).status for n in range(1, 3)]
    check(got == [OK, E_BUSY], got)
    time.sleep(1.1)  # on purpose: the per-peer bucket refills at 2 a second
    check(inbound_ea(c, "203.0.113.7", 9).status == OK, "refilled")
    stats = d.stats()
    check(stats["gwctld.inbound.rate_limited"] == 3, stats)


def test_sample_configuration_is_valid(make, workdir):
    sample = os.path.join(os.path.dirname(__file__), "..", "..", "dist", "gwctl.conf")
    run = subprocess.run([GWCTLD, "--config", sample, "--check"], capture_output=True, text=True)
    check(run.returncode == 0 and "valid" in run.stdout, run.stdout + run.stderr)
    bad = os.path.join(workdir, "bad.conf")
    with open(bad, "w") as f:
        f.write("lease = 4h\nencoded-ipv4 = 10.240.0.1/12\n")
    run = subprocess.run([GWCTLD, "--config", bad, "--check"], capture_output=True, text=True)
    check(run.returncode == 1 and "bad.conf:2:" in run.stderr, run.stderr)


if __name__ == "__main__":
    sys.exit(Suite(GWCTLD, GWCTL).run([
        test_cli_round_trip, test_cli_without_daemon, test_socket_permissions, test_bad_messages,
        test_pipelining_and_races, test_subscription, test_refuses_foreign_database,
        test_upgrades_a_version_1_store, test_second_daemon_and_stale_socket,
        test_restart_keeps_mappings, test_reload,
        test_drops_privileges, test_ranges, test_layout_change, test_report_counters, test_inbound_limits,
        test_inbound_rate,
        test_sample_configuration_is_valid,
    ]))
