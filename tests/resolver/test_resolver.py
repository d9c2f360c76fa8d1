#!/usr/bin/env python3
"""The ipref module end to end: the project's Unbound with the module, a real gwctld and a real
NSD serving test zones on loopback (one of them signed here with ldns-signzone).
usage: test_resolver.py UNBOUND_BUILD MODULE GWCTLD GWCTL ZONES_DIR"""
import ipaddress
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gwctl"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from ctl import Suite, check  # noqa: E402
from servers import NSD, Nsd, Unbound, dig  # noqa: E402
from udp_delay import UdpDelay  # noqa: E402

UNBOUND_BUILD, MODULE, GWCTLD, GWCTL, ZONES = map(os.path.abspath, sys.argv[1:6])
ENCODED_V4 = ipaddress.ip_network("10.240.0.0/12")
ENCODED_V6 = ipaddress.ip_network("fdee:eeee::/64")
OWN_GATEWAY = "192.0.2.254"


class Answer:
    """The parts of a dig reply the tests look at."""

    def __init__(self, text):
        self.text = text
        m = re.search(r"status: (\w+)", text)
        self.status = m.group(1) if m else "NO REPLY"
        m = re.search(r";; flags: ([a-z ]+);", text)
        self.flags = m.group(1).split() if m else []
        section = text.split(";; ANSWER SECTION:\n", 1)
        self.records = []
        if len(section) == 2:
            for line in section[1].split("\n\n", 1)[0].splitlines():
                name, ttl, _, rtype, data = line.split(None, 4)
                self.records.append((name, int(ttl), rtype, data))
        m = re.search(r"EDE: (\d+)", text)
        self.ede = int(m.group(1)) if m else None
        self.sections = {}
        for title, body in re.findall(r";; (\w+) SECTION:\n(.*?)(?:\n\n|$)", text, re.S):
            self.sections[title] = sorted(tuple(line.split(None, 4)[i] for i in (0, 3, 4))
                                          for line in body.splitlines()
                                          if line and not line.startswith(";"))

    def shape(self):
        """What a comparison looks at: everything the client is told but TTLs and the ID."""
        return (self.status, sorted(self.flags), self.ede, self.sections.get("ANSWER", []),
                self.sections.get("AUTHORITY", []))

    def data(self, rtype):
        return [r[3] for r in self.records if r[2] == rtype]

    def __repr__(self):
        return self.text


def sign_secure_zone(workdir):
    """Signs secure.test, then changes one signed TXT so that it no longer validates."""
    zone = os.path.join(workdir, "secure.test.zone")
    shutil.copy(os.path.join(ZONES, "secure.test.zone"), zone)
    keys = []
    for flags in (["-k"], []):
        run = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", *flags, "secure.test"],
                             cwd=workdir, capture_output=True, text=True, check=True)
        keys.append(run.stdout.strip())
    subprocess.run(["ldns-signzone", "-n", zone, *keys], cwd=workdir, check=True,
                   capture_output=True)
    signed = zone + ".signed"
    text = open(signed).read()
    check('"AA 198.51.100.9 + 43"' in text, "signed zone holds the TXT to tamper with")
    check("\tA\t198.51.100.60" in text, "signed zone holds the A to tamper with")
    with open(signed, "w") as f:
        f.write(text.replace('"AA 198.51.100.9 + 43"', '"AA 198.51.100.9 + 44"')
                .replace("\tA\t198.51.100.60", "\tA\t198.51.100.61"))
    return signed, os.path.join(workdir, keys[0] + ".key")


