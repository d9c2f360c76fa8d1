#!/usr/bin/env python3
"""A flood of distinct hostile IPREF names from one LAN client cannot exhaust a small encoded
range: legitimate names keep resolving, for the flooding client and for another one, during and
after the flood, and gwctld's counters say what happened. NSD serves a generated zone whose every
name is a different remote host (so every answer needs a new encoded address); Unbound sees the
two clients as 127.0.0.2 and 127.0.0.3. usage: as test_resolver.py.

FLOOD_NAMES (default 100000) and FLOOD_SECONDS (default 120) bound the flood, whichever ends
first. With IPREF_FLOOD_NO_QUOTA=1 the test sets none of the policy's keys, so that it can run
against daemons from before the policy and show the exhaustion it prevents."""
import os
import random
import select
import socket
import struct
import sys
import threading
import time

from test_resolver import (GWCTL, GWCTLD, Suite, check, encoded,  # noqa: E402
                           skip_unless_servers, with_site)
from ctl import A_ENCODED, A_MAPPING, A_REPLIED, REPORT_USE, attr, ip  # noqa: E402

FLOODER, OTHER = "127.0.0.2", "127.0.0.3"
FLOOD_NAMES = int(os.environ.get("FLOOD_NAMES", "100000"))
FLOOD_SECONDS = float(os.environ.get("FLOOD_SECONDS", "120"))
GOOD_NAMES = 200
PROBATION = 2
NO_QUOTA = os.environ.get("IPREF_FLOOD_NO_QUOTA") == "1"
# IPREF_FLOOD_NO_QUOTA=1 sets none of the policy's keys: a gwctld from before it runs the test
GWCTL_EXTRA = "encoded-ipv4 = 10.240.0.0/22\n" + (
    "" if NO_QUOTA else f"probation = {PROBATION}s\nclient-limit = 100\n")


def write_zone(path, origin, count, gateway, first_ref):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {origin}.\n$TTL 300\n@ SOA ns1.site.test. h.site.test. 1 3600 600 "
                "86400 60\n@ NS ns1.site.test.\n")
        for i in range(count):
            f.write(f'n{i} TXT "AA {gateway} + {first_ref + i}"\n')


def zones(workdir):
    evil, good = os.path.join(workdir, "evil.zone"), os.path.join(workdir, "good.zone")
    write_zone(evil, "evil.test", FLOOD_NAMES, "198.51.100.9", 1000)
    write_zone(good, "good.test", GOOD_NAMES, "198.51.100.10", 1000)
    return {"evil.test": evil, "good.test": good}


def query(qid, name):
    wire = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", 1, 1)


class Flood(threading.Thread):
    """Distinct names from one source address, a window of them in flight, until told to stop."""

    def __init__(self, port, source, window=32):
        super().__init__(daemon=True)
        self.port, self.source, self.window = port, source, window
        self.rcodes = {}
        self.sent = 0
        self.stopping = threading.Event()

    def run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.source, 0))
        pending = {}  # id -> when sent
        deadline = time.monotonic() + FLOOD_SECONDS
        while not self.stopping.is_set() and time.monotonic() < deadline:
            while len(pending) < self.window and self.sent < FLOOD_NAMES:
                qid = random.randrange(65536)
                if qid in pending:
                    continue
                sock.sendto(query(qid, f"n{self.sent}.evil.test"), ("127.0.0.1", self.port))
                pending[qid] = time.monotonic()
                self.sent += 1
            if not pending:
                break
            if select.select([sock], [], [], 0.2)[0]:
                data = sock.recv(4096)
                qid, flags = struct.unpack(">HH", data[:4])
                if pending.pop(qid, None) is not None:
                    self.rcodes[flags & 0xf] = self.rcodes.get(flags & 0xf, 0) + 1
            now = time.monotonic()
            for qid in [q for q, t in pending.items() if now - t > 3]:
                del pending[qid]  # lost: counted as sent only
        sock.close()

    def stop(self):
        self.stopping.set()
        self.join()


def ask_from(site, source, name):
    from test_resolver import Answer
    from servers import dig
    return Answer(dig(site.unbound.port, name, "A", "-b", source))


def resolves(site, source, name, deadline):
    """The name resolves to an encoded address from source within deadline seconds."""
    end = time.monotonic() + deadline
    while True:
        a = ask_from(site, source, name)
        if a.status == "NOERROR" and a.data("A") or time.monotonic() > end:
            return a
        time.sleep(0.05)


def test_resolution_flood(make, workdir):
    @with_site(gwctl_extra=GWCTL_EXTRA, zones=zones(workdir))
    def run(site):
        good = iter(f"n{i}.good.test" for i in range(GOOD_NAMES))
        # a name the flooding client used before the flood: carried traffic, the full lease
        used = resolves(site, FLOODER, next(good), 10)
        check(used.status == "NOERROR", used)
        c = site.gw.client()
        c.call(REPORT_USE, attr(A_MAPPING, attr(A_ENCODED, ip(used.data("A")[0])) +
                                attr(A_REPLIED, b"")))
        flood = Flood(site.unbound.port, FLOODER)
        started = time.monotonic()
        flood.start()
        during = {"other": 0, "flooder": 0}
        failures = []
        try:
            # during the flood, new legitimate names from both clients, again and again
            while flood.is_alive() and time.monotonic() - started < FLOOD_SECONDS - 5:
                time.sleep(3)  # paces the legitimate names: a few, spread over the flood
                for who, source, wait in (("other", OTHER, 10), ("flooder", FLOODER, 30)):
                    name = next(good)
                    a = resolves(site, source, name, wait)
                    if a.status == "NOERROR" and a.data("A"):
                        during[who] += 1
                    else:
                        failures.append((who, name, a.status, a.ede))
                again = ask_from(site, FLOODER, "n0.good.test")
                if again.data("A") != used.data("A"):
                    failures.append(("used", "n0.good.test", again.status, again.ede))
        finally:
            flood.stop()
        seconds = time.monotonic() - started
        counters = site.gw.stats()
        print(f"flood: {flood.sent} names in {seconds:.0f} s ({flood.sent / seconds:.0f}/s), "
              f"answers by rcode {flood.rcodes}; legitimate names during: {during}; "
              f"failures: {failures}")
        print("counters: " + " ".join(f"{k}={v}" for k, v in sorted(counters.items())
                                      if k.startswith(("gwctld.resolution", "gwctld.alloc",
                                                       "resolver.over", "gwctld.errors.quota",
                                                       "gwctld.mappings"))))
        check(flood.sent >= 2000, f"the flood made too few names to matter: {flood.sent}")
        check(not failures, failures)
        check(during["other"] >= 1 and during["flooder"] >= 1, during)
        # after the flood: both clients resolve new names at once, or within a rest
        for source in (FLOODER, OTHER):
            a = resolves(site, source, next(good), 3 * PROBATION + 5)
            check(a.status == "NOERROR" and encoded(a), (source, a))
        check(counters.get("gwctld.resolution.over_quota", 0) > 0, counters)
        check(counters.get("gwctld.errors.quota", 0) > 0, counters)
        check(counters.get("gwctld.allocations.exhausted", 0) == 0, counters)
        check(counters.get("gwctld.resolution.held", 0) <= 511, counters)
    return run(make, workdir)


if __name__ == "__main__":
    skip_unless_servers()
    sys.exit(Suite(GWCTLD, GWCTL).run([test_resolution_flood]))
