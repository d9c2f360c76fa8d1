#!/usr/bin/env python3
"""gwctld against careless hands: endless and binary files, peers' real credentials, idle
clients, a store deleted or replaced under it, a reader holding the WAL back.
usage: test_safety.py GWCTLD GWCTL"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

from ctl import *  # noqa: F401,F403 (the protocol constants, Daemon, Suite, check)

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]


def published(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT address FROM mappings WHERE kind = 'published'").fetchall()
    con.close()
    return sorted(r[0] for r in rows)


def test_endless_configuration(make, workdir):
    # /dev/zero never ends: refused at once, as is a FIFO, which would wait for a writer
    fifo = os.path.join(workdir, "fifo.conf")
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        run = subprocess.run([GWCTLD, "--config", path, "--check"], capture_output=True,
                             text=True, timeout=20)
        check(run.returncode == 1 and f"{path}: not a regular file" in run.stderr,
              run.stdout + run.stderr)
    binary = os.path.join(workdir, "binary.conf")
    with open(binary, "wb") as f:
        f.write(b"lease = 4h\n\x00\x00\x00\x00")
    run = subprocess.run([GWCTLD, "--config", binary, "--check"], capture_output=True,
                         text=True, timeout=20)
    check(run.returncode == 1 and f"{binary}:2:1: NUL byte" in run.stderr, run.stderr)


def test_binary_hosts_file_is_refused(make, workdir):
    hosts = os.path.join(workdir, "hosts")
    with open(hosts, "w") as f:
        f.write("10.0.0.90 app #= public + 9000\n")
    d = make(f"hosts = {hosts}\n").start()
    polling.wait_until(lambda: published(d.db) == ["10.0.0.90"], 20, "the first load")
    # rewritten in place (the watcher is not told of it before the reload) with NUL bytes,
    # then with binary bytes: refused with file and line; the host stays published
    for content, reason in ((b"\x00" * 4096, f"{hosts}:1: column 1: NUL byte"),
                            (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),
                             f"{hosts}:1: column 5: control character 0x02")):
        with open(hosts, "r+b") as f:
            f.write(content)
        run = d.cli("reload", ok=False)
        out = run.stdout + run.stderr
        check(run.returncode == 1 and reason in out, out)
        check(published(d.db) == ["10.0.0.90"], published(d.db))
    # a device in the file's place is not read
    os.unlink(hosts)
    os.symlink("/dev/zero", hosts)
    run = d.cli("reload", ok=False)
    out = run.stdout + run.stderr
    check(run.returncode == 1 and "not a regular file" in out, out)
    check(published(d.db) == ["10.0.0.90"], published(d.db))


def as_user(uid, gid, groups):
    """A preexec_fn that gives the child exactly these credentials, as systemd would."""
    def become():
        os.setgroups(groups)
        os.setgid(gid)
        os.setuid(uid)
    return become


def connects(d, uid, gid, groups):
    """True when a process with these credentials may talk to the daemon (status answers)."""
    run = subprocess.run([GWCTL, "--socket", d.sock, "status"], capture_output=True, text=True,
                         preexec_fn=as_user(uid, gid, groups))
    return run.returncode == 0


def unlisted_group():
    """A group that lists no members in /etc/group, and is nobody's primary group."""
    import grp
    for name in ("daemon", "sys", "games", "man", "lp"):
        try:
            g = grp.getgrnam(name)
        except KeyError:
            continue
        if not g.gr_mem:
            return g
    return None


def root_and_group(workdir):
    """A group to give clients, when running as root (else None, the test is skipped)."""
    if os.geteuid() != 0:
        print("     needs root to give a client other credentials: skipped")
        return None
    g = unlisted_group()
    if g is None:
        print("     no group without members in /etc/group: skipped")
        return None
    os.chmod(workdir, 0o755)
    return g


def test_peer_groups_from_the_kernel(make, workdir):
    g = root_and_group(workdir)
    if g is None:
        return "skip"
    d = make(f"socket-group = {g.gr_name}\n").start()
    nobody = 65534
    # the group given as a supplementary group only (systemd's SupplementaryGroups=): the
    # kernel knows it, /etc/group does not
    check(connects(d, nobody, nobody, [g.gr_gid]), "a supplementary group was refused")
    # a process in more than 64 groups, the socket's last
    many = list(range(20000, 20100)) + [g.gr_gid]
    check(connects(d, nobody, nobody, many), "a process in 101 groups was refused")
    # without the group: refused by the socket's mode, and counted when it gets past it
    check(not connects(d, nobody, nobody, []), "a process without the group got in")
    os.chmod(d.sock, 0o666)
    check(not connects(d, nobody, nobody, list(range(20000, 20100))),
          "a process without the group got in")
    stats = d.stats()
    check(stats["gwctld.peers.denied"] == 1, stats)


