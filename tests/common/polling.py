"""Polling waits and counter reads shared by the integration tests, so that none waits a fixed
time for something it can observe: wait_until, stats (`gwctl stats --json`) and wait_reports."""

import json
import subprocess
import time


def wait_until(predicate, seconds, what, interval=0.05, error=AssertionError):
    """predicate()'s first true value, polled every interval for up to seconds; on timeout an
    error (AssertionError) naming what (a string, or a callable giving one, e.g. with the last
    state)."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise error(f"timed out after {seconds} s waiting for "
                                 f"{what() if callable(what) else what}")
        time.sleep(interval)


def stats(sock, gwctl, ns=None, check=True):
    """gwctld's counters as {name: int}, read with `gwctl stats --json` (inside network namespace
    ns when given). With check=False a failed read gives {} (the daemon not up yet)."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [gwctl, "--socket", sock, "stats",
                                                         "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        if check:
            raise AssertionError(f"{' '.join(cmd)}: {run.returncode}\n{run.stdout}{run.stderr}")
        return {}
    return json.loads(run.stdout)


def wait_reports(*reads, count=2, seconds=20):
    """Waits until gwctld has received count more counter reports than when called, on every
    gateway (each read() gives one gateway's stats); returns their stats then. Two reports: the
    first may have been taken before the caller's traffic ended, the second after it arrived."""
    name = "gwctld.requests.report_counters"
    start = [read().get(name, 0) for read in reads]

    def fresh():
        now = [read() for read in reads]
        return now if all(s.get(name, 0) >= n + count for s, n in zip(now, start)) else None
    return wait_until(fresh, seconds, f"{count} counter reports after {start}", interval=0.2)


def listening(port, udp=False, ns=None):
    """Whether something listens on port (TCP, or UDP), in network namespace ns when given."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ss", "-Hln" + ("u" if udp else "t"),
                                                         f"sport = :{port}"]
    return bool(subprocess.run(cmd, capture_output=True, text=True).stdout.strip())
