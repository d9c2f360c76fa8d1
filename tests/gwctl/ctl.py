"""A small independent client of the gwctl control protocol, and a harness for gwctld tests.

Written from docs/control-protocol.md rather than from the C code, so that the integration
tests check the protocol as documented.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import polling  # noqa: E402

VERSION = 1
REPLY = 0x80
GET_EA, GET_REF, LOOKUP_EA, LOOKUP_REF, SUBSCRIBE, REPORT_USE, LIST, STATS, STATUS, RELOAD, \
    MAP, UNMAP, RANGES, REPORT_COUNTERS = range(1, 15)
EV_ADDED, EV_REMOVED, EV_SNAPSHOT_DONE, EV_LAYOUT = 0x41, 0x42, 0x43, 0x44
F_MORE = 1
(OK, E_MALFORMED, E_VERSION, E_KIND, E_INVALID, E_NOT_FOUND, E_EXHAUSTED, E_NO_RANGE, E_STORE,
 E_CONFLICT, E_DENIED, E_BUSY, E_SOURCES, E_UNUSABLE, E_QUOTA) = range(15)
(A_CONTEXT, A_REF, A_NAME, A_ENCODED, A_LOCAL, A_FAMILY, A_EXPIRES, A_MAP_KIND, A_SOURCE,
 A_MAPPING, A_GENERATION, A_COUNTER, A_VALUE, A_MESSAGE, A_CURSOR, A_TTL, A_TEXT,
 A_CONTEXT_NAME, A_RANGE, A_GATEWAY, A_REPLIED, A_CLIENT) = range(1, 23)
PUBLISHED, DYNAMIC_LOCAL, DYNAMIC_REMOTE, STATIC_EXTERNAL = 1, 2, 3, 4


def ip(text):
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    return socket.inet_pton(family, text)


def ip_text(raw):
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def attr(kind, value):
    return struct.pack(">HH", kind, len(value)) + value


def ref(n):
    return attr(A_REF, n.to_bytes(16, "big"))


def message(kind, attrs=b"", msg_id=1, flags=0, status=0, version=VERSION):
    return struct.pack(">BBBBI", version, kind, flags, status, msg_id) + attrs


def parse_attrs(data):
    """Returns a list of (type, value); raises ValueError on broken framing."""
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 4:
            raise ValueError("short attribute header")
        kind, length = struct.unpack_from(">HH", data, pos)
        if pos + 4 + length > len(data):
            raise ValueError("attribute past the end")
        out.append((kind, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
    return out


class Reply:
    def __init__(self, raw):
        self.raw = raw
        self.version, self.kind, self.flags, self.status, self.id = struct.unpack_from(">BBBBI", raw)
        self.attrs = parse_attrs(raw[8:])

    def get(self, kind, default=None):
        for k, v in self.attrs:
            if k == kind:
                return v
        return default

    def all(self, kind):
        return [v for k, v in self.attrs if k == kind]

    def nested(self, kind):
        return [dict(parse_attrs(v)) for v in self.all(kind)]

    @property
    def message(self):
        m = self.get(A_MESSAGE)
        return m.decode() if m else ""


class Client:
    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.next_id = 100

    def close(self):
        self.sock.close()

    def send(self, kind, attrs=b"", msg_id=None):
        if msg_id is None:
            self.next_id += 1
            msg_id = self.next_id
        self.sock.send(message(kind, attrs, msg_id))
        return msg_id

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by gwctld")
        return Reply(data)

    def call(self, kind, attrs=b""):
        msg_id = self.send(kind, attrs)
        while True:
            reply = self.recv()
            if reply.id == msg_id and reply.kind & REPLY:
                return reply

    def report_counters(self, component, counters):
        attrs = attr(A_TEXT, component.encode())
        for name, value in counters:
            attrs += attr(A_COUNTER, attr(A_TEXT, name.encode()) + attr(A_VALUE, struct.pack(">Q", value)))
        return self.call(REPORT_COUNTERS, attrs)

    def get_ea(self, context, n, family=4, name=None):
        attrs = attr(A_CONTEXT, ip(context)) + ref(n) + attr(A_FAMILY, bytes([family]))
        if name:
            attrs += attr(A_NAME, name.encode())
        return self.call(GET_EA, attrs)


class Daemon:
    """One gwctld in a temporary folder, with its own configuration, stopped by PID."""

    def __init__(self, gwctld, workdir, extra="", gateway="198.51.100.1", gwctl=None):
        self.gwctld, self.gwctl = gwctld, gwctl
        self.dir = workdir
        self.db = os.path.join(workdir, "gw.db")
        self.sock = os.path.join(workdir, "gwctl.sock")
        self.conf = os.path.join(workdir, "gwctl.conf")
        with open(self.conf, "w") as f:
            f.write(f"database = {self.db}\nsocket = {self.sock}\ngateway = {gateway}\n"
                    f"log-level = warn\n{extra}")
        self.proc = None
        self.log = os.path.join(workdir, "gwctld.log")

    def start(self, wait=True):
        self.logfile = open(self.log, "a")
        self.proc = subprocess.Popen([self.gwctld, "--config", self.conf],
                                     stdout=self.logfile, stderr=self.logfile)
        if wait:
            polling.wait_until(lambda: self.proc.poll() is not None or self.listening(), 10,
                               "gwctld to listen", interval=0.02, error=RuntimeError)
            if self.proc.poll() is not None:
                raise RuntimeError("gwctld exited: " + open(self.log).read())
        return self

    def listening(self):
        try:
            Client(self.sock, timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logfile.close()
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def client(self):
        return Client(self.sock)

    def cli(self, *args, ok=True):
        """gwctl ARGS against this daemon (the Suite's gwctl); with ok, exit status 0 required."""
        run = subprocess.run([self.gwctl, "--socket", self.sock, *args], capture_output=True,
                             text=True)
        if ok and run.returncode != 0:
            raise AssertionError(f"gwctl {' '.join(args)}: {run.returncode} {run.stderr}")
        return run

    def stats(self):
        """The counters as {name: int}, read with `gwctl stats --json`."""
        return polling.stats(self.sock, self.gwctl)


class Suite:
    """Runs test functions, prints one line each and the closing 'N passed, N failed'."""

    def __init__(self, gwctld, gwctl=None):
        self.gwctld, self.gwctl = gwctld, gwctl
        self.passed = self.failed = self.skipped = 0

    def run(self, tests):
        # IPREF_TESTS=name,name runs only those (for working on one test by hand)
        only = [t for t in os.environ.get("IPREF_TESTS", "").split(",") if t]
        for test in tests:
            if only and test.__name__ not in only:
                continue
            workdir = tempfile.mkdtemp(prefix="ipref-gwctld-")
            daemons = []

            def make(extra="", **kwargs):
                d = Daemon(self.gwctld, workdir, extra, gwctl=self.gwctl, **kwargs)
                daemons.append(d)
                return d
            try:
                result = test(make, workdir)
                if result == "skip":
                    self.skipped += 1
                    print(f"SKIP {test.__name__}")
                else:
                    self.passed += 1
                    print(f"ok   {test.__name__}")
            except Exception:
                self.failed += 1
                print(f"FAIL {test.__name__}")
                traceback.print_exc(file=sys.stdout)
                for d in daemons:
                    if os.path.exists(d.log):
                        print("--- gwctld log:\n" + open(d.log).read())
            finally:
                for d in daemons:
                    d.stop(signal.SIGKILL)
                subprocess.run(["rm", "-rf", workdir])
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped")
        return 0 if self.failed == 0 else 1


def check(condition, what):
    if not condition:
        raise AssertionError(what)
