"""A site with two gateways and keepalived, for the failover test and benchmark: site A's host
ha and gateways ga1 and ga2 share a LAN (a bridge in namespace sw), and the two gateways share
A's link to the "Internet" (a bridge in namespace inet); keepalived moves A's LAN gateway
address (10.1.0.1) and public context address (198.18.1.1) between them. Site B is one
gateway gb with host hb. Mappings come from hosts files that both A gateways load alike, so
either carries A's flows with the same encoded addresses and references (a shared store is for
mappings made on demand; docs/store.md).

Every namespace and process is removed by name and PID at the end, also on failure."""

import os
import re
import signal
import subprocess
import tempfile
import time

import gateway
import netns
import polling

# A's public context address and LAN gateway address: keepalived's, on whichever gateway leads
VIP_PUBLIC, VIP_LAN = "198.18.1.1", "10.1.0.1"
GB_PUBLIC = "198.18.2.1"
WAN_ROUTER = "198.18.1.254"  # A's router to the Internet
HA, HB = "10.1.0.2", "10.2.0.2"
HB_AT_A = "10.240.0.21"  # what ha reaches hb at (B's reference 2001)
HA_AT_B = "10.240.0.41"  # what hb reaches ha at (A's reference 3001)
# What the sample of docs/store.md names, and what this network has instead
SAMPLE_NAMES = {"eth1": "lan", "eth0": "wan", "172.17.1.1/24": f"{VIP_LAN}/24",
                "198.51.100.254": WAN_ROUTER, "198.51.100.1": VIP_PUBLIC}


def keepalived_conf(store_md, gwctl, sock):
    """The keepalived sample of docs/store.md (the first fenced block under its heading) with
    this network's names, addresses and gwctl command: the test runs what the docs give."""
    text, block, lines = open(store_md).read().splitlines(), False, []
    start = text.index("### Moving the addresses: keepalived")
    for line in text[start:]:
        if line.startswith("```"):
            if block:
                break
            block = True
        elif block:
            lines.append(line)
    conf = "\n".join(lines) + "\n"
    replaced = {'"/usr/bin/gwctl health"': f'"{gwctl} --socket {sock} health"'}
    replaced.update(SAMPLE_NAMES)
    for old, new in replaced.items():
        if old not in conf:
            raise AssertionError(f"the keepalived sample of {store_md} no longer has {old}")
        # an address is replaced whole: 198.51.100.1 is not the start of 198.51.100.254
        conf = re.sub(r"(?<![\d.])" + re.escape(old) + r"(?!\d)", new, conf)
    return conf


