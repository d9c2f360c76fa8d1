#!/usr/bin/env python3
"""gwctld's event loop under load and faults: a reload whose commit failed is applied later,
no client starves another, expired leases are swept until none is left, GENERATION counts
every change, counter-report slots stay with their components, a big reload does not hold
other requests. Orders and counts are asserted, never timings (those are in bench/).
usage: test_loop.py GWCTLD"""
import contextlib
import os
import signal
import sqlite3
import struct
import subprocess
import sys

from ctl import *  # noqa: F401,F403 (the protocol constants)

GWCTLD = sys.argv[1]


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def poll(predicate, what, seconds=60):
    return polling.wait_until(predicate, seconds, what, interval=0.1)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def hosts_text(first, count):
    """count published hosts, 10.1.x.y with references first.. (outside the dynamic range)."""
    lines = []
    for i in range(count):
        n = first + i
        lines.append(f"10.{1 + n // 65536}.{(n // 256) % 256}.{n % 256} h{n} #= public + {5000 + n}")
    return "\n".join(lines) + "\n"


def published_count(db):
    con = sqlite3.connect(db, timeout=10)
    n = con.execute("SELECT count(*) FROM local_mapping WHERE kind = 1").fetchone()[0]
    con.close()
    return n


def counters_of(reply):
    return {n[A_TEXT].decode(): struct.unpack(">Q", n[A_VALUE])[0] for n in reply.nested(A_COUNTER)}


def stats_of(c):
    r = c.call(STATS)
    check(r.status == OK, r.message)
    return counters_of(r)


def stat(stats, name):
    """A counter by its name, with or without the component's prefix ("gwctld.")."""
    found = [v for k, v in stats.items() if k == name or k.endswith("." + name)]
    check(len(found) == 1, f"{name} in {sorted(stats)}")
    return found[0]


def status_lines(c):
    r = c.call(STATUS)
    check(r.status == OK, r.message)
    return [n[A_TEXT].decode() for n in r.nested(A_COUNTER)]


@contextlib.contextmanager
def paused(d):
    """The daemon stopped while the body writes, so that it finds every request waiting."""
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        # SIGSTOP lands asynchronously: wait until the kernel says the daemon is stopped
        poll(lambda: open(f"/proc/{d.proc.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "T",
             "gwctld stops on SIGSTOP", seconds=10)
        yield
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)


