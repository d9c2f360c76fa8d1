#!/usr/bin/env python3
"""A site's two gateways on one shared PostgreSQL store (issue 20), every part real: site A's
gateways ga1 and ga2 with keepalived, gwctld on PostgreSQL (the database host in a namespace of
its own on A's LAN), the dataplane and Unbound with the ipref module; NSD; site B with an IPv6
LAN (shared_site.py). Every mapping here is made on demand, by a name asked of the resolver.

- Both gateways allocating at once, for many clients, the same names: each name gets one
  encoded address, the same from either gateway, and no value is bound twice (checked in the
  database).
- a1 downloads 60 MB from b6 by name; the leader is cut off (links down, daemons killed) in the
  middle; the download arrives whole through the other gateway, which holds the mapping the
  leader made, and b6 reaches a1 by name through it. Then the cut gateway comes back as the
  backup and the other is cut in turn.
- PostgreSQL stopped and started during a download: the download goes on; a new name fails
  with SERVFAIL and EDE 14 meanwhile and resolves once the database is back, by itself; every
  mapping made before is still there.
- The database's host lost (its link down, so nothing answers or refuses) during a download:
  the download goes on, the leader keeps the addresses, a new name fails, and resolves once
  the host is back.

Needs root, keepalived, NSD, PostgreSQL and network namespaces (exit 77).
usage: test_shared_store.py BUILD_DIR UNBOUND_BUILD STORE_MD"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "common"))
import netns  # noqa: E402
import pg  # noqa: E402
import polling  # noqa: E402
from cluster import VIP_LAN  # noqa: E402
from shared_site import A1, B6, NAME_REF, NAMES, OWN_LAN, SharedSite  # noqa: E402
from test_failover import CLIENT, SIZE, check, failover, serve  # noqa: E402

CLIENTS = 4  # LAN clients per gateway, each asking a quarter of the names
NAME_COUNT = 200


def dig(c, server, name, *options, source=None):
    """dig's whole output for name's A record, asked of server from a1."""
    return c.sh("dig", "+time=3", "+tries=2", *(["-b", source] if source else []),
                f"@{server}", name, "A", *options, ns="ha", check=False).stdout


def a_records(text):
    """{owner name: [addresses]} of the A records in dig's answer section(s)."""
    out = {}
    for owner, address in re.findall(r"^(\S+)\s+\d+\s+IN\s+A\s+(\S+)$", text, re.M):
        out.setdefault(owner.rstrip("."), []).append(address)
    return out


def reachable_both_ways(c, through):
    for ns, name in (("ha", B6), ("hb", A1)):
        run = c.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", name, ns=ns, check=False)
        check(run.returncode == 0, f"{through}: {ns} -> {name} by name: {run.stdout}")