class Site:
    """gwctld, NSD and Unbound with the module, all on loopback, stopped by PID."""

    def __init__(self, make, workdir, gwctl_extra="", settings="", unbound_extra="",
                 server_delay=None, minimisation="no", holdoff_ms=300, relay=False,
                 stock=False, zones=None, timeout_ms=1000):
        self.workdir = workdir
        self.zones = zones or {}  # more zones for NSD to serve: {origin: file}
        # the zones' contexts are other gateways: this one's own are refused (OWN_GATEWAY)
        self.gw = make("gateway = 2001:db8::fe\n" + gwctl_extra, gateway=OWN_GATEWAY).start()
        signed, anchor = sign_secure_zone(workdir)
        self.nsd = Nsd(workdir, {"site.test": os.path.join(ZONES, "site.test.zone"),
                                 "secure.test": signed, **self.zones}, ("ns1.site.test", "A"))
        # with server_delay, NSD answers through a relay that holds each query that long; with
        # relay, through one that passes queries on at once unless its rules say otherwise
        self.relay = (UdpDelay(self.nsd.port, server_delay or 0)
                      if server_delay or relay else None)
        server_port = self.relay.port if self.relay else self.nsd.port
        self.settings = os.path.join(workdir, "resolver.conf")
        with open(self.settings, "w") as f:
            f.write(f"socket = {self.gw.sock}\ntimeout-ms = {timeout_ms}\nholdoff-ms = {holdoff_ms}\n"
                    f"{settings}")
        self.unbound = self.make_unbound(workdir, "dynlib validator iterator", minimisation,
                                         anchor, unbound_extra, server_port)
        # stock: the same Unbound and configuration without the module, to compare answers with
        self.stock = (self.make_unbound(workdir, "validator iterator", minimisation, anchor,
                                        unbound_extra, server_port, "stock")
                      if stock else None)
        for unbound in (self.unbound, self.stock):
            if unbound:
                checked = unbound.check()
                check(checked.returncode == 0, checked.stdout + checked.stderr)
                unbound.start()

    def make_unbound(self, workdir, modules, minimisation, anchor, extra, server_port,
                     name="unbound"):
        dynlib = f'dynlib:\n    dynlib-file: "{os.path.abspath(MODULE)}"\n'
        return Unbound(UNBOUND_BUILD, workdir, f"""    num-threads: 2
    module-config: "{modules}"
    ede: yes
    val-log-level: 2
    qname-minimisation: {minimisation}
    trust-anchor-file: "{anchor}"
    local-zone: "test." nodefault
    local-zone: "refused.test." refuse
    local-zone: "240.10.in-addr.arpa." transparent
    local-zone: "241.10.in-addr.arpa." transparent
    local-zone: "242.10.in-addr.arpa." transparent
    local-zone: "243.10.in-addr.arpa." transparent
    local-zone: "244.10.in-addr.arpa." transparent
    local-zone: "245.10.in-addr.arpa." transparent
    local-zone: "246.10.in-addr.arpa." transparent
    local-zone: "247.10.in-addr.arpa." transparent
    local-zone: "248.10.in-addr.arpa." transparent
    local-zone: "249.10.in-addr.arpa." transparent
    local-zone: "250.10.in-addr.arpa." transparent
    local-zone: "251.10.in-addr.arpa." transparent
    local-zone: "252.10.in-addr.arpa." transparent
    local-zone: "253.10.in-addr.arpa." transparent
    local-zone: "254.10.in-addr.arpa." transparent
    local-zone: "255.10.in-addr.arpa." transparent
    local-zone: "e.e.e.e.e.e.d.f.ip6.arpa." transparent
{extra}""", (dynlib if "dynlib" in modules else "") + f"""stub-zone:
    name: "site.test"
    stub-addr: 127.0.0.1@{server_port}
stub-zone:
    name: "secure.test"
    stub-addr: 127.0.0.1@{server_port}
""" + "".join(f'stub-zone:\n    name: "{origin}"\n    stub-addr: 127.0.0.1@{server_port}\n'
              for origin in self.zones), env={"IPREF_RESOLVER_CONF": self.settings}, name=name)

    def ask(self, name, rtype="A", *options):
        return Answer(dig(self.unbound.port, name, rtype, *options))

    def mappings(self):
        db = sqlite3.connect(f"file:{self.gw.db}?mode=ro", uri=True)
        try:
            return db.execute("SELECT * FROM mappings").fetchall()
        finally:
            db.close()

    def ask_stock(self, name, rtype="A", *options):
        return Answer(dig(self.stock.port, name, rtype, *options))

    def stop(self):
        self.unbound.stop()
        if self.stock:
            self.stock.stop()
        if self.relay:
            self.relay.stop()
        self.nsd.stop()

    def log(self):
        return self.unbound.log() + self.nsd.log()


def encoded(answer, rtype="A"):
    net = ENCODED_V4 if rtype == "A" else ENCODED_V6
    values = answer.data(rtype)
    check(values and all(ipaddress.ip_address(v) in net for v in values), answer)
    return values


def with_site(**kwargs):
    """Runs a test with a fresh Site, printing the servers' logs when it fails."""
    def wrap(test):
        def run(make, workdir):
            site = Site(make, workdir, **kwargs)
            try:
                return test(site)
            except Exception:
                print("--- unbound and nsd logs:\n" + site.log()[-6000:])
                raise
            finally:
                site.stop()
        run.__name__ = test.__name__
        return run
    return wrap


