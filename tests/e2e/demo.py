#!/usr/bin/env python3
"""The two-site demo (the README's first command runs it through tools/demo): builds the sites
of tests/e2e/sites.py and shows, step by step, a host on an IPv4-only LAN and a host on an
IPv6-only LAN reaching each other by name through their gateways. Everything it made is removed
on exit and on Ctrl-C. usage: demo.py BUILD_DIR UNBOUND_BUILD"""
import ipaddress
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sites import DOMAIN, LAN, NSD_ADDR, REF, WAN, Failed, Sites  # noqa: E402

BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")
B6 = "b6." + DOMAIN["b"]
A1 = "a1." + DOMAIN["a"]

WEB_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webserver.py")

FETCH = """
import sys, urllib.request
print(urllib.request.urlopen("http://%s/" % sys.argv[1], timeout=10).read().decode(), end="")
"""


def step(n, text):
    print(f"\n{BOLD}{n}. {text}{RESET}", flush=True)


def run(s, where, *args, show=None):
    """Runs a command in a namespace and prints it as a person would type it there."""
    prompt = "internet" if where == "inet" else where
    print(f"{DIM}{prompt}${RESET} {show or ' '.join(str(a) for a in args)}", flush=True)
    out = s.sh(*args, ns=where, check=False)
    text = (out.stdout + out.stderr).rstrip()
    if text:
        print("    " + text.replace("\n", "\n    "), flush=True)
    if out.returncode != 0:
        raise Failed(f"that failed (exit {out.returncode})")
    return out.stdout


def main():
    if os.geteuid() != 0:
        print("The demo builds network namespaces: run it as root.")
        return 1
    build, unbound_build = sys.argv[1:3]
    s = Sites(build, unbound_build)
    # Ctrl-C or a TERM signal ends the demo through the cleanup below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        print(f"{BOLD}IPREF: two private networks reach each other by name, with no global "
              f"addresses and no shared configuration.{RESET}")
        print(f"Building, in network namespaces: an Internet where NSD ({NSD_ADDR[0]}) serves "
              f"{DOMAIN['a']} and {DOMAIN['b']};")
        s.build_internet()
        print(f"  site A: an IPv4-only LAN, host a1 ({LAN['a'][2]}), gateway {WAN['a'][0]} / "
              f"{WAN['a'][1]}")
        s.add_site("a")
        print(f"  site B: an IPv6-only LAN, host b6 ({LAN['b'][2]}), gateway {WAN['b'][0]} / "
              f"{WAN['b'][1]}")
        s.add_site("b")
        print("Each gateway runs gwctld (mappings, in SQLite), ipref-dataplane (the TUN "
              "forwarder) and Unbound with the ipref module (the LAN's resolver).")
        for site in "ab":
            host, addr = LAN[site][1], LAN[site][2]
            s.spawn(f"web-{site}", host, ["python3", WEB_SERVER, host, addr, "80"],
                    f"web-{site}.log")
        for site in "ab":
            s.wait_listening(LAN[site][1], 80)

        step(1, f"Site B publishes b6 in its public zone: its gateway's name plus a reference "
                f"({REF['b']}) that only gateway B interprets.")
        run(s, "inet", "dig", "+short", f"@{NSD_ADDR[0]}", B6, "TXT",
            show=f"dig +short @{NSD_ADDR[0]} {B6} TXT")

        step(2, "a1 asks its resolver for b6. The ipref module sees the AA record, and "
                "gateway A hands out an encoded address that stands for it:")
        out = run(s, "a1", "dig", "+short", B6, "A", show=f"dig +short {B6} A")
        encoded = out.split()[0]
        print(f"    ({encoded} is in gateway A's encoded range 10.240.0.0/12; a1 has no IPv6, "
              f"b6 has no IPv4.)")
        reverse = ipaddress.ip_address(encoded).reverse_pointer
        run(s, "a1", "dig", "+short", reverse, "PTR", show=f"dig +short -x {encoded}")

        step(3, "a1 pings b6 by name: the gateways turn IPv4 into IPREF, carry it over the "
                "Internet and turn it into IPv6 for b6.")
        run(s, "a1", "ping", "-c", "3", "-i", "0.3", B6)

        step(4, "a1 fetches a page from b6's web server. b6 sees a1 at an IPv6 address of "
                "gateway B's own encoded range:")
        run(s, "a1", "python3", "-c", FETCH, B6, show=f"curl http://{B6}/")

        step(5, f"The other way: site A publishes a1 as {A1}; b6, on its IPv6-only LAN, "
                f"reaches it by name.")
        run(s, "b6", "dig", "+short", A1, "AAAA", show=f"dig +short {A1} AAAA")
        run(s, "b6", "ping", "-c", "3", "-i", "0.3", A1)
        run(s, "b6", "python3", "-c", FETCH, A1, show=f"curl http://{A1}/")

        step(6, "What each gateway holds: gwctl list, and the same rows read with sqlite3.")
        for site in "ab":
            print(f"{DIM}gateway {site.upper()}${RESET} gwctl list")
            print("    " + s.gwctl(site, "list").stdout.rstrip().replace("\n", "\n    "))
            print(f"{DIM}gateway {site.upper()}${RESET} sqlite3 gw.db 'SELECT * FROM mappings'")
            print("    " + s.sqlite(site, "SELECT * FROM mappings").rstrip().replace(
                "\n", "\n    "))

        step(7, "Counters, as `gwctl stats` shows them on gateway B (a few):")
        stats = s.fresh_stats("b")  # the dataplane reports its counters every 2 s
        for name in ("gwctld.allocated.encoded", "gwctld.mappings.published",
                     "gwctld.mappings.dynamic_remote", "dataplane.udp.rx", "dataplane.tun.tx", "dataplane.tun.rx",
                     "dataplane.udp.tx"):
            if name in stats:
                print(f"    {name:32} {stats[name]}")
        print(f"\n{BOLD}Done.{RESET} Cleaning up the namespaces and processes.")
        return 0
    except (Failed, KeyboardInterrupt, SystemExit) as e:
        if isinstance(e, Failed):
            print(f"\nThe demo stopped: {e}\n--- logs ---\n{s.logs()[-6000:]}")
        else:
            print("\nInterrupted: cleaning up.")
        return 1
    finally:
        s.cleanup()


if __name__ == "__main__":
    sys.exit(main())