def test_reload_after_failed_commit(make, workdir):
    """The digests of a reload are kept only once its commit is durable (issue 17 item 3)."""
    if os.geteuid() != 0:
        print("     needs root to mount a small tmpfs: skipped")
        return "skip"
    mnt = os.path.join(workdir, "small")
    os.mkdir(mnt)
    sh("mount", "-t", "tmpfs", "-o", "size=3m", "ipref-test-loop", mnt)
    try:
        hosts = os.path.join(workdir, "hosts")
        write(hosts, hosts_text(0, 10))
        d = make()
        d.db = os.path.join(mnt, "gw.db")
        with open(d.conf, "w") as f:
            f.write(f"database = {d.db}\nsocket = {d.sock}\ngateway = 198.51.100.1\n"
                    f"hosts = {hosts}\nlog-level = error\n"
                    # small ranges: a small reserve of values, so that it leaves the 3 MiB
                    # file system the room this test fills
                    "encoded-ipv4 = 10.240.0.0/22\nencoded-ipv6 = fdee:eeee::/118\n"
                    "dynamic-ref-min = 4294967296\ndynamic-ref-max = 4294971391\n")
        d.start()
        c = d.client()
        poll(lambda: published_count(d.db) == 10, "the first hosts are published")
        with open(os.path.join(mnt, "filler"), "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # many more hosts: the commit needs more room than the WAL already has
        write(hosts, hosts_text(0, 3000))
        r = c.call(RELOAD)
        check(r.status == E_STORE, f"a reload on a full disk fails: {r.status} {r.message}")
        # slices that fitted in the WAL's recycled room may be stored (the flusher checkpoints
        # the WAL often, so it has room again); the reload as a whole is not
        check(published_count(d.db) < 3000, "the failed reload is not complete")
        os.unlink(os.path.join(mnt, "filler"))
        r = c.call(RELOAD)
        # The daemon's own reload (the watcher saw the hosts file change), queued behind the
        # first RELOAD, may apply them first once there is room again, and this one then finds
        # them unchanged; either way every host is in the store now. Digests kept despite the
        # failed commit would leave them missing and every reload saying "unchanged".
        check(r.status == OK, r.message)
        check(published_count(d.db) == 3000, f"{published_count(d.db)} of 3000 published")
        r = c.call(RELOAD)
        check(r.status == OK and "unchanged" in r.message, r.message)
        c.close()
    finally:
        d.stop()
        subprocess.run(["umount", "-l", mnt])


def test_fair_share(make, workdir):
    """64 pipelined STATUS of one client do not hold another's GET_EA behind them all (item 2).

    The daemon is stopped while both clients write, so that every request is waiting when it
    wakes; B's STATS, sent right after its GET_EA, tells how many STATUS were served first."""
    d = make().start()
    a, b = d.client(), d.client()
    check(b.get_ea("192.0.2.9", 1).status == OK, "a first allocation")
    before = stat(stats_of(b), "requests.status")
    with paused(d):
        for _ in range(64):
            a.send(STATUS)
        ea = b.send(GET_EA, attr(A_CONTEXT, ip("192.0.2.9")) + ref(2) + attr(A_FAMILY, b"\x04"))
        st = b.send(STATS)
    replies = {}
    while len(replies) < 2:
        r = b.recv()
        replies[r.id] = r
    check(replies[ea].status == OK, replies[ea].message)
    served = stat(counters_of(replies[st]), "requests.status") - before
    # one request per connection per round: B's two requests go out in rounds one and two
    check(served <= 4, f"{served} of A's 64 STATUS were served before B's second request")
    got = 0
    while got < 64:
        check(a.recv().status == OK, "STATUS")
        got += 1
    # the counts STATUS and STATS show are kept as the store changes
    check(any(l.startswith("mappings: 2 ") for l in status_lines(a)), status_lines(a))
    check(stat(stats_of(a), "mappings.dynamic_remote") == 2, "counted")


def remote_count(db, where="1"):
    con = sqlite3.connect(db, timeout=10)
    n = con.execute(f"SELECT count(*) FROM remote_mapping WHERE {where}").fetchone()[0]
    con.close()
    return n


def test_sweeps_until_done(make, workdir):
    """100,000 leases that ran out while the daemon was down are all swept, with no request
    to wake the daemon, and requests are answered meanwhile (item 6)."""
    d = make("sweep-interval = 1h\n").start()
    d.stop()
    con = sqlite3.connect(d.db)
    con.executemany(
        "INSERT INTO remote_mapping (kind, encoded, family, context, ref, expires, source,"
        " created) VALUES (3, ?, 4, '192.0.2.7', ?, 1000, 'resolver', 1)",
        ((f"10.{240 + n // 65536}.{(n // 256) % 256}.{n % 256 + 0}", str(n + 1))
         for n in range(2, 100_002)))
    con.commit()
    con.close()
    d.start()
    c = d.client()
    check(c.get_ea("192.0.2.8", 1).status == OK, "a request while sweeping")
    c.close()
    poll(lambda: remote_count(d.db, "kind = 3 AND expires <= 1000") == 0,
         f"expired mappings left: {remote_count(d.db, 'kind = 3 AND expires <= 1000')}",
         seconds=240)
    check(remote_count(d.db) == 1, "the live mapping stays")


def generation(d):
    """GENERATION as SUBSCRIBE's reply gives it, on a connection of its own."""
    s = d.client()
    r = s.call(SUBSCRIBE)
    s.close()
    check(r.status == OK, r.message)
    return struct.unpack(">Q", r.get(A_GENERATION))[0]


def test_generation_counts_every_change(make, workdir):
    """GENERATION grows by one per change, also when one commit makes more changes than are
    told to subscribers one by one (a big reload); item 11."""
    hosts = os.path.join(workdir, "hosts")
    write(hosts, hosts_text(0, 10))
    d = make(f"hosts = {hosts}\n").start()
    c = d.client()
    poll(lambda: published_count(d.db) == 10, "the first hosts are published")
    before = generation(d)
    write(hosts, hosts_text(0, 5010))
    r = c.call(RELOAD)
    check(r.status == OK and "5000 mappings added" in r.message, r.message)
    check(generation(d) == before + 5000, f"{generation(d) - before} changes counted of 5000")
    check(c.get_ea("192.0.2.9", 1).status == OK, "one allocation")
    check(generation(d) == before + 5001, "an allocation counts one")


def test_report_slots_stay_with_components(make, workdir):
    """Other reporters cannot take the slots of the suite's own components (item 11)."""
    d = make().start()
    c = d.client()
    for name in ("w", "x", "y", "z"):
        check(c.report_counters(name, [("n", 1)]).status == OK, name)
    check(c.report_counters("v", [("n", 1)]).status == E_BUSY, "a fifth other is refused")
    for name in ("dataplane", "resolver"):
        r = c.report_counters(name, [("rx", 7)])
        check(r.status == OK, f"{name}: {r.message}")
    stats = stats_of(c)
    check(stat(stats, "dataplane.rx") == 7 and stat(stats, "resolver.rx") == 7 and
          stat(stats, "z.n") == 1, stats)


def test_reload_does_not_hold_requests(make, workdir):
    """Sources are read and compared off the event loop, and applied in slices: a GET_EA sent
    right after a RELOAD of 50,000 hosts is answered before the RELOAD is (item 1)."""
    hosts = os.path.join(workdir, "hosts")
    write(hosts, hosts_text(0, 50_000))
    d = make(f"hosts = {hosts}\n").start()
    a, b = d.client(), d.client()
    poll(lambda: published_count(d.db) == 50_000, "the hosts are published", seconds=120)
    write(hosts, hosts_text(0, 50_001))
    with paused(d):
        reload_id = a.send(RELOAD)
        ea = b.send(GET_EA, attr(A_CONTEXT, ip("192.0.2.9")) + ref(1) + attr(A_FAMILY, b"\x04"))
    r = b.recv()
    check(r.id == ea, "the GET_EA's answer")
    check(r.status == OK, r.message)
    a.sock.setblocking(False)
    try:
        early = a.sock.recv(65536)
    except BlockingIOError:
        early = None
    check(early is None, "the RELOAD was answered before a GET_EA sent after it")
    a.sock.setblocking(True)
    a.sock.settimeout(60)
    r = a.recv()
    check(r.id == reload_id and r.status == OK and "1 mappings added" in r.message, r.message)
    check(published_count(d.db) == 50_001, "applied")


def reserve_chunks(db):
    """The reserve's values, counted per pool and per commit that added them (seq)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    rows = con.execute("SELECT pool, seq, count(*) FROM reserve GROUP BY pool, seq").fetchall()
    con.close()
    return rows


def test_refills_follow_the_pace(make, workdir):
    """A refill of the reserve runs on the event loop between batches, and requests arriving
    meanwhile wait for it: each adds about twice what the last batch took, 64 values a pool at
    least. One request at a time, as a quiet LAN sends them, meets refills of 64 values, never
    the 2 x 512 in one commit (before: at start, and each time a quarter of a pool was used)."""
    d = make("").start()
    c = d.client()
    sizes = []

    def filled():
        sizes.append(sum(n for _, _, n in reserve_chunks(d.db)))
        return len(sizes) > 2 and sizes[-1] == sizes[-2] == sizes[-3] > 0
    poll(filled, "the reserve to fill at start")
    for n in range(1, 1301):  # past a quarter of a pool of 4,096: a refill follows
        r = c.get_ea("192.0.2.7", n)
        check(r.status == OK, f"allocation {n}: {r.message}")
    rows = reserve_chunks(d.db)
    seqs = sorted({seq for _, seq, _ in rows})
    largest = max(rows, key=lambda row: row[2])
    check(largest[2] <= 64, f"a commit added {largest[2]} values to {largest[0]}")
    check(len(seqs) > 4096 // 64, f"the reserve came from {len(seqs)} commits only")


if __name__ == "__main__":
    sys.exit(Suite(GWCTLD).run([test_reload_after_failed_commit, test_fair_share,
                                test_sweeps_until_done, test_generation_counts_every_change,
                                test_report_slots_stay_with_components,
                                test_reload_does_not_hold_requests,
                                test_refills_follow_the_pace]))