def skip_unless_servers():
    """Exits 77 (meson's skip) with a message when Unbound's build or a server tool is missing."""
    if not os.path.exists(os.path.join(UNBOUND_BUILD, "unbound")):
        print("SKIP: no Unbound build (tools/setup builds it)")
        sys.exit(77)
    for tool in (NSD, "ldns-signzone", "ldns-keygen", "dig"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (tools/setup installs it)")
            sys.exit(77)


def module_counters(site, wanted, again=()):
    """gwctl stats' counters once wanted(counters) holds, within 30 s. A worker reports the
    module's counters every 2 s when a question reaches the module, so each round asks one the
    cache cannot answer. The names in again are asked each round too: on a loaded machine a TXT
    lookup can outlast lookup-wait-ms, and its name is counted only when asked again after the
    brief fallback."""
    deadline = time.time() + 30
    for n in itertools.count():
        site.ask(f"poll{n}.site.test", "AAAA")
        for name in again:
            site.ask(name)
        counters = site.gw.stats()
        if wanted(counters) or time.time() > deadline:
            return counters
        time.sleep(0.3)


@with_site()
def test_address_context(site):
    a = site.ask("v4.site.test")
    check(a.status == "NOERROR", a)
    first = encoded(a)
    check(len(first) == 1, a)
    aaaa = site.ask("v4.site.test", "AAAA")
    check(len(encoded(aaaa, "AAAA")) == 1, aaaa)
    # asked again: the same encoded address, now from Unbound's cache
    check(encoded(site.ask("v4.site.test")) == first, "stable")
    rows = [r for r in site.mappings() if "2466" in " ".join(map(str, r))]
    check(len(rows) == 2, rows)  # one encoded address per family
    check(any("v4.site.test" in map(str, r) for r in rows), rows)


@with_site()
def test_ipref_wins_over_native(site):
    a = site.ask("both.site.test")
    check("192.0.2.50" not in a.data("A"), a)
    encoded(a)


@with_site()
def test_name_context_and_ttl(site):
    a = site.ask("named.site.test")
    encoded(a)
    check(all(r[1] <= 300 for r in a.records), a)
    rows = site.mappings()
    check([r[2] for r in rows] == ["198.51.100.20 + 7"], rows)  # the IPv4 context preferred
    short = site.ask("short.site.test")
    encoded(short)
    check(all(0 < r[1] <= 60 for r in short.records), short)  # the TXT's TTL bounds the answer


@with_site()
def test_several_records(site):
    a = site.ask("multi.site.test")
    check(len(set(encoded(a))) == 3, a)  # four records, one of them a repeat


@with_site()
def test_cname_chain(site):
    a = site.ask("alias.site.test")
    check(a.status == "NOERROR", a)
    check(a.data("CNAME") == ["alias2.site.test.", "named.site.test."], a)
    check(any(r[0] == "named.site.test." and r[2] == "A" for r in a.records), a)
    encoded(a)


@with_site()
def test_native_names_untouched(site):
    check(site.ask("plain.site.test").data("A") == ["192.0.2.10"], "A")
    check(site.ask("plain.site.test", "AAAA").data("AAAA") == ["2001:db8::10"], "AAAA")
    check(site.ask("plain.site.test", "TXT").data("TXT") == ['"not an AA record"'], "TXT")
    check(site.ask("gw.site.test").data("A") == ["198.51.100.20"], "gateway name")
    # only malformed AA records: ignored and counted, the native answer stands
    check(site.ask("broken.site.test").data("A") == ["192.0.2.11"], "malformed")
    # the module logs its counters when it stops, as it does on a reload (which is queued)
    check(site.unbound.control("reload").returncode == 0, "reload")
    deadline = time.time() + 5
    while "2 malformed AA" not in site.unbound.log() and time.time() < deadline:
        time.sleep(0.1)
    check("2 malformed AA" in site.unbound.log(), "malformed records counted")
    # and gwctld shows the module's counters
    site.ask("broken.site.test", "AAAA")
    counters = module_counters(site, lambda c: c.get("resolver.malformed_aa", 0) >= 2)
    check(counters.get("resolver.malformed_aa", 0) >= 2 and
          counters.get("resolver.native", 0) >= 1, counters)


@with_site()
def test_families_and_unresolvable_contexts(site):
    encoded(site.ask("v6ctx.site.test"))
    check(len(encoded(site.ask("mixed.site.test"))) == 2, "one per record")


@with_site()
def test_unusable_gateway_names(site):
    """AA records none of whose gateway names gives an address: the native answer where there
    is one, else SERVFAIL with an EDE saying why; never an empty answer without a reason. A name
    that is its own gateway is reached through its own native address."""
    for name in ("lost.site.test", "noaddr.site.test"):  # NXDOMAIN; no address records
        for rtype in ("A", "AAAA"):
            a = site.ask(name, rtype)
            check(a.status == "SERVFAIL" and a.ede == 0 and "have no address" in a.text, a)
    native = site.ask("ctxnx.site.test")
    check(native.status == "NOERROR" and native.data("A") == ["192.0.2.60"], native)
    none = site.ask("ctxnx.site.test", "AAAA")
    check(none.status == "SERVFAIL" and "have no address" in none.text, none)
    encoded(site.ask("self.site.test"))
    encoded(site.ask("self.site.test", "AAAA"), "AAAA")
    check(any(r[2] == "192.0.2.61 + 15" for r in site.mappings()), site.mappings())


@with_site(gwctl_extra="encoded-ipv6 = none\n")
def test_no_ipv6_range(site):
    aaaa = site.ask("v4.site.test", "AAAA")
    check(aaaa.status == "NOERROR" and not aaaa.records, aaaa)  # never an A for an AAAA
    encoded(site.ask("v4.site.test"))


@with_site(gwctl_extra="encoded-ipv6 = none\n", unbound_extra="    num-threads: 1\n")
def test_layout_after_gwctld_reload(site):
    # gwctld's reload adds an IPv6 range: it closes the module's connection (one thread: one
    # connection, already holding the old layout), which asks RANGES again on reconnecting, so
    # AAAA answers come without restarting Unbound
    aaaa = site.ask("v4.site.test", "AAAA")
    check(aaaa.status == "NOERROR" and not aaaa.records, aaaa)
    with open(site.gw.conf) as f:
        text = f.read()
    with open(site.gw.conf, "w") as f:
        f.write(text.replace("encoded-ipv6 = none\n", f"encoded-ipv6 = {ENCODED_V6}\n"))
    run = subprocess.run([GWCTL, "--socket", site.gw.sock, "reload"], capture_output=True,
                         text=True)
    check(run.returncode == 0, run.stderr)
    # names not asked before (Unbound caches the first answer); a question that met the
    # closing connection may fail once, so a few names in turn
    deadline = time.time() + 20
    for name in itertools.cycle(["both", "named", "short", "multi"]):
        aaaa = site.ask(f"{name}.site.test", "AAAA")
        if aaaa.records or time.time() > deadline:
            break
        time.sleep(0.2)
    encoded(aaaa, "AAAA")


@with_site()
def test_reverse(site):
    addr = encoded(site.ask("v4.site.test"))[0]
    name = ipaddress.ip_address(addr).reverse_pointer
    ptr = site.ask(name, "PTR")
    check(ptr.data("PTR") == ["v4.site.test."], ptr)
    v6 = encoded(site.ask("v4.site.test", "AAAA"), "AAAA")[0]
    ptr6 = site.ask(ipaddress.ip_address(v6).reverse_pointer, "PTR")
    check(ptr6.data("PTR") == ["v4.site.test."], ptr6)
    unused = site.ask("9.9.250.10.in-addr.arpa", "PTR")  # 10.250.9.9, not handed out
    check(unused.status == "NXDOMAIN", unused)


@with_site()
def test_dnssec(site):
    good = site.ask("good.secure.test", "A", "+dnssec")
    check("ad" in good.flags, good)
    encoded(good)
    check("ad" not in site.ask("v4.site.test", "A", "+dnssec").flags, "unsigned: no AD")
    bad = site.ask("tampered.secure.test", "A", "+dnssec")
    check(bad.status == "SERVFAIL" and bad.ede == 6, bad)
    iprefs = [r[2] for r in site.mappings()]
    check("198.51.100.9 + 42" in iprefs and not {"198.51.100.9 + 43", "198.51.100.9 + 44"} &
          set(iprefs), f"nothing mapped from bogus data: {iprefs}")


@with_site()
def test_dnssec_gateway_name_and_cd(site):
    """A gateway name that fails validation: SERVFAIL with EDE 6 (DNSSEC Bogus). With CD the
    client asks the resolver not to enforce validation (RFC 4035 3.2.2): stock then returns bogus
    data, and so does the module, the AA records being used unchecked (never with AD), whether
    the bogus data was in the cache or not."""
    for name in ("usesbad.secure.test", "tampered.secure.test"):
        cold = site.ask(name, "A", "+cd", "+dnssec")
        check(cold.status == "NOERROR" and "ad" not in cold.flags, cold)
        encoded(cold)
        bad = site.ask(name, "A", "+dnssec")
        check(bad.status == "SERVFAIL" and bad.ede == 6, bad)
        cached = site.ask(name, "A", "+cd")
        check(cached.status == "NOERROR", cached)
        encoded(cached)
        check(site.unbound.control("flush_zone", "secure.test").returncode == 0, "flush")
        check(site.unbound.control("flush_bogus").returncode == 0, "flush")
    txt = site.ask("tampered.secure.test", "TXT", "+cd")
    check(txt.data("TXT") == ['"AA 198.51.100.9 + 44"'], txt)


@with_site()
def test_gwctl_down_and_back(site):
    before = encoded(site.ask("v4.site.test"))
    site.gw.stop()
    start = time.time()
    down = site.ask("multi.site.test")
    check(down.status == "SERVFAIL" and down.ede == 14, down)
    check(time.time() - start < 1.5, "SERVFAIL quickly")
    site.gw.start()
    # the failure was not cached: the same question succeeds as soon as gwctld is back
    encoded(site.ask("multi.site.test"))
    # mappings were kept across the restart
    check(site.unbound.control("flush", "v4.site.test").returncode == 0, "flush")
    check(encoded(site.ask("v4.site.test")) == before, "same address after restart")


@with_site()
def test_gwctl_store_unavailable(site):
    """gwctld running but its store failing (here its file deleted under it: every write is
    refused with E_STORE, as on a full disk): SERVFAIL with EDE 14 saying the store is away,
    not cached, and counted."""
    encoded(site.ask("v4.site.test"))
    os.unlink(site.gw.db)
    failed = site.ask("multi.site.test")
    check(failed.status == "SERVFAIL" and failed.ede == 14
          and "the gateway's store is unavailable" in failed.text, failed)
    again = site.ask("multi.site.test")
    check(again.status == "SERVFAIL" and again.ede == 14, f"not cached: {again}")
    name = "resolver.gwlink.store_unavailable"
    counters = module_counters(site, lambda c: c.get(name, 0) >= 2)
    check(counters.get(name, 0) >= 2 and counters.get("resolver.failed", 0) >= 2, counters)


@with_site()
def test_gwctl_stuck(site):
    site.gw.proc.send_signal(signal.SIGSTOP)
    # the answer waits for dig's 2 s at most: the module gives up after timeout-ms (1000)
    try:
        start = time.time()
        stuck = site.ask("mixed.site.test")
        check(stuck.status == "SERVFAIL" and stuck.ede == 14, stuck)
        check(time.time() - start < 2.0, "bounded wait: timeout-ms is 1000")
    finally:
        site.gw.proc.send_signal(signal.SIGCONT)
    time.sleep(0.4)  # the hold-off after a timeout
    encoded(site.ask("mixed.site.test"))


@with_site(holdoff_ms=60000, unbound_extra="    num-threads: 1\n")
def test_gwctl_slow_recovers(site):
    """A gwctld that was only slow ends the hold-off with its late reply, not after holdoff-ms:
    first before the worker ever reached it (its RANGES is late), then on a connection in use."""
    for slow_name, held_name in (("mixed.site.test", "v4.site.test"),
                                 ("multi.site.test", "both.site.test")):
        site.gw.proc.send_signal(signal.SIGSTOP)
        try:
            slow = site.ask(slow_name)
            check(slow.status == "SERVFAIL" and slow.ede == 14, slow)
            held = site.ask(held_name)
            check(held.status == "SERVFAIL" and held.ede == 14, held)
        finally:
            site.gw.proc.send_signal(signal.SIGCONT)
        deadline = time.time() + 10
        while True:
            answer = site.ask(held_name)
            if answer.status == "NOERROR":
                break
            check(time.time() < deadline, f"still held off 10 s after gwctld woke: {answer}")
            time.sleep(0.1)
        encoded(answer)


def dns_query(qid, name):
    """A question for name's A records, with RD, as bytes."""
    import struct
    wire = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + b"\0" + \
        struct.pack("!HH", 1, 1)


def udp_receive_drops():
    """The kernel's count of UDP datagrams dropped for a full receive buffer (this namespace)."""
    lines = [line.split() for line in open("/proc/net/snmp") if line.startswith("Udp:")]
    return int(dict(zip(lines[0], lines[1]))["RcvbufErrors"])


def unbound_load_report(site, drops_before):
    """What a failed load test prints: whether questions were lost before Unbound read them
    (receive-buffer drops, counted for the whole namespace) or inside Unbound (its request
    list full or jostled)."""
    stats = site.unbound.control("stats_noreset").stdout.splitlines()
    wanted = ("total.num.queries=", "total.requestlist.", "num.answer.rcode.SERVFAIL=")
    return (f"UDP receive-buffer drops meanwhile: {udp_receive_drops() - drops_before}; unbound: "
            + ", ".join(line for line in stats if line.startswith(wanted)))


def ask_raw(port, names, clients=1, window=100, timeout_s=20):
    """Asks A questions for names from `clients` sockets, keeping `window` of them in flight,
    and collects the replies: {name: (rcode, answer count)}. Questions are sent once: callers
    that ask at once keep their windows' sum within what one of Unbound's sockets holds unread
    (the default 208 KiB receive buffer holds 256 questions; every client socket may hash to one
    listening socket, and a worker not scheduled meanwhile reads none of them). Past that the
    kernel drops questions, which tests the test machine, not the module."""
    import select
    import socket
    import struct
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(clients)]
    todo = list(enumerate(names, 1))
    pending = {}
    replies = {}
    deadline = time.time() + timeout_s
    try:
        while (todo or pending) and time.time() < deadline:
            while todo and len(pending) < window:
                qid, name = todo.pop(0)
                socks[qid % clients].sendto(dns_query(qid, name), ("127.0.0.1", port))
                pending[qid] = name
            ready, _, _ = select.select(socks, [], [], max(0.0, deadline - time.time()))
            for s in ready:
                data = s.recv(4096)
                qid, flags, _, ancount = struct.unpack("!HHHH", data[:8])
                if qid in pending:
                    replies[pending.pop(qid)] = (flags & 0xF, ancount)
        return replies
    finally:
        for s in socks:
            s.close()


