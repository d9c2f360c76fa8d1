#!/usr/bin/env python3
"""Forwarding through two gateways: ping, TCP (HTTP) and UDP across IPv4 and IPv6 hosts over an
IPv4 and an IPv6 Internet, ICMP errors across the tunnel, malformed tunnel packets, restarts of
both daemons. The network and harness are in twosites.py.
usage: test_dataplane.py GWCTLD GWCTL DATAPLANE"""
import contextlib
import os
import re
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twosites import (DATAPLANE, ENCODED_AT_A, ENCODED_AT_B, GW, GWCTL, GWCTLD,  # noqa: E402
                      HOST, HTTP_CLIENT, NS, UDP_CLIENT, check, gateway, main, netns, ping, sh,
                      spawn, stop, wait_until)


def test_fresh_gateway_drops_nothing(a, b, workdir):
    # Before any traffic, the only packets on the TUN devices are their kernels' own (MLD
    # reports and the like, a few seconds after the link comes up): counted apart, never drops.
    for g in (a, b):  # the first report and its retransmission (MLD's robustness variable)
        g.wait_stat("dataplane.tun.kernel_traffic", 2, seconds=15)
    for g in (a, b):
        s = g.stats()
        drops = {k: v for k, v in s.items() if k.startswith("dataplane.drop.") and v != 0}
        check(not drops, f"gateway {g.side} counts drops with no traffic: {drops}")
        check(int(s.get("dataplane.tun.kernel_traffic", 0)) > 0, f"gateway {g.side}: {s}")


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
    before = int(a.stats().get("dataplane.drop.no_destination_mapping", 0))
    a.gwctl("unmap", "10.240.0.99")
    # the removal reaches the dataplane as an event: the address stops answering
    wait_until(lambda: sh("ping", "-c", "1", "-W", "1", "10.240.0.99", ns="ha",
                          check=False).returncode != 0, 10, "unmapped address still answers")
    got = a.wait_stat("dataplane.drop.no_destination_mapping", before + 1)
    check(got >= before + 1, f"no-destination-mapping {got} (was {before})")


