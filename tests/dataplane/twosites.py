#!/usr/bin/env python3
"""The dataplane tests' network: two gateways (gwctld + ipref-dataplane each) in network
namespaces with a host behind each and an "Internet" namespace between them, and the harness that
runs a list of tests over it.

Mappings come from hosts files, so no resolver is involved. Every namespace and process a test
run creates is removed by name and PID at the end, also on failure. Needs root (exit 77
otherwise). The test scripts take GWCTLD GWCTL DATAPLANE as arguments."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import gateway  # noqa: E402
import netns  # noqa: E402
import polling  # noqa: E402
from polling import wait_until  # noqa: E402,F401  (for the test scripts)

GWCTLD, GWCTL, DATAPLANE = sys.argv[1:4]
TAG = "ipr%d" % os.getpid()
NS = {k: f"{TAG}{k}" for k in ("gwa", "gwb", "inet", "ha", "hb")}

# The two gateways' public addresses on both Internet families, and their hosts.
GW = {"a": ("198.18.1.1", "2001:db8:1::1"), "b": ("198.18.2.1", "2001:db8:2::1")}
HOST = {"a": ("10.1.0.2", "fd00:a::2"), "b": ("10.2.0.2", "fd00:b::2")}
# What A's host reaches B's host at: (local family, B's host family, Internet family) -> address.
ENCODED_AT_A = {
    (4, 4, 4): "10.240.0.21", (4, 6, 4): "10.240.0.20",
    (6, 6, 4): "fdee::20", (6, 4, 4): "fdee::21",
    (4, 4, 6): "10.240.0.31", (4, 6, 6): "10.240.0.30",
    (6, 6, 6): "fdee::30", (6, 4, 6): "fdee::31",
}
ENCODED_AT_B = {4: "10.240.0.41", 6: "fdee::41"}  # A's host, published as + 3001 / + 3000

procs = []
# Lines a test script adds to every gateway's gwctl.conf and dataplane.conf.
EXTRA_CONF = {"gwctl": "", "dataplane": ""}
# Forwarding threads of each dataplane: CI runs the main test with 1 and with 2 (issue 22).
WORKERS = int(os.environ.get("IPREF_DP_WORKERS", "1"))


def sh(*args, ns=None, check=True, timeout=30, **kw):
    return netns.sh(*args, ns=NS[ns] if ns else None, check=check, timeout=timeout, **kw)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def spawn(ns, args, log):
    p = netns.spawn(NS[ns], args, log)
    procs.append(p)
    return p


stop = netns.stop


def cleanup():
    for p in procs:
        try:
            stop(p, signal.SIGKILL)
        except OSError:
            pass
    netns.delete(NS.values())


def link(a, a_if, b, b_if):
    netns.link(NS[a], a_if, NS[b], b_if)


def addr(ns, dev, *cidrs):
    netns.addr(NS[ns], dev, *cidrs)


def route(ns, dst, via):
    netns.route(NS[ns], dst, via)


def build_network():
    for name in NS.values():
        netns.add(name)
    link("gwa", "wan", "inet", "to-a")
    link("gwb", "wan", "inet", "to-b")
    link("ha", "eth0", "gwa", "lan")
    link("hb", "eth0", "gwb", "lan")
    for ns in ("gwa", "gwb", "inet"):
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", ns=ns)
    addr("inet", "to-a", "198.18.1.254/24", "2001:db8:1::fe/64")
    addr("inet", "to-b", "198.18.2.254/24", "2001:db8:2::fe/64")
    for g, side in (("gwa", "a"), ("gwb", "b")):
        n = 1 if side == "a" else 2
        addr(g, "wan", f"{GW[side][0]}/24", f"{GW[side][1]}/64")
        route(g, "default", f"198.18.{n}.254")
        route(g, "default", f"2001:db8:{n}::fe")
        addr(g, "lan", f"10.{n}.0.1/24", f"fd00:{side}::1/64")
        h = "h" + side
        addr(h, "eth0", f"{HOST[side][0]}/24", f"{HOST[side][1]}/64")
        route(h, "default", f"10.{n}.0.1")
        route(h, "default", f"fd00:{side}::1")


class Gateway(gateway.Gateway):
    """Gateway side ("a" or "b"): its hosts file maps the other side's host, both ways."""

    def __init__(self, side, workdir):
        self.side = side
        super().__init__(NS["gw" + side], os.path.join(workdir, side), GWCTLD, GWCTL, DATAPLANE)
        self.ns = "gw" + side  # the key of NS, as the tests' sh(..., ns=) takes it
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            if side == "a":
                f.write(f"{HOST['a'][0]} ha #= pub + 3001\n{HOST['a'][1]} ha6 #= pub + 3000\n")
                for (_, to, net), ea in ENCODED_AT_A.items():
                    ref = 2001 if to == 4 else 2000
                    f.write(f"{ea} b{ref} #= ext {GW['b'][0 if net == 4 else 1]} + {ref}\n")
            else:
                f.write(f"{HOST['b'][0]} hb #= pub + 2001\n{HOST['b'][1]} hb6 #= pub + 2000\n")
                f.write(f"{ENCODED_AT_B[4]} a4 #= ext {GW['a'][0]} + 3001\n")
                f.write(f"{ENCODED_AT_B[6]} a6 #= ext {GW['a'][1]} + 3000\n")
        self.write_gwctl_conf(f"gateway = {GW[side][0]}\ngateway = {GW[side][1]}\n"
                              f"encoded-ipv4 = 10.240.0.0/16\nencoded-ipv6 = fdee::/64\n"
                              f"hosts = {hosts}\nlog-level = info\n" + EXTRA_CONF["gwctl"])
        self.write_dataplane_conf(f"workers = {WORKERS}\n" + EXTRA_CONF["dataplane"])

    def start_gwctld(self):
        procs.append(super().start_gwctld())

    def start_dataplane(self, env=None, wait=True):
        procs.append(super().start_dataplane(env=env, wait=wait))


