#!/usr/bin/env python3
"""Two forwarding workers in each dataplane (`workers = 2`, issue 22): every flow stays on one
worker on both gateways (each worker's counters, one flow at a time), nothing is reordered within
a flow (many UDP flows at once carrying sequence numbers, checked at the receiver, both ways),
and ping, TCP and UDP cross the two sites. The network and harness are in twosites.py.
usage: test_workers.py GWCTLD GWCTL DATAPLANE"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twosites  # noqa: E402
from twosites import (ENCODED_AT_A, ENCODED_AT_B, HTTP_CLIENT, UDP_CLIENT, check,  # noqa: E402
                      main, ping, sh, spawn, wait_until)

twosites.WORKERS = 2
PORT = 9100

# Records every datagram's (source port, sequence number) as a line, flushed at once.
RECEIVER = """
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(("::", %d))
out = open(sys.argv[1], "a", buffering=1)
while True:
    data, peer = s.recvfrom(2048)
    out.write("%%d %%d\\n" %% (peer[1], struct.unpack("!I", data[:4])[0]))
""" % PORT

# Sends COUNT datagrams on each of FLOWS source ports, the flows interleaved, paced a little so
# that loss does not hide order.
SENDER = """
import socket, struct, sys, time
host, first, flows, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
socks = []
for k in range(flows):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("", first + k))
    socks.append(s)
for seq in range(count):
    for s in socks:
        s.sendto(struct.pack("!I", seq) + b"x" * 200, (host, %d))
    if seq %% 4 == 3:
        time.sleep(0.005)