@with_site(holdoff_ms=60000, timeout_ms=1500, unbound_extra="    num-threads: 1\n")
def test_gwctl_stuck_thread_free(site):
    """With one worker thread and gwctld stopped, a new IPREF name waits for gwctld while
    native names asked after it are answered: the worker thread is not blocked. An order of
    events, not a timing: a blocked thread could answer them only after the IPREF SERVFAIL."""
    import socket
    import struct
    encoded(site.ask("v4.site.test"))  # the link is up, RANGES known
    natives = ["plain.site.test", "ns1.site.test", "failing.site.test", "nx1.site.test",
               "a.wild.site.test"]
    order = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(8)
    site.gw.proc.send_signal(signal.SIGSTOP)
    try:
        sock.sendto(dns_query(100, "mixed.site.test"), ("127.0.0.1", site.unbound.port))
        # the IPREF question reaches gwctld after its native and TXT lookups (a few ms here);
        # timeout-ms stays below Unbound's discard-timeout (1900 ms), which drops late replies
        time.sleep(0.3)
        for i, name in enumerate(natives):
            sock.sendto(dns_query(i + 1, name), ("127.0.0.1", site.unbound.port))
        while len(order) < len(natives) + 1:
            qid, flags = struct.unpack("!HH", sock.recv(4096)[:4])
            order.append((qid, flags & 0xF))
    finally:
        site.gw.proc.send_signal(signal.SIGCONT)
        sock.close()
    check([qid for qid, _ in order][-1] == 100, f"answered in this order (100: IPREF): {order}")
    check(all(rcode in (0, 3) for qid, rcode in order[:-1]), f"native answers: {order}")
    check(order[-1][1] == 2, f"the IPREF question: SERVFAIL: {order}")
    # gwctld awake again: its late reply ends the hold-off, and the name resolves
    answer = poll(is_encoded, lambda: site.ask("mixed.site.test"))
    check(is_encoded(answer), answer)


