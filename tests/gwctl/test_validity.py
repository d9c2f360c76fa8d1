#!/usr/bin/env python3
"""gwctld refuses addresses that cannot be what they are given as, whoever asks: contexts that
cannot be a remote gateway (GET_EA, `gwctl encode`, `gwctl map`), local hosts that cannot be
hosts (GET_REF, `gwctl ref`, `gwctl map --publish`), and contexts not ours to publish under.
usage: test_validity.py GWCTLD GWCTL"""
import json
import os
import sqlite3
import subprocess
import sys
import time

from ctl import *  # noqa: F401,F403 (the protocol constants)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from servers import NSD, Nsd  # noqa: E402

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]

# Contexts no remote gateway can have, with words the refusal must hold. The daemon's own
# gateway is 198.51.100.1 (ctl.Daemon) and its encoded ranges the defaults 10.240.0.0/12 and
# fdee:eeee::/64.
BAD_CONTEXTS = [
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("0.1.2.3", "unspecified"),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("198.51.100.1", "own"), ("::ffff:198.51.100.1", "own"),
    ("10.240.3.4", "encoded range"), ("fdee:eeee::5", "encoded range"),
]


def listed(daemon):
    return json.loads(daemon.cli("list", "--json").stdout)


def test_get_ea_refuses_unusable_contexts(make, workdir):
    d = make().start()
    c = d.client()
    for context, why in BAD_CONTEXTS:
        for family in (4, 6):
            r = c.get_ea(context, 5000, family=family)
            check(r.status == E_UNUSABLE and why in r.message,
                  f"{context} family {family}: status {r.status} '{r.message}'")
    # the dataplane asking for an unknown inbound source is refused alike
    r = c.call(GET_EA, attr(A_CONTEXT, ip("127.0.0.1")) + ref(5000) + attr(A_SOURCE, b"dataplane"))
    check(r.status == E_UNUSABLE, r.status)
    check(listed(d) == [], "nothing was allocated")
    s = d.stats()
    check(s["gwctld.errors.unusable"] == 2 * len(BAD_CONTEXTS) + 1, s)
    check(s["gwctld.allocated.encoded"] == 0, s)


def test_mapped_context_is_its_ipv4_address(make, workdir):
    d = make().start()
    c = d.client()
    v4 = c.get_ea("192.0.2.1", 5000)
    mapped = c.get_ea("::ffff:192.0.2.1", 5000)
    check(v4.status == OK and mapped.status == OK, (v4.status, mapped.status, mapped.message))
    check(mapped.get(A_ENCODED) == v4.get(A_ENCODED), "one mapping for both forms")
    check(mapped.get(A_CONTEXT) == ip("192.0.2.1"), mapped.get(A_CONTEXT))
    r = c.call(LOOKUP_EA, attr(A_CONTEXT, ip("::ffff:192.0.2.1")) + ref(5000))
    check(r.status == OK and r.get(A_ENCODED) == v4.get(A_ENCODED), r.status)
    # the same through the CLI, and for a static mapping made by hand
    out = d.cli("encode", "::ffff:192.0.2.1 + 5000").stdout
    check("ipref:   192.0.2.1 + 5000" in out, out)
    out = d.cli("map", "10.240.0.99", "::ffff:203.0.113.5 + 7").stdout
    check("ipref:   203.0.113.5 + 7" in out, out)
    check(len(listed(d)) == 2, listed(d))


def test_cli_refuses_unusable_contexts(make, workdir):
    d = make().start()
    for context, why in BAD_CONTEXTS:
        run = d.cli("encode", f"{context} + 5000", ok=False)
        check(run.returncode == 1 and why in run.stderr, f"encode {context}: {run.stderr}")
        run = d.cli("map", "10.240.0.99", f"{context} + 5000", ok=False)
        check(run.returncode == 1 and why in run.stderr, f"map {context}: {run.stderr}")
    check(listed(d) == [], listed(d))


def test_ref_refuses_unusable_hosts(make, workdir):
    d = make().start()
    c = d.client()
    for host, why in [("0.0.0.0", "unspecified"), ("::", "unspecified"),
                      ("255.255.255.255", "broadcast"), ("224.0.0.1", "multicast"),
                      ("127.0.0.1", "loopback"), ("fe80::1", "link-local"),
                      ("::ffff:172.17.1.75", "IPv4-mapped"),
                      ("10.240.0.5", "encoded range"), ("fdee:eeee::5", "encoded range")]:
        run = d.cli("ref", host, ok=False)
        check(run.returncode == 1 and why in run.stderr, f"ref {host}: {run.stderr}")
        r = c.call(GET_REF, attr(A_LOCAL, ip(host)) + attr(A_SOURCE, b"dataplane"))
        check(r.status == E_UNUSABLE, f"GET_REF {host}: {r.status}")
    check(listed(d) == [], listed(d))
    # an ordinary host, and a server on the gateway itself, get their references
    d.cli("ref", "172.17.1.75")
    d.cli("ref", "198.51.100.1")
    check(len(listed(d)) == 2, listed(d))


