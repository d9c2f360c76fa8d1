"""gwctld on a throwaway PostgreSQL cluster for the store-pg tests: gateways made on one
database, killed by PID after each test, and the tests run with the logs of a failure."""
import os
import signal
import subprocess
import sys
import tempfile
import traceback

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "common"))
sys.path.insert(0, os.path.join(here, "..", "gwctl"))
import pg  # noqa: E402
from ctl import Daemon  # noqa: E402

made = []  # the daemons of the running test, killed by PID at its end


def gateway(gwctld, gwctl, cluster, db, name, root):
    """A gwctld named name on db, its folder under root (not started)."""
    workdir = os.path.join(root, name)
    os.mkdir(workdir)
    d = Daemon(gwctld, workdir, f"store = postgresql:{cluster.conninfo(db)}\n"
               f"gateway-id = {name}\n", gwctl=gwctl)
    made.append(d)
    return d


def run(tests, prefix):
    """Each test(cluster, root) on one cluster; a failure prints the gateways' and server's
    logs. Returns the exit status."""
    failed = 0
    # IPREF_TESTS=name,name runs only those (for working on one test by hand), as ctl.Suite does
    only = [t for t in os.environ.get("IPREF_TESTS", "").split(",") if t]
    tests = [t for t in tests if not only or t.__name__ in only]
    with pg.Cluster() as cluster:
        for t in tests:
            root = tempfile.mkdtemp(prefix=prefix)
            try:
                t(cluster, root)
                print(f"ok   {t.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {t.__name__}")
                traceback.print_exc(file=sys.stdout)
                for name in sorted(os.listdir(root)):
                    log = os.path.join(root, name, "gwctld.log")
                    if os.path.exists(log):
                        print(f"--- {name}'s log:\n" + open(log).read())
            finally:
                for d in made:
                    d.stop(signal.SIGKILL)
                made.clear()
                subprocess.run(["rm", "-rf", root])
        if failed:
            print("the server's log:\n" + cluster.server_log())
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0