def test_both_gateways_allocate_at_once(c):
    """CLIENTS LAN clients (addresses of their own on a1) ask each gateway for a quarter of
    the names each, the same names of both at the same time."""
    clients = [f"10.1.0.{100 + k}" for k in range(CLIENTS)]
    for a in clients:
        c.sh("ip", "addr", "add", f"{a}/24", "dev", "eth0", ns="ha")
    runs = []
    for k, source in enumerate(clients):
        batch = os.path.join(c.work, f"names{k}")
        with open(batch, "w") as f:
            f.write("".join(f"h{i}.{NAMES} A\n" for i in range(k, NAME_COUNT, CLIENTS)))
        for name in ("ga1", "ga2"):
            runs.append((name, subprocess.Popen(
                ["ip", "netns", "exec", c.ns["ha"], "dig", "+time=5", "+tries=2", "+noall",
                 "+answer", "-b", source, f"@{OWN_LAN[name]}", "-f", batch],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    answers = {"ga1": {}, "ga2": {}}
    for name, proc in runs:
        out = proc.communicate(timeout=300)[0]
        c.procs.append(proc)
        answers[name].update(a_records(out))
    for name in ("ga1", "ga2"):
        got = answers[name]
        check(len(got) == NAME_COUNT and all(len(v) == 1 for v in got.values()),
              f"{name} answered {len(got)} of {NAME_COUNT} names with one address each: "
              f"{sorted(got.items())[:5]}")
    check(answers["ga1"] == answers["ga2"], "each name has the same encoded address on both "
          "gateways: " + str([(n, a, answers["ga2"].get(n)) for n, a in answers["ga1"].items()
                              if answers["ga2"].get(n) != a][:5]))
    values = [v[0] for v in answers["ga1"].values()]
    check(len(set(values)) == NAME_COUNT, f"{len(set(values))} distinct addresses for "
          f"{NAME_COUNT} names")
    rows = c.sql(f"SELECT count(*), count(DISTINCT encoded), count(DISTINCT ref) "
                 f"FROM remote_mapping WHERE ref::bigint BETWEEN {NAME_REF} AND "
                 f"{NAME_REF + NAME_COUNT - 1}")
    check(rows == [[str(NAME_COUNT)] * 3], f"the store holds one mapping a name: {rows}")
    stored = dict(c.sql(f"SELECT ref, encoded FROM remote_mapping WHERE ref::bigint BETWEEN "
                        f"{NAME_REF} AND {NAME_REF + NAME_COUNT - 1}"))
    for owner, (address,) in answers["ga1"].items():
        ref = str(NAME_REF + int(owner.split(".")[0][1:]))
        check(stored.get(ref) == address, f"{owner}: answered {address}, stored {stored.get(ref)}")
    # a value bound by one gateway is never in the other's reserve, nor resting
    both = c.sql("SELECT count(*) FROM reserve r JOIN remote_mapping m "
                 "ON r.value = 'encoded:' || m.encoded")
    check(both == [["0"]], f"values both bound and reserved: {both}")
    print(f"ok   both gateways allocated {NAME_COUNT} names at once for {CLIENTS} clients each")


def test_failover_by_name(c, want):
    reachable_both_ways(c, "before the cuts")
    for name in ("ga1", "ga2"):
        out = dig(c, OWN_LAN[name], B6, "+short").split()
        check(len(out) == 1, f"{name} answers {B6}: {out}")
    check(dig(c, OWN_LAN["ga1"], B6, "+short") == dig(c, OWN_LAN["ga2"], B6, "+short"),
          f"{B6} has one encoded address on both gateways")
    for leader, backup in (("ga1", "ga2"), ("ga2", "ga1")):
        check(c.leader() == leader, f"{leader} leads")
        measured = failover(c, leader, backup, want, target=B6)
        check(c.leader() == backup, f"{backup} leads after {leader}'s loss")
        reachable_both_ways(c, f"through {backup} after {leader}'s loss")
        print(f"ok   {leader} lost during a download by name")
        print(f"measured, {leader} lost: " + ", ".join(
            f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v}"
            for k, v in measured.items()))
        c.restore(leader)


class Download:
    """A download of the 60 MB blob from b6 by name, by a1, at rate bytes a second, in a
    thread; check() waits for it and requires it whole."""

    def __init__(self, c, rate):
        self.result = {}
        self.thread = threading.Thread(target=lambda: self.result.update(run=c.sh(
            "python3", "-c", CLIENT, f"http://{B6}:8080/blob", str(rate), ns="ha",
            check=False, timeout=120)))
        self.thread.start()

    def check(self, want, across):
        self.thread.join(timeout=150)
        run = self.result.get("run")
        check(run is not None and run.returncode == 0,
              f"the download failed {across}: {run and (run.stdout + run.stderr)}")
        got, digest = run.stdout.split()
        check(int(got) == SIZE and digest == want, f"the download arrived broken: {run.stdout}")


def resolves_again(c, name, after):
    """name's encoded address from the site's resolver, waited for (up to 60 s)."""
    return polling.wait_until(
        lambda: a_records(dig(c, VIP_LAN, name)).get(name), 60,
        lambda: f"{name} to resolve after {after}: " + dig(c, VIP_LAN, name) +
        c.tail(c.leader() or "ga1"))[0]


def test_database_restarted(c, want):
    """The database stopped during a download and started again."""
    before = c.sql("SELECT encoded, context, ref FROM remote_mapping ORDER BY encoded")
    download = Download(c, 8 << 20)
    time.sleep(2)
    c.pg.halt()
    try:
        # the gateways hear it: each one's store turns unavailable
        for name in ("ga1", "ga2"):
            polling.wait_until(
                lambda: c.gw[name].run_gwctl("status", check=False).returncode == 1, 30,
                lambda: f"{name} to see the database away: " + c.tail(name))
        down = dig(c, VIP_LAN, f"spare0.{NAMES}")
        check("status: SERVFAIL" in down and "EDE: 14" in down,
              f"a new name while the database is away: {down}")
        # the leader keeps the addresses: its health check only notes the store
        time.sleep(2)
        check(c.leader() in ("ga1", "ga2"), "a gateway keeps the addresses")
    finally:
        c.pg.start()
    back = resolves_again(c, f"spare0.{NAMES}", "the database came back")
    download.check(want, "across the restart")
    after = c.sql("SELECT encoded, context, ref FROM remote_mapping ORDER BY encoded")
    lost = [r for r in before if r not in after]
    check(not lost, f"mappings lost across the restart: {lost[:5]}")
    print(f"ok   the database restarted during a download: a new name failed with EDE 14, "
          f"then resolved ({back}); {len(before)} mappings kept")


def test_database_host_lost(c, want):
    """The database's host lost (its link down: the gateways' packets to it vanish, nothing
    refuses them) during a download, then back: the download goes on, the leader keeps the
    addresses all along (its health check must not fail on a store that hangs), a new name
    fails meanwhile, and resolves once the host is back."""
    leader = c.leader()
    download = Download(c, 4 << 20)
    time.sleep(2)
    c.sh("ip", "link", "set", "eth0", "down", ns="db")
    try:
        lost_at, moved = time.monotonic(), []
        down = dig(c, VIP_LAN, f"spare1.{NAMES}")
        check("status: SERVFAIL" in down, f"a new name while the database is lost: {down}")
        while time.monotonic() - lost_at < 15:
            if c.leader() != leader:
                moved.append(round(time.monotonic() - lost_at, 1))
            time.sleep(0.25)
        check(not moved, f"the addresses left {leader} while the database was lost "
              f"(at {moved[:3]} s): " + c.tail(leader))
    finally:
        c.sh("ip", "link", "set", "eth0", "up", ns="db")
    resolves_again(c, f"spare1.{NAMES}", "the database's host came back")
    download.check(want, "while the database was lost")
    print(f"ok   the database's host lost during a download: {leader} kept the addresses, a new "
          f"name failed, then resolved")


def main():
    if os.geteuid() != 0:
        print("SKIP: the shared-store failover test needs root for network namespaces, TUN "
              "devices and a throwaway PostgreSQL")
        return 77
    keepalived = shutil.which("keepalived") or "/usr/sbin/keepalived"
    for tool, package in ((keepalived, "keepalived"), (shutil.which("nsd"), "nsd")):
        if not tool or not os.access(tool, os.X_OK):
            print(f"SKIP: {package} is not installed (Debian: {package}; tools/setup installs it)")
            return 77
    pg.require()  # exits 77 saying why when PostgreSQL's server is absent
    c = SharedSite(sys.argv[1], sys.argv[2], keepalived, sys.argv[3], names=NAME_COUNT)
    if not netns.usable(c.tag + "probe"):
        print("SKIP: cannot create network namespaces here")
        return 77
    try:
        c.build()
        c.start_gateways()
        c.start_pair()
        want = serve(c)
        test_both_gateways_allocate_at_once(c)
        test_failover_by_name(c, want)
        test_database_restarted(c, want)
        test_database_host_lost(c, want)
        print("4 passed, 0 failed")
        return 0
    except Exception:
        import traceback
        traceback.print_exc()
        for name in ("ga1", "ga2"):
            if name in c.gw:
                print(f"--- {name} ---\n" + c.tail(name))
        if c.pg:
            print("--- the database ---\n" + c.pg.server_log())
        print("0 passed, 1 failed")
        return 1
    finally:
        c.cleanup()


if __name__ == "__main__":
    sys.exit(main())
