#!/usr/bin/env python3
"""The dataplane's kernel offloads in network namespaces (the topology of twosites.py, under
other namespace names): long TCP transfers both ways with SHA-256 content checks across MSS and
path-MTU settings and all four family combinations, several flows interleaved, and every mode
forced: all offloads, none, TUN only, UDP only, a gateway with offloads facing one without, and
UDP GSO sends refused by the kernel with EIO (as on old kernels when the route's device cannot
checksum; a preloaded shim does it here), which must turn GSO off and lose nothing, and a
kernel that refuses every offload probe at start (the shim again). Needs root (exit 77
otherwise).
usage: test_offload.py GWCTLD GWCTL DATAPLANE GSO-EIO-SHIM"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twosites as td  # noqa: E402  (the network, gateways and helpers)

SHIM = os.path.abspath(sys.argv[4])

# Namespaces of this test only, so that it may run beside test_dataplane.py.
td.NS.update({k: f"iprof{os.getpid()}{k}" for k in td.NS})
PORT = 9100

SERVER = """
import hashlib, random, socket, threading
def serve(c):
    with c:
        head = b""
        while len(head) < 16:
            head += c.recv(16 - len(head))
        n, back, seed = int.from_bytes(head[:6], "big"), int.from_bytes(head[6:12], "big"), \\
            int.from_bytes(head[12:], "big")
        h = hashlib.sha256()
        while n:
            d = c.recv(min(n, 1 << 20))
            if not d:
                return
            h.update(d)
            n -= len(d)
        c.sendall(h.digest())
        c.sendall(random.Random(seed + 1).randbytes(back))
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", %d))
s.listen(64)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
""" % PORT

# Sends n bytes, gets their digest and `back` bytes, checks both; MSS set before connecting.
CLIENT = """
import hashlib, random, socket, sys
host, n, back, seed, mss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \\
    int(sys.argv[5])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
if mss:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
s.settimeout(30)
s.connect((host, %d))
data = random.Random(seed).randbytes(n)
s.sendall(n.to_bytes(6, "big") + back.to_bytes(6, "big") + seed.to_bytes(4, "big") + data)
got = b""
while len(got) < 32:
    got += s.recv(32 - len(got))
assert got == hashlib.sha256(data).digest(), "the server received other bytes"
h, left = hashlib.sha256(), back
while left:
    d = s.recv(min(left, 1 << 20))
    assert d, "connection closed early"
    h.update(d)
    left -= len(d)
assert h.digest() == hashlib.sha256(random.Random(seed + 1).randbytes(back)).digest(), \\
    "the client received other bytes"
print("ok", n, back)
""" % PORT

OFF = "tun-offload = off\nudp-gso = off\nudp-gro = off\n"
MODES = {  # name -> (gateway A's extra dataplane.conf lines, gateway B's)
    "all-on": ("", ""),
    "all-off": (OFF, OFF),
    "tun-only": ("udp-gso = off\nudp-gro = off\n", "udp-gso = off\nudp-gro = off\n"),
    "udp-only": ("tun-offload = off\n", "tun-offload = off\n"),
    "on-facing-off": ("", OFF),
}
SEQ = [0]


def expected(extra):
    return {"tun_tso": "tun-offload = off" not in extra, "udp_gso": "udp-gso = off" not in extra,
            "udp_gro": "udp-gro = off" not in extra}


def configure(g, extra, mtu=None, preload=None, shim_mode=""):
    """Restarts g's dataplane with extra lines (and path MTU) in its dataplane.conf."""
    if g.dataplane:
        td.stop(g.dataplane)
    # any counter report after this one comes from the new process
    g.reports = int(g.stats().get("gwctld.requests.report_counters", 0))
    g.write_dataplane_conf(extra + (f"mtu = {mtu}\n" if mtu else ""))
    env = {}
    if preload:
        # the shim comes before a sanitizer build's runtime: ASan is told that is fine
        env["LD_PRELOAD"] = preload
        env["GSO_SHIM"] = shim_mode
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    g.start_dataplane(env=env, wait=False)  # wait_mode waits for its report


def wait_mode(g, extra, modes=None):
    """The restarted dataplane reports the modes its configuration asks for (or modes)."""
    want = {f"dataplane.offload.{k}": int(v)
            for k, v in (modes or expected(extra)).items()}
    deadline = time.time() + 10
    while True:
        s = g.stats()
        fresh = int(s.get("gwctld.requests.report_counters", 0)) > g.reports
        if fresh and all(s.get(k) == v for k, v in want.items()):
            return
        td.check(time.time() < deadline and g.dataplane.poll() is None,
                 f"gateway {g.side} modes {want}: {offload_stats(g)}")
        time.sleep(0.2)


