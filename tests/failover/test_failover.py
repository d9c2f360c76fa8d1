#!/usr/bin/env python3
"""Failover of a site's two gateways (issue 20): keepalived moves site A's LAN gateway address
and public context address from ga1 to ga2 when ga1 is cut off (its links down, its daemons
killed), and A's flows go on through ga2 without a reset; then ga1 comes back as the backup,
takes nothing back, and carries the flows when ga2 is cut off in turn; last, the leader's
dataplane alone is killed, and `gwctl health` (the sample's check) makes keepalived move the
addresses away from it. See cluster.py for the network.

At each cut a TCP download of 60 MB from hb by ha, paced to last about eight seconds, runs
across it and must arrive whole (its SHA-256 checked); a ping every 10 ms from ha beside it
tells how long the path was broken (printed: timings are for bench/failover.sh, not asserted
here); then hb reaches ha through the survivor. Needs root, keepalived and network namespaces
(exit 77).

usage: test_failover.py GWCTLD GWCTL DATAPLANE STORE_MD (docs/store.md: its keepalived sample)"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import netns  # noqa: E402
import polling  # noqa: E402
from cluster import HA_AT_B, HB_AT_A, Cluster  # noqa: E402

SIZE = 60 << 20
RATE = 8 << 20  # bytes a second the client reads at: the transfer spans the cut

CLIENT = """
import hashlib, sys, time, urllib.request
url, rate = sys.argv[1], int(sys.argv[2])
h, got, start = hashlib.sha256(), 0, time.monotonic()
with urllib.request.urlopen(url, timeout=30) as r:
    while True:
        chunk = r.read(65536)
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
        ahead = got / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
print(got, h.hexdigest())
"""


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def ping_gap(output):
    """From `ping -D` output: (lost, longest gap between replies in seconds)."""
    times = [float(t) for t in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", output, re.M)]
    sent = re.search(r"(\d+) packets transmitted, (\d+) received", output)
    lost = int(sent.group(1)) - int(sent.group(2)) if sent else -1
    gap = max((b - a for a, b in zip(times, times[1:])), default=0.0)
    return lost, gap


def serve(c):
    """hb's web server, serving c.work/blob (SIZE random bytes): the blob's SHA-256."""
    page = os.path.join(c.work, "blob")
    with open(page, "wb") as f:
        f.write(os.urandom(SIZE))
    c.procs.append(netns.spawn(c.ns["hb"], ["python3", "-m", "http.server", "--bind", "::",
                                             "--directory", c.work, "8080"],
                               open(os.path.join(c.work, "web.log"), "w"),
                               stdin=subprocess.DEVNULL))
    polling.wait_until(lambda: polling.listening(8080, ns=c.ns["hb"]), 10,
                       lambda: "hb's web server: " + open(os.path.join(c.work, "web.log")).read())
    return hashlib.sha256(open(page, "rb").read()).hexdigest()


def failover(c, leader, backup, want, target=HB_AT_A):
    """Cuts the leader during a download from hb and a ping of it, both to target (an address
    or a name); returns what was measured."""
    result = {}

    def download():
        result["download"] = c.sh("python3", "-c", CLIENT, f"http://{target}:8080/blob",
                                  str(RATE), ns="ha", check=False, timeout=120)
    client = threading.Thread(target=download)
    pinger = subprocess.Popen(["ip", "netns", "exec", c.ns["ha"], "ping", "-D", "-i", "0.01",
                               "-W", "1", "-w", "9", target],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    c.procs.append(pinger)
    client.start()
    time.sleep(3)  # about a third of the transfer
    cut_at = time.time()
    c.cut(leader)
    took_over = polling.wait_until(lambda: c.holds_vips(backup) and time.time(), 30,
                                   lambda: f"{backup} to take the addresses: " + c.tail(backup))
    client.join(timeout=150)
    out = pinger.communicate(timeout=30)[0]
    lost, gap = ping_gap(out)
    run = result.get("download")
    check(run is not None and run.returncode == 0,
          f"the download failed across the cut: {run and (run.stdout + run.stderr)}")
    got, digest = run.stdout.split()
    check(int(got) == SIZE and digest == want, f"the download arrived broken: {run.stdout}")
    return {"addresses moved after": took_over - cut_at, "pings lost": lost,
            "longest gap between ping replies": gap}


def main():
    if os.geteuid() != 0:
        print("SKIP: the failover test needs root for network namespaces and TUN devices")
        return 77
    keepalived = shutil.which("keepalived") or "/usr/sbin/keepalived"
    if not os.access(keepalived, os.X_OK):
        print("SKIP: keepalived is not installed (Debian: keepalived; tools/setup installs it)")
        return 77
    c = Cluster(*sys.argv[1:4], keepalived, sys.argv[4])
    if not netns.usable(c.tag + "probe"):
        print("SKIP: cannot create network namespaces here")
        return 77
    try:
        c.build()
        c.start_gateways()
        c.start_pair()
        for ns, target in (("ha", HB_AT_A), ("hb", HA_AT_B)):
            run = c.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", target, ns=ns, check=False)
            check(run.returncode == 0, f"before the cut, {ns} -> {target}: {run.stdout}")
        want = serve(c)
        # the loss of either gateway: ga1 first; then ga1 back as the backup, and ga2 lost
        for leader, backup in (("ga1", "ga2"), ("ga2", "ga1")):
            measured = failover(c, leader, backup, want)
            check(c.leader() == backup, f"{backup} leads after {leader}'s loss")
            run = c.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", HA_AT_B, ns="hb", check=False)
            check(run.returncode == 0, f"after the cut, hb -> ha through {backup}: {run.stdout}")
            print(f"measured, {leader} lost: " + ", ".join(
                f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v}"
                for k, v in measured.items()))
            c.restore(leader)
            check(c.leader() == backup, f"{leader} back took nothing back from {backup}")
        # the leader's dataplane alone dies: gwctld still answers, but `gwctl health` fails
        # and keepalived gives the addresses up to the other gateway
        leader = c.leader()
        other = "ga2" if leader == "ga1" else "ga1"
        killed_at = time.time()
        c.gw[leader].stop("dataplane", signal.SIGKILL)
        moved = polling.wait_until(
            lambda: c.holds_vips(other) and not c.holds_vips(leader) and time.time(), 30,
            lambda: f"{other} to take the addresses from {leader}, whose dataplane died: " +
            c.tail(leader))
        for ns, target in (("ha", HB_AT_A), ("hb", HA_AT_B)):
            run = c.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", target, ns=ns, check=False)
            check(run.returncode == 0, f"through {other}, {ns} -> {target}: {run.stdout}")
        print(f"measured, {leader}'s dataplane lost: addresses moved after "
              f"{moved - killed_at:.2f} s")
        print("1 passed, 0 failed")
        return 0
    except Exception:
        import traceback
        traceback.print_exc()
        for name in ("ga1", "ga2", "gb"):
            if name in c.gw:
                print(f"--- {name} ---\n" + c.tail(name))
        print("0 passed, 1 failed")
        return 1
    finally:
        c.cleanup()


if __name__ == "__main__":
    sys.exit(main())