def test_own_user_connects(make, workdir):
    if os.geteuid() != 0:
        print("     needs root to start as root and switch user: skipped")
        return "skip"
    os.chmod(workdir, 0o777)  # the store's folder must be writable by the daemon's user
    d = make("user = nobody\n").start()
    nobody = 65534
    # the daemon's own user may connect, as gwctl.conf.md says; nobody else but root
    polling.wait_until(lambda: connects(d, nobody, nobody, []), 10,
                       "the daemon's own user to get in")
    check(os.stat(d.sock).st_mode & 0o777 == 0o600, oct(os.stat(d.sock).st_mode))
    check(os.stat(d.sock).st_uid == nobody, "the socket is not the daemon user's")
    check(not connects(d, 1, 1, []), "another user got in")
    check(d.cli("status").returncode == 0, "root")


def refused(c):
    """The E_BUSY reply and hang-up a connection gets when it is not given a slot, or None."""
    try:
        reply = c.recv()
    except (ConnectionError, OSError):
        return None
    return reply if reply.status == E_BUSY else None


def closed(c):
    """True once gwctld has hung up on c (it never sent anything, so nothing is queued)."""
    c.sock.settimeout(0.05)
    try:
        return c.sock.recv(65536) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


def test_idle_clients_are_closed(make, workdir):
    d = make("max-clients = 8\nmax-clients-per-user = 8\nidle-timeout = 2s\n").start()
    # connections that never send, a subscriber and a talker fill root's share (7 of 8: one
    # user never holds every slot); one more is refused
    idle = [first_client(d)] + [d.client() for _ in range(4)]
    sub = d.client()
    check(sub.call(SUBSCRIBE).status == OK, "subscribe")
    talker = d.client()
    extra = d.client()
    check(refused(extra) is not None, "a connection past the share was served")
    extra.close()
    # the quiet ones are closed after idle-timeout; a subscriber and a talker are not
    deadline = time.time() + 20
    while time.time() < deadline and not all(closed(c) for c in idle):
        check(talker.call(STATS).status == OK, "a talking client was dropped")
        time.sleep(0.2)
    check(all(closed(c) for c in idle), "idle connections were kept")
    check(not closed(sub) and not closed(talker), "a subscriber or a talker was closed")
    check(talker.call(STATS).status == OK, "talker")
    check(stats_of(talker)["gwctld.clients.closed_idle"] == 5, stats_of(talker))
    # and their slots serve new clients
    again = [d.client() for _ in range(2)]
    for c in again:
        check(c.call(STATUS).status == OK, "a new client after the idle ones left")


def test_share_per_user(make, workdir):
    g = root_and_group(workdir)
    if g is None:
        return "skip"
    d = make(f"max-clients = 8\nsocket-group = {g.gr_name}\n").start()
    # root takes half of the slots (the default share), and no more
    held = [first_client(d)] + [d.client() for _ in range(3)]
    for c in held:
        check(c.call(STATUS).status == OK, "within the share")
    extra = d.client()
    reply = refused(extra)
    check(reply is not None and "max-clients-per-user" in reply.message, "a fifth connection of one user")
    # another user still gets in
    check(connects(d, 65534, 65534, [g.gr_gid]), "another user was locked out")
    check(stats_of(held[0])["gwctld.clients.refused_share"] == 1, "counted")


def stats_of(c):
    r = c.call(STATS)
    return {dict(parse_attrs(v)).get(A_TEXT, b"").decode():
            int.from_bytes(dict(parse_attrs(v)).get(A_VALUE, b"\0"), "big")
            for v in r.all(A_COUNTER)}


def first_client(d):
    """A client served once the slot of Daemon.start's probe has come free."""
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            c = d.client()
            if c.call(STATUS).status == OK:
                return c
        except (ConnectionError, OSError):
            time.sleep(0.05)
    raise AssertionError("no slot came free after start")


def test_refusals_are_logged_sparingly(make, workdir):
    d = make("max-clients = 1\n").start()
    held = first_client(d)
    for _ in range(60):
        c = d.client()
        check(refused(c) is not None, "refused")
        c.close()
    lines = [l for l in open(d.log) if "refused a control connection" in l]
    check(len(lines) <= 12, f"{len(lines)} log lines for 60 refusals")
    # a line after a quiet spell says how many were left out
    deadline = time.time() + 20
    while time.time() < deadline:
        c = d.client()
        refused(c)
        c.close()
        if any("more refusals not logged" in l for l in open(d.log)):
            break
        time.sleep(0.2)
    check(any("more refusals not logged" in l for l in open(d.log)), open(d.log).read())
    counts = stats_of(held)
    check(counts["gwctld.clients.refused_full"] >= 60, f"every refusal is counted: {counts}")