def test_malformed_headers_counted(a, b, workdir):
    cases = {
        "truncated": craft()[:19],
        "bad_version": craft(b0=0x21),
        "bad_ref_length": craft(b0=0x1d),
        "reserved_bits": craft(b1=0x41),
        "bad_context_family": craft(b1=0x50),
        "bad_fragment_info": craft(b0=0x13, frag=b"\1\0\0\0\0\0\0\1"),
        "bad_fragment_offset": craft(b0=0x13, frag=b"\0\0\0\2\0\0\0\1"),
        "null_reference": craft(sref=0),
        "source_context_mismatch": craft(src="198.18.9.9"),
        "destination_context_mismatch": craft(src="198.18.2.254", dst="198.18.9.9"),
        "not_our_reference": craft(src="198.18.2.254", dref=77777),
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
    # every column but LEASE, the time left, which counts down
    rows = (l.split() for l in gw.gwctl("list").splitlines() if "dynamic" in l)
    return sorted(r[:4] + r[5:] for r in rows)


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
    check("dataplane.drop.ttl_exceeded" in s, "drop counters listed")
    # use of the mappings goes back to gwctld in batches (REPORT_USE), extending leases
    check(int(s.get("dataplane.mappings.use_reported", 0)) > 0, "use reported")
    check(int(s.get("gwctld.requests.report_use", 0)) > 0, "gwctld received use reports")
    # the first packets of new flows waited for gwctld's allocations, and then went on (B's
    # dataplane ran from the start; A's was restarted with the mappings already made)
    sb = b.stats()
    check(int(sb.get("dataplane.wait.sent", 0)) > 0, f"wait.sent: {sb.get('dataplane.wait.sent')}")


def test_ready_once_it_holds_the_mappings(a, b, workdir):
    """Type=notify: READY=1 on NOTIFY_SOCKET only once gwctld's snapshot is in, so a unit
    ordered after ipref-dataplane does not start before the gateway forwards."""
    path = os.path.join(workdir, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(path)
    os.chmod(path, 0o777)  # the dataplane writes to it as nobody
    stop(a.dataplane)
    stop(a.gwctld)
    a.start_dataplane(env={"NOTIFY_SOCKET": path}, wait=False)
    deadline = time.time() + 20
    while "started: port" not in open(a.log.name).read().split("stopping on signal")[-1]:
        check(time.time() < deadline and a.dataplane.poll() is None, "dataplane start")
        time.sleep(0.05)
    notify.setblocking(False)
    try:
        early = notify.recv(4096)
    except BlockingIOError:
        early = b""
    check(b"READY=1" not in early, "ready without gwctld's mappings")
    a.start_gwctld()
    notify.settimeout(20)
    check(b"READY=1" in notify.recv(4096).split(b"\n"), "READY=1 after the snapshot")
    check(int(a.wait_stat("dataplane.gwctl.connects", 1)) >= 1, "dataplane connected")
    ping("ha", ENCODED_AT_A[(4, 4, 4)])


LAN_MTU = 1300  # a narrow LAN link in front of one side's host


def learnt_mtu(ns, target):
    """The path MTU the host's kernel keeps for target, or None."""
    out = sh("ip", "-6" if ":" in target else "-4", "route", "get", target, ns=ns).stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else None


def learn_and_pass(ns, target, want):
    """Large DF pings until the host learns a path MTU; it must be want, and pings that size pass."""
    hdr = 28 if ":" not in target else 48
    deadline = time.time() + 20
    while learnt_mtu(ns, target) is None and time.time() < deadline:
        sh("ping", "-c", "1", "-W", "1", "-M", "do", "-s", str(1396 - hdr), target, ns=ns,
           check=False)
    got = learnt_mtu(ns, target)
    check(got == want, f"{ns} -> {target}: learnt MTU {got}, the path allows {want}")
    ok = sh("ping", "-c", "2", "-i", "0.3", "-W", "2", "-M", "do", "-s", str(got - hdr), target,
            ns=ns, check=False)
    check(ok.returncode == 0, f"{ns} -> {target} at MTU {got}: {ok.stdout}{ok.stderr}")


@contextlib.contextmanager
def narrow_lan(gw):
    """The gateway's side of its LAN link takes at most LAN_MTU bytes towards the host."""
    sh("ip", "-n", NS[gw], "link", "set", "lan", "mtu", str(LAN_MTU))
    try:
        yield
    finally:
        sh("ip", "-n", NS[gw], "link", "set", "lan", "mtu", "1500")


def test_path_mtu_across_the_tunnel(a, b, workdir):
    # The far gateway's kernel answers with "fragmentation needed" / "packet too big" for its
    # narrow LAN link; the IPREF-ICMP MTU field (spec/wire.md) must bring the sending host
    # exactly the largest packet that passes, in every family pair, over both Internets.
    hdr = {4: 20, 6: 40}
    with narrow_lan("gwb"):
        for (src, dst, net), ea in ENCODED_AT_A.items():
            learn_and_pass("ha", ea, LAN_MTU - hdr[dst] + hdr[src])
    with narrow_lan("gwa"):
        for fam, ea in ENCODED_AT_B.items():
            learn_and_pass("hb", ea, LAN_MTU)


def test_big_ping_across_families(a, b, workdir):
    # 4,000-byte pings arrive in fragments. Between an IPv6 and an IPv4 host the ICMPv6
    # checksum (which covers the whole message's length) must be converted, so each gateway
    # holds a first fragment until the last one of its datagram has gone by, both as packets
    # enter the tunnel and as they leave it; within a family it works alike.
    before = {g.side: int(g.stats().get("dataplane.icmp_frag.released", 0)) for g in (a, b)}
    for key in ((6, 4, 4), (6, 4, 6), (4, 6, 4), (4, 6, 6), (6, 6, 4), (6, 6, 6), (4, 4, 4)):
        ea = ENCODED_AT_A[key]
        # the first ones teach the hosts the TUN device's MTU; then every ping must come back
        sh("ping", "-c", "2", "-i", "0.3", "-W", "2", "-s", "4000", ea, ns="ha", check=False)
        out = sh("ping", "-c", "3", "-i", "0.3", "-W", "3", "-s", "4000", ea, ns="ha",
                 check=False)
        check(out.returncode == 0 and " 0% packet loss" in out.stdout,
              f"4,000-byte ping via {ea} {key}: {out.stdout}{out.stderr}")
    for g in (a, b):
        got = int(g.stats().get("dataplane.icmp_frag.released", 0))
        g.wait_stat("dataplane.icmp_frag.released", before[g.side] + 1)
        check(g.wait_stat("dataplane.icmp_frag.released", before[g.side] + 1) > before[g.side],
              f"gateway {g.side}: icmp_frag.released {got}")
        check(g.stats().get("dataplane.drop.icmp_fragment") == 0, g.stats())


def tun_mtu(ns):
    out = sh("ip", "-n", NS[ns], "link", "show", "ipref0", check=False).stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else None


def test_tun_mtu_from_gateway_addresses(a, b, workdir):
    # Both gateways have an address of each family: IPv6's outer header sizes the TUN MTU (the
    # smaller), and the counters say which MTU is in force and why.
    # (polled: the first counter report may come before gwctld's layout)
    want = {"mtu": 1396, "mtu_outer_ipv6": 1, "mtu_by_gateway_addresses": 1,
            "mtu_by_internet_key": 0}
    for g in (a, b):
        wait_until(lambda: {k: g.stats().get("dataplane.tun." + k) for k in want} == want, 10,
                   f"gateway {g.side}: the TUN MTU counters")
        check(tun_mtu(g.ns) == 1396, f"gateway {g.side}: TUN MTU {tun_mtu(g.ns)}")
        # and gwctl status says it in words
        status = g.gwctl("status")
        check("tun-mtu: 1396 (outer IPv6 header: the gateway addresses include IPv6)" in status,
              status)
    # An IPv4-only site that never set `internet` gets IPv4's, once gwctld has told the
    # dataplane its gateway addresses
    NS["v4"] = NS["gwa"] + "v4"
    netns.add(NS["v4"])
    v4 = gateway.Gateway(NS["v4"], os.path.join(workdir, "v4only"), GWCTLD, GWCTL, DATAPLANE)
    v4.write_gwctl_conf("gateway = 198.18.9.1\nencoded-ipv4 = 10.240.0.0/16\n"
                        "encoded-ipv6 = fdee::/64\n")
    v4.write_dataplane_conf()
    try:
        v4.start_gwctld()
        v4.start_dataplane(wait=False)  # what this test waits for is the TUN MTU
        wait_until(lambda: tun_mtu("v4") == 1440 or v4.dataplane.poll() is not None, 15,
                   lambda: f"IPv4-only: TUN MTU {tun_mtu('v4')}: {v4.tail()}")
        check(tun_mtu("v4") == 1440, f"IPv4-only: TUN MTU {tun_mtu('v4')}: {v4.tail()}")
    finally:
        v4.stop_all()
        netns.delete([NS["v4"]])


def routes(ns):
    return sh("ip", "-4", "route", "show", "dev", "ipref0", ns=ns).stdout


def set_encoded_ipv4(gw, old, new):
    with open(gw.gwconf) as f:
        text = f.read()
    check(f"encoded-ipv4 = {old}\n" in text, f"gwctl.conf has {old}")
    with open(gw.gwconf, "w") as f:
        f.write(text.replace(f"encoded-ipv4 = {old}\n", f"encoded-ipv4 = {new}\n"))


def wait_route(gw, present, absent):
    deadline = time.time() + 15
    while not (present in routes(gw.ns) and absent not in routes(gw.ns)):
        check(time.time() < deadline and gw.dataplane.poll() is None,
              f"route for {present} (not {absent}): {routes(gw.ns)}")
        time.sleep(0.1)


def test_layout_follows_reload(a, b, workdir):
    # gwctld is the one authority on the encoded ranges: a reload that widens A's range (by
    # `gwctl reload`) and narrows it again (by SIGHUP) moves the dataplane's route each time,
    # without a restart, and the tunnel keeps working
    before = int(a.stats().get("dataplane.layout.changes", 0))
    pid = a.dataplane.pid
    set_encoded_ipv4(a, "10.240.0.0/16", "10.240.0.0/15")
    a.gwctl("reload")
    wait_route(a, "10.240.0.0/15 ", "10.240.0.0/16 ")
    got = a.wait_stat("dataplane.layout.changes", before + 1)
    check(got == before + 1, f"layout.changes {got} (was {before})")
    check(int(a.stats().get("dataplane.layout.failed", 0)) == 0, "layout.failed")
    check(int(a.stats().get("gwctld.layout.changes", 0)) >= 1, "gwctld.layout.changes")
    ping("ha", ENCODED_AT_A[(4, 4, 4)])

    set_encoded_ipv4(a, "10.240.0.0/15", "10.240.0.0/16")
    a.gwctld.send_signal(signal.SIGHUP)
    wait_route(a, "10.240.0.0/16 ", "10.240.0.0/15 ")
    got = a.wait_stat("dataplane.layout.changes", before + 2)
    check(got == before + 2, f"layout.changes {got} (was {before})")
    check(a.dataplane.pid == pid and a.dataplane.poll() is None, "the dataplane restarted")
    ping("ha", ENCODED_AT_A[(4, 4, 4)])


def test_runs_unprivileged(a, b, workdir):
    for g in (a, b):
        with open(f"/proc/{g.dataplane.pid}/status") as f:
            uids = next(l for l in f if l.startswith("Uid:")).split()[1:]
        check(set(uids) == {str(__import__("pwd").getpwnam("nobody").pw_uid)}, f"uids {uids}")
        # CAP_NET_ADMIN alone (bit 12) is kept, for routes that follow gwctld's layout
        with open(f"/proc/{g.dataplane.pid}/status") as f:
            caps = {l.split(":")[0]: int(l.split()[1], 16) for l in f if l.startswith("Cap")}
        check(caps["CapEff"] == caps["CapPrm"] == 1 << 12, f"capabilities {caps}")




if __name__ == "__main__":
    sys.exit(main((test_fresh_gateway_drops_nothing, test_ping_all_combinations, test_tcp_http, test_udp_both_ways,
                   test_icmp_errors_cross_the_tunnel, test_ttl_like_a_router, test_pushed_changes,
                   test_malformed_headers_counted, test_restarts_keep_mappings,
                   test_counters_visible, test_ready_once_it_holds_the_mappings,
                   test_path_mtu_across_the_tunnel,
                   test_tun_mtu_from_gateway_addresses, test_big_ping_across_families,
                   test_layout_follows_reload, test_runs_unprivileged), "dataplane"))