@with_site(unbound_extra="    num-threads: 1\n")
def test_many_in_flight(site):
    """Many new IPREF names in flight at once from several clients, all answered with encoded
    addresses (one worker thread, so every GET_EA waits beside the others)."""
    names = [f"n{i}.many.site.test" for i in range(300)] + ["plain.site.test"]
    replies = ask_raw(site.unbound.port, names, clients=6)
    check(len(replies) == len(names), f"{len(names) - len(replies)} questions not answered")
    bad = {n: r for n, r in replies.items() if r != (0, 1)}
    check(not bad, f"not answered with one address: {sorted(bad.items())[:10]}")


@with_site(timeout_ms=500, holdoff_ms=300)
def test_gwctl_killed_under_load(site):
    """gwctld killed and restarted while IPREF names are in flight: every question is answered
    (an encoded address or SERVFAIL), Unbound stays up, and names resolve again afterwards."""
    answered = []
    drops_before = udp_receive_drops()

    def load(k):  # three at once, 3 x 60 in flight: see ask_raw
        names = [f"k{k}-{i}.many.site.test" for i in range(120)]
        answered.append((names, ask_raw(site.unbound.port, names, clients=2, window=60)))
    loaders = [threading.Thread(target=load, args=(k,)) for k in range(3)]
    for t in loaders:
        t.start()
    time.sleep(0.3)  # the questions' native and TXT lookups first; any moment will do
    site.gw.stop(signal.SIGKILL)
    site.gw.start()
    for t in loaders:
        t.join()
    for names, replies in answered:
        missing = [n for n in names if n not in replies]
        check(not missing, missing and f"{len(missing)} of {len(names)} questions not answered, "
              f"first {missing[:3]}; {unbound_load_report(site, drops_before)}")
        check(all(rcode in (0, 2) for rcode, _ in replies.values()), replies)
    check(site.unbound.proc.poll() is None, "unbound is up")
    answer = poll(is_encoded, lambda: site.ask("after.many.site.test"))
    check(is_encoded(answer), answer)


