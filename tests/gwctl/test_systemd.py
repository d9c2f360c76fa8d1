#!/usr/bin/env python3
"""gwctld under systemd's protocols, without systemd: readiness (NOTIFY_SOCKET), socket
activation (LISTEN_FDS/LISTEN_PID) and the journal stream's priority prefixes (JOURNAL_STREAM).
usage: test_systemd.py GWCTLD GWCTL"""
import os
import re
import socket
import subprocess
import sys
import time

from ctl import Client, Daemon, Suite, check

GWCTLD, GWCTL = sys.argv[1], sys.argv[2]


class Notify:
    """The service manager's end of NOTIFY_SOCKET: a datagram socket the daemon writes to."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def wait(self, what, timeout=20):
        """The first datagram holding the line `what`, or an AssertionError after timeout s."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            if what in data.splitlines():
                return data
        raise AssertionError(f"no {what} on NOTIFY_SOCKET")


def configured(make, **settings):
    """A daemon whose gwctl.conf has these settings (log_level for log-level) instead."""
    d = make()
    lines = open(d.conf).read().splitlines()
    keys = {k.replace("_", "-"): v for k, v in settings.items()}
    lines = [l for l in lines if l.split(" = ")[0] not in keys]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    with open(d.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return d


def start(d, env=None, argv=None, **kw):
    d.logfile = open(d.log, "a")
    d.proc = subprocess.Popen(argv or [GWCTLD, "--config", d.conf], stdout=d.logfile,
                              stderr=d.logfile, env={**os.environ, **(env or {})}, **kw)
    return d


def accepts(path):
    try:
        Client(path, timeout=1).close()
        return True
    except OSError:
        return False


def test_ready_once_listening(make, workdir):
    n = Notify(workdir)
    d = start(make(), {"NOTIFY_SOCKET": n.path})
    msg = n.wait("READY=1")
    # READY=1 comes only once the socket accepts: a unit ordered After=gwctld can connect
    check(accepts(d.sock), "READY=1 before the control socket accepts")
    check("STATUS=serving" in msg.splitlines(), msg)
    run = subprocess.run([GWCTL, "--socket", d.sock, "status"], capture_output=True, text=True)
    check(run.returncode == 0, run.stderr)


def activated(d, listener, env):
    """gwctld started as systemd starts a socket-activated service: the socket as fd 3,
    LISTEN_FDS=1 and LISTEN_PID of the very process (so a shell sets it, then execs)."""
    def as_fd3():
        os.dup2(listener.fileno(), 3)
    wrapper = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', GWCTLD, "--config",
               d.conf]
    return start(d, env, wrapper, preexec_fn=as_fd3, pass_fds=(3,))


def unix_listener(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.listen(16)
    return s


def test_socket_activation(make, workdir):
    n = Notify(workdir)
    d = configured(make, log_level="info")
    listener = unix_listener(d.sock)
    activated(d, listener, {"NOTIFY_SOCKET": n.path})
    listener.close()  # the daemon holds its own copy now, as systemd keeps one
    n.wait("READY=1")
    run = subprocess.run([GWCTL, "--socket", d.sock, "status"], capture_output=True, text=True)
    check(run.returncode == 0, run.stderr)
    check("socket from systemd" in open(d.log).read(), open(d.log).read())
    # the socket file belongs to the socket unit: a stopping gwctld leaves it in place
    check(d.stop() == 0, "clean stop")
    check(os.path.exists(d.sock), "gwctld removed the socket systemd made")


def test_socket_activation_other_path(make, workdir):
    d = make()
    listener = unix_listener(os.path.join(workdir, "other.sock"))
    activated(d, listener, {})
    check(d.proc.wait(20) == 1, "a socket at another path than gwctl.conf's was accepted")
    log = open(d.log).read()
    check("socket activation" in log and d.sock in log, log)


def journal_env(d):
    """JOURNAL_STREAM naming the file gwctld's stderr goes to, as systemd names its stream."""
    st = os.stat(d.log) if os.path.exists(d.log) else None
    if st is None:
        open(d.log, "w").close()
        st = os.stat(d.log)
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def test_journal_priorities(make, workdir):
    d = configured(make, log_level="info")
    start(d, journal_env(d))
    deadline = time.time() + 20
    while time.time() < deadline and not accepts(d.sock):
        time.sleep(0.02)
    check(d.stop() == 0, "clean stop")
    lines = open(d.log).read().splitlines()
    check(lines and all(re.match(r"<[0-7]>", l) for l in lines), lines)
    check(any(l.startswith("<6>started: store ") for l in lines), lines)
    # one name per line: the journal adds it, so the message carries none
    check(not any(l[3:].startswith("gwctld") for l in lines), lines)
    # an error at start (a store it cannot create) is an error in the journal
    bad = configured(make, log_level="info", database=f"{workdir}/missing/gw.db")
    bad.log = os.path.join(workdir, "bad.log")
    start(bad, journal_env(bad))
    check(bad.proc.wait(20) == 1, "started without its store")
    lines = open(bad.log).read().splitlines()
    check(any(l.startswith("<3>") and "missing" in l for l in lines), lines)
    # a configuration error too, though the log level is not known yet
    conf = configured(make, encoded_ipv4="10.240.0.1/12")
    conf.log = os.path.join(workdir, "conf.log")
    start(conf, journal_env(conf))
    check(conf.proc.wait(20) == 1, "started with a bad range")
    lines = open(conf.log).read().splitlines()
    check(len(lines) == 1 and lines[0].startswith("<3>") and "gwctl.conf" in lines[0], lines)


def test_stderr_elsewhere(make, workdir):
    """A JOURNAL_STREAM inherited from a parent whose stderr was the journal: ours is not."""
    d = configured(make, log_level="info")
    start(d, {"JOURNAL_STREAM": "1:1"})
    deadline = time.time() + 20
    while time.time() < deadline and not accepts(d.sock):
        time.sleep(0.02)
    check(d.stop() == 0, "clean stop")
    lines = open(d.log).read().splitlines()
    check(any(l.startswith("gwctld: info: started") for l in lines), lines)


if __name__ == "__main__":
    sys.exit(Suite(GWCTLD).run([
        test_ready_once_listening, test_socket_activation, test_socket_activation_other_path,
        test_journal_priorities, test_stderr_elsewhere,
    ]))
