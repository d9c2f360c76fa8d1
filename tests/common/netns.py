"""Network namespaces for the integration tests: commands run inside one, veth links,
addresses and routes, processes started in one and stopped by PID, and removal by name. Names
are full namespace names; each harness tags them with its PID (tests/dataplane/twosites.py,
tests/e2e/sites.py) so that runs side by side never meet."""

import signal
import subprocess

from servers import stop_process


def sh(*args, ns=None, check=True, timeout=30, error=AssertionError, **kw):
    """Runs args (inside namespace ns when given); with check, a failure raises error."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and run.returncode != 0:
        raise error(f"{' '.join(cmd)} exited {run.returncode}:\n{run.stdout}{run.stderr}")
    return run


def spawn(ns, args, out, **kw):
    """A process started inside namespace ns, its output to out; stop it with stop()."""
    return subprocess.Popen(["ip", "netns", "exec", ns] + [str(a) for a in args], stdout=out,
                            stderr=out, **kw)


def stop(proc, sig=signal.SIGTERM):
    """sig, then SIGKILL after 10 s, by PID (never by name: other runs use the same programs)."""
    stop_process(proc, sig)


def usable(probe):
    """Whether namespaces can be made here (a probe namespace is added and removed)."""
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode:
        return False
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return True


def add(name, error=AssertionError):
    """A new namespace with its loopback up."""
    sh("ip", "netns", "add", name, error=error)
    sh("ip", "-n", name, "link", "set", "lo", "up", error=error)


def delete(names):
    """Removes the namespaces, quietly (some may never have been made)."""
    for name in names:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def link(a, a_if, b, b_if, error=AssertionError):
    """A veth pair, a_if in namespace a and b_if in b, both up."""
    sh("ip", "-n", a, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b,
       error=error)
    sh("ip", "-n", a, "link", "set", a_if, "up", error=error)
    sh("ip", "-n", b, "link", "set", b_if, "up", error=error)


def addr(ns, dev, *cidrs, error=AssertionError):
    """Addresses on dev; IPv6 ones without duplicate address detection (usable at once)."""
    for c in cidrs:
        sh("ip", "-n", ns, "addr", "add", c, "dev", dev, *(["nodad"] if ":" in c else []),
           error=error)


def route(ns, dst, via, error=AssertionError):
    sh("ip", "-n", ns, *(["-6"] if ":" in via else []), "route", "add", dst, "via", via,
       error=error)