@with_site()
def test_reload(site):
    encoded(site.ask("v4.site.test"))
    for _ in range(2):
        check(site.unbound.control("reload").returncode == 0, "reload")
        encoded(site.ask("multi.site.test"))
        check(site.ask("plain.site.test").data("A") == ["192.0.2.10"], "native")


def sample_setting(key):
    """A server: setting's value in dist/unbound.conf, the sample LAN resolver."""
    text = open(os.path.join(ZONES, "..", "..", "dist", "unbound.conf")).read()
    m = re.search(rf"^\s*{key}:\s*(\S+)", text, re.M)
    check(m, f"dist/unbound.conf sets {key}")
    return m.group(1)


@with_site(server_delay=0.3, minimisation=sample_setting("qname-minimisation"))
def test_lookups_in_parallel(site):
    """With the sample's settings, a first lookup's TXT question leaves beside its native one:
    it reaches the (distant) server before the native answer comes back, for an IPREF name and
    for a name without AA records. An order of events, not a timing: in a serial chain the TXT
    question could only follow the native answer."""
    for name, want in (("v4.site.test.", None), ("plain.site.test.", "192.0.2.10")):
        a = site.ask(name)
        check(a.data("A") == [want] if want else encoded(a), a)
        events = [(kind, rtype) for kind, qname, rtype in site.relay.events if qname == name]
        txt, native = ("query", 16), ("answer", 1)
        check(txt in events and native in events, events)
        check(events.index(txt) < events.index(native), f"{name}: serial lookups: {events}")


def poll(what, ask, deadline_s=15):
    """ask() until what(answer) holds; the last answer (check fails after deadline_s)."""
    deadline = time.time() + deadline_s
    while True:
        answer = ask()
        if what(answer) or time.time() > deadline:
            return answer
        time.sleep(0.2)


def is_encoded(answer):
    values = answer.data("A")
    return bool(values) and all(ipaddress.ip_address(v) in ENCODED_V4 for v in values)


@with_site(relay=True)
def test_txt_never_answered(site):
    """A server that answers A but drops TXT: the client still gets the native answer (after
    lookup-wait-ms, not never), cached briefly; once TXT is answered again, the AA record wins
    within seconds."""
    site.relay.rules[("both.site.test.", 16)] = "drop"
    a = site.ask("both.site.test")
    check(a.status == "NOERROR" and a.data("A") == ["192.0.2.50"], a)
    again = site.ask("both.site.test")  # within the brief cache time: the same answer
    check(again.data("A") == ["192.0.2.50"], again)
    # the TXT question went out: the module waited for it, then gave up
    check(("query", "both.site.test.", 16) in site.relay.events, site.relay.events)
    del site.relay.rules[("both.site.test.", 16)]
    final = poll(is_encoded, lambda: site.ask("both.site.test"))
    check(is_encoded(final), f"still native after TXT recovered: {final}")


@with_site(relay=True)
def test_gateway_name_never_answered(site):
    """A gateway name whose server drops its address questions: an answer after lookup-wait-ms
    (SERVFAIL saying why, the name having no native address), and the encoded address once the
    server answers again (a failure is not cached)."""
    for rtype in (1, 28):
        site.relay.rules[("gwslow.site.test.", rtype)] = "drop"
    a = site.ask("slowgw.site.test")
    check(a.status == "SERVFAIL" and a.ede is not None, a)
    site.relay.rules.clear()
    final = poll(is_encoded, lambda: site.ask("slowgw.site.test"))
    check(is_encoded(final), final)


@with_site(relay=True)
def test_txt_servfail(site):
    """A server that SERVFAILs TXT only: the native answer, cached for seconds, not its TTL."""
    site.relay.rules[("both.site.test.", 16)] = "servfail"
    a = site.ask("both.site.test")
    check(a.status == "NOERROR" and a.data("A") == ["192.0.2.50"], a)
    del site.relay.rules[("both.site.test.", 16)]
    final = poll(is_encoded, lambda: site.ask("both.site.test"))
    check(is_encoded(final), f"still native after TXT recovered: {final}")


@with_site()
def test_answers_independent_of_order(site):
    """Names that are gateways' names and have AA records of their own (gwaa; self, its own
    gateway) and a name that uses gwaa as its gateway: every question gets the same answer
    whichever was asked first, cold and from the cache."""
    questions = [("viagwaa.site.test", "A"), ("viagwaa.site.test", "AAAA"),
                 ("gwaa.site.test", "A"), ("gwaa.site.test", "AAAA"), ("self.site.test", "A"),
                 ("self.site.test", "AAAA")]
    orders = [questions[i:] + questions[:i] for i in range(len(questions))]
    orders += [list(reversed(order)) for order in orders]
    seen = {}
    for order in orders:
        check(site.unbound.control("flush_zone", "site.test").returncode == 0, "flush")
        for name, rtype in order + order:
            shape = site.ask(name, rtype).shape()
            first = seen.setdefault((name, rtype), (shape, order))
            check(first[0] == shape, f"{name} {rtype}: {shape} after {order}, but "
                                     f"{first[0]} after {first[1]}")
    # and what they are: encoded addresses for every one of them
    for (name, rtype), (shape, _) in seen.items():
        check(shape[0] == "NOERROR" and shape[3], f"{name} {rtype}: {shape}")