def ping(ns, target, count=3):
    run = sh("ping", "-c", str(count), "-i", "0.2", "-W", "2", target, ns=ns, check=False)
    check(run.returncode == 0, f"ping {target} from {ns}:\n{run.stdout}{run.stderr}")


HTTP_CLIENT = """
import sys, urllib.request
host = sys.argv[1]
url = "http://[%s]:8080/page" % host if ":" in host else "http://%s:8080/page" % host
print(urllib.request.urlopen(url, timeout=5).read().decode())
"""

UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 9000))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data + b" from " + peer[0].encode(), peer)
"""

UDP_CLIENT = """
import socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(5):
    s.sendto(b"hello %d" % i, (host, 9000))
    try:
        print(s.recvfrom(65535)[0].decode())
        break
    except socket.timeout:
        pass
"""


def main(tests, name):
    """Builds the network, runs each test(a, b, workdir), cleans up; the exit status."""
    passed = failed = 0
    if os.geteuid() != 0:
        print(f"SKIP: the {name} test needs root for network namespaces and TUN devices")
        return 77
    if not netns.usable(TAG + "probe"):
        print("SKIP: cannot create network namespaces here")
        return 77
    workdir = tempfile.mkdtemp(prefix="ipref-dataplane-")
    os.chmod(workdir, 0o755)
    try:
        build_network()
        a, b = Gateway("a", workdir), Gateway("b", workdir)
        for g in (a, b):
            g.start_gwctld()
            g.start_dataplane()
        with open(os.path.join(workdir, "page"), "w") as f:
            f.write("served from a host\n")
        for h in ("ha", "hb"):
            spawn(h, ["python3", "-m", "http.server", "--bind", "::", "--directory", workdir,
                      "8080"], subprocess.DEVNULL)
            spawn(h, ["python3", "-c", UDP_ECHO], subprocess.DEVNULL)
        wait_until(lambda: all(polling.listening(8080, ns=NS[h]) and
                               polling.listening(9000, udp=True, ns=NS[h]) for h in ("ha", "hb")),
                   10, "the hosts' HTTP and UDP echo servers")
        only = [t for t in os.environ.get("IPREF_TESTS", "").split(",") if t]
        for test in tests:
            if only and test.__name__ not in only:
                continue
            try:
                test(a, b, workdir)
                passed += 1
                print(f"ok   {test.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {test.__name__}")
                traceback.print_exc()
        if failed:
            for g in (a, b):
                print(f"--- gateway {g.side} log ---\n" + g.tail(3000))
                print(f"--- gateway {g.side} stats ---\n" + "\n".join(
                    f"{k} {v}" for k, v in g.stats().items() if k.startswith("dataplane")))
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0

