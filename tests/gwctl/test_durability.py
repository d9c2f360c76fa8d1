#!/usr/bin/env python3
"""gwctld's durability promises: kill -9 in the middle of allocation bursts loses no
acknowledged allocation; a full disk gives error replies, not a dead daemon or a damaged store;
a read-only store is refused at start. usage: test_durability.py GWCTLD [ROUNDS]"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from ctl import *  # noqa: F401,F403

GWCTLD = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
CONTEXT = "192.0.2.44"


def burst(daemon, first_ref, acknowledged, stop):
    """Pipelines allocations (64 in flight) until the daemon dies; records what was acked."""
    try:
        c = daemon.client()
        c.sock.settimeout(5)
        pending, n = {}, first_ref
        while not stop.is_set():
            while len(pending) < 64:
                pending[c.send(GET_EA, attr(A_CONTEXT, ip(CONTEXT)) + ref(n))] = n
                n += 1
            r = c.recv()
            if r.id in pending and r.status == OK:
                acknowledged[pending.pop(r.id)] = r.get(A_ENCODED)
    except (OSError, ConnectionError):
        pass  # the daemon was killed: exactly what this test does


def verify(daemon, acknowledged):
    c = daemon.client()
    for n, encoded in acknowledged.items():
        r = c.call(LOOKUP_EA, attr(A_ENCODED, encoded))
        check(r.status == OK, f"acknowledged ref {n} at {ip_text(encoded)} lost")
        check(int.from_bytes(r.get(A_REF), "big") == n, f"{ip_text(encoded)} changed owner")
        r = c.call(LOOKUP_EA, attr(A_CONTEXT, ip(CONTEXT)) + ref(n) + attr(A_FAMILY, b"\x04"))
        check(r.get(A_ENCODED) == encoded, f"ref {n} maps elsewhere")
    stats = {}
    for counter in c.call(STATS).nested(A_COUNTER):
        stats[counter[A_TEXT].decode()] = int.from_bytes(counter[A_VALUE], "big")
    check(stats["gwctld.store.bad_rows"] == 0, "half-written rows")
    c.close()
    db = sqlite3.connect(daemon.db)
    check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity")
    rows = db.execute("SELECT count(*) FROM remote_mapping").fetchone()[0]
    check(rows >= len(acknowledged), "fewer rows than acknowledged allocations")
    db.close()


def test_kill_9_during_bursts(make, workdir):
    d = make().start()
    acknowledged, total_kills = {}, 0
    rng = random.Random(1045)
    for round_no in range(ROUNDS):
        stop = threading.Event()
        acked = {}
        t = threading.Thread(target=burst, args=(d, 1 + round_no * 1_000_000, acked, stop))
        t.start()
        time.sleep(rng.uniform(0.02, 0.25))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        stop.set()
        t.join()
        d.stop()
        total_kills += 1
        acknowledged.update(acked)
        d.start()
        verify(d, acked)  # this round's; all of them once more at the end
    verify(d, acknowledged)
    print(f"     {total_kills} kills, {len(acknowledged)} acknowledged allocations all kept")
    check(len(acknowledged) > ROUNDS, "the bursts allocated almost nothing")


def stats_of(daemon):
    c = daemon.client()
    stats = {}
    for counter in c.call(STATS).nested(A_COUNTER):
        stats[counter[A_TEXT].decode()] = int.from_bytes(counter[A_VALUE], "big")
    c.close()
    return stats


def test_kill_9_within_flush_interval(make, workdir):
    """Commits do not wait for the disk, only the flush every flush-interval-ms does: a kill -9
    between two flushes loses nothing acknowledged either, and the start after it rests the
    reserve of values (it cannot tell a kill from a power loss) and says so."""
    d = make("flush-interval-ms = 10000\n").start()
    acknowledged = {}
    rng = random.Random(1046)
    for round_no in range(max(ROUNDS // 3, 3)):
        stop = threading.Event()
        acked = {}
        t = threading.Thread(target=burst, args=(d, 1 + round_no * 1_000_000, acked, stop))
        t.start()
        time.sleep(rng.uniform(0.05, 0.5))  # far within the 10 s between flushes
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        stop.set()
        t.join()
        d.stop()
        acknowledged.update(acked)
        d.start()
        verify(d, acked)
        stats = stats_of(d)
        check(stats["gwctld.store.unclean_start"] == 1, "the kill is seen at start")
        check(stats["gwctld.store.unclean_start_quarantined"] > 0, "the reserve rests")
        db = sqlite3.connect(d.db)
        resting = db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        db.close()
        check(resting >= stats["gwctld.store.unclean_start_quarantined"],
              f"{resting} values rest in quarantine")
    verify(d, acknowledged)
    check(len(acknowledged) > 3, "the bursts allocated almost nothing")
    d.stop()
    d.start()
    check(stats_of(d)["gwctld.store.unclean_start"] == 0, "a clean stop is seen as clean")
    print(f"     {len(acknowledged)} acknowledged allocations kept across kills within the "
          "flush interval")


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def test_full_and_read_only_disk(make, workdir):
    if os.geteuid() != 0:
        print("     needs root to mount a small tmpfs: skipped")
        return "skip"
    mnt = os.path.join(workdir, "small")
    os.mkdir(mnt)
    sh("mount", "-t", "tmpfs", "-o", "size=16m", "ipref-test", mnt)  # room for the reserve (docs/store.md)
    try:
        d = make()
        d.db = os.path.join(mnt, "gw.db")
        with open(d.conf, "w") as f:
            f.write(f"database = {d.db}\nsocket = {d.sock}\nlog-level = error\n")
        d.start()
        c = d.client()
        kept = {n: c.get_ea(CONTEXT, n).get(A_ENCODED) for n in range(1, 21)}
        # fill the disk, then keep allocating: error replies, daemon alive
        with open(os.path.join(mnt, "filler"), "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # the store has room left in its pages, its WAL and its reserve of values: allocate
        # until that is used up too
        statuses = []
        for n in range(100, 20_000):
            statuses.append(c.get_ea(CONTEXT, n).status)
            if len(statuses) >= 300 and statuses[-1] == E_STORE:
                break
        check(E_STORE in statuses, set(statuses))
        check(d.proc.poll() is None, "daemon died on a full disk")
        # space again: allocations work, nothing acknowledged before was lost
        os.unlink(os.path.join(mnt, "filler"))
        r = c.get_ea(CONTEXT, 10_000)
        check(r.status == OK, r.message)
        kept[10_000] = r.get(A_ENCODED)
        for n in range(100, 100 + len(statuses)):
            r = c.call(LOOKUP_EA, attr(A_CONTEXT, ip(CONTEXT)) + ref(n) + attr(A_FAMILY, b"\x04"))
            if r.status == OK:
                kept[n] = r.get(A_ENCODED)
        c.close()
        d.stop()
        d.start()
        verify(d, kept)
        d.stop()
        # a read-only file system at start: a clear refusal, the store untouched
        sh("mount", "-o", "remount,ro", mnt)
        before = open(d.db, "rb").read()
        d.start(wait=False)
        check(d.proc.wait(10) == 1 and "read-only" in open(d.log).read(), open(d.log).read())
        check(open(d.db, "rb").read() == before, "read-only store changed")
    finally:
        subprocess.run(["umount", "-l", mnt])


if __name__ == "__main__":
    sys.exit(Suite(GWCTLD).run([test_kill_9_during_bursts, test_kill_9_within_flush_interval,
                                test_full_and_read_only_disk]))
