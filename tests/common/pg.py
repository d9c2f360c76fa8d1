"""A throwaway PostgreSQL cluster for the tests of the shared store: initdb into a temporary
folder as the unprivileged `postgres` user, a server listening only on a Unix socket in that
folder (no TCP port, so tests never meet each other or a system cluster), stopped by its PID
and removed at the end. Sessions are psql processes fed line by line, so a test can hold a
transaction open in one while another waits on it.

Skips (exit 77) with a clear message when not root (initdb and the server must run as another
user than the test's) or when PostgreSQL's server programs are absent."""

import glob
import os
import pwd
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from polling import wait_until

SKIP = 77
# PRAGMA application_id of every store ("IPRF"), kept in ipref_schema on PostgreSQL
APPLICATION_ID = 0x49505246
USER = "postgres"


def _terminated(signum, frame):
    raise SystemExit(f"terminated by signal {signum}")


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def server_bindir():
    """The folder of initdb and postgres: Debian keeps them out of PATH, per major version."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(re.sub(r"\D", "", p.split("/")[-2]) or 0), reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK) and \
                os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return os.path.dirname(os.path.realpath(initdb))
    return None


def require():
    """The server's bin folder and psql; exits 77 saying why when the tests cannot run here."""
    if os.geteuid() != 0:
        skip("the PostgreSQL tests run a throwaway cluster as the postgres user: run them as root")
    bindir = server_bindir()
    if not bindir:
        skip("PostgreSQL's server is not installed (Debian: postgresql; tools/setup installs it)")
    psql = shutil.which("psql") or os.path.join(bindir, "psql")
    if not os.access(psql, os.X_OK):
        skip("psql is not installed (Debian: postgresql-client)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        skip(f"no user {USER} to run the cluster as (Debian's postgresql package makes it)")
    return bindir, psql


class Cluster:
    """with Cluster() as pg: a running server; pg.sql(...), pg.session(), pg.createdb(name).

    Cluster(namespace=NS, listen=ADDRESS) runs the server inside network namespace NS (made by
    the caller), listening on TCP at ADDRESS besides its socket and trusting any client there,
    as a site's database host would be reached by its gateways: cutting the namespace's links
    cuts the gateways off it."""

    def __init__(self, namespace=None, listen=None):
        self.bindir, self.psql = require()
        self.namespace, self.listen = namespace, listen
        self.dir = None
        self.proc = None

    def __enter__(self):
        # meson's timeout sends SIGTERM: unwind through __exit__, so the server (in a session of
        # its own, out of reach of a signal to the test's group) is stopped and its folder goes
        signal.signal(signal.SIGTERM, _terminated)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _start(self):
        user = pwd.getpwnam(USER)
        self.dir = tempfile.mkdtemp(prefix="ipref-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.socket_dir = os.path.join(self.dir, "run")
        self.log = os.path.join(self.dir, "server.log")
        for d in (self.data, self.socket_dir):
            os.mkdir(d, 0o700)
            os.chown(d, user.pw_uid, user.pw_gid)
        # trust on the socket only: the folder is the cluster's, and it listens nowhere else
        subprocess.run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", USER,
                        "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                       user=user.pw_uid, group=user.pw_gid, cwd=self.dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        if self.listen:
            with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
                f.write("host all all all trust\n")
        open(self.log, "w").close()
        os.chown(self.log, user.pw_uid, user.pw_gid)
        self._launch()

    def _launch(self):
        user = pwd.getpwnam(USER)
        server = [os.path.join(self.bindir, "postgres"), "-D", self.data, "-k", self.socket_dir,
                  "-c", f"listen_addresses={self.listen or ''}", "-c", "fsync=off",
                  "-c", "full_page_writes=off", "-c", "max_connections=40",
                  "-c", "shared_buffers=16MB"]
        as_user = {"user": user.pw_uid, "group": user.pw_gid}
        if self.namespace:
            # entering a namespace needs root: setpriv drops to the user after it, and both
            # exec, so the PID is the server's own
            server = ["ip", "netns", "exec", self.namespace, "setpriv", f"--reuid={user.pw_uid}",
                      f"--regid={user.pw_gid}", "--clear-groups"] + server
            as_user = {}
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(server, cwd=self.dir, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         **as_user)
        wait_until(self._ready, 60, lambda: "the PostgreSQL server to accept connections; "
                   f"its log:\n{self.server_log()}")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"postgres exited with {self.proc.returncode}:\n"
                                 f"{self.server_log()}")
        r = subprocess.run(self._psql_cmd("postgres") + ["-c", "SELECT 1"],
                           capture_output=True, text=True, timeout=30)
        return r.returncode == 0

    def server_log(self):
        try:
            with open(self.log) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def restart(self):
        """Stops the server (fast shutdown, by its PID) and starts it again on the same data:
        a new pg_postmaster_start_time(), every connection cut."""
        self.halt()
        self.start()

    def halt(self):
        """Stops the server (fast shutdown, by its PID), keeping its data for start()."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)

    def start(self):
        """Starts a halted server again on the same data, once it accepts connections."""
        self._launch()

    def _server_pids(self):
        """The postmaster and its children (each of which runs in a session of its own)."""
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if entry.isdigit() and int(fields[1]) == self.proc.pid:
                pids.append(int(entry))
        return pids

    def freeze(self):
        """Stops every process of the server (SIGSTOP, the postmaster first, so that it starts
        no more): alive, its sockets open and accepting, answering nothing, as a storage stall
        or a paused virtual machine leaves a database server. thaw() lets it run on."""
        for pid in self._server_pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self._server_pids():
            os.kill(pid, signal.SIGCONT)

    def stop(self):
        """Fast shutdown (SIGINT) of the server this cluster started, by its PID; then the
        folder goes."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def conninfo(self, db):
        """A libpq connection string for database db (the form gwctl.conf will hold): over
        TCP to the listening address when there is one, else the socket."""
        return f"host={self.listen or self.socket_dir} user={USER} dbname={db}"

    def _psql_cmd(self, db):
        return [self.psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir,
                "-U", USER, "-d", db]

    def createdb(self, name):
        self.sql("postgres", f'CREATE DATABASE "{name}"')
        return name

    def sql(self, db, text, check=True, args=()):
        """Runs text (one or more statements) in database db; the rows as lists of strings."""
        r = subprocess.run(self._psql_cmd(db) + list(args) + ["-F", "\t"], input=text,
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"psql failed ({r.returncode}) on:\n{text}\n{r.stderr}")
        if not check:
            return r
        return [line.split("\t") for line in r.stdout.splitlines()]

    def session(self, db):
        return Session(self._psql_cmd(db) + ["-F", "\t", "-v", "ON_ERROR_STOP=0"])


class Session:
    """One connection held open: run() waits for its statements' output, send() does not (the
    statements may wait on a lock), collect() then reads what send() started."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.marks = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, text):
        self.marks += 1
        mark = f"--ipref-done-{self.marks}--"
        # a statement runs once its semicolon is read; the mark is echoed after it ran
        end = "" if text.rstrip().endswith(";") else ";"
        self.proc.stdin.write(f"{text}{end}\n\\echo {mark}\n")
        self.proc.stdin.flush()
        return mark

    def collect(self, mark, seconds=60):
        out, deadline = [], time.monotonic() + seconds
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"psql session: no answer in {seconds} s; so far: {out}")
            if line is None:
                raise AssertionError(f"psql session ended; its output: {out}")
            if line == mark:
                return out
            out.append(line)

    def run(self, text, seconds=60):
        return self.collect(self.send(text), seconds)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def migrations(folder):
    """{number: (name, path)} of the NNN-name.sql files in folder."""
    out = {}
    for path in glob.glob(os.path.join(folder, "*.sql")):
        m = re.match(r"(\d+)-([\w-]+)\.sql$", os.path.basename(path))
        if m:
            out[int(m.group(1))] = (m.group(2), path)
    return out


def migrate(cluster, db, folder, upto=None):
    """Brings database db up to date (or to version upto) with the migrations of folder as
    gwctld does (gwctl/pgstore_conn.c): each one in one transaction, under the advisory lock of
    the application id, skipped when ipref_schema says it is applied. Returns the version."""
    for number, (_, path) in sorted(migrations(folder).items()):
        if upto is not None and number > upto:
            break
        script = f"""
SELECT pg_advisory_xact_lock({APPLICATION_ID});
CREATE TABLE IF NOT EXISTS ipref_schema (application_id bigint NOT NULL, version integer NOT NULL);
INSERT INTO ipref_schema SELECT {APPLICATION_ID}, 0 WHERE NOT EXISTS (SELECT FROM ipref_schema);
SELECT version < {number} AS todo FROM ipref_schema \\gset
\\if :todo
\\i {path}
UPDATE ipref_schema SET version = {number};
\\endif
"""
        cluster.sql(db, script, args=["-1"])
    return int(cluster.sql(db, "SELECT version FROM ipref_schema")[0][0])