def restart(a, b, mode, mtu=None):
    for g, extra in zip((a, b), MODES[mode]):
        configure(g, extra, mtu)
    for g, extra in zip((a, b), MODES[mode]):
        wait_mode(g, extra)


def transfers(jobs):
    """Runs (encoded address, bytes out, bytes back, mss) transfers from ha at once; all must
    deliver exactly what was sent."""
    procs = []
    for ea, n, back, mss in jobs:
        SEQ[0] += 1
        procs.append((ea, mss, subprocess.Popen(
            ["ip", "netns", "exec", td.NS["ha"], "python3", "-c", CLIENT, ea, str(n), str(back),
             str(SEQ[0]), str(mss)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    for ea, mss, p in procs:
        out = p.communicate(timeout=180)[0]
        td.check(p.returncode == 0 and out.startswith("ok"), f"transfer via {ea} mss {mss}: {out}")


FAMILIES = [(4, 4, 4), (4, 6, 6), (6, 4, 4), (6, 6, 6)]
MB = 1 << 20


def offload_stats(g):
    s = g.stats()
    return {k[len("dataplane."):]: int(v) for k, v in s.items()
            if k.startswith(("dataplane.offload.", "dataplane.drop.")) and v != 0
            or k.startswith("dataplane.offload.")}


def check_no_offload_drops(g):
    s = offload_stats(g)
    for name in ("vnet_header", "gso_type", "gso_header", "gso_size", "csum_offset",
                 "gso_segment_room", "send_failed", "too_big", "l4_truncated"):
        td.check(s.get("drop." + name, 0) == 0, f"gateway {g.side} drop.{name}: {s}")


def run_mode(a, b, mode):
    restart(a, b, mode)
    # every family pair, 24 MB out and 24 MB back, default MSS
    transfers([(td.ENCODED_AT_A[f], 24 * MB, 24 * MB, 0) for f in FAMILIES[:1]])
    transfers([(td.ENCODED_AT_A[f], 12 * MB, 12 * MB, 0) for f in FAMILIES[1:]])
    # smaller segments, one at a time
    for mss in (536, 1000, 1220):
        transfers([(td.ENCODED_AT_A[(4, 6, 6)], 4 * MB, 4 * MB, mss)])
    # mixed flows interleaved: four at once over both Internet families
    transfers([(td.ENCODED_AT_A[f], 6 * MB, 6 * MB, 0) for f in FAMILIES])
    td.polling.wait_reports(a.stats, b.stats)  # counters taken after the transfers
    for g, extra in zip((a, b), MODES[mode]):
        check_no_offload_drops(g)
        s, on = offload_stats(g), expected(extra)
        if on["tun_tso"]:
            td.check(s["offload.tun_super_rx"] > 0 and s["offload.tun_gro_tx"] > 0,
                     f"{mode} gateway {g.side}: TUN offloads unused: {s}")
        else:
            td.check(s["offload.tun_super_rx"] == 0 and s["offload.tun_gro_tx"] == 0,
                     f"{mode} gateway {g.side}: {s}")
        if on["udp_gso"]:
            td.check(s["offload.udp_gso_sends"] > 0, f"{mode} gateway {g.side}: no GSO send")
        else:
            td.check(s["offload.udp_gso_sends"] == 0, f"{mode} gateway {g.side}: {s}")
        # coalesced receives need the sender's GSO (the kernels between keep its trains whole)
        other = b if g is a else a
        if on["udp_gro"] and expected(MODES[mode][other is b])["udp_gso"]:
            td.check(s["offload.udp_gro_rx"] > 0, f"{mode} gateway {g.side}: no GRO receive")
        if not on["udp_gro"]:
            td.check(s["offload.udp_gro_rx"] == 0, f"{mode} gateway {g.side}: {s}")


def make_mode_test(mode):
    def test(a, b, workdir):
        run_mode(a, b, mode)
    test.__name__ = f"test_mode_{mode.replace('-', '_')}"
    return test


def test_path_mtus(a, b, workdir):
    # the smallest path MTU the configuration allows, then jumbo frames on every link
    restart(a, b, "all-on", mtu=1404)
    transfers([(td.ENCODED_AT_A[f], 8 * MB, 8 * MB, 0) for f in FAMILIES])
    links = [("gwa", "wan"), ("gwb", "wan"), ("inet", "to-a"), ("inet", "to-b"), ("gwa", "lan"),
             ("gwb", "lan"), ("ha", "eth0"), ("hb", "eth0")]
    for ns, dev in links:
        td.sh("ip", "-n", td.NS[ns], "link", "set", dev, "mtu", "9000")
    try:
        for mode in ("all-on", "all-off"):
            restart(a, b, mode, mtu=9000)
            transfers([(td.ENCODED_AT_A[f], 16 * MB, 16 * MB, 0) for f in FAMILIES])
            transfers([(td.ENCODED_AT_A[(6, 4, 4)], 4 * MB, 4 * MB, 4000)])
        td.polling.wait_reports(a.stats, b.stats)
        for g in (a, b):
            check_no_offload_drops(g)
    finally:
        for ns, dev in links:
            td.sh("ip", "-n", td.NS[ns], "link", "set", dev, "mtu", "1500")


def test_gso_refused_falls_back(a, b, workdir):
    # gateway A's kernel refuses every UDP GSO send (EIO): A turns GSO off for good and sends
    # one datagram at a time, losing none; B goes on with its GSO
    configure(a, "", preload=SHIM)
    configure(b, "")
    for g in (a, b):
        wait_mode(g, "")
    transfers([(td.ENCODED_AT_A[(4, 4, 4)], 16 * MB, 16 * MB, 0),
               (td.ENCODED_AT_A[(6, 6, 6)], 16 * MB, 16 * MB, 0)])
    td.polling.wait_reports(a.stats, b.stats)
    s = offload_stats(a)
    td.check(s["offload.udp_gso_fallback"] == 1 and s["offload.udp_gso"] == 0 and
             s["offload.udp_gso_sends"] == 0, f"gateway a after refused GSO: {s}")
    td.check(offload_stats(b)["offload.udp_gso"] == 1, "gateway b keeps GSO")
    td.check(offload_stats(b)["offload.udp_gso_sends"] > 0, "gateway b sends with GSO")
    for g in (a, b):
        check_no_offload_drops(g)


def test_old_kernel_probes_fall_back(a, b, workdir):
    # a kernel without UDP_SEGMENT, UDP_GRO and TUN offloads (the shim refuses the probes):
    # with every key at auto, both gateways run the plain path and carry everything
    for g in (a, b):
        configure(g, "", preload=SHIM, shim_mode="old-kernel")
    for g in (a, b):
        wait_mode(g, "", modes={"tun_tso": 0, "tun_uso": 0, "udp_gso": 0, "udp_gro": 0})
    transfers([(td.ENCODED_AT_A[f], 8 * MB, 8 * MB, 0) for f in FAMILIES])
    td.polling.wait_reports(a.stats, b.stats)
    for g in (a, b):
        s = offload_stats(g)
        td.check(s["offload.tun_super_rx"] == 0 and s["offload.udp_gso_sends"] == 0 and
                 s["offload.udp_gro_rx"] == 0 and s["offload.tun_gro_tx"] == 0,
                 f"gateway {g.side} on an old kernel: {s}")
        check_no_offload_drops(g)


def main():
    if os.geteuid() != 0:
        print("SKIP: the offload test needs root for network namespaces and TUN devices")
        return 77
    if not td.netns.usable(td.NS["ha"] + "probe"):
        print("SKIP: cannot create network namespaces here")
        return 77
    workdir = tempfile.mkdtemp(prefix="ipref-offload-")
    os.chmod(workdir, 0o755)
    passed = failed = 0
    try:
        td.build_network()
        a, b = td.Gateway("a", workdir), td.Gateway("b", workdir)
        for g in (a, b):
            g.start_gwctld()
            g.start_dataplane()
        td.spawn("hb", ["python3", "-c", SERVER], subprocess.DEVNULL)
        td.wait_until(lambda: td.polling.listening(PORT, ns=td.NS["hb"]), 10, "the TCP server")
        tests = [make_mode_test(m) for m in MODES] + [test_path_mtus, test_gso_refused_falls_back,
                                                 test_old_kernel_probes_fall_back]
        for test in tests:
            started = time.time()
            try:
                test(a, b, workdir)
                passed += 1
                print(f"ok   {test.__name__} ({time.time() - started:.1f} s)", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {test.__name__}", flush=True)
                traceback.print_exc()
                for g in (a, b):
                    print(f"--- gateway {g.side} ---\n" + g.tail(800))
                    print("\n".join(f"{k} {v}" for k, v in offload_stats(g).items() if v))
    finally:
        td.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