""" % PORT


def workers_of(g, name):
    s = g.stats()
    return [int(s.get(f"dataplane.worker{i}.{name}", 0)) for i in range(2)]


def receiver(host, workdir, tag):
    """A receiver on host writing to a file of its own; (its process, the file)."""
    path = os.path.join(workdir, f"received-{tag}")
    open(path, "w").close()
    p = spawn(host, ["python3", "-c", RECEIVER, path], subprocess.DEVNULL)
    wait_until(lambda: twosites.polling.listening(PORT, udp=True, ns=twosites.NS[host]), 10,
               f"the receiver on {host}")
    return p, path


def settled(path, expected):
    """What the receiver has once it got expected datagrams, or once it stops getting more."""
    last = [-1]

    def done():
        n = sum(len(s) for s in received(path).values())
        if n >= expected or (n > 0 and n == last[0]):
            return received(path)
        last[0] = n
        return None
    return wait_until(done, 20, f"datagrams at {path}", interval=0.5)


def received(path):
    flows = {}
    with open(path) as f:
        for line in f:
            port, seq = map(int, line.split())
            flows.setdefault(port, []).append(seq)
    return flows


def test_two_workers_each(a, b, workdir):
    for g in (a, b):
        check(g.wait_stat("dataplane.workers", 2) == 2, f"gateway {g.side}: {g.stats()}")


def test_sites_reach_each_other(a, b, workdir):
    for (src, dst, net), ea in ENCODED_AT_A.items():
        ping("ha", ea)
        out = sh("python3", "-c", UDP_CLIENT, ea, ns="ha").stdout
        check("hello" in out, f"UDP echo via {ea}: {out!r}")
    for ea in ENCODED_AT_B.values():
        ping("hb", ea)
        out = sh("python3", "-c", HTTP_CLIENT, ea, ns="hb").stdout
        check("served from" in out, f"HTTP via {ea} from hb: {out}")
    out = sh("python3", "-c", HTTP_CLIENT, ENCODED_AT_A[(4, 4, 4)], ns="ha").stdout
    check("served from" in out, f"HTTP from ha: {out}")


def test_each_flow_on_one_worker(a, b, workdir):
    """One flow at a time, so that each worker's counters tell where its packets went: on A all
    of a flow's packets are read from one TUN queue and sent by that worker, on B all arrive on
    one worker's socket. Flows until A has used both workers (the kernel hashes flows over the
    queues; 12 flows all on one queue would be a 1 in 2048 chance)."""
    p, path = receiver("hb", workdir, "one")
    try:
        used = each_flow(a, b, path)
    finally:
        twosites.stop(p)
    check(used == {0, 1}, f"A's flows all went to worker {used}")


def each_flow(a, b, path):
    used = set()
    count = 40
    for k in range(12):
        # the counters of earlier traffic all reported first
        twosites.polling.wait_reports(a.stats, b.stats)
        before_a, before_b = workers_of(a, "udp.tx"), workers_of(b, "udp.rx")
        before_tun = workers_of(a, "tun.rx")
        sh("python3", "-c", SENDER, ENCODED_AT_A[(4, 4, 4)], str(42000 + k), "1", str(count),
           ns="ha")
        wait_until(lambda: len(received(path).get(42000 + k, [])) >= count * 0.9, 10,
                   f"flow {k} at the receiver")
        wait_until(lambda: sum(workers_of(b, "udp.rx")) - sum(before_b) >=
                   len(received(path)[42000 + k]) and
                   sum(workers_of(a, "udp.tx")) - sum(before_a) >= count, 10,
                   f"flow {k} in both gateways' counters")
        sent = [n - o for n, o in zip(workers_of(a, "udp.tx"), before_a)]
        read = [n - o for n, o in zip(workers_of(a, "tun.rx"), before_tun)]
        got = [n - o for n, o in zip(workers_of(b, "udp.rx"), before_b)]
        check(min(sent) == 0 and max(sent) == count, f"flow {k}: A's workers sent {sent}")
        # the kernel's own link traffic (an MLD report) may come on any queue: a packet or two
        check(read[sent.index(0)] <= 2 and read[sent.index(count)] >= count,
              f"flow {k}: A's workers read {read}, sent {sent}")
        check(min(got) == 0, f"flow {k}: B's workers received {got}")
        used.add(sent.index(count))
        if len(used) == 2 and k >= 3:
            break
    return used


def reordered(flows, count):
    bad = {}
    for port, seqs in flows.items():
        if any(x >= y for x, y in zip(seqs, seqs[1:])):
            bad[port] = seqs
    check(not bad, f"reordered or repeated within a flow: {list(bad.items())[:2]}")
    check(len(flows) == 32, f"flows received: {sorted(flows)}")
    # loss is not the point (a slow build on a busy machine loses some): enough to see order
    short = {p: len(s) for p, s in flows.items() if len(s) < count // 5}
    check(not short, f"flows that lost more than four fifths: {short}")


def test_no_reordering_within_flows(a, b, workdir):
    """32 flows at once each way, over IPv4 and IPv6: each arrives in order, and on the
    sending gateway both workers carried some."""
    count = 150
    # Ports of their own each time: the TUN device sends a flow to the queue that last wrote
    # its reverse direction (docs/dataplane.md, Workers), which would put B's flows where B
    # wrote A's, all on the one worker that receives A's datagrams.
    for name, src, dst, ea, first in (("ab4", "ha", "hb", ENCODED_AT_A[(4, 4, 4)], 43000),
                                      ("ab6", "ha", "hb", ENCODED_AT_A[(6, 6, 6)], 44000),
                                      ("ba4", "hb", "ha", ENCODED_AT_B[4], 45000)):
        g = a if src == "ha" else b
        p, path = receiver(dst, workdir, name)
        before = workers_of(g, "udp.tx")
        try:
            sh("python3", "-c", SENDER, ea, str(first), "32", str(count), ns=src)
            reordered(settled(path, 32 * count), count)
        finally:
            twosites.stop(p)
        wait_until(lambda: all(n > o for n, o in zip(workers_of(g, "udp.tx"), before)), 10,
                   lambda: f"{name}: both workers of {g.side} sending: "
                   f"{workers_of(g, 'udp.tx')} from {before}")


if __name__ == "__main__":
    sys.exit(main((test_two_workers_each, test_sites_reach_each_other,
                   test_each_flow_on_one_worker, test_no_reordering_within_flows), "workers"))