def counter(c, name):
    return stats_of(c).get(name)


def test_store_deleted_or_replaced(make, workdir):
    for how in ("delete", "replace"):
        d = make()
        if os.path.exists(d.db):
            os.unlink(d.db)
        d.start()
        c = first_client(d)
        check(c.get_ea("192.0.2.7", 1).status == OK, "allocation before")
        if how == "delete":
            os.unlink(d.db)
        else:
            # a copy put in its place, as a restore from a backup would be
            copy = d.db + ".copy"
            src = sqlite3.connect(d.db)
            dst = sqlite3.connect(copy)
            src.backup(dst)
            src.close()
            dst.close()
            os.rename(copy, d.db)
        r = c.get_ea("192.0.2.7", 2)
        check(r.status == E_STORE and "deleted or replaced" in r.message,
              f"{how}: an allocation was acknowledged: {r.status} {r.message}")
        check(c.get_ea("192.0.2.7", 3).status == E_STORE, f"{how}: a later allocation")
        check(counter(c, "gwctld.store.replaced") == 2, stats_of(c))
        polling.wait_until(lambda: "deleted or replaced" in open(d.log).read(), 20, "the log line")
        check("error" in [l for l in open(d.log) if "deleted or replaced" in l][0],
              open(d.log).read())
        c.close()
        d.stop()
        for suffix in ("", "-wal", "-shm", ".copy"):
            if os.path.exists(d.db + suffix):
                os.unlink(d.db + suffix)


def test_orphan_wal_refuses_start(make, workdir):
    d = make().start()
    c = first_client(d)
    for n in range(1, 20):
        check(c.get_ea("192.0.2.7", n).status == OK, "allocation")
    c.close()
    d.stop(signal.SIGKILL)  # the WAL keeps what was committed
    check(os.path.getsize(d.db + "-wal") > 0, "no WAL was left")
    os.unlink(d.db)
    try:
        d.start()
        raise AssertionError("gwctld started without its database, beside its WAL")
    except RuntimeError as e:
        check("gw.db-wal" in str(e) and "is missing" in str(e), str(e))
    check(not os.path.exists(d.db), "a new empty database was made")
    check(os.path.getsize(d.db + "-wal") > 0, "the WAL was thrown away")


WAL_RESTART = 16 << 20  # STORE_WAL_RESTART in gwctl/store_wal.h


def wal_size(d):
    try:
        return os.path.getsize(d.db + "-wal")
    except FileNotFoundError:
        return 0


def test_wal_bounded_after_a_reader(make, workdir):
    d = make("commit-batch = 1\n").start()
    c = first_client(d)
    check(c.get_ea("192.0.2.7", 1).status == OK, "first allocation")
    # a person inspecting the store holds a read transaction open
    reader = sqlite3.connect(d.db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM mappings").fetchall()
    n = 1
    while wal_size(d) <= WAL_RESTART + (2 << 20) and n < 100000:
        # one commit each, pipelined 32 at a time
        ids = [c.send(GET_EA, attr(A_CONTEXT, ip("192.0.2.7")) + ref(n + k) +
                      attr(A_FAMILY, bytes([4]))) for k in range(32)]
        got = 0
        while got < len(ids):
            r = c.recv()
            if r.id in ids:
                check(r.status == OK, f"allocation {r.status} {r.message}")
                got += 1
        n += 32
    check(wal_size(d) > WAL_RESTART, f"the WAL did not grow: {wal_size(d)} after {n}")

    def warned():
        c.call(STATUS)  # requests commit, and a commit looks at the WAL
        return "holds back" in d.cli("status").stdout
    polling.wait_until(warned, 20, "the warning in gwctl status")
    status = d.cli("status").stdout
    check("warning:" in status, status)
    polling.wait_until(lambda: "holds back" in open(d.log).read(), 20, "the warning in the log")
    # the reader leaves: the WAL shrinks back below the bound and the warning goes
    reader.execute("ROLLBACK")
    reader.close()

    def shrunk():
        c.call(STATUS)
        return wal_size(d) <= WAL_RESTART
    polling.wait_until(shrunk, 20, f"the WAL to shrink (it is {wal_size(d)} bytes)")
    check("holds back" not in d.cli("status").stdout, d.cli("status").stdout)
    check(c.get_ea("192.0.2.7", 1).status == OK, "the store still answers")


TESTS = [test_endless_configuration, test_binary_hosts_file_is_refused,
         test_peer_groups_from_the_kernel, test_own_user_connects, test_idle_clients_are_closed,
         test_share_per_user, test_refusals_are_logged_sparingly,
         test_store_deleted_or_replaced, test_orphan_wal_refuses_start,
         test_wal_bounded_after_a_reader]

if __name__ == "__main__":
    sys.exit(Suite(GWCTLD, GWCTL).run(TESTS))
