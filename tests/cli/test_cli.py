#!/usr/bin/env python3
"""The gwctl command line as an operator meets it: every subcommand's --help (without a daemon),
options after operands, --version, the exit statuses, and every `gwctl ...` command line the
docs and the README show, run against a real gwctld that publishes the zones/ examples.
usage: test_cli.py GWCTLD GWCTL SOURCE_ROOT"""
import datetime
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gwctl"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
import polling  # noqa: E402
from ctl import SUBSCRIBE, Suite, check  # noqa: E402

GWCTLD, GWCTL, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
ZONES = os.path.join(ROOT, "zones")
COMMANDS = ["status", "health", "list", "show", "map", "unmap", "encode", "ref", "stats", "reload",
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


KINDS = {"published", "dynamic_local", "dynamic_remote", "static_external"}
MAPPING_KEYS = {"kind", "family", "address", "context", "ref", "name", "expires", "source"}


def some_mappings(d):
    for args in (["encode", "--name", "b6.example.net", "192.0.2.7 + 2466"],
                 ["encode", "--family", "6", "192.0.2.7 + 2467"],
                 ["ref", "10.1.0.50"], ["map", "10.240.0.99", "203.0.113.5 + 0-705"],
                 ["map", "--publish", "10.1.0.80", "198.51.100.1 + 5000"]):
        run = gwctl(*args, sock=d.sock)
        check(run.returncode == 0, run)


def test_list_layout(make, workdir):
    d = make("encoded-ipv6 = fdee:eeee::/64\n").start()
    some_mappings(d)
    out = gwctl("list", sock=d.sock).stdout.splitlines()
    check(out[0].split() == ["KIND", "ADDRESS", "CONTEXT", "REF", "LEASE", "NAME", "SOURCE"],
          out[0])
    check(len(out) == 6, out)
    for line in out:
        # every value one word, so that awk and cut read the columns; IPv4 rows fit 100
        # columns (a long IPv6 address pushes the columns after it to the right)
        check(len(line.split()) == 7, line)
        check(len(line) <= 100 or ":" in line.split()[1], f"{len(line)}: {line}")
    rows = {line.split()[1]: line.split() for line in out[1:]}
    check(set(r[0] for r in rows.values()) == KINDS, rows)
    check(rows["10.240.0.99"][2:4] == ["203.0.113.5", "1797"], rows["10.240.0.99"])
    check(rows["10.240.0.99"][4] == "-" and rows["10.1.0.80"][5] == "-", rows)
    check(re.fullmatch(r"(\d+[dhms]){1,2}", rows["10.1.0.50"][4]), rows["10.1.0.50"])
    hexed = {line.split()[1]: line.split() for line in gwctl("list", "--hex", sock=d.sock)
             .stdout.splitlines()[1:]}
    check(hexed["10.240.0.99"][3] == "0-705", hexed["10.240.0.99"])
    check(hexed["10.1.0.80"][3] == "0-1388", hexed["10.1.0.80"])


def check_rfc3339(text, what):
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), f"{what}: {text}")
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    check(abs(when.timestamp() - time_now()) < 30 * 86400, f"{what}: {text} is far off")


def time_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).timestamp()


def check_mapping(obj, what):
    check(isinstance(obj, dict) and set(obj) == MAPPING_KEYS, f"{what}: {obj}")
    check(obj["kind"] in KINDS and obj["family"] in (4, 6), f"{what}: {obj}")
    for key in ("address", "context", "ref"):
        check(isinstance(obj[key], str) and " " not in obj[key], f"{what}: {key}: {obj}")
    check(re.fullmatch(r"\d+", obj["ref"]), f"{what}: ref in decimal: {obj}")
    for key in ("name", "source"):
        check(obj[key] is None or (isinstance(obj[key], str) and obj[key]), f"{what}: {obj}")
    if obj["expires"] is not None:
        check_rfc3339(obj["expires"], what)
    # leases exactly where the kind has one
    check((obj["expires"] is None) == (obj["kind"] in ("published", "static_external")),
          f"{what}: expires: {obj}")


