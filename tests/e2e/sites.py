"""Two IPREF sites and an Internet in network namespaces, with every real part running: NSD
serving the sites' public zones, and on each gateway gwctld, ipref-dataplane and Unbound with
the ipref module. Used by the demo (tools/demo) and the end-to-end test alike.

Site A has an IPv4-only LAN (host a1), site B an IPv6-only LAN (host b6); both gateways reach
the Internet over IPv4 and IPv6. A third site C (IPv4 LAN, host c4) can be added and removed.
Everything made here (namespaces, processes, /etc/netns entries) is removed by cleanup(), by
name and PID, also after a failure.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import gateway  # noqa: E402
import netns  # noqa: E402
import polling  # noqa: E402

DOMAIN = {"a": "site-a.example", "b": "site-b.example", "c": "site-c.example"}
WAN = {"a": ("198.18.1.1", "2001:db8:1::1"), "b": ("198.18.2.1", "2001:db8:2::1"),
       "c": ("198.18.3.1", "2001:db8:3::1")}
NSD_ADDR = ("198.18.0.53", "2001:db8::53")
# each site's LAN: gateway address, host name and address, the family it has
LAN = {"a": ("10.1.0.1", "a1", "10.1.0.2", 4), "b": ("fd00:b::1", "b6", "fd00:b::6", 6),
       "c": ("10.3.0.1", "c4", "10.3.0.4", 4)}
REF = {"a": 4001, "b": 2466, "c": 3003}

PUBLIC_ZONE = """$ORIGIN {domain}.
$TTL 60
@     SOA  ns hostmaster 1 3600 600 86400 60
@     NS   ns
ns    A    {nsd4}
ns    AAAA {nsd6}
gw    A    {wan4}
gw    AAAA {wan6}
; the site's published host: its gateway by name, and the reference the gateway interprets
{host} TXT "AA gw.{domain} + {ref}"
; the same host with the gateway's IPv6 address as context, for the IPv6 Internet path
{host}-v6 TXT "AA {wan6} + {ref6}"
"""

INTERNAL_ZONE = """$ORIGIN internal.
$TTL 60
@     SOA  ns hostmaster 1 3600 600 86400 60
@     NS   ns
ns    A    127.0.0.1
{host} {rtype} {addr}
{host}-v6 {rtype} {addr}
"""


def reverse_zones(family):
    """Unbound answers private reverse zones itself; the encoded range's must reach the module
    (10.240.0.0/12 is 16 zones of in-addr.arpa, fdee:eeee::/64 lies in one ip6.arpa zone)."""
    if family == 4:
        return "".join(f'    local-zone: "{n}.10.in-addr.arpa." transparent\n'
                       for n in range(240, 256))
    return '    local-zone: "e.e.e.e.e.e.d.f.ip6.arpa." transparent\n'


def unbound_conf(d, build, interfaces, family, domains, extra=""):
    """A gateway's unbound.conf, its files in folder d: the ipref module of build, listening on
    127.0.0.1 and interfaces, with a stub zone to NSD for each of domains; extra: more lines
    of its server section."""
    listen = "".join(f"    interface: {a}\n" for a in ["127.0.0.1"] + list(interfaces))
    stubs = "".join(f'stub-zone:\n    name: "{n}"\n    stub-addr: {NSD_ADDR[0]}\n'
                    for n in domains)
    return f"""server:
{listen}    access-control: 10.0.0.0/8 allow
    access-control: fd00::/8 allow
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    logfile: "{d}/unbound.log"
    use-syslog: no
    root-hints: ""
    num-threads: 2
    module-config: "dynlib validator iterator"
    ede: yes
    qname-minimisation: no
{reverse_zones(family)}{extra}remote-control:
    control-enable: yes
    control-interface: "{d}/unbound.ctl"
