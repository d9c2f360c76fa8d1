"""One IPREF gateway in a network namespace, as every integration test starts one: its folder
with gwctl.conf, dataplane.conf and resolver.conf, and gwctld, ipref-dataplane and Unbound
started there, each waited for until it serves, and stopped by PID (never by name: other runs
use the same programs). Used by tests/dataplane/twosites.py, tests/e2e/sites.py and the tests
that add a gateway of their own; the namespace and its links are the caller's (netns.py)."""

import os
import signal
import subprocess

import netns
import polling


class Gateway:
    def __init__(self, namespace, directory, gwctld, gwctl, dataplane, error=AssertionError,
                 log_name="gateway.log"):
        """namespace: the full name of the namespace it runs in; directory: its folder, made
        here and readable by all (the dataplane and Unbound reach the socket as nobody)."""
        self.namespace, self.dir = namespace, directory
        self.bin = {"gwctld": gwctld, "gwctl": gwctl, "dataplane": dataplane}
        self.error = error
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)
        self.sock = os.path.join(directory, "gwctl.sock")
        self.gwconf = os.path.join(directory, "gwctl.conf")
        self.dpconf = os.path.join(directory, "dataplane.conf")
        self.resolver_conf = os.path.join(directory, "resolver.conf")
        # gwctld's and the dataplane's output, in the order they wrote it
        self.log = open(os.path.join(directory, log_name), "a")
        self.gwctld = self.dataplane = self.unbound = None

    # --- its files ------------------------------------------------------------------------
    def write_gwctl_conf(self, settings=""):
        """gwctl.conf: the database and socket in the folder, the socket open to nogroup (the
        dataplane's and Unbound's user nobody), then settings (whole lines)."""
        with open(self.gwconf, "w") as f:
            f.write(f"database = {self.dir}/gw.db\nsocket = {self.sock}\n"
                    f"socket-group = nogroup\n{settings}")

    def write_dataplane_conf(self, settings=""):
        """dataplane.conf: gwctld's socket, TUN device ipref0, user nobody, then settings."""
        with open(self.dpconf, "w") as f:
            f.write(f"gwctl-socket = {self.sock}\ntun = ipref0\nuser = nobody\n{settings}")

    def write_resolver_conf(self, settings="timeout-ms = 1000\n"):
        """resolver.conf for the ipref module: gwctld's socket, then settings (by default a
        generous timeout: the test machine may be busy with other tests)."""
        with open(self.resolver_conf, "w") as f:
            f.write(f"socket = {self.sock}\n{settings}")

    def tail(self, chars=2000):
        return open(self.log.name, errors="replace").read()[-chars:]

    # --- its processes --------------------------------------------------------------------
    def spawn(self, args, out=None, **kw):
        """A process in the gateway's namespace, its output to out (the gateway's log)."""
        return netns.spawn(self.namespace, args, out or self.log, stdin=subprocess.DEVNULL,
                           **kw)

    def wait(self, proc, ready, what, seconds):
        """Waits until ready() or proc ended; an error with the log's tail if proc ended."""
        polling.wait_until(lambda: proc.poll() is not None or ready(), seconds,
                           lambda: f"{what}: {self.tail()}", interval=0.1, error=self.error)
        if proc.poll() is not None:
            raise self.error(f"{what} exited {proc.returncode}: {self.tail()}")

    def start_gwctld(self, seconds=15):
        """gwctld, once it answers on its socket."""
        if os.path.exists(self.sock):
            os.unlink(self.sock)  # a socket left by a killed daemon would answer nothing
        self.gwctld = self.spawn([self.bin["gwctld"], "--config", self.gwconf])
        self.wait(self.gwctld, lambda: self.run_gwctl("status", check=False).returncode == 0,
                  f"gwctld in {self.namespace}", seconds)
        return self.gwctld

    def start_dataplane(self, env=None, wait=True, seconds=15):
        """ipref-dataplane (with env added to its environment), once gwctld has counted its
        connection; wait=False returns at once, for tests that watch its start themselves."""
        self.dataplane = self.spawn([self.bin["dataplane"], "--config", self.dpconf],
                                    env=dict(os.environ, **env) if env else None)
        if wait:
            self.wait(self.dataplane,
                      lambda: self.stats().get("dataplane.gwctl.connects", 0) >= 1,
                      f"the dataplane in {self.namespace}", seconds)
        return self.dataplane

    def start_unbound(self, unbound, conf, probe, seconds=15):
        """Unbound (the binary at unbound) with the ipref module reading resolver.conf, once it
        answers probe (a name) NOERROR on 127.0.0.1; its output goes to unbound.stderr."""
        out = open(os.path.join(self.dir, "unbound.stderr"), "a")
        self.unbound = self.spawn([unbound, "-d", "-c", conf], out,
                                  env=dict(os.environ, IPREF_RESOLVER_CONF=self.resolver_conf))
        self.wait(self.unbound, lambda: "status: NOERROR" in netns.sh(
            "dig", "+time=1", "+tries=1", "@127.0.0.1", probe, ns=self.namespace,
            check=False).stdout, f"Unbound in {self.namespace}", seconds)
        return self.unbound

    def stop(self, part, sig=signal.SIGTERM):
        """Stops part ("gwctld", "dataplane" or "unbound"), if running, by PID."""
        netns.stop(getattr(self, part), sig)
        setattr(self, part, None)

    def stop_all(self, sig=signal.SIGTERM):
        for part in ("unbound", "dataplane", "gwctld"):
            self.stop(part, sig)

    # --- looking at it --------------------------------------------------------------------
    def run_gwctl(self, *args, check=True):
        """gwctl on the gateway's socket, inside its namespace: the finished process."""
        return netns.sh(self.bin["gwctl"], "--socket", self.sock, *args, ns=self.namespace,
                        check=check, error=self.error)

    def gwctl(self, *args):
        """gwctl's output; an error if it fails."""
        return self.run_gwctl(*args).stdout

    def stats(self):
        """The counters as {name: int}; {} while gwctld is not up."""
        return polling.stats(self.sock, self.bin["gwctl"], ns=self.namespace, check=False)

    def wait_stat(self, name, minimum, seconds=8):
        """The counter once it reaches minimum, or its value after seconds."""
        value = [0]

        def reached():
            value[0] = int(self.stats().get(name, 0))
            return value[0] >= minimum
        try:
            polling.wait_until(reached, seconds, name, interval=0.2)
        except AssertionError:
            pass
        return value[0]