def test_publish_needs_our_context_and_a_host(make, workdir):
    d = make("gateway = 2001:db8::1\ngateway-name = gw.example.net\n").start()
    for local, ipref, why in [
            ("172.17.1.80", "203.0.113.9 + 5000", "not a context of this gateway"),
            ("172.17.1.80", "192.0.2.1 + 5000", "not a context of this gateway"),
            ("10.240.0.5", "198.51.100.1 + 5000", "encoded range"),
            ("0.0.0.0", "198.51.100.1 + 5000", "unspecified"),
            ("255.255.255.255", "198.51.100.1 + 5000", "broadcast"),
            ("ff02::1", "2001:db8::1 + 5000", "multicast")]:
        run = d.cli("map", "--publish", local, ipref, ok=False)
        check(run.returncode == 1 and why in run.stderr, f"{local} {ipref}: {run.stderr}")
    check(listed(d) == [], listed(d))
    # each of our contexts will do, the IPv4-mapped form of ours too
    d.cli("map", "--publish", "172.17.1.80", "198.51.100.1 + 5000")
    d.cli("map", "--publish", "172.17.1.81", "2001:db8::1 + 5001")
    out = d.cli("map", "--publish", "172.17.1.82", "::ffff:198.51.100.1 + 5002").stdout
    check("ipref:   198.51.100.1 + 5002" in out, out)
    check(len(listed(d)) == 3, listed(d))


def test_publish_command_checks_addresses(make, workdir):
    """`gwctl publish` prints records only for one of our contexts and a possible host."""
    d = make("gateway-name = gw.example.net\n")

    def publish(*args):
        return subprocess.run([GWCTL, "--config", d.conf, "publish", *args, "www.example.net"],
                              capture_output=True, text=True)
    for args, why in [(["--context", "203.0.113.9"], "not a context of this gateway"),
                      (["--context", "127.0.0.1"], "not a context of this gateway"),
                      (["--address", "10.240.0.5"], "encoded range"),
                      (["--address", "0.0.0.0"], "unspecified"),
                      (["--address", "::ffff:10.1.0.5"], "IPv4-mapped")]:
        run = publish(*args)
        check(run.returncode == 1 and why in run.stderr and not run.stdout,
              f"{args}: {run.returncode} {run.stdout} {run.stderr}")
    run = publish("--context", "::ffff:198.51.100.1", "--address", "10.1.0.5", "--ref", "5000")
    check(run.returncode == 0 and '"AA 198.51.100.1 + 5000"' in run.stdout, run.stdout + run.stderr)
    run = publish("--context", "GW.example.net", "--ref", "5000")
    check(run.returncode == 0 and '"AA gw.example.net + 5000"' in run.stdout, run.stdout + run.stderr)
    # without a configuration only addresses no gateway can have are refused
    bare = os.path.join(workdir, "bare.conf")
    with open(bare, "w") as f:
        f.write(f"socket = {d.sock}\n")
    run = subprocess.run([GWCTL, "--config", bare, "publish", "--context", "127.0.0.1",
                          "www.example.net"], capture_output=True, text=True)
    check(run.returncode == 1 and "loopback" in run.stderr, run.stdout + run.stderr)
    run = subprocess.run([GWCTL, "--config", bare, "publish", "--context", "203.0.113.9",
                          "--ref", "5000", "www.example.net"], capture_output=True, text=True)
    check(run.returncode == 0 and "AA 203.0.113.9 + 5000" in run.stdout, run.stdout + run.stderr)


def test_external_gateway_names_to_unusable_addresses(make, workdir):
    """An external host's gateway name that resolves to loopback (a common DNS mistake) is no
    gateway: the host is left out with a note; of several addresses a usable one is taken."""
    if not os.path.exists(NSD):
        return "skip"
    zone = os.path.join(workdir, "example.com.zone")
    with open(zone, "w") as f:
        f.write("$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
                "  IN NS ns1\nns1 IN A 192.0.2.53\nlo IN A 127.0.0.1\nany IN A 0.0.0.0\n"
                "two IN A 127.0.0.1\ntwo IN A 198.51.100.78\n")
    hosts = os.path.join(workdir, "hosts")
    with open(hosts, "w") as f:
        f.write("10.240.0.10 a #= external lo.example.com + 10\n"
                "10.240.0.11 b #= external any.example.com + 11\n"
                "10.240.0.12 c #= external two.example.com + 12\n")
    nsd = Nsd(workdir, {"example.com": zone}, ("ns1.example.com", "A"))
    try:
        d = make(f"hosts = {hosts}\ndns-server = 127.0.0.1@{nsd.port}\n").start()
        deadline = time.time() + 20
        rows = []
        while time.time() < deadline and not rows:
            db = sqlite3.connect(f"file:{d.db}?mode=ro", uri=True)
            rows = db.execute("SELECT address, ipref FROM mappings").fetchall()
            db.close()
            time.sleep(0.1)
        check(rows == [("10.240.0.12", "198.51.100.78 + 12")], rows)
        run = d.cli("reload")
        for name in ("lo.example.com", "any.example.com"):
            check(f"{name} does not resolve" in run.stdout and "remote gateway" in run.stdout,
                  run.stdout)
    finally:
        nsd.stop()


if __name__ == "__main__":
    sys.exit(Suite(GWCTLD, GWCTL).run([
        test_get_ea_refuses_unusable_contexts, test_mapped_context_is_its_ipv4_address,
        test_cli_refuses_unusable_contexts, test_ref_refuses_unusable_hosts,
        test_publish_needs_our_context_and_a_host, test_publish_command_checks_addresses,
        test_external_gateway_names_to_unusable_addresses,
    ]))