def json_of(*args, sock):
    run = gwctl(*args, sock=sock)
    check(run.returncode == 0 and run.stderr == "", run)
    return json.loads(run.stdout)


def test_json_schemas(make, workdir):
    d = make("encoded-ipv6 = fdee:eeee::/64\n").start()
    some_mappings(d)
    rows = json_of("list", "--json", sock=d.sock)
    check(isinstance(rows, list) and len(rows) == 5, rows)
    for row in rows:
        check_mapping(row, "list")
    by_addr = {r["address"]: r for r in rows}
    static = by_addr["10.240.0.99"]
    check(static["context"] == "203.0.113.5" and static["ref"] == "1797"
          and static["kind"] == "static_external" and static["source"] == "cli", static)
    check(json_of("list", "--hex", "--json", sock=d.sock) == rows, "--hex leaves JSON alone")

    shown = json_of("show", "--json", "10.240.0.99", sock=d.sock)
    check(shown == static, shown)
    missing = gwctl("show", "--json", "10.240.0.98", sock=d.sock)
    check(missing.returncode == EXIT_NOT_FOUND and missing.stdout == "", missing)
    encoded = json_of("encode", "--json", "--name", "b6.example.net", "192.0.2.7 + 2466",
                      sock=d.sock)
    check_mapping(encoded, "encode")
    check(encoded["kind"] == "dynamic_remote" and encoded["name"] == "b6.example.net"
          and encoded["family"] == 4, encoded)
    for args in (["ref", "--json", "10.1.0.50"], ["map", "--json", "10.240.0.98", "203.0.113.5 + 9"]):
        check_mapping(json_of(*args, sock=d.sock), args[0])

    status = json_of("status", "--json", sock=d.sock)
    types = {"version": str, "uptime_seconds": int, "database": str, "socket": str,
             "encoded_ipv4": dict, "encoded_ipv6": (dict, type(None)), "dynamic_refs": dict,
             "lease_seconds": int, "quarantine_seconds": int, "mappings": int,
             "quarantined": int, "generation": int}
    for key, kind in types.items():
        check(key in status and isinstance(status[key], kind) and
              not isinstance(status[key], bool), f"status {key}: {status}")
    v4 = status["encoded_ipv4"]
    check(set(v4) == {"prefix", "size", "taken"} and v4["prefix"] == "10.240.0.0/12" and
          isinstance(v4["size"], int) and v4["taken"] == 3, v4)
    check(set(status["dynamic_refs"]) == {"min", "max"} and
          int(status["dynamic_refs"]["min"]) == 2**32, status["dynamic_refs"])
    check(status["mappings"] == 6 and status["socket"] == d.sock, status)

    stats = json_of("stats", "--json", sock=d.sock)
    check(isinstance(stats, dict) and stats, stats)
    for name, value in stats.items():
        check(isinstance(value, int) and value >= 0, f"{name}: {value}")


