#!/usr/bin/env python3
"""End to end: two sites and an Internet in network namespaces (tests/e2e/sites.py), every
part real. a1 (IPv4 LAN) reaches b6 (IPv6 LAN) by name, b6 reaches a1 by name, with ping, HTTP,
UDP and a long TCP transfer; gwctld, the dataplane and Unbound are restarted during traffic;
a third site comes and goes. Needs root (exit 77 otherwise).
usage: test_e2e.py BUILD_DIR UNBOUND_BUILD"""
import hashlib
import ipaddress
import os
import shutil
import subprocess
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webserver  # noqa: E402
from sites import DOMAIN, LAN, Failed, Sites  # noqa: E402

BUILD, UNBOUND_BUILD = (sys.argv[1:3] + ["", ""])[:2]
B6 = "b6." + DOMAIN["b"]
A1 = "a1." + DOMAIN["a"]

WEB_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webserver.py")

HTTP_GET = """
import hashlib, socket, sys, urllib.request
name, path = sys.argv[1], sys.argv[2]
data = urllib.request.urlopen("http://%s:8080/%s" % (name, path), timeout=20).read()
print(len(data), hashlib.sha256(data).hexdigest(), data[:80].decode(errors="replace").strip())
"""

UDP_ECHO = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data[::-1], peer)
"""

UDP_ASK = """
import socket, sys
info = socket.getaddrinfo(sys.argv[1], 9000, type=socket.SOCK_DGRAM)[0]
s = socket.socket(info[0], socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(5):
    s.sendto(b"ipref udp %d" % i, info[4])
    try:
        print(s.recvfrom(65535)[0].decode())
        break
    except socket.timeout:
        pass
"""


def check(condition, what):
    if not condition:
        raise Failed(what)


def expected_body(size):
    return hashlib.sha256(webserver.body(size)).hexdigest()


def start_servers(s):
    for site in "ab":
        host, addr = LAN[site][1], LAN[site][2]
        s.spawn(f"http-{site}", host, ["python3", WEB_SERVER, host, addr, "8080"],
                f"http-{site}.log")
        s.spawn(f"udp-{site}", host, ["python3", "-c", UDP_ECHO, addr], f"udp-{site}.log")
    for site in "ab":
        s.wait_listening(LAN[site][1], 8080)
        s.wait_listening(LAN[site][1], 9000, udp=True)


def http_get(s, host, name, path="", timeout=60):
    return s.sh("python3", "-c", HTTP_GET, name, path, ns=host, timeout=timeout).stdout.split(
        None, 2)


def test_names_resolve_to_encoded_addresses(s):
    a = s.resolve("a1", B6, "A")
    check(len(a) == 1 and ipaddress.ip_address(a[0]) in ipaddress.ip_network("10.240.0.0/12"),
          f"a1 gets an encoded IPv4 address for b6: {a}")
    check(s.resolve("a1", B6, "AAAA") == [], "no AAAA for an IPv4-only LAN")
    aaaa = s.resolve("b6", A1, "AAAA")
    check(len(aaaa) == 1 and
          ipaddress.ip_address(aaaa[0]) in ipaddress.ip_network("fdee:eeee::/64"),
          f"b6 gets an encoded IPv6 address for a1: {aaaa}")
    ptr = s.resolve("a1", ipaddress.ip_address(a[0]).reverse_pointer, "PTR")
    check(ptr == [B6 + "."], f"PTR of b6's encoded address: {ptr}")


def test_ping_both_ways(s):
    for host, name in (("a1", B6), ("b6", A1), ("a1", "b6-v6." + DOMAIN["b"])):
        run = s.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", name, ns=host, check=False)
        check(run.returncode == 0, f"ping {name} from {host}:\n{run.stdout}{run.stderr}")


def test_http_both_ways(s):
    _, _, text = http_get(s, "a1", B6)
    check(text.startswith("Hello from b6! You reach me from fdee:eeee::"),
          f"b6 sees a1 at an IPv6 address: {text}")
    _, _, text = http_get(s, "b6", A1)
    check(text.startswith("Hello from a1! You reach me from 10.2"),
          f"a1 sees b6 at an IPv4 address: {text}")
    # b6's second published reference, over the IPv6 Internet: replies must come back under
    # the reference a1 used, or a1's TCP would see them from another address
    _, _, text = http_get(s, "a1", "b6-v6." + DOMAIN["b"])
    check(text.startswith("Hello from b6!"), f"through the second reference: {text}")


def test_udp_both_ways(s):
    for host, name in (("a1", B6), ("b6", A1)):
        out = s.sh("python3", "-c", UDP_ASK, name, ns=host).stdout
        check("0 pdu ferpi" in out, f"UDP echo {host} -> {name}: {out!r}")


def test_long_transfer_checked(s):
    size = 20_000_000
    length, digest, _ = http_get(s, "a1", B6, str(size), timeout=120)
    check(int(length) == size and digest == expected_body(size), "20 MB a1 <- b6 intact")


def test_restarts_during_traffic(s):
    before = {site: s.sqlite(site, "SELECT * FROM mappings ORDER BY 1, 2") for site in "ab"}
    size = 40_000_000
    for site, part in (("b", "dataplane"), ("a", "gwctld"), ("a", "unbound"), ("b", "gwctld"),
                       ("a", "dataplane")):
        # a transfer in flight across each restart: TCP retransmits through the gap
        get = subprocess.Popen(["ip", "netns", "exec", s.ns("a1"), "python3", "-c", HTTP_GET,
                                B6, str(size)], stdout=subprocess.PIPE, text=True)
        s.wait_for("the transfer under way", lambda: s.sh(
            "ss", "-Htn", "state", "established", "dport = :8080", ns="a1").stdout.strip())
        s.restart(site, part)
        out, _ = get.communicate(timeout=120)
        length, digest, _ = out.split(None, 2)
        check(int(length) == size and digest == expected_body(size),
              f"transfer across a restart of {part} at site {site}: {out!r}")
        test_ping_both_ways(s)
    after = {site: s.sqlite(site, "SELECT * FROM mappings ORDER BY 1, 2") for site in "ab"}
    for site in "ab":
        kept = [line for line in before[site].splitlines()[2:] if line not in after[site]]
        check(not kept, f"mappings lost at site {site}: {kept}")


def test_third_site_comes_and_goes(s):
    s.add_site("c")
    c = "c4." + DOMAIN["c"]
    run = s.sh("ping", "-c", "2", "-i", "0.2", "-W", "2", c, ns="a1", check=False)
    check(run.returncode == 0, f"a1 pings c4:\n{run.stdout}{run.stderr}")
    run = s.sh("ping", "-c", "2", "-i", "0.2", "-W", "2", B6, ns="c4", check=False)
    check(run.returncode == 0, f"c4 pings b6:\n{run.stdout}{run.stderr}")
    s.remove_site("c")
    run = s.sh("ping", "-c", "2", "-i", "0.2", "-W", "1", c, ns="a1", check=False)
    check(run.returncode != 0, "site C is gone")
    test_ping_both_ways(s)  # A and B are not disturbed


TESTS = [test_names_resolve_to_encoded_addresses, test_ping_both_ways, test_http_both_ways,
         test_udp_both_ways, test_long_transfer_checked, test_restarts_during_traffic,
         test_third_site_comes_and_goes]


def main():
    if os.geteuid() != 0:
        print("SKIP: the end-to-end test needs root for network namespaces")
        return 77
    for tool in ("ip", "nsd", "dig", "ping", "sqlite3"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            print(f"SKIP: {tool} is not installed (tools/setup installs it)")
            return 77
    if not os.path.exists(os.path.join(BUILD, "resolver", "ipref.so")):
        print("SKIP: the ipref module is not built in " + BUILD)
        return 77
    s = Sites(BUILD, UNBOUND_BUILD)
    passed = failed = 0
    try:
        s.build_internet()
        s.add_site("a")
        s.add_site("b")
        start_servers(s)
        only = [t for t in os.environ.get("IPREF_TESTS", "").split(",") if t]
        for test in TESTS:
            if only and test.__name__ not in only:
                continue
            try:
                test(s)
                passed += 1
                print(f"ok   {test.__name__}", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {test.__name__}")
                traceback.print_exc(file=sys.stdout)
                print(s.logs()[-8000:])
    except Exception:
        failed += 1
        print("FAIL setting up the sites")
        traceback.print_exc(file=sys.stdout)
        print(s.logs()[-8000:])
    finally:
        s.cleanup()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
