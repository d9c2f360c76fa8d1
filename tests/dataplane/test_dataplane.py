#!/usr/bin/env python3
"""Two gateways (gwctld + ipref-dataplane each) in network namespaces with a host behind each and
an "Internet" namespace between them: ping, TCP (HTTP) and UDP across IPv4 and IPv6 hosts over an
IPv4 and an IPv6 Internet, malformed tunnel packets, restarts of both daemons.

Mappings come from hosts files, so no resolver is involved. Every namespace and process this test
creates is removed by name and PID at the end, also on failure. Needs root (exit 77 otherwise).
usage: test_dataplane.py GWCTLD GWCTL DATAPLANE"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from servers import stop_process  # noqa: E402

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

passed = failed = 0
procs = []


def sh(*args, ns=None, check=True, timeout=30, **kw):
    cmd = (["ip", "netns", "exec", NS[ns]] if ns else []) + list(args)
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and run.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {run.returncode}\n{run.stdout}{run.stderr}")
    return run


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def spawn(ns, args, log):
    p = subprocess.Popen(["ip", "netns", "exec", NS[ns]] + args, stdout=log, stderr=log)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM):
    stop_process(p, sig)


def cleanup():
    for p in procs:
        try:
            stop(p, signal.SIGKILL)
        except OSError:
            pass
    for name in NS.values():
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def link(a, a_if, b, b_if):
    sh("ip", "-n", NS[a], "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns",
       NS[b])
    sh("ip", "-n", NS[a], "link", "set", a_if, "up")
    sh("ip", "-n", NS[b], "link", "set", b_if, "up")


def addr(ns, dev, *cidrs):
    for c in cidrs:
        sh("ip", "-n", NS[ns], "addr", "add", c, "dev", dev, *(["nodad"] if ":" in c else []))


def route(ns, dst, via):
    sh("ip", "-n", NS[ns], *(["-6"] if ":" in via else []), "route", "add", dst, "via", via)


def build_network():
    for name in NS.values():
        sh("ip", "netns", "add", name)
    for k in NS:
        sh("ip", "-n", NS[k], "link", "set", "lo", "up")
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


class Gateway:
    def __init__(self, side, workdir):
        self.side, self.ns = side, "gw" + side
        self.dir = os.path.join(workdir, side)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)  # the dataplane reaches the socket as nobody
        self.sock = os.path.join(self.dir, "gwctl.sock")
        self.gwconf = os.path.join(self.dir, "gwctl.conf")
        self.dpconf = os.path.join(self.dir, "dataplane.conf")
        hosts = os.path.join(self.dir, "hosts")
        other = "b" if side == "a" else "a"
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
        with open(self.gwconf, "w") as f:
            f.write(f"database = {self.dir}/gw.db\nsocket = {self.sock}\nsocket-group = nogroup\n"
                    f"gateway = {GW[side][0]}\ngateway = {GW[side][1]}\n"
                    f"encoded-ipv4 = 10.240.0.0/16\nencoded-ipv6 = fdee::/64\n"
                    f"hosts = {hosts}\nlog-level = info\n")
        with open(self.dpconf, "w") as f:
            f.write(f"gwctl-config = {self.gwconf}\ntun = ipref0\nuser = nobody\n")
        self.log = open(os.path.join(self.dir, "log"), "a")
        self.gwctld = self.dataplane = None
        del other

    def start_gwctld(self):
        self.gwctld = spawn(self.ns, [GWCTLD, "--config", self.gwconf], self.log)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            check(time.time() < deadline and self.gwctld.poll() is None, "gwctld start")
            time.sleep(0.05)

    def start_dataplane(self):
        self.dataplane = spawn(self.ns, [DATAPLANE, "--config", self.dpconf], self.log)
        deadline = time.time() + 10
        while int(self.stats().get("dataplane.gwctl.connects", 0)) < 1:
            check(time.time() < deadline and self.dataplane.poll() is None,
                  "dataplane start: " + open(self.log.name).read()[-2000:])
            time.sleep(0.1)

    def gwctl(self, *args):
        return sh(GWCTL, "--socket", self.sock, *args, ns=self.ns).stdout

    def stats(self):
        run = sh(GWCTL, "--socket", self.sock, "stats", ns=self.ns, check=False)
        return dict(l.split() for l in run.stdout.splitlines() if len(l.split()) == 2)

    def wait_stat(self, name, minimum, seconds=8):
        deadline = time.time() + seconds
        while True:
            value = int(self.stats().get(name, 0))
            if value >= minimum or time.time() > deadline:
                return value
            time.sleep(0.2)


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


def test_ping_all_combinations(a, b, workdir):
    for (src, dst, net), ea in ENCODED_AT_A.items():
        ping("ha", ea)
    for fam, ea in ENCODED_AT_B.items():
        ping("hb", ea)


def test_tcp_http(a, b, workdir):
    for (src, dst, net), ea in ENCODED_AT_A.items():
        out = sh("python3", "-c", HTTP_CLIENT, ea, ns="ha").stdout
        check("served from" in out, f"HTTP via {ea}: {out}")
    for ea in ENCODED_AT_B.values():  # the other way: B's host fetches from A's
        out = sh("python3", "-c", HTTP_CLIENT, ea, ns="hb").stdout
        check("served from" in out, f"HTTP via {ea} from hb: {out}")


def test_udp_both_ways(a, b, workdir):
    for (src, dst, net), ea in ENCODED_AT_A.items():
        out = sh("python3", "-c", UDP_CLIENT, ea, ns="ha").stdout
        check("hello" in out, f"UDP echo via {ea}: {out!r}")
        # the reply names the source hb saw: an encoded address of hb's own family
        seen = out.split(" from ")[-1].strip()
        check((":" in seen and not seen.startswith("::ffff:")) == (dst == 6), f"{ea}: {seen}")
    for ea in ENCODED_AT_B.values():
        out = sh("python3", "-c", UDP_CLIENT, ea, ns="hb").stdout
        check("hello" in out, f"UDP echo via {ea} from hb: {out!r}")


PORT_UNREACHABLE = """
import socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((host, 9999))
for i in range(3):
    s.send(b"anyone?")
    try:
        s.recv(100)
    except ConnectionRefusedError:
        print("refused")
        break
    except socket.timeout:
        pass