def test_health(make, workdir):
    """gwctl health, keepalived's check: 1 with the reason until a dataplane is connected and
    has reported recently, 0 then; 1 again when its report is too old or it goes."""
    d = make().start()

    def health(*args):
        return gwctl("health", *args, sock=d.sock)
    run = health()
    check(run.returncode == 1 and "no dataplane is connected" in run.stderr, run)
    dataplane = d.client()  # as the dataplane does: subscribe, then report every 2 s
    reply = dataplane.call(SUBSCRIBE)
    check(reply.status == 0, reply.message)
    run = health()
    check(run.returncode == 1 and "has not reported yet" in run.stderr, run)
    dataplane.report_counters("dataplane", DATAPLANE)
    run = health()
    check(run.returncode == 0 and run.stdout.startswith("ok: gwctld answers, 1 dataplane "
                                                        "connected"), run)
    status = json_of("status", "--json", sock=d.sock)
    check(status["dataplanes_connected"] == 1 and
          isinstance(status["dataplane_report_age_ms"], int), status)
    # a dataplane that stopped reporting (stuck) fails the check once its report is too old
    run = polling.wait_until(lambda: (lambda r: r.returncode == 1 and r)(
        health("--max-age", "0.2")), 10, "the report to age past 0.2 s")
    check("last report is" in run.stderr, run)
    check(health("--max-age", "0").returncode == EXIT_USAGE, "--max-age 0 is refused")
    # a dataplane that went away (its connection closed) fails it at once
    dataplane.close()
    run = polling.wait_until(lambda: (lambda r: r.returncode == 1 and r)(health()), 10,
                             "gwctld to see the dataplane go")
    check("no dataplane is connected" in run.stderr, run)
    d.stop()
    run = health()
    check(run.returncode == 1 and "not running" in run.stderr, run)


# the project's rule: component.group.name, lowercase words joined by underscores
COUNTER_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}")
# as the dataplane reports them (a sample: the names are the dataplane's own)
DATAPLANE = [("tun.rx", 7), ("drop.no_destination_mapping", 2), ("mappings.remote", 3),
             ("wait.now", 1), ("offload.udp_gso", 1)]


def test_counter_names(make, workdir):
    d = make().start()
    check(d.client().report_counters("dataplane", DATAPLANE).status == 0, "reported")
    stats = json_of("stats", "--json", sock=d.sock)
    for name in stats:
        check(COUNTER_NAME.fullmatch(name) and name.count(".") >= 2,
              f"{name} breaks the naming rule")
        check(name.split(".")[0] in ("gwctld", "dataplane"), name)
    for name, value in DATAPLANE:
        check(stats["dataplane." + name] == value, stats)
    check(stats["gwctld.requests.report_counters"] == 1, stats)
    # a name that breaks the rule is refused
    bad = d.client().report_counters("dataplane", [("drop.no-destination-mapping", 1)])
    check(bad.status != 0, "a dashed counter name was accepted")


def parse_prometheus(text):
    """A strict reader of the text exposition format as gwctl writes it (no labels, no
    timestamps): returns {name: (type, help, value)}; fails on any line out of place."""
    check(text.endswith("\n"), "the last line ends with a newline")
    metrics, help_of, type_of = {}, {}, {}
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}: {line!r}"
        if m := re.fullmatch(rf"# HELP ({name_re}) (\S.*)", line):
            check(m[1] not in help_of and m[1] not in metrics, f"{where}: HELP after use")
            help_of[m[1]] = m[2]
        elif m := re.fullmatch(rf"# TYPE ({name_re}) (counter|gauge)", line):
            check(m[1] not in type_of and m[1] not in metrics, f"{where}: TYPE after use")
            type_of[m[1]] = m[2]
        elif m := re.fullmatch(rf"({name_re}) (0|[1-9][0-9]*)", line):
            check(m[1] not in metrics, f"{where}: a second sample")
            check(m[1] in type_of and m[1] in help_of, f"{where}: sample before TYPE and HELP")
            metrics[m[1]] = (type_of[m[1]], help_of[m[1]], int(m[2]))
        else:
            raise AssertionError(f"{where}: not a line of the format")
    check(set(type_of) == set(metrics) == set(help_of), "a TYPE or HELP without a sample")
    return metrics


