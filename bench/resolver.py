#!/usr/bin/env python3
"""The resolver benchmark's measurements (run by bench/resolver.sh, which builds first).

One NSD serves a generated zone of N native names (A) and N IPREF names (AA TXT, an address
context each); gwctld keeps its store on the disk (/var/tmp) as in production; two Unbounds of
the same build and configuration, one without the module ("stock") and one with it, answer
dnsperf. Every ratio compares numbers from this one run.
usage: resolver.py UNBOUND_BUILD MODULE GWCTLD NAMES THREADS"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "gwctl"))
from ctl import Daemon  # noqa: E402
from servers import Nsd, Unbound  # noqa: E402

BUILD, MODULE, GWCTLD = (os.path.abspath(a) for a in sys.argv[1:4])
NAMES, THREADS = int(sys.argv[4]), int(sys.argv[5])
CLIENTS = 16  # dnsperf sockets: Unbound spreads queries over its threads by source port
CACHED_SET = 2000  # names looped over in the cached runs
LATENCY_QPS = 500  # the paced run that measures latency below saturation
LATENCY_NAMES = 3000


def write_zone(path, count):
    with open(path, "w") as f:
        f.write("$ORIGIN bench.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 3600\n"
                "@ NS ns1\nns1 A 127.0.0.1\n")
        for i in range(count):
            f.write(f"n{i} A 192.0.2.{i % 250 + 1}\n")
            f.write(f'h{i} TXT "AA 198.51.{i // 250 % 250}.{i % 250 + 1} + {i + 4096}"\n')


def query_file(path, prefix, names):
    with open(path, "w") as f:
        for i in names:
            f.write(f"{prefix}{i}.bench.test A\n")
    return path


def dnsperf(port, qfile, *args):
    run = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
                          "-c", str(CLIENTS), "-t", "5", *args], capture_output=True, text=True)
    out = run.stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    codes = re.search(r"Response codes:\s+(.*)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out).group(1)
    completed = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
    latencies = [float(m) for m in re.findall(r"^> \S+ .* ([\d.]+)$", out, re.M)]
    return {"qps": qps, "codes": codes.group(1) if codes else "none", "lost": int(lost),
            "completed": completed,
            "median_ms": statistics.median(latencies) * 1000 if latencies else None,
            "cpu": None}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server, qfile, *args):
    before = cpu_seconds(server.proc.pid)
    result = dnsperf(server.port, qfile, *args)
    result["cpu"] = cpu_seconds(server.proc.pid) - before
    return result


def main():
    for tool in ("dnsperf", "nsd"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"{tool} is not installed (tools/setup installs it)")
    work = tempfile.mkdtemp(prefix="ipref-bench-resolver-", dir="/var/tmp")
    servers = []
    try:
        zone = os.path.join(work, "bench.test.zone")
        write_zone(zone, 2 * NAMES + CACHED_SET + 2 * LATENCY_NAMES)
        gw = Daemon(GWCTLD, work, "").start()
        servers.append(gw)
        nsd = Nsd(work, {"bench.test": zone}, ("ns1.bench.test", "A"))
        servers.append(nsd)
        with open(os.path.join(work, "resolver.conf"), "w") as f:
            f.write(f"socket = {gw.sock}\n")
        common = f"""    num-threads: {THREADS}
    local-zone: "test." nodefault
    msg-cache-size: 128m
    rrset-cache-size: 256m
    num-queries-per-thread: 1024
