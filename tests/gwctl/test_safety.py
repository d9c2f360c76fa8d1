#!/usr/bin/env python3
"""gwctld against careless hands: endless and binary files, peers' real credentials, idle
clients, a store deleted or replaced under it, a reader holding the WAL back.
usage: test_safety.py GWCTLD GWCTL"""
import os
import sqlite3
import subprocess
import sys
import time

from ctl import *  # noqa: F401,F403 (the protocol constants, Daemon, Suite, check)

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]


def cli(daemon, *args, ok=True):
    run = subprocess.run([GWCTL, "--socket", daemon.sock, *args], capture_output=True, text=True)
    if ok and run.returncode != 0:
        raise AssertionError(f"gwctl {' '.join(args)}: {run.returncode} {run.stderr}")
    return run


def published(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT address FROM mappings WHERE kind = 'published'").fetchall()
    con.close()
    return sorted(r[0] for r in rows)


def wait_until(predicate, what, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


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
    wait_until(lambda: published(d.db) == ["10.0.0.90"], "the first load")
    # rewritten in place (the watcher is not told of it before the reload) with NUL bytes,
    # then with binary bytes: refused with file and line; the host stays published
    for content, reason in ((b"\x00" * 4096, f"{hosts}:1: column 1: NUL byte"),
                            (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),
                             f"{hosts}:1: column 5: control character 0x02")):
        with open(hosts, "r+b") as f:
            f.write(content)
        run = cli(d, "reload", ok=False)
        out = run.stdout + run.stderr
        check(run.returncode == 1 and reason in out, out)
        check(published(d.db) == ["10.0.0.90"], published(d.db))
    # a device in the file's place is not read
    os.unlink(hosts)
    os.symlink("/dev/zero", hosts)
    run = cli(d, "reload", ok=False)
    out = run.stdout + run.stderr
    check(run.returncode == 1 and "not a regular file" in out, out)
    check(published(d.db) == ["10.0.0.90"], published(d.db))


TESTS = [test_endless_configuration, test_binary_hosts_file_is_refused]

if __name__ == "__main__":
    sys.exit(Suite(GWCTLD).run(TESTS))
