#!/usr/bin/env python3
"""The ipref module with AA records it must not use: contexts no remote gateway can have, this
gateway's own addresses and encoded ranges, a reference starting with '--'; IPv4-mapped contexts
taken as IPv4; and its counters, gwctld link counters included, in `gwctl stats`. The same
servers as test_resolver.py (site.test.zone). usage: as test_resolver.py"""
import sys

from test_resolver import (GWCTL, GWCTLD, Suite, check, encoded, module_counters,  # noqa: E402
                           skip_unless_servers, with_site)

# name: its native address; every AA record of each is unusable
UNUSABLE = {"unspec": "192.0.2.30", "loop": "192.0.2.31", "mcast": "192.0.2.32",
            "bcast": "192.0.2.33", "linkloc": "192.0.2.34", "ownctx": "192.0.2.35",
            "enc": "192.0.2.36", "dashes": "192.0.2.38"}
BAD_CONTEXT_RECORDS = 15  # in those names, less the one with '--', which is malformed


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
    skip_unless_servers()
    sys.exit(Suite(GWCTLD, GWCTL).run([
        test_unusable_contexts_are_ignored, test_mapped_context_is_its_ipv4_address,
        test_link_counters_reported,
    ]))
