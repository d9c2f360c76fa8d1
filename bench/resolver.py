#!/usr/bin/env python3
"""The resolver benchmark's measurements (run by bench/resolver.sh, which builds first).

One NSD serves a generated zone of N native names (A) and N IPREF names (AA TXT, an address
context each); gwctld keeps its store on the disk (/var/tmp) as in production; two Unbounds of
the same build and configuration, one without the module ("stock") and one with it, answer
dnsperf. Every ratio compares numbers from this one run. Two more pairs of the same Unbounds
reach a server FAR_MS away (through bench/udp_delay, or UdpDelay), for first lookups
at a distance; a last pair measures memory after MEMORY_NAMES first lookups.
usage: resolver.py UNBOUND_BUILD MODULE GWCTLD NAMES THREADS
environment: IPREF_BENCH_STORE (the store's folder, /var/tmp; /dev/shm takes the fsync away),
IPREF_BENCH_FAR_MS (the distant server's added round trip, 10), IPREF_BENCH_FAR (c or python:
the relay that holds queries), IPREF_BENCH_MEMORY_NAMES (100000)"""
import os
import re
import resource
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
from servers import Nsd, Unbound, dig, stop_process  # noqa: E402
from udp_delay import UdpDelay  # noqa: E402

BUILD, MODULE, GWCTLD = (os.path.abspath(a) for a in sys.argv[1:4])
NAMES, THREADS = int(sys.argv[4]), int(sys.argv[5])
CLIENTS = 16  # dnsperf sockets: Unbound spreads queries over its threads by source port
# dnsperf processes, each from an address of its own (127.0.2.N), as LAN clients: gwctld bounds
# the new names each client makes (client-limit), and its count of a client's values costs
# time in proportion to them (gwctl/quota.c), which one client making every name would inflate
SOURCES = 16
CACHED_SET = 2000  # names looped over in the cached runs
LATENCY_QPS = 500  # the paced run that measures latency below saturation
LATENCY_NAMES = 3000
STORE_DIR = os.environ.get("IPREF_BENCH_STORE", "/var/tmp")  # /dev/shm: the store without fsync
FAR_MS = int(os.environ.get("IPREF_BENCH_FAR_MS", "10"))  # the authoritative server's distance
# how the distance is made: "c" (bench/udp_delay.c, a few system calls per query) or "python"
# (tests/common/udp_delay.py, a thread of this process that spends tens of microseconds of CPU
# on every packet, on the cores the resolvers share: at 256 in flight it bounded the rates, and
# the module sends two queries per question where stock sends one). The kernel's netem would
# cost nothing, but this machine's kernel has no sch_netem.
FAR_HOW = os.environ.get("IPREF_BENCH_FAR", "c")
FAR_NAMES = 1500  # names per run at a distance (3 s at LATENCY_QPS)
FAR_SATURATED = 6000  # names per run at a distance with 256 queries in flight
MEMORY_NAMES = int(os.environ.get("IPREF_BENCH_MEMORY_NAMES", "100000"))  # per memory run
# every name comes from one client (dnsperf on loopback): gwctld's limit on new names per
# client (512 by default, docs/gwctl.conf.md) would refuse nearly all of them
GWCTLD_EXTRA = "client-limit = 16777216\n"


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


def share(args, sources):
    """dnsperf's options for one of sources processes: in-flight and rate limits divided."""
    out = list(args)
    for i, a in enumerate(out[:-1]):
        if a in ("-q", "-Q"):
            out[i + 1] = str(max(1, round(int(out[i + 1]) / sources)))
    return out