def test_prometheus(make, workdir):
    # the reader itself refuses what it should
    for bad in ("x 1", "# TYPE x counter\n# HELP x y\nx 1.5\n", "# TYPE x counter\nx 1\n",
                "# HELP x y\n# TYPE x summary\nx 1\n", "# HELP x y\n# TYPE x gauge\n\nx 1\n",
                "# HELP x-y z\n# TYPE x-y gauge\nx-y 1\n"):
        try:
            parse_prometheus(bad)
        except AssertionError:
            continue
        raise AssertionError(f"the reader took {bad!r}")
    d = make().start()
    check(d.client().report_counters("dataplane", DATAPLANE).status == 0, "reported")
    gwctl("encode", "192.0.2.7 + 2466", sock=d.sock)
    run = gwctl("stats", "--prometheus", sock=d.sock)
    check(run.returncode == 0 and run.stderr == "", run)
    metrics = parse_prometheus(run.stdout)
    stats = json_of("stats", "--json", sock=d.sock)
    # levels, as docs/gwctl.md lists them; everything else only grows
    gauges = {"gwctld.store.bad_rows", "dataplane.mappings.remote", "dataplane.wait.now",
              "dataplane.offload.udp_gso", "gwctld.store.unclean_start",
              "gwctld.store.unclean_start_quarantined",
              "gwctld.store.unclean_start_leases_extended"}
    # the second STATS request counted itself; the flusher and the refills run on their own
    moving = {"gwctld.requests.stats", "gwctld.store.flushes", "gwctld.store.reserved"}
    for name, value in stats.items():
        base = "ipref_" + name.replace(".", "_")
        if name in gauges or name.startswith("gwctld.mappings."):
            check(metrics[base][0] == "gauge", f"{name}: {metrics.get(base)}")
        else:
            check(base + "_total" in metrics and metrics[base + "_total"][0] == "counter",
                  f"{name}: not a counter")
            base += "_total"
        if name not in moving:
            check(metrics[base][2] == value, f"{name}: {metrics[base]} vs {value}")
        check(name in metrics[base][1], f"HELP names {name}: {metrics[base][1]}")
    check(metrics["ipref_dataplane_drop_no_destination_mapping_total"][2] == 2, metrics)
    check(metrics["ipref_gwctld_mappings_dynamic_remote"][2] == 1, metrics)
    check(len(metrics) == len(stats), "one metric per counter")
    check(gwctl("stats", "--json", "--prometheus", sock=d.sock).returncode == EXIT_USAGE,
          "one format at a time")


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


def test_command_reference(make, workdir):
    # docs/gwctl.md's table: a row for every command, and only options the command takes
    doc = open(os.path.join(ROOT, "docs", "gwctl.md")).read()
    table = doc.split("| command | what it does |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([a-z]+)([^`]*)` \|", table, re.M)
    check({name for name, _ in rows} == set(COMMANDS), rows)
    for name, rest in rows:
        helptext = gwctl(name, "--help").stdout
        for option in re.findall(r"--[a-z][a-z-]*", rest):
            check(option in helptext, f"docs/gwctl.md: {name} has no {option}")
        for option in re.findall(r"--[a-z][a-z-]*", helptext):
            check(option == "--help" or any(option in r for n, r in rows if n == name),
                  f"docs/gwctl.md does not show {name} {option}")
    # "gwctl help COMMAND" is "gwctl COMMAND --help"
    check(subprocess.run([GWCTL, "help", "list"], capture_output=True, text=True).stdout ==
          gwctl("list", "--help").stdout, "gwctl help list")


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
        # the gwctl part of a shell line: up to a redirection, pipe or list operator
        for i, word in enumerate(words):
            if word in (">", ">>", "<", "|", "||", "&&", ";", "&"):
                words = words[:i]
                break
        label = f"{where}:{number}: {text}"
        check(len(words) >= 2, label)
        name = words[1]
        if name.startswith(("-", "[")) or name.isupper():
            continue  # the global synopses, checked by the help test
        if name == "help":
            check(len(words) <= 3, label)  # "gwctl help [COMMAND]", checked above
            continue
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
        test_exit_statuses, test_documented_command_lines, test_list_layout, test_json_schemas,
        test_counter_names, test_prometheus, test_command_reference, test_health,
    ]))
