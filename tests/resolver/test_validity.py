#!/usr/bin/env python3
"""The ipref module with AA records it must not use: contexts no remote gateway can have, this
gateway's own addresses and encoded ranges, a reference starting with '--'; IPv4-mapped contexts
taken as IPv4; and its counters, gwctld link counters included, in `gwctl stats`. The same
servers as test_resolver.py (site.test.zone). usage: as test_resolver.py"""
import itertools
import os
import shutil
import subprocess
import sys
import time

from test_resolver import (GWCTL, GWCTLD, NSD, UNBOUND_BUILD, Suite, check, encoded,  # noqa: E402
                           with_site)

# name: its native address; every AA record of each is unusable
UNUSABLE = {"unspec": "192.0.2.30", "loop": "192.0.2.31", "mcast": "192.0.2.32",
            "bcast": "192.0.2.33", "linkloc": "192.0.2.34", "ownctx": "192.0.2.35",
            "enc": "192.0.2.36", "dashes": "192.0.2.38"}
BAD_CONTEXT_RECORDS = 15  # in those names, less the one with '--', which is malformed


def module_counters(site, wanted, again=()):
    """gwctl stats' resolver.* counters once wanted(counters) holds (reports come every 2 s).
    The names in again are asked each round: on a loaded machine a TXT lookup can outlast
    lookup-wait-ms, and its name is counted only when asked again after the brief fallback."""
    deadline = time.time() + 30
    for n in itertools.count():
        # a question the cache cannot answer makes a worker send its report when one is due
        site.ask(f"poll{n}.site.test", "AAAA")
        for name in again:
            site.ask(name)
        stats = subprocess.run([GWCTL, "--socket", site.gw.sock, "stats"], capture_output=True,
                               text=True).stdout
        counters = {k: int(v) for k, v in
                    (line.split() for line in stats.splitlines() if len(line.split()) == 2)}
        if wanted(counters) or time.time() > deadline:
            return counters
        time.sleep(0.3)


@with_site()
def test_unusable_contexts_are_ignored(site):
    for name, native in UNUSABLE.items():
        a = site.ask(name + ".site.test")
        check(a.status == "NOERROR" and a.data("A") == [native], f"{name}: {a}")
        aaaa = site.ask(name + ".site.test", "AAAA")
        check(aaaa.status == "NOERROR" and not aaaa.data("AAAA"), f"{name} AAAA: {aaaa}")
    # a gateway name that resolves to loopback gives no encoded address
    via = site.ask("viagw.site.test")
    check(not any(v.startswith("10.") for v in via.data("A")), via)
    check(site.mappings() == [], site.mappings())
    counters = module_counters(
        site, lambda c: c.get("resolver.bad_context", 0) >= BAD_CONTEXT_RECORDS + 1 and
        c.get("resolver.malformed_aa", 0) >= 1, [n + ".site.test" for n in UNUSABLE])
    check(counters.get("resolver.bad_context", 0) >= BAD_CONTEXT_RECORDS + 1, counters)
    check(counters.get("resolver.malformed_aa", 0) >= 1, counters)  # the '--' reference


@with_site()
def test_mapped_context_is_its_ipv4_address(site):
    a = encoded(site.ask("mapped.site.test"))
    aaaa = encoded(site.ask("mapped.site.test", "AAAA"), "AAAA")
    check(len(a) == 1 and len(aaaa) == 1, (a, aaaa))  # two records, one remote host
    rows = site.mappings()
    check(sorted(r[2] for r in rows) == ["198.51.100.40 + 40"] * 2, rows)


@with_site()
def test_link_counters_reported(site):
    encoded(site.ask("v4.site.test"))
    names = ["connects", "requests", "timeouts", "failures", "held_off", "recovered"]
    counters = module_counters(site, lambda c: c.get("resolver.gwlink.requests", 0) >= 2)
    for name in names:
        check("resolver.gwlink." + name in counters, f"{name}: {counters}")
    check(counters["resolver.gwlink.connects"] >= 1, counters)
    check(counters["resolver.gwlink.requests"] >= 2, counters)  # RANGES, then GET_EA
    # gwctld away: the next question fails at once and counts a failure
    site.gw.stop()
    check(site.ask("v4.site.test", "AAAA").status == "SERVFAIL", "gwctld stopped")
    site.gw.start()
    counters = module_counters(site, lambda c: c.get("resolver.gwlink.failures", 0) >= 1)
    check(counters.get("resolver.gwlink.failures", 0) >= 1, counters)


if __name__ == "__main__":
    if not os.path.exists(os.path.join(UNBOUND_BUILD, "unbound")):
        print("SKIP: no Unbound build (tools/setup builds it)")
        sys.exit(77)
    for tool in (NSD, "ldns-signzone", "ldns-keygen", "dig"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (tools/setup installs it)")
            sys.exit(77)
    sys.exit(Suite(GWCTLD).run([
        test_unusable_contexts_are_ignored, test_mapped_context_is_its_ipv4_address,
        test_link_counters_reported,
    ]))