def dnsperf(port, qfile, *args):
    """One dnsperf per source address (SOURCES of them, each CLIENTS / SOURCES sockets), the
    names dealt out among them, run together; the figures summed as one run's."""
    with open(qfile) as f:
        lines = f.readlines()
    procs = []
    for k in range(SOURCES):
        part = f"{qfile}.{k}"
        with open(part, "w") as f:
            f.writelines(lines[k::SOURCES])
        procs.append(subprocess.Popen(
            ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", part, "-a", f"127.0.2.{k + 1}",
             "-c", str(max(1, CLIENTS // SOURCES)), "-t", "5", *share(args, SOURCES)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    outs = [p.communicate()[0] for p in procs]
    completed = lost = 0
    elapsed = 0.0
    codes, latencies = {}, []
    for out in outs:
        completed += int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
        lost += int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
        elapsed = max(elapsed, float(re.search(r"Run time \(s\):\s+([\d.]+)", out).group(1)))
        found = re.search(r"Response codes:\s+(.*)", out)
        for code, count in re.findall(r"(\w+) (\d+) \(", found.group(1) if found else ""):
            codes[code] = codes.get(code, 0) + int(count)
        latencies += [float(m) for m in re.findall(r"^> \S+ .* ([\d.]+)$", out, re.M)]
    total = sum(codes.values())
    text = ", ".join(f"{c} {n} ({n * 100 / total:.2f}%)" for c, n in codes.items()) or "none"
    return {"qps": completed / elapsed if elapsed else 0.0, "codes": text, "lost": lost,
            "completed": completed,
            "median_ms": statistics.median(latencies) * 1000 if latencies else None,
            "p99_ms": (sorted(latencies)[int(len(latencies) * 0.99)] * 1000
                       if latencies else None),
            "cpu": None}


GWCTLD_ALONE = {}


def gwctld_alone(sock):
    """The median of LATENCY_NAMES new names' GET_EA sent to gwctld one at a time, LATENCY_QPS a
    second, from SOURCES clients (bench/gwctl_bench, built beside gwctld), in ms."""
    bench = os.path.join(os.path.dirname(os.path.dirname(GWCTLD)), "bench", "gwctl_bench")
    out = subprocess.run([bench, sock, "latency", str(LATENCY_NAMES), str(LATENCY_NAMES),
                          str(1000000 // LATENCY_QPS), str(SOURCES)],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"p50=([\d.]+)us", out).group(1)) / 1000


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def memory(server):
    """Unbound's resident set (KiB) and its own accounting (unbound-control's mem.* counters)."""
    out = server.control("stats_noreset").stdout
    mem = {k: int(v) for k, v in re.findall(r"^(mem\.[\w.]+)=(\d+)$", out, re.M)}
    return {"rss_kib": rss_kib(server.proc.pid), "mem": mem}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


RELAY = []  # the C relay's process while it runs


def relay_cpu_seconds():
    """The relay's CPU: the C relay's process, or this process (the Python relay's thread)."""
    if RELAY:
        return cpu_seconds(RELAY[0].pid)
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(server, qfile, *args):
    before, relay = cpu_seconds(server.proc.pid), relay_cpu_seconds()
    result = dnsperf(server.port, qfile, *args)
    result["cpu"] = cpu_seconds(server.proc.pid) - before
    result["relay_cpu"] = relay_cpu_seconds() - relay
    return result


class Relay:
    """The distant server through UdpDelay on loopback."""

    def __init__(self, nsd, delay_s):
        self.relay = UdpDelay(nsd.port, delay_s)
        self.addr, self.port = "127.0.0.1", self.relay.port

    def stop(self):
        self.relay.stop()


class CRelay:
    """The distant server through bench/udp_delay (built beside gwctld), a process of its own."""

    def __init__(self, nsd, delay_s):
        self.proc = subprocess.Popen([os.path.join(os.path.dirname(os.path.dirname(GWCTLD)),
                                                   "bench", "udp_delay"), str(nsd.port),
                                      str(round(delay_s * 1000))],
                                     stdout=subprocess.PIPE, text=True)
        self.addr, self.port = "127.0.0.1", int(self.proc.stdout.readline())
        RELAY.append(self.proc)

    def stop(self):
        RELAY.clear()
        stop_process(self.proc)


class Names:
    """Hands out consecutive runs of name numbers, so that no two runs share a name."""

    def __init__(self):
        self.next = 0

    def take(self, count):
        run = range(self.next, self.next + count)
        self.next += count
        return run


def main():
    for tool in ("dnsperf", "nsd"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"{tool} is not installed (tools/setup installs it)")
    work = tempfile.mkdtemp(prefix="ipref-bench-resolver-", dir=STORE_DIR)
    servers = []
    try:
        zone = os.path.join(work, "bench.test.zone")
        # every run below takes names of its own from Names: at most this many numbers in all
        write_zone(zone, 3 * NAMES + 2 * CACHED_SET + 3 * LATENCY_NAMES + 6 * FAR_NAMES +
                   3 * FAR_SATURATED + MEMORY_NAMES)
        # an address outside the zone's contexts (198.51.x.y): a gateway's own are refused
        gw = Daemon(GWCTLD, work, GWCTLD_EXTRA, gateway="192.0.2.254",
                    gwctl=os.path.join(os.path.dirname(GWCTLD), "gwctl")).start()
        servers.append(gw)
        nsd = Nsd(work, {"bench.test": zone}, ("ns1.bench.test", "A"))
        servers.append(nsd)
        with open(os.path.join(work, "resolver.conf"), "w") as f:
            f.write(f"socket = {gw.sock}\n")

        def unbound(name, with_module, nsd_port, extra="", nsd_addr="127.0.0.1"):
            common = f"""    num-threads: {THREADS}
    local-zone: "test." nodefault
    msg-cache-size: 128m
    rrset-cache-size: 256m
    num-queries-per-thread: 1024
{extra}"""
            stub = f'stub-zone:\n    name: "bench.test"\n    stub-addr: {nsd_addr}@{nsd_port}\n'
            if not with_module:
                server = Unbound(BUILD, work, common + '    module-config: "validator iterator"\n',
                                 stub, name=name)
            else:
                server = Unbound(BUILD, work,
                                 common + '    module-config: "dynlib validator iterator"\n',
                                 f'dynlib:\n    dynlib-file: "{MODULE}"\n' + stub,
                                 env={"IPREF_RESOLVER_CONF": os.path.join(work, "resolver.conf")},
                                 name=name)
            servers.append(server.start())
            return server

        # as dist/unbound.conf sets it; it changes nothing for stock's A lookups of these names
        sample = "    qname-minimisation: no\n"
        stock = unbound("stock", False, nsd.port, sample)
        ipref = unbound("ipref", True, nsd.port, sample)
        names = Names()
        q = lambda name, prefix, count: query_file(os.path.join(work, name), prefix,
                                                   names.take(count))
        paced = ("-n", "1", "-Q", str(LATENCY_QPS), "-v")
        results = {}
        # first lookups of unique names, as fast as each server goes (one pass, no repeats)
        results["first native, stock"] = measure(stock, q("n.first", "n", NAMES), "-n", "1",
                                                 "-q", "256")
        results["first IPREF, module"] = measure(ipref, q("h.first", "h", NAMES), "-n", "1",
                                                 "-q", "256")
        # the module's cost without gwctld: native names, its parallel TXT lookup included
        results["first native, module"] = measure(ipref, q("n.other", "n", NAMES), "-n", "1",
                                                  "-q", "256")
        # first lookups paced below saturation, for latency (per query, from dnsperf -v)
        results["paced native, stock"] = measure(stock, q("n.paced", "n", LATENCY_NAMES), *paced)
        results["paced IPREF, module"] = measure(ipref, q("h.paced", "h", LATENCY_NAMES), *paced)
        # the floor for IPREF names: the module's parallel TXT lookup without gwctld
        results["paced native, module"] = measure(ipref, q("n.paced2", "n", LATENCY_NAMES),
                                                  *paced)
        # gwctld alone, asked as the paced IPREF run asks it: what of that median is its own
        GWCTLD_ALONE["median_ms"] = gwctld_alone(gw.sock)
        # cached names: warm once, then loop for 10 s
        nc, hc = q("n.cached", "n", CACHED_SET), q("h.cached", "h", CACHED_SET)
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

        # the same paced first lookups with the authoritative server FAR_MS away, as in
        # deployment, where round trips cost more than CPU: with Unbound's default QNAME
        # minimisation, and without it (docs/resolver.md, "Round trips")
        far = (CRelay if FAR_HOW == "c" else Relay)(nsd, FAR_MS / 1000)
        try:
            for minimise in ("yes", "no"):
                extra = f"    qname-minimisation: {minimise}\n"
                stock_far = unbound(f"stock-far-{minimise}", False, far.port, extra, far.addr)
                ipref_far = unbound(f"ipref-far-{minimise}", True, far.port, extra, far.addr)
                for key, server, prefix in (("native, stock", stock_far, "n"),
                                            ("IPREF, module", ipref_far, "h"),
                                            ("native, module", ipref_far, "n")):
                    results[f"far {key}, minimisation {minimise}"] = measure(
                        server, q(f"{prefix}.far", prefix, FAR_NAMES), *paced)
                    # as the sample configuration runs: saturated, 256 queries in flight
                    if minimise == "no":
                        results[f"far saturated {key}"] = measure(
                            server, q(f"{prefix}.farsat", prefix, FAR_SATURATED), "-n", "1",
                            "-q", "256", "-v")
                for server in (servers.pop(), servers.pop()):
                    server.stop()
        finally:
            far.stop()

        # memory: a fresh pair, stock after MEMORY_NAMES native names and the module after as
        # many IPREF names (each first looked up once, all still cached at the end)
        numbers = names.take(MEMORY_NAMES)
        counted = sample + "    extended-statistics: yes\n"  # unbound-control's mem.*
        mem_stock = unbound("stock-memory", False, nsd.port, counted)
        mem_ipref = unbound("ipref-memory", True, nsd.port, counted)
        memory_results = {}
        for key, server, prefix in (("stock, native names", mem_stock, "n"),
                                    ("module, IPREF names", mem_ipref, "h")):
            start = memory(server)
            run = measure(server, query_file(os.path.join(work, f"{prefix}.memory"), prefix,
                                             numbers), "-n", "1", "-q", "64")
            memory_results[key] = {"start": start, "end": memory(server), "run": run}
        # the module reports its counters on a question once 2 s have passed: why it failed any
        time.sleep(2.5)
        dig(mem_ipref.port, "n0.bench.test", "A")
        time.sleep(0.5)
        memory_results["counters"] = {k: v for k, v in gw.stats().items()
                                      if k.startswith("resolver.") and v}
        for server in (servers.pop(), servers.pop()):
            server.stop()
        report(results, memory_results)
    finally:
        for s in reversed(servers):
            s.stop()
        subprocess.run(["rm", "-rf", work])


def report_memory(m):
    print(f"\n| memory after {MEMORY_NAMES:,} first lookups | stock, native names | "
          "module, IPREF names | ratio |")
    print("|---|---|---|---|")
    s, i = m["stock, native names"], m["module, IPREF names"]
    row = lambda what, a, b: print(f"| {what} | {a:,} | {b:,} | {b / a:.2f} |")
    row("RSS at the end, KiB", s["end"]["rss_kib"], i["end"]["rss_kib"])
    row("RSS growth during the run, KiB", s["end"]["rss_kib"] - s["start"]["rss_kib"],
        i["end"]["rss_kib"] - i["start"]["rss_kib"])
    for key in sorted(set(s["end"]["mem"]) | set(i["end"]["mem"])):
        a, b = s["end"]["mem"].get(key, 0), i["end"]["mem"].get(key, 0)
        if a or b:
            print(f"| {key}, bytes | {a:,} | {b:,} | {b / a:.2f} |" if a else
                  f"| {key}, bytes | {a:,} | {b:,} | |")
    print(f"| response codes | {s['run']['codes']} | {i['run']['codes']} | |")
    print("\nThe module's counters after the memory run: " +
          ", ".join(f"{k} {v:,}" for k, v in sorted(m["counters"].items())))


def report(r, m):
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
    for minimise in ("yes", "no"):
        b = r[f"far native, stock, minimisation {minimise}"]
        for what in ("IPREF, module", "native, module"):
            a = r[f"far {what}, minimisation {minimise}"]
            print(f"| median latency, server {FAR_MS} ms away, qname-minimisation {minimise}: "
                  f"{what} | {a['median_ms']:.3f} ms | native, stock: {b['median_ms']:.3f} ms | "
                  f"{a['median_ms'] / b['median_ms']:.2f} | {a['codes']} |")
    b = r["far saturated native, stock"]
    for what in ("IPREF, module", "native, module"):
        a = r[f"far saturated {what}"]
        print(f"| server {FAR_MS} ms away, 256 in flight: {what} | {a['qps']:,.0f}/s, median "
              f"{a['median_ms']:.3f} ms, p99 {a['p99_ms']:.3f} ms | native, stock: "
              f"{b['qps']:,.0f}/s, median {b['median_ms']:.3f} ms, p99 {b['p99_ms']:.3f} ms | "
              f"rate {a['qps'] / b['qps']:.2f}, median {a['median_ms'] / b['median_ms']:.2f}, "
              f"p99 {a['p99_ms'] / b['p99_ms']:.2f} | {a['codes']} |")
    a, b = r["first IPREF, module"], r["first native, module"]
    print(f"| first IPREF, module, against first native, module | {a['qps']:,.0f}/s | "
          f"{b['qps']:,.0f}/s | {a['qps'] / b['qps']:.2f} | {a['codes']} |")
    c, b = r["paced native, module"], r["paced native, stock"]
    print(f"| median latency of first lookups of native names through the module at "
          f"{LATENCY_QPS}/s | {c['median_ms']:.3f} ms | {b['median_ms']:.3f} ms | "
          f"{c['median_ms'] / b['median_ms']:.2f} | {c['codes']} |")
    a, c = r["paced IPREF, module"], r["paced native, module"]
    print(f"| 99th percentile of first lookups at {LATENCY_QPS}/s: IPREF, module | "
          f"{a['p99_ms']:.3f} ms | native, module: {c['p99_ms']:.3f} ms; native, stock: "
          f"{b['p99_ms']:.3f} ms | {a['p99_ms'] / c['p99_ms']:.2f} | {a['codes']} |")
    gap = a["median_ms"] - c["median_ms"]
    print(f"| median of first IPREF lookups at {LATENCY_QPS}/s less that of native names through "
          f"the module | {gap:.3f} ms | gwctld alone, a new name's GET_EA at {LATENCY_QPS}/s: "
          f"{GWCTLD_ALONE['median_ms']:.3f} ms | {gap / GWCTLD_ALONE['median_ms']:.2f} | |")
    report_memory(m)
    print(f"\nThe distant server's relay: {FAR_HOW}.\n")
    print("| run | Unbound CPU per answered query | the relay's (distant runs) |")
    print("|---|---|---|")
    for name, x in r.items():
        n = max(x["completed"], 1)
        print(f"| {name} | {x['cpu'] * 1e6 / n:.1f} us | {x['relay_cpu'] * 1e6 / n:.1f} us |")


if __name__ == "__main__":
    main()