@with_site(server_delay=0.3, unbound_extra="    num-threads: 1\n")  # one mesh for both
def test_client_joins_gateway_lookup(site):
    """A client asking for a gateway's name while the module looks it up as a gateway (Unbound
    gives both one query state) gets the answer it would get alone: gwaa has AA records."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "via", site.ask("viagwaa.site.test")))
    thread.start()
    deadline = time.time() + 10
    while ("query", "gwaa.site.test.", 1) not in site.relay.events and time.time() < deadline:
        time.sleep(0.01)
    asked = len(site.relay.events)
    joined = site.ask("gwaa.site.test")
    thread.join()
    check(("answer", "gwaa.site.test.", 1) in site.relay.events[asked:],
          f"asked while the lookup was in flight: {site.relay.events}")
    encoded(result["via"])
    encoded(joined)


def upstream(site, name, rtype):
    return site.relay.events.count(("query", name, rtype))


@with_site(relay=True, unbound_extra="    prefetch: yes\n")
def test_prefetch(site):
    """prefetch: yes refreshes names through the module as stock does: a question in the last
    tenth of an answer's TTL is answered from the cache and starts a refresh, after which the
    answer stays cached with its full TTL; no client waits for the server again. Native names
    and IPREF names alike (whose refresh asks for the TXT again and renews the mapping)."""
    for name, rtype, watched in (("pf.site.test.", "A", 1), ("pfip.site.test.", "A", 16)):
        first = site.ask(name, rtype)
        check(first.records and first.records[0][1] <= 10, first)
        before = upstream(site, name, watched)
        # wait for the last tenth of the TTL: that question starts the prefetch
        answer = poll(lambda a: a.records and a.records[0][1] <= 1, lambda: site.ask(name, rtype))
        check(answer.records and answer.records[0][1] <= 1, answer)
        triggered = time.time()
        # past the first answer's expiry, every answer comes from the refreshed cache entry
        final = poll(lambda a: time.time() > triggered + 2.5 and a.records and
                     a.records[0][1] >= 5, lambda: site.ask(name, rtype), deadline_s=8)
        check(final.records and final.records[0][1] >= 5, f"not refreshed: {final}")
        check(final.data(rtype) == first.data(rtype), (first, final))
        check(upstream(site, name, watched) == before + 1,
              f"{name}: {upstream(site, name, watched) - before} upstream questions, not the "
              f"one prefetch: {site.relay.events}")


@with_site(relay=True)
def test_gateway_name_cached(site):
    """A gateway name's address, once looked up, is taken from the cache for the next name
    behind the same gateway, as stock would answer it: no second question to its server."""
    encoded(site.ask("named.site.test"))
    asked = [upstream(site, "gw.site.test.", t) for t in (1, 28)]
    check(asked[0] == 1, site.relay.events)
    encoded(site.ask("named2.site.test"))
    encoded(site.ask("named2.site.test", "AAAA"), "AAAA")
    check([upstream(site, "gw.site.test.", t) for t in (1, 28)] == asked, site.relay.events)
    check(site.ask("gw.site.test").data("A") == ["198.51.100.20"], "native for clients")


def cached_txt(site):
    """The TXT RRsets and messages in the module's Unbound's caches (unbound-control dump_cache)."""
    dump = site.unbound.control("dump_cache")
    check(dump.returncode == 0, dump.stdout + dump.stderr)
    return [line for line in dump.stdout.splitlines()
            if re.match(r"^(\S+\s+\d+\s+IN\s+TXT\b|msg \S+ IN TXT\b)", line)]


@with_site(relay=True, unbound_extra="    num-threads: 1\n")  # one thread: one module table
def test_txt_not_cached(site):
    """The module's own TXT lookups leave nothing in Unbound's caches (each would double what a
    name costs there): the answer is kept briefly by the module for the question's other family
    on the same thread, so A then AAAA still ask the server for the TXT once. A client's own
    TXT question is cached as stock caches it."""
    encoded(site.ask("v4.site.test"))
    encoded(site.ask("v4.site.test", "AAAA"), "AAAA")
    check(site.ask("plain.site.test").data("A") == ["192.0.2.10"], "native")
    check(cached_txt(site) == [], f"TXT in Unbound's caches: {cached_txt(site)}")
    check(upstream(site, "v4.site.test.", 16) == 1, site.relay.events)
    check(site.ask("plain.site.test", "TXT").status == "NOERROR", "a client's TXT question")
    check(any(line.startswith("plain.site.test.") for line in cached_txt(site)),
          f"a client's TXT question is cached as stock caches it: {cached_txt(site)}")


# Questions whose answers must be stock Unbound's, exactly: every type and response code the
# test zones produce, for names without AA records and for other types of names with them.
ORDINARY = [
    ("plain.site.test", "A"), ("plain.site.test", "AAAA"), ("plain.site.test", "TXT"),
    ("plain.site.test", "MX"), ("plain.site.test", "CAA"), ("mail.site.test", "A"),
    ("_sip._udp.site.test", "SRV"), ("toplain.site.test", "A"), ("toplain.site.test", "AAAA"),
    ("toplain.site.test", "CNAME"), ("x.wild.site.test", "A"), ("x.wild.site.test", "TXT"),
    ("x.wild.site.test", "AAAA"), ("dangling.site.test", "A"), ("dangling.site.test", "AAAA"),
    ("nosuch.site.test", "A"), ("nosuch.site.test", "AAAA"), ("nosuch.site.test", "TXT"),
    ("site.test", "SOA"), ("site.test", "NS"), ("ns1.site.test", "AAAA"),
    ("gw.site.test", "A"), ("gw.site.test", "AAAA"), ("broken.site.test", "A"),
    ("v4.site.test", "TXT"), ("both.site.test", "MX"), ("failing.site.test", "A"),
    ("failing.site.test", "AAAA"), ("refused.test", "A"), ("refused.test", "AAAA"),
    ("plain.secure.test", "A"), ("plain.secure.test", "TXT"), ("plain.secure.test", "AAAA"),
    ("nosuch.secure.test", "A"), ("nosuch.secure.test", "AAAA"), ("secure.test", "DNSKEY"),
    ("secure.test", "SOA"), ("tampered.secure.test", "TXT"), ("failtxt.site.test", "A"),
    ("failtxt.site.test", "AAAA"), ("failtxt.site.test", "TXT"), ("droptxt.site.test", "A"),
    ("droptxt.site.test", "AAAA"),
]


def same_as_stock(site):
    for rtype in ("A", "AAAA"):  # a server that fails: SERVFAIL from both
        site.relay.rules[("failing.site.test.", 1 if rtype == "A" else 28)] = "servfail"
    # servers that fail or drop TXT questions only: native answers from both
    site.relay.rules[("failtxt.site.test.", 16)] = "servfail"
    site.relay.rules[("droptxt.site.test.", 16)] = "drop"
    differences = []
    for options in ((), ("+dnssec",), ("+cd",), ("+dnssec", "+cd")):
        for name, rtype in ORDINARY:
            for when in ("cold", "cached"):
                ours = site.ask(name, rtype, *options)
                stock = site.ask_stock(name, rtype, *options)
                if ours.shape() != stock.shape():
                    differences.append(f"{name} {rtype} {' '.join(options)} ({when}):\n"
                                       f"  module {ours.shape()}\n  stock  {stock.shape()}")
        check(site.unbound.control("flush_zone", "test").returncode == 0, "flush")
        check(site.stock.control("flush_zone", "test").returncode == 0, "flush")
    check(not differences, "\n".join(differences))


@with_site(relay=True, stock=True)
def test_same_as_stock(site):
    """The module never answers an ordinary question differently from stock Unbound: each one
    asked cold and again from the cache, with and without +dnssec and +cd."""
    same_as_stock(site)


@with_site(relay=True, stock=True, minimisation="yes")
def test_same_as_stock_minimised(site):
    """The same with QNAME minimisation on, Unbound's default."""
    same_as_stock(site)


