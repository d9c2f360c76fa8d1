#!/usr/bin/env python3
"""The README's first command's demo runs to its end, and leaves nothing behind, also when
interrupted with Ctrl-C half way. Needs root (exit 77 otherwise).
usage: test_demo.py BUILD_DIR UNBOUND_BUILD"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD, UNBOUND_BUILD = sys.argv[1:3]
DEMO = [sys.executable, os.path.join(HERE, "demo.py"), BUILD, UNBOUND_BUILD]


def leftovers():
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    netns = os.listdir("/etc/netns") if os.path.isdir("/etc/netns") else []
    procs = subprocess.run(["pgrep", "-f", "ipref-sites-"], capture_output=True, text=True)
    return sorted(names.split()), sorted(netns), procs.stdout.split()


def main():
    if os.geteuid() != 0:
        print("SKIP: the demo needs root for network namespaces")
        return 77
    passed = failed = 0
    before = leftovers()

    run = subprocess.run(DEMO, capture_output=True, text=True, timeout=600)
    out = run.stdout
    steps = ["1. Site B publishes b6", '"AA gw.site-b.example + 2466"', "b6.site-b.example.",
             "3 received, 0% packet loss", "Hello from b6! You reach me from fdee:eeee::",
             "Hello from a1! You reach me from 10.2", "dynamic remote", "Done."]
    missing = [s for s in steps if s not in out]
    if run.returncode == 0 and not missing and leftovers() == before:
        passed += 1
        print("ok   demo runs to its end and cleans up")
    else:
        failed += 1
        print(f"FAIL demo: exit {run.returncode}, missing {missing}, left {leftovers()}")
        print(out[-6000:] + run.stderr[-2000:])

    # Ctrl-C in the middle: everything is still removed
    p = subprocess.Popen(DEMO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    deadline = time.time() + 300
    while "3. a1 pings b6" not in seen and time.time() < deadline and p.poll() is None:
        seen += p.stdout.readline()
    p.send_signal(signal.SIGINT)
    rest, _ = p.communicate(timeout=60)
    if "Interrupted: cleaning up." in rest and leftovers() == before:
        passed += 1
        print("ok   Ctrl-C cleans up")
    else:
        failed += 1
        print(f"FAIL Ctrl-C: left {leftovers()}\n{seen[-3000:]}{rest[-3000:]}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