class Cluster:
    def __init__(self, gwctld, gwctl, dataplane, keepalived, store_md, error=AssertionError):
        self.tag = "iprf%d" % os.getpid()
        self.ns = {k: self.tag + k for k in ("sw", "ha", "ga1", "ga2", "inet", "gb", "hb")}
        self.bin = (gwctld, gwctl, dataplane)
        self.keepalived_bin, self.store_md = keepalived, store_md
        self.error = error
        self.procs = []
        self.keepalived = {}
        self.work = tempfile.mkdtemp(prefix="ipref-failover-")
        os.chmod(self.work, 0o755)
        self.gw = {}

    # --- the network ----------------------------------------------------------------------
    def sh(self, *args, ns=None, check=True, **kw):
        return netns.sh(*args, ns=self.ns[ns] if ns else None, check=check, error=self.error,
                        **kw)

    def _bridge(self, ns, name, ports):
        self.sh("ip", "link", "add", name, "type", "bridge", ns=ns)
        for p in ports:
            self.sh("ip", "link", "set", p, "master", name, ns=ns)
        self.sh("ip", "link", "set", name, "up", ns=ns)

    def build(self):
        for name in self.ns.values():
            netns.add(name, error=self.error)
        link = lambda a, ai, b, bi: netns.link(self.ns[a], ai, self.ns[b], bi, error=self.error)
        link("ha", "eth0", "sw", "p-ha")
        link("ga1", "lan", "sw", "p-ga1")
        link("ga2", "lan", "sw", "p-ga2")
        link("ga1", "wan", "inet", "p-ga1")
        link("ga2", "wan", "inet", "p-ga2")
        link("gb", "wan", "inet", "to-b")
        link("hb", "eth0", "gb", "lan")
        self._bridge("sw", "br0", ("p-ha", "p-ga1", "p-ga2"))
        self._bridge("inet", "bra", ("p-ga1", "p-ga2"))
        addr = lambda ns, dev, *c: netns.addr(self.ns[ns], dev, *c, error=self.error)
        route = lambda ns, dst, via: netns.route(self.ns[ns], dst, via, error=self.error)
        for ns in ("ga1", "ga2", "gb", "inet"):
            self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=ns)
        addr("inet", "bra", f"{WAN_ROUTER}/24")
        addr("inet", "to-b", "198.18.2.254/24")
        for n, ns in ((11, "ga1"), (12, "ga2")):
            addr(ns, "lan", f"10.1.0.{n}/24")
            addr(ns, "wan", f"198.18.1.{n}/24")
            # below keepalived's route from the public address (metric 50) while it leads
            self.sh("ip", "route", "add", "default", "via", WAN_ROUTER, "metric", "100", ns=ns)
        addr("gb", "wan", f"{GB_PUBLIC}/24")
        addr("gb", "lan", "10.2.0.1/24")
        route("gb", "default", "198.18.2.254")
        addr("ha", "eth0", f"{HA}/24")
        route("ha", "default", VIP_LAN)
        addr("hb", "eth0", f"{HB}/24")
        route("hb", "default", "10.2.0.1")

    # --- the gateways ---------------------------------------------------------------------
    def _gateway(self, name, public, hosts_lines):
        g = gateway.Gateway(self.ns[name], os.path.join(self.work, name), *self.bin,
                            error=self.error)
        hosts = os.path.join(g.dir, "hosts")
        with open(hosts, "w") as f:
            f.write(hosts_lines)
        g.write_gwctl_conf(f"gateway = {public}\nencoded-ipv4 = 10.240.0.0/16\n"
                           f"encoded-ipv6 = none\nhosts = {hosts}\nlog-level = info\n")
        g.write_dataplane_conf()
        self.gw[name] = g
        return g

    def start_gateways(self):
        a_hosts = f"{HA} ha #= pub + 3001\n{HB_AT_A} hb #= ext {GB_PUBLIC} + 2001\n"
        for name in ("ga1", "ga2"):
            self._gateway(name, VIP_PUBLIC, a_hosts)
        self._gateway("gb", GB_PUBLIC,
                      f"{HB} hb #= pub + 2001\n{HA_AT_B} ha #= ext {VIP_PUBLIC} + 3001\n")
        for name in self.gw:
            self.start_daemons(name)

    def start_daemons(self, name):
        """The gateway's daemons, each once it serves."""
        g = self.gw[name]
        self.procs.append(g.start_gwctld())
        self.procs.append(g.start_dataplane())

    def start_keepalived(self, name):
        g = self.gw[name]
        conf = os.path.join(g.dir, "keepalived.conf")
        with open(conf, "w") as f:
            f.write(keepalived_conf(self.store_md, self.bin[1], g.sock))
        os.chmod(conf, 0o644)
        out = open(os.path.join(g.dir, "keepalived.log"), "a")
        # pid files of its own: keepalived's default ones are shared by every instance
        p = netns.spawn(self.ns[name], [
            self.keepalived_bin, "--dont-fork", "--log-console", "--log-detail", "--vrrp",
            "--use-file", conf, "--pid", os.path.join(g.dir, "keepalived.pid"),
            "--vrrp_pid", os.path.join(g.dir, "vrrp.pid")], out, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        self.keepalived[name] = p
        return p

    def holds_vips(self, name):
        """Whether the gateway has both of keepalived's addresses."""
        out = self.sh("ip", "-4", "-o", "addr", "show", ns=name, check=False).stdout
        return f" {VIP_LAN}/" in out and f" {VIP_PUBLIC}/" in out

    def leader(self):
        """The A gateway holding both addresses, None while neither does."""
        held = [n for n in ("ga1", "ga2") if self.holds_vips(n)]
        return held[0] if len(held) == 1 else None

    def start_pair(self, seconds=30):
        """ga1's keepalived first, which takes the addresses; then ga2's, which hears it lead
        and, with the same priority and nopreempt, stays its backup."""
        self.start_keepalived("ga1")
        polling.wait_until(lambda: self.holds_vips("ga1"), seconds,
                           lambda: "ga1 to take the addresses: " + self.tail("ga1"),
                           error=self.error)
        self.start_keepalived("ga2")
        polling.wait_until(lambda: "Entering BACKUP STATE" in self.tail("ga2"), seconds,
                           lambda: "ga2 to become the backup: " + self.tail("ga2"),
                           error=self.error)
        time.sleep(2.5)  # longer than a backup waits to take over (1.8 s): ga2 must not
        if self.holds_vips("ga2"):
            raise self.error("ga2 took the addresses beside ga1: " + self.tail("ga2"))

    def cut(self, name):
        """The gateway cut off: its links down, then its daemons killed (as a power loss)."""
        for dev in ("lan", "wan"):
            self.sh("ip", "link", "set", dev, "down", ns=name)
        netns.stop(self.keepalived.pop(name), signal.SIGKILL)
        self.gw[name].stop_all(signal.SIGKILL)

    def restore(self, name, seconds=30):
        """A cut gateway back, as after a reboot: without the addresses keepalived left on it
        (killed, it could not take them away), its links up, its daemons started, and its
        keepalived heard to settle as the backup (the sample's nopreempt: it takes nothing
        back)."""
        for vip, dev in ((f"{VIP_LAN}/24", "lan"), (f"{VIP_PUBLIC}/32", "wan")):
            self.sh("ip", "addr", "del", vip, "dev", dev, ns=name, check=False)
        self.sh("ip", "route", "del", "default", "metric", "50", ns=name, check=False)
        for dev in ("lan", "wan"):
            self.sh("ip", "link", "set", dev, "up", ns=name)
        # the gateway's own default route went with its link, as its configuration brings it
        # back at a boot
        self.sh("ip", "route", "replace", "default", "via", WAN_ROUTER, "metric", "100", ns=name)
        self.start_daemons(name)
        g = self.gw[name]
        log = os.path.join(g.dir, "keepalived.log")
        seen = os.path.getsize(log) if os.path.exists(log) else 0
        self.start_keepalived(name)
        polling.wait_until(lambda: "Entering BACKUP STATE" in open(log, errors="replace").read()[seen:],
                           seconds, lambda: f"{name} to become the backup: " + self.tail(name),
                           error=self.error)

    def tail(self, name, chars=3000):
        g = self.gw[name]
        text = g.tail(chars)
        path = os.path.join(g.dir, "keepalived.log")
        if os.path.exists(path):
            text += "\n--- keepalived ---\n" + open(path, errors="replace").read()[-chars:]
        return text

    def cleanup(self):
        for g in self.gw.values():
            g.stop_all(signal.SIGKILL)
        for p in self.procs:
            try:
                netns.stop(p, signal.SIGKILL)
            except OSError:
                pass
        netns.delete(self.ns.values())
        subprocess.run(["rm", "-rf", self.work])
