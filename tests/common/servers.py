"""Real servers for integration tests, on loopback ports picked at run time: NSD and Unbound."""

import os
import shutil
import signal
import socket
import subprocess
import time

NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def free_port(kind=socket.SOCK_DGRAM):
    """A port free for both UDP and TCP on 127.0.0.1 (DNS servers listen on both)."""
    while True:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()


def stop_process(proc, sig=signal.SIGTERM):
    """sig (SIGTERM), then SIGKILL after 10 s; waits, so no zombie or stray server is left."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dig(port, name, rtype, *options, timeout=2):
    """dig's whole output (header, sections, EDE) against 127.0.0.1@port."""
    run = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), f"+time={timeout}", "+tries=1",
                          *options, name, rtype], capture_output=True, text=True)
    return run.stdout


def dig_short(port, name, rtype, *options):
    run = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+time=2",
                          "+tries=1", *options, name, rtype], capture_output=True, text=True)
    return run.stdout.strip()


class Nsd:
    """One NSD serving zone files from a folder of its own, stopped by PID."""

    def __init__(self, workdir, zones, probe):
        self.dir = os.path.join(workdir, "nsd")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""server:
    ip-address: 127.0.0.1@{self.port}
    port: {self.port}
    username: ""
    chroot: ""
    zonesdir: "{self.dir}"
    pidfile: "{self.dir}/nsd.pid"
    xfrdfile: "{self.dir}/xfrd.state"
    zonelistfile: "{self.dir}/zone.list"
    database: ""
    logfile: "{self.dir}/nsd.log"
    server-count: 1
    verbosity: 1
    # every query comes from one loopback address: Debian's NSD would rate-limit them (RRL)
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
""")
            for origin, path in zones.items():
                f.write(f'zone:\n    name: {origin}\n    zonefile: "{path}"\n')
        self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.dig(*probe):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("nsd did not answer: " + self.log())

    def log(self):
        path = os.path.join(self.dir, "nsd.log")
        return open(path).read() if os.path.exists(path) else ""

    def dig(self, name, rtype):
        return dig_short(self.port, name, rtype)

    def stop(self):
        stop_process(self.proc)


class Unbound:
    """The project's Unbound build, in the foreground, with a configuration written here."""

    def __init__(self, build, workdir, server="", sections="", env=None, name="unbound"):
        self.build = build
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.control_port = free_port()
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.logfile = os.path.join(self.dir, "unbound.log")
        with open(self.conf, "w") as f:
            f.write(f"""server:
    interface: 127.0.0.1@{self.port}
    port: {self.port}
    do-not-query-localhost: no
    username: ""
    chroot: ""
    directory: "{self.dir}"
    pidfile: "{self.dir}/unbound.pid"
    logfile: "{self.logfile}"
    use-syslog: no
    verbosity: 1
    root-hints: ""
{server}remote-control:
    control-enable: yes
    control-interface: 127.0.0.1
    control-port: {self.control_port}
    control-use-cert: no
{sections}""")
        self.env = dict(os.environ, **(env or {}))
        self.proc = None

    def check(self):
        return subprocess.run([os.path.join(self.build, "unbound-checkconf"), self.conf],
                              capture_output=True, text=True)

    def start(self):
        self.proc = subprocess.Popen([os.path.join(self.build, "unbound"), "-d", "-c", self.conf],
                                     env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.logfile + ".stderr", "w"))
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited: " + self.log())
            if "status: " in dig(self.port, "localhost", "A", timeout=1):
                return self
            time.sleep(0.1)
        raise RuntimeError("unbound did not answer: " + self.log())

    def control(self, *args):
        return subprocess.run([os.path.join(self.build, "unbound-control"), "-c", self.conf,
                               *args], capture_output=True, text=True)

    def log(self):
        text = ""
        for path in (self.logfile, self.logfile + ".stderr"):
            if os.path.exists(path):
                text += open(path).read()
        return text

    def stop(self):
        stop_process(self.proc)
