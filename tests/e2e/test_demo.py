#!/usr/bin/env python3
"""The README's first command's demo runs to its end, and leaves nothing behind, also when
interrupted with Ctrl-C half way. Needs root (exit 77 otherwise).
usage: test_demo.py BUILD_DIR UNBOUND_BUILD"""
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD, UNBOUND_BUILD = sys.argv[1:3]
DEMO = [sys.executable, os.path.join(HERE, "demo.py"), BUILD, UNBOUND_BUILD]


def leftovers(pid):
    """What a demo run as process PID left: its namespaces are named "ipr<PID><host>" (sites.py),
    so other tests' namespaces, made while this one runs, are not taken for the demo's."""
    tag = re.compile(r"ipr%d[a-z]" % pid)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [n for n in listed.split() if tag.match(n)]
    netns = os.listdir("/etc/netns") if os.path.isdir("/etc/netns") else []
    procs = subprocess.run(["pgrep", "-f", "ipref-sites-"], capture_output=True, text=True)
    return sorted(names), sorted(n for n in netns if tag.match(n)), procs.stdout.split()


def main():
    if os.geteuid() != 0:
        print("SKIP: the demo needs root for network namespaces")
        return 77
    passed = failed = 0
    before = leftovers(0)[2]

    demo = subprocess.Popen(DEMO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = demo.communicate(timeout=600)
    steps = ["1. Site B publishes b6", '"AA gw.site-b.example + 2466"', "b6.site-b.example.",
             "3 received, 0% packet loss", "Hello from b6! You reach me from fdee:eeee::",
             "Hello from a1! You reach me from 10.2", "dynamic remote", "Done."]
    missing = [s for s in steps if s not in out]
    left = leftovers(demo.pid)
    if demo.returncode == 0 and not missing and left == ([], [], before):
        passed += 1
        print("ok   demo runs to its end and cleans up")
    else:
        failed += 1
        print(f"FAIL demo: exit {demo.returncode}, missing {missing}, left {left}")
        print(out[-6000:] + err[-2000:])

    # Ctrl-C in the middle: everything is still removed
    p = subprocess.Popen(DEMO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    deadline = time.time() + 300
    while "3. a1 pings b6" not in seen and time.time() < deadline and p.poll() is None:
        seen += p.stdout.readline()
    p.send_signal(signal.SIGINT)
    rest, _ = p.communicate(timeout=60)
    left = leftovers(p.pid)
    if "Interrupted: cleaning up." in rest and left == ([], [], before):
        passed += 1
        print("ok   Ctrl-C cleans up")
    else:
        failed += 1
        print(f"FAIL Ctrl-C: left {left}\n{seen[-3000:]}{rest[-3000:]}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