"""


def test_icmp_errors_cross_the_tunnel(a, b, workdir):
    # nothing listens on 9999: hb's "port unreachable" must reach ha's socket, translated
    # (ICMPv6 <-> IPREF-ICMP <-> ICMPv4 as the families go) with the quoted packet rewritten
    for key in ((4, 4, 4), (4, 6, 6), (6, 4, 4), (6, 6, 6)):
        out = sh("python3", "-c", PORT_UNREACHABLE, ENCODED_AT_A[key], ns="ha").stdout
        check("refused" in out, f"port unreachable via {ENCODED_AT_A[key]}: {out!r}")


def craft(b0=0x11, b1=0x40, ttl=64, proto=17, src="198.18.1.1", dst="198.18.2.1", sref=1,
          dref=2001, frag=None, tail=b"\0\1\0\2\0\x0c\0\0abcd"):
    h = bytes([b0, b1, ttl, proto]) + (frag or b"")
    h += socket.inet_aton(src) + socket.inet_aton(dst)
    return h + struct.pack(">II", sref, dref) + tail


def test_ttl_like_a_router(a, b, workdir):
    # each gateway is one hop: hb's replies (TTL 64) reach ha with 62, in every family pair
    for key in ((4, 4, 4), (4, 6, 6), (6, 6, 6), (6, 4, 4)):
        out = sh("ping", "-c", "1", "-W", "2", ENCODED_AT_A[key], ns="ha").stdout
        check("ttl=62 " in out, f"reply TTL via {ENCODED_AT_A[key]}: {out}")
    # TTL 2 runs out at gateway B: its kernel's "time exceeded" comes back across the tunnel,
    # quoting a packet for hb (another host than the error's sender)
    for ea, text in ((ENCODED_AT_A[(4, 4, 4)], "Time to live exceeded"),
                     (ENCODED_AT_A[(6, 6, 6)], "Time exceeded")):
        run = sh("ping", "-c", "2", "-i", "0.5", "-W", "2", "-t", "2", ea, ns="ha", check=False)
        check(text in run.stdout, f"TTL 2 to {ea}: {run.stdout}{run.stderr}")


def test_pushed_changes(a, b, workdir):
    # mappings made by hand reach the running dataplanes as events (B publishes hb once more,
    # A maps an encoded address to it), and so does a removal
    b.gwctl("map", "--publish", HOST["b"][0], f"{GW['b'][0]} + 2002")
    a.gwctl("map", "10.240.0.99", f"{GW['b'][0]} + 2002")
    ping("ha", "10.240.0.99")
    before = int(a.stats().get("dataplane.drop.no-destination-mapping", 0))
    a.gwctl("unmap", "10.240.0.99")
    time.sleep(0.3)
    run = sh("ping", "-c", "1", "-W", "1", "10.240.0.99", ns="ha", check=False)
    check(run.returncode != 0, "unmapped address still answers")
    got = a.wait_stat("dataplane.drop.no-destination-mapping", before + 1)
    check(got >= before + 1, f"no-destination-mapping {got} (was {before})")


def test_malformed_headers_counted(a, b, workdir):
    cases = {
        "truncated": craft()[:19],
        "bad-version": craft(b0=0x21),
        "bad-ref-length": craft(b0=0x1d),
        "reserved-bits": craft(b1=0x41),
        "bad-context-family": craft(b1=0x50),
        "bad-fragment-info": craft(b0=0x13, frag=b"\1\0\0\0\0\0\0\1"),
        "bad-fragment-offset": craft(b0=0x13, frag=b"\0\0\0\2\0\0\0\1"),
        "null-reference": craft(sref=0),
        "source-context-mismatch": craft(src="198.18.9.9"),
        "destination-context-mismatch": craft(src="198.18.2.254", dst="198.18.9.9"),
        "not-our-reference": craft(src="198.18.2.254", dref=77777),
    }
    before = b.stats()
    sender = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "s.bind(('198.18.2.254', 1045))\n"
              "for h in sys.argv[1:]:\n    s.sendto(bytes.fromhex(h), ('198.18.2.1', 1045))\n")
    sh("python3", "-c", sender, *[c.hex() for c in cases.values()], ns="inet")
    for name in cases:
        key = "dataplane.drop." + name
        want = int(before.get(key, 0)) + 1
        check(b.wait_stat(key, want) == want, f"{key}: {b.stats().get(key)} (wanted {want})")


def mappings(gw):
    return sorted(l for l in gw.gwctl("list").splitlines() if "dynamic" in l)


def test_restarts_keep_mappings(a, b, workdir):
    ping("ha", ENCODED_AT_A[(4, 4, 4)])
    at_b = mappings(b)
    check(at_b, "B holds dynamic mappings")
    stop(a.dataplane)
    a.start_dataplane()
    ping("ha", ENCODED_AT_A[(4, 4, 4)])
    ping("ha", ENCODED_AT_A[(6, 4, 6)])
    stop(b.gwctld)
    b.start_gwctld()
    check(mappings(b) == at_b, "B's mappings survive gwctld's restart")
    ping("ha", ENCODED_AT_A[(4, 6, 6)])
    b.wait_stat("dataplane.gwctl.connects", 2)
    check(int(b.stats().get("dataplane.gwctl.connects", 0)) >= 2, "B's dataplane reconnected")
    ping("hb", ENCODED_AT_B[6])
    check(mappings(b) == at_b, "no new mappings after the restarts")


def test_counters_visible(a, b, workdir):
    s = a.stats()
    for key in ("dataplane.tun.rx", "dataplane.udp.tx", "dataplane.udp.rx", "dataplane.tun.tx"):
        check(int(s.get(key, 0)) > 0, f"{key}: {s.get(key)}")
    check("dataplane.drop.ttl-exceeded" in s, "drop counters listed")
    # use of the mappings goes back to gwctld in batches (REPORT_USE), extending leases
    check(int(s.get("dataplane.mappings.use_reported", 0)) > 0, "use reported")
    check(int(s.get("requests.report_use", 0)) > 0, "gwctld received use reports")
    # the first packets of new flows waited for gwctld's allocations, and then went on (B's
    # dataplane ran from the start; A's was restarted with the mappings already made)
    sb = b.stats()
    check(int(sb.get("dataplane.wait.sent", 0)) > 0, f"wait.sent: {sb.get('dataplane.wait.sent')}")


def test_runs_unprivileged(a, b, workdir):
    for g in (a, b):
        with open(f"/proc/{g.dataplane.pid}/status") as f:
            uids = next(l for l in f if l.startswith("Uid:")).split()[1:]
        check(set(uids) == {str(__import__("pwd").getpwnam("nobody").pw_uid)}, f"uids {uids}")


def main():
    global passed, failed
    if os.geteuid() != 0:
        print("SKIP: the dataplane test needs root for network namespaces and TUN devices")
        return 77
    if subprocess.run(["ip", "netns", "add", TAG + "probe"], capture_output=True).returncode:
        print("SKIP: cannot create network namespaces here")
        return 77
    subprocess.run(["ip", "netns", "del", TAG + "probe"], capture_output=True)
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
        time.sleep(0.5)
        for test in (test_ping_all_combinations, test_tcp_http, test_udp_both_ways,
                     test_icmp_errors_cross_the_tunnel, test_ttl_like_a_router,
                     test_pushed_changes,
                     test_malformed_headers_counted, test_restarts_keep_mappings,
                     test_counters_visible, test_runs_unprivileged):
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
                print(f"--- gateway {g.side} log ---\n" + open(g.log.name).read()[-3000:])
                print(f"--- gateway {g.side} stats ---\n" + "\n".join(
                    f"{k} {v}" for k, v in g.stats().items() if k.startswith("dataplane")))
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
