#!/usr/bin/env python3
"""The gwctl command line as an operator meets it: every subcommand's --help (without a daemon),
options after operands, --version, the exit statuses, and every `gwctl ...` command line the
docs and the README show, run against a real gwctld that publishes the zones/ examples.
usage: test_cli.py GWCTLD GWCTL SOURCE_ROOT"""
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gwctl"))
from ctl import Suite, check  # noqa: E402

GWCTLD, GWCTL, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
ZONES = os.path.join(ROOT, "zones")
COMMANDS = ["status", "list", "show", "map", "unmap", "encode", "ref", "stats", "reload",
            "publish", "addr"]
EXIT_USAGE, EXIT_NOT_FOUND = 2, 3
# a gateway like the one the docs describe: the zones/ examples' addresses and names
SITE = (f"gateway = 2001:db8:100::1\ngateway-name = gw.example.com\n"
        f"encoded-ipv4 = 10.240.0.0/12\nencoded-ipv6 = fdee:eeee::/64\n"
        f"zone = {ZONES}/example.com.zone {ZONES}/internal.zone\nhosts = {ZONES}/hosts.example\n"
        f"dns-server = 127.0.0.1@9\n")


def gwctl(*args, sock="/nonexistent/gwctl.sock", conf=None):
    where = ["--config", conf] if conf else ["--socket", sock]
    return subprocess.run([GWCTL, *where, *args], capture_output=True, text=True, timeout=30)


def site(make):
    # Daemon writes its own gateway line first; the site's come after and add to it
    return make(SITE).start()


def test_every_subcommand_has_help(make, workdir):
    top = subprocess.run([GWCTL, "--help"], capture_output=True, text=True)
    check(top.returncode == 0 and top.stdout.startswith("usage: gwctl"), top)
    for name in COMMANDS:
        check(re.search(rf"^  {name}\b", top.stdout, re.M), f"gwctl --help lacks {name}")
        for flag in ("--help", "-h"):
            # anywhere on the line, and with no daemon to ask
            for args in ([name, flag], [name, "x", flag]):
                run = gwctl(*args)
                check(run.returncode == 0 and run.stdout.startswith(f"usage: gwctl {name}")
                      and run.stderr == "", f"gwctl {' '.join(args)}: {run}")
        # every option a subcommand takes is listed by gwctl --help too
        for option in set(re.findall(r"--[a-z][a-z-]*", gwctl(name, "--help").stdout)):
            if option != "--help":
                check(re.search(rf"^  {name}\b.*{option}\b", top.stdout, re.M),
                      f"gwctl --help lacks {name} {option}")


def test_version(make, workdir):
    run = subprocess.run([GWCTL, "--version"], capture_output=True, text=True)
    check(run.returncode == 0 and re.fullmatch(r"gwctl \d+\.\d+\.\d+\S*\n", run.stdout), run)


def test_options_after_operands(make, workdir):
    run = gwctl("addr", "198.18.0.2 + 1797", "--hex")
    check(run.returncode == 0 and run.stdout == "198.18.0.2 + 0-705\n", run)
    run = gwctl("publish", "web.example.com", "--address", "10.0.0.80", "--context",
                "198.51.100.1", "--ref", "5000")
    check(run.returncode == 0 and "10.0.0.80" in run.stdout and "+ 5000" in run.stdout, run)
    d = site(make)
    run = gwctl("encode", "192.0.2.7 + 1", "--family", "6", "--name", "b.example.net",
                sock=d.sock)
    check(run.returncode == 0 and "encoded: fdee:eeee::" in run.stdout, run)
    # "--" ends the options
    run = gwctl("show", "--", "192.0.2.7 + 1", sock=d.sock)
    check(run.returncode == 0 and "b.example.net" in run.stdout, run)


def test_exit_statuses(make, workdir):
    check(gwctl("list", "--bogus").returncode == EXIT_USAGE, "unknown option")
    check(gwctl("unmap").returncode == EXIT_USAGE, "missing operand")
    check(gwctl("frobnicate").returncode == EXIT_USAGE, "unknown command")
    check(gwctl("status").returncode == 1, "no daemon")
    d = site(make)
    run = gwctl("show", "10.240.0.98", sock=d.sock)
    check(run.returncode == EXIT_NOT_FOUND and "no mapping" in run.stderr, run)
    run = gwctl("unmap", "10.240.0.98", sock=d.sock)
    check(run.returncode == EXIT_NOT_FOUND and "no mapping" in run.stderr, run)
    run = gwctl("map", "10.240.0.1", "203.0.113.6 + 1", sock=d.sock)
    check(run.returncode == 1, run)


def doc_command_lines():
    """(file, line number, text) of every gwctl command line in the docs and the README: lines
    of code blocks and inline code spans that start with `gwctl ` (after an optional `$ `)."""
    docs = [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
        if f.endswith(".md"))
    found = []
    for path in docs:
        in_block = False
        for number, line in enumerate(open(path), 1):
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            texts = [line.strip()] if in_block else re.findall(r"`([^`]+)`", line)
            for text in texts:
                text = re.sub(r"^(\$|#|sudo)\s+", "", text.strip())
                if text.startswith("gwctl "):
                    found.append((os.path.relpath(path, ROOT), number, text))
    return found


def is_synopsis(words):
    # a command's shape rather than a command: placeholders in capitals, [optional] parts
    return any(re.search(r"\[|\||\.\.\.|^[A-Z][A-Z-]+$|'[A-Z]+ \+ [A-Z]+'", w) for w in words)


def operands_required(name):
    usage = gwctl(name, "--help").stdout.splitlines()[0]
    return bool(re.search(r"[A-Z]", re.sub(r"\[[^]]*\]", "", usage.split(name, 1)[1])))


def test_documented_command_lines(make, workdir):
    d = site(make)
    lines = doc_command_lines()
    check(len(lines) >= 10, f"only {len(lines)} gwctl command lines found in the docs")
    ran = 0
    for where, number, text in lines:
        words = shlex.split(text, comments=True)
        label = f"{where}:{number}: {text}"
        check(len(words) >= 2, label)
        name = words[1]
        if name.startswith(("-", "[")) or name.isupper():
            continue  # the global synopses, checked by the help test
        check(name in COMMANDS, f"{label}: no such command")
        helptext = gwctl(name, "--help").stdout
        for option in re.findall(r"--[a-z][a-z-]*", text):
            check(option in helptext, f"{label}: {name} has no {option}")
        if is_synopsis(words[2:]):
            continue
        if len(words) == 2 and operands_required(name):
            continue  # a mention of the command in prose, as in "made with `gwctl map`"
        run = gwctl(*words[1:], conf=d.conf)  # the configuration as an operator's gwctl reads it
        check(run.returncode != EXIT_USAGE and "usage:" not in run.stderr,
              f"{label}: exit {run.returncode}: {run.stderr}")
        print(f"  exit {run.returncode}: {label}")
        ran += 1
    check(ran >= 6, f"only {ran} documented command lines ran")


if __name__ == "__main__":
    sys.exit(Suite(GWCTLD).run([
        test_every_subcommand_has_help, test_version, test_options_after_operands,
        test_exit_statuses, test_documented_command_lines,
    ]))