def test_bad_settings(make, workdir):
    bad = os.path.join(workdir, "bad.conf")
    with open(bad, "w") as f:
        f.write("socket = /run/x.sock\ntimeout-ms = 0\n")
    unbound = Unbound(UNBOUND_BUILD, workdir, """    module-config: "dynlib iterator"
""", f"""dynlib:
    dynlib-file: "{os.path.abspath(MODULE)}"
""", env={"IPREF_RESOLVER_CONF": bad})
    try:
        unbound.start()
        raise AssertionError("unbound started with bad module settings")
    except RuntimeError:
        pass
    finally:
        unbound.stop()
    check("bad.conf:2:14: must be 1 to 5000 milliseconds" in unbound.log(), unbound.log())


def test_sample_configuration(make, workdir):
    """dist/unbound.conf passes the built unbound-checkconf; dist/resolver.conf loads."""
    dist = os.path.join(ZONES, "..", "..", "dist")
    text = open(os.path.join(dist, "unbound.conf")).read()
    text = text.replace("/usr/local/lib/ipref/ipref.so", os.path.abspath(MODULE))
    anchor = os.path.join(workdir, "root.key")
    with open(anchor, "w") as f:  # the root zone's KSK-2017, as Debian's dns-root-data has it
        f.write(". IN DS 20326 8 2 "
                "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n")
    text = text.replace("/var/lib/unbound/root.key", anchor)
    # run here as any user: no chroot, no user switch, files in the test's folder
    text = text.replace("server:\n", f'server:\n    directory: "{workdir}"\n    chroot: ""\n'
                        '    username: ""\n', 1)
    conf = os.path.join(workdir, "unbound.conf")
    with open(conf, "w") as f:
        f.write(text)
    run = subprocess.run([os.path.join(UNBOUND_BUILD, "unbound-checkconf"), conf],
                         capture_output=True, text=True)
    check(run.returncode == 0, run.stdout + run.stderr)
    unbound = Unbound(UNBOUND_BUILD, workdir, """    module-config: "dynlib iterator"
""", f"""dynlib:
    dynlib-file: "{os.path.abspath(MODULE)}"
""", env={"IPREF_RESOLVER_CONF": os.path.join(dist, "resolver.conf")})
    try:
        unbound.start()
    finally:
        unbound.stop()
    check("ipref: gwctl socket /run/ipref/gwctl.sock, timeout 1000 ms" in unbound.log(),
          unbound.log())


if __name__ == "__main__":
    skip_unless_servers()
    sys.exit(Suite(GWCTLD, GWCTL).run([
        test_address_context, test_ipref_wins_over_native, test_name_context_and_ttl,
        test_several_records, test_cname_chain, test_native_names_untouched,
        test_families_and_unresolvable_contexts, test_unusable_gateway_names, test_no_ipv6_range,
        test_layout_after_gwctld_reload, test_reverse, test_dnssec,
        test_dnssec_gateway_name_and_cd,
        test_gwctl_down_and_back, test_gwctl_store_unavailable, test_gwctl_stuck, test_gwctl_slow_recovers,
        test_gwctl_stuck_thread_free, test_many_in_flight, test_gwctl_killed_under_load,
        test_reload, test_bad_settings,
        test_sample_configuration, test_lookups_in_parallel, test_txt_never_answered,
        test_txt_servfail, test_gateway_name_never_answered, test_same_as_stock, test_same_as_stock_minimised,
        test_answers_independent_of_order, test_client_joins_gateway_lookup,
        test_prefetch, test_gateway_name_cached, test_txt_not_cached,
    ]))
