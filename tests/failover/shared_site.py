"""Site A of the end-to-end sites (tests/e2e/sites.py) run by two gateways on one shared
PostgreSQL store, for the failover test of mappings made on demand: host a1 and gateways ga1
and ga2 share A's LAN (a bridge in namespace sw), where the database host db (10.1.0.5) sits
too; the gateways share A's link to the Internet (a bridge in the Internet's namespace), and
keepalived moves A's LAN gateway address and public context address between them, as
cluster.py does for gateways with static mappings. Each gateway runs gwctld (store =
postgresql, its own gateway-id), the dataplane and Unbound with the ipref module, listening on
the LAN gateway address (ip-freebind: the backup binds it before it holds it) and on its own.
NSD and site B (an IPv6 LAN, host b6) are the end-to-end sites' own.

Every namespace, process and file is removed by name and PID at the end, also on failure."""

import os
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "common"))
sys.path.insert(0, os.path.join(here, "..", "e2e"))
import gateway  # noqa: E402
import netns  # noqa: E402
import pg  # noqa: E402
from cluster import VIP_LAN, WAN_ROUTER, Cluster  # noqa: E402
from sites import DOMAIN, LAN, Sites  # noqa: E402

DB_HOST = "10.1.0.5"
OWN_LAN = {"ga1": "10.1.0.11", "ga2": "10.1.0.12"}
A1, B6 = "a1." + DOMAIN["a"], "b6." + DOMAIN["b"]
NAMES = "names.example"  # a zone of names standing for site B's references 20000 and up
NAME_REF = 20000


def names_zone(count):
    """NAMES's zone: h0 .. h{count-1} and spare0 .. spare9, each an AA record naming B's
    gateway and a reference of its own (B need not know them: only their mappings are made)."""
    lines = [f"$ORIGIN {NAMES}.", "$TTL 60", "@ SOA ns hostmaster 1 3600 600 86400 60",
             "@ NS ns", "ns A 198.18.0.53"]
    for i in range(count + 10):
        label = f"h{i}" if i < count else f"spare{i - count}"
        lines.append(f'{label} TXT "AA gw.{DOMAIN["b"]} + {NAME_REF + i}"')
    return "\n".join(lines) + "\n"


class SharedSite(Cluster):
    def __init__(self, build, unbound_build, keepalived, store_md, names=200):
        build = os.path.abspath(build)
        super().__init__(f"{build}/gwctl/gwctld", f"{build}/gwctl/gwctl",
                         f"{build}/dataplane/ipref-dataplane", keepalived, store_md)
        self.unbound = os.path.join(os.path.abspath(unbound_build), "unbound")
        self.sites = Sites(build, unbound_build, extra_zones={NAMES: names_zone(names)})
        self.ns = {k: self.tag + k for k in ("sw", "ha", "ga1", "ga2", "db")}
        self.ns.update(inet=self.sites.ns("inet"), gb=self.sites.ns("gwb"),
                       hb=self.sites.ns("b6"))
        self.pg = None
        self.db = "site_a"

    def build(self):
        self.sites.build_internet()
        for short in ("sw", "ha", "ga1", "ga2", "db"):
            netns.add(self.ns[short], error=self.error)
        link = lambda a, ai, b, bi: netns.link(self.ns[a], ai, self.ns[b], bi, error=self.error)
        link("ha", "eth0", "sw", "p-ha")
        link("db", "eth0", "sw", "p-db")
        for name in ("ga1", "ga2"):
            link(name, "lan", "sw", "p-" + name)
            link(name, "wan", "inet", "p-" + name)
        self._bridge("sw", "br0", ("p-ha", "p-db", "p-ga1", "p-ga2"))
        self._bridge("inet", "bra", ("p-ga1", "p-ga2"))
        addr = lambda ns, dev, *c: netns.addr(self.ns[ns], dev, *c, error=self.error)
        addr("inet", "bra", f"{WAN_ROUTER}/24")
        for n, name in ((11, "ga1"), (12, "ga2")):
            self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=name)
            addr(name, "lan", f"{OWN_LAN[name]}/24")
            addr(name, "wan", f"198.18.1.{n}/24")
            # below keepalived's route from the public address (metric 50) while it leads
            self.sh("ip", "route", "add", "default", "via", WAN_ROUTER, "metric", "100", ns=name)
        addr("db", "eth0", f"{DB_HOST}/24")
        addr("ha", "eth0", f"{LAN['a'][2]}/24")
        netns.route(self.ns["ha"], "default", VIP_LAN, error=self.error)
        # a1's resolver is the site's LAN gateway address, on whichever gateway leads
        os.makedirs(f"/etc/netns/{self.ns['ha']}", exist_ok=True)
        with open(f"/etc/netns/{self.ns['ha']}/resolv.conf", "w") as f:
            f.write(f"nameserver {VIP_LAN}\n")
        self.sites.add_site("b")

    def start_gateways(self):
        self.pg = pg.Cluster(namespace=self.ns["db"], listen=DB_HOST)
        self.pg.__enter__()
        self.pg.createdb(self.db)
        for name in ("ga1", "ga2"):
            g = gateway.Gateway(self.ns[name], os.path.join(self.work, name), *self.bin,
                                error=self.error)
            self.sites.write_gateway_files(
                "a", g=g, interfaces=[VIP_LAN, OWN_LAN[name]],
                settings=f"store = postgresql:{self.pg.conninfo(self.db)}\n"
                f"gateway-id = {name}\n",
                unbound_extra="    ip-freebind: yes\n")
            self.gw[name] = g
            self.start_daemons(name)

    def start_daemons(self, name):
        super().start_daemons(name)
        g = self.gw[name]
        self.procs.append(g.start_unbound(self.unbound, os.path.join(g.dir, "unbound.conf"),
                                          "gw." + DOMAIN["a"]))

    def sql(self, text):
        """Rows of a query on the site's shared store."""
        return self.pg.sql(self.db, text)

    def tail(self, name, chars=3000):
        if name not in self.gw:
            return self.sites.logs()[-chars:]
        text = super().tail(name, chars)
        for log in ("unbound.stderr", "unbound.log"):
            path = os.path.join(self.gw[name].dir, log)
            if os.path.exists(path):
                text += f"\n--- {log} ---\n" + open(path, errors="replace").read()[-chars:]
        return text

    def cleanup(self):
        if self.pg:
            self.pg.stop()
        self.sites.cleanup()
        super().cleanup()
        shutil.rmtree(f"/etc/netns/{self.ns['ha']}", ignore_errors=True)