dynlib:
    dynlib-file: "{build}/resolver/ipref.so"
{stubs}"""


class Failed(Exception):
    pass


class Sites:
    def __init__(self, build, unbound_build, log=print, extra_zones=None):
        """extra_zones: {zone name: zone file text} that NSD serves besides the sites'."""
        self.extra_zones = dict(extra_zones or {})
        self.build = os.path.abspath(build)
        self.unbound_build = os.path.abspath(unbound_build)
        self.say = log
        self.tag = "ipr%d" % os.getpid()
        self.namespaces = []
        self.procs = {}
        self.gateways = {}  # site -> gateway.Gateway
        self.work = tempfile.mkdtemp(prefix="ipref-sites-")
        os.chmod(self.work, 0o755)  # the dataplane reaches gwctld's socket as nobody
        self.sites = []

    # --- running things -------------------------------------------------------------------
    def ns(self, short):
        return f"{self.tag}{short}"

    def sh(self, *args, ns=None, check=True, timeout=60, **kw):
        return netns.sh(*args, ns=self.ns(ns) if ns else None, check=check, timeout=timeout,
                        error=Failed, **kw)

    def spawn(self, key, ns, args, log):
        out = open(os.path.join(self.work, log), "a")
        p = netns.spawn(self.ns(ns), args, out, stdin=subprocess.DEVNULL)
        self.procs[key] = p
        return p

    def stop(self, key, sig=signal.SIGTERM):
        netns.stop(self.procs.pop(key, None), sig)

    def cleanup(self):
        for key in list(self.procs):
            self.stop(key, signal.SIGKILL)
        for g in self.gateways.values():
            g.stop_all(signal.SIGKILL)
        netns.delete(reversed(self.namespaces))
        for name in self.namespaces:
            shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)
        self.namespaces = []
        shutil.rmtree(self.work, ignore_errors=True)

    def wait_for(self, what, predicate, seconds=15):
        return polling.wait_until(predicate, seconds, what, interval=0.1, error=Failed)

    def wait_listening(self, ns, port, udp=False):
        """Waits for a server that a test started in namespace ns to listen on port."""
        self.wait_for(f"a server on port {port} in {ns}",
                      lambda: polling.listening(port, udp=udp, ns=self.ns(ns)))

    # --- the network ----------------------------------------------------------------------
    def add_ns(self, short):
        name = self.ns(short)
        self.namespaces.append(name)
        netns.add(name, error=Failed)

    def link(self, a, a_if, b, b_if):
        netns.link(self.ns(a), a_if, self.ns(b), b_if, error=Failed)

    def addr(self, ns, dev, *cidrs):
        netns.addr(self.ns(ns), dev, *cidrs, error=Failed)

    def route(self, ns, dst, via):
        netns.route(self.ns(ns), dst, via, error=Failed)

    def build_internet(self):
        self.add_ns("inet")
        self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                ns="inet")
        self.addr("inet", "lo", NSD_ADDR[0] + "/32", NSD_ADDR[1] + "/128")
        zones = os.path.join(self.work, "nsd")
        os.makedirs(zones)
        conf = os.path.join(zones, "nsd.conf")
        with open(conf, "w") as f:
            f.write(f"""server:
    ip-address: {NSD_ADDR[0]}
    ip-address: {NSD_ADDR[1]}
    username: ""
    chroot: ""
    zonesdir: "{zones}"
    pidfile: "{zones}/nsd.pid"
    xfrdfile: "{zones}/xfrd.state"
    zonelistfile: "{zones}/zone.list"
    database: ""
    logfile: "{zones}/nsd.log"
    server-count: 1
    rrl-ratelimit: 0
remote-control:
    control-enable: no
""")
            for site in "abc":
                f.write(f'zone:\n    name: {DOMAIN[site]}\n'
                        f'    zonefile: "{self.public_zone(site)}"\n')
            for name, text in self.extra_zones.items():
                path = os.path.join(zones, f"{name}.zone")
                with open(path, "w") as z:
                    z.write(text)
                f.write(f'zone:\n    name: {name}\n    zonefile: "{path}"\n')
        self.spawn("nsd", "inet", ["nsd", "-d", "-c", conf], "nsd.log")
        self.wait_for("NSD", lambda: "198.18.1.1" in self.sh(
            "dig", "+short", "+time=1", "+tries=1", f"@{NSD_ADDR[0]}", "gw." + DOMAIN["a"],
            ns="inet", check=False).stdout)

    def public_zone(self, site):
        path = os.path.join(self.work, f"{DOMAIN[site]}.zone")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(PUBLIC_ZONE.format(domain=DOMAIN[site], nsd4=NSD_ADDR[0],
                                           nsd6=NSD_ADDR[1], wan4=WAN[site][0],
                                           wan6=WAN[site][1], host=LAN[site][1],
                                           ref=REF[site], ref6=REF[site] + 1))
        return path

    # --- a site ---------------------------------------------------------------------------
    def add_site(self, site):
        n = "abc".index(site) + 1
        gw, host = "gw" + site, LAN[site][1]
        gw_lan, _, host_addr, family = LAN[site]
        self.add_ns(gw)
        self.add_ns(host)
        self.link(gw, "wan", "inet", "to-" + site)
        self.link(host, "eth0", gw, "lan")
        self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                ns=gw)
        self.addr("inet", "to-" + site, f"198.18.{n}.254/24", f"2001:db8:{n}::fe/64")
        self.addr(gw, "wan", f"{WAN[site][0]}/24", f"{WAN[site][1]}/64")
        self.route(gw, "default", f"198.18.{n}.254")
        self.route(gw, "default", f"2001:db8:{n}::fe")
        bits = 24 if family == 4 else 64
        self.addr(gw, "lan", f"{gw_lan}/{bits}")
        self.addr(host, "eth0", f"{host_addr}/{bits}")
        self.route(host, "default", gw_lan)
        # the host's resolver is its gateway's Unbound (ip netns exec mounts this file)
        os.makedirs(f"/etc/netns/{self.ns(host)}", exist_ok=True)
        with open(f"/etc/netns/{self.ns(host)}/resolv.conf", "w") as f:
            f.write(f"nameserver {gw_lan}\n")
        self.gateways[site] = gateway.Gateway(
            self.ns(gw), self.dir(site), f"{self.build}/gwctl/gwctld", f"{self.build}/gwctl/gwctl",
            f"{self.build}/dataplane/ipref-dataplane", error=Failed)
        self.write_gateway_files(site)
        self.start_gwctld(site)
        self.start_dataplane(site)
        self.start_unbound(site)
        self.sites.append(site)

    def remove_site(self, site):
        self.gateways.pop(site).stop_all()
        for short in ("gw" + site, LAN[site][1]):
            name = self.ns(short)
            netns.delete([name])
            shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)
            self.namespaces.remove(name)
        self.sh("ip", "-n", self.ns("inet"), "link", "del", "to-" + site, check=False)
        self.sites.remove(site)

    def dir(self, site):
        return os.path.join(self.work, "gw" + site)

    def sock(self, site):
        return os.path.join(self.dir(site), "gwctl.sock")

    def write_gateway_files(self, site, g=None, interfaces=None, settings="", unbound_extra=""):
        """Site's gateway files in the folder of g (by default the site's gateway): gwctl.conf
        (then settings, whole lines), dataplane.conf, resolver.conf and unbound.conf listening
        on interfaces (by default the site's LAN gateway address), with unbound_extra lines."""
        g = g or self.gateways[site]
        d = g.dir
        _, host, addr, family = LAN[site]
        internal = os.path.join(d, "internal.zone")
        with open(internal, "w") as f:
            f.write(INTERNAL_ZONE.format(host=host, rtype="A" if family == 4 else "AAAA",
                                         addr=addr))
        # an IPv4 LAN gets IPv4 encoded addresses, an IPv6 LAN IPv6 ones: cross-protocol
        ranges = ("encoded-ipv4 = 10.240.0.0/12\nencoded-ipv6 = none\n" if family == 4 else
                  "encoded-ipv4 = none\nencoded-ipv6 = fdee:eeee::/64\n")
        g.write_gwctl_conf(f"gateway = {WAN[site][0]}\ngateway = {WAN[site][1]}\n"
                           f"gateway-name = gw.{DOMAIN[site]}\n{ranges}"
                           f"zone = {self.public_zone(site)} {internal}\nlog-level = info\n"
                           f"{settings}")
        g.write_dataplane_conf()
        g.write_resolver_conf()
        with open(os.path.join(d, "unbound.conf"), "w") as f:
            f.write(unbound_conf(d, self.build, interfaces or [LAN[site][0]], family,
                                 self.stub_domains(), unbound_extra))

    def stub_domains(self):
        """The zones NSD serves, which a gateway's Unbound asks it for."""
        return list(DOMAIN.values()) + list(self.extra_zones)

    def start_gwctld(self, site):
        self.gateways[site].start_gwctld()

    def start_dataplane(self, site):
        self.gateways[site].start_dataplane()

    def start_unbound(self, site):
        g = self.gateways[site]
        g.start_unbound(f"{self.unbound_build}/unbound", os.path.join(g.dir, "unbound.conf"),
                        "gw." + DOMAIN[site])

    def restart(self, site, part):
        self.gateways[site].stop(part)
        getattr(self, "start_" + part)(site)

    # --- looking at it --------------------------------------------------------------------
    def gwctl(self, site, *args, check=True):
        return self.gateways[site].run_gwctl(*args, check=check)

    def stats(self, site):
        """Gateway site's counters as {name: int}; {} while its gwctld is not up."""
        return self.gateways[site].stats()

    def fresh_stats(self, site):
        """The counters once the dataplane has reported them again after this call."""
        return polling.wait_reports(lambda: self.stats(site))[0]

    def sqlite(self, site, query):
        return self.sh("sqlite3", "-header", "-column", f"file:{self.dir(site)}/gw.db?mode=ro",
                       query).stdout

    def resolve(self, host_ns, name, rtype):
        """What a host's resolver answers (dig through the host's resolv.conf)."""
        server = open(f"/etc/netns/{self.ns(host_ns)}/resolv.conf").read().split()[1]
        return self.sh("dig", "+short", "+time=2", "+tries=2", f"@{server}", name, rtype,
                       ns=host_ns).stdout.split()

    def logs(self):
        text = ""
        for root, _, files in os.walk(self.work):
            for name in sorted(files):
                if name.endswith((".log", ".stderr")):
                    path = os.path.join(root, name)
                    text += f"--- {os.path.relpath(path, self.work)}\n"
                    text += open(path, errors="replace").read()[-3000:]
        return text