"""
        stub = f'stub-zone:\n    name: "bench.test"\n    stub-addr: 127.0.0.1@{nsd.port}\n'
        stock = Unbound(BUILD, work, common + '    module-config: "validator iterator"\n', stub,
                        name="stock").start()
        servers.append(stock)
        ipref = Unbound(BUILD, work, common + '    module-config: "dynlib validator iterator"\n',
                        f'dynlib:\n    dynlib-file: "{MODULE}"\n' + stub,
                        env={"IPREF_RESOLVER_CONF": os.path.join(work, "resolver.conf")},
                        name="ipref").start()
        servers.append(ipref)

        q = lambda name, prefix, names: query_file(os.path.join(work, name), prefix, names)
        first = range(NAMES)
        cached = range(NAMES, NAMES + CACHED_SET)
        paced_a = range(NAMES + CACHED_SET, NAMES + CACHED_SET + LATENCY_NAMES)
        paced_b = range(NAMES + CACHED_SET + LATENCY_NAMES, NAMES + CACHED_SET + 2 * LATENCY_NAMES)
        results = {}
        # first lookups of unique names, as fast as each server goes (one pass, no repeats)
        results["first native, stock"] = measure(stock, q("n.first", "n", first), "-n", "1",
                                                 "-q", "256")
        results["first IPREF, module"] = measure(ipref, q("h.first", "h", first), "-n", "1",
                                                 "-q", "256")
        # the module's cost without gwctld: native names, its parallel TXT lookup included
        other = range(NAMES + CACHED_SET + 2 * LATENCY_NAMES, 2 * NAMES + CACHED_SET +
                      2 * LATENCY_NAMES)
        results["first native, module"] = measure(ipref, q("n.other", "n", other), "-n", "1",
                                                  "-q", "256")
        # first lookups paced below saturation, for latency (per query, from dnsperf -v)
        results["paced native, stock"] = measure(stock, q("n.paced", "n", paced_a), "-n", "1",
                                                 "-Q", str(LATENCY_QPS), "-v")
        results["paced IPREF, module"] = measure(ipref, q("h.paced", "h", paced_b), "-n", "1",
                                                 "-Q", str(LATENCY_QPS), "-v")
        # cached names: warm once, then loop for 10 s
        nc, hc = q("n.cached", "n", cached), q("h.cached", "h", cached)
        dnsperf(stock.port, nc, "-n", "1")
        dnsperf(ipref.port, hc, "-n", "1")
        dnsperf(ipref.port, nc, "-n", "1")
        # interleaved rounds, the median of each kept: the machine's noise drifts over seconds
        rounds = {"cached native, stock": [], "cached IPREF, module": [],
                  "cached native, module": []}
        for _ in range(3):
            rounds["cached native, stock"].append(measure(stock, nc, "-l", "4", "-q", "256"))
            rounds["cached IPREF, module"].append(measure(ipref, hc, "-l", "4", "-q", "256"))
            rounds["cached native, module"].append(measure(ipref, nc, "-l", "4", "-q", "256"))
        for name, runs in rounds.items():
            results[name] = sorted(runs, key=lambda x: x["qps"])[1]
        report(results)
    finally:
        for s in reversed(servers):
            s.stop()
        subprocess.run(["rm", "-rf", work])


def report(r):
    def row(name, base):
        a, b = r[name], r[base]
        return (f"| {name} | {a['qps']:,.0f}/s | {base}: {b['qps']:,.0f}/s | "
                f"{a['qps'] / b['qps']:.2f} | {a['codes']} |")

    print(f"Unbound worker threads: {THREADS}; dnsperf clients: {CLIENTS}; "
          f"{NAMES} unique names per first-lookup run; {time.strftime('%Y-%m-%d')}\n")
    print("| measurement | rate | baseline (same run) | ratio | response codes |")
    print("|---|---|---|---|---|")
    print(row("cached IPREF, module", "cached native, stock"))
    print(row("cached native, module", "cached native, stock"))
    print(row("first IPREF, module", "first native, stock"))
    print(row("first native, module", "first native, stock"))
    a, b = r["paced IPREF, module"], r["paced native, stock"]
    print(f"| median latency of first lookups at {LATENCY_QPS}/s | {a['median_ms']:.3f} ms | "
          f"{b['median_ms']:.3f} ms | {a['median_ms'] / b['median_ms']:.2f} | {a['codes']} |")
    print("\n| run | Unbound CPU per answered query |")
    print("|---|---|")
    for name, x in r.items():
        print(f"| {name} | {x['cpu'] * 1e6 / max(x['completed'], 1):.1f} us |")


if __name__ == "__main__":
    main()
