#!/usr/bin/python3
"""CPU saturation must not cause a spurious VRRP failover.

Two nospof nodes (VRRPv3, advert_int 0.1 s, priorities 150/100; topology from demo_common)
run while `stress-ng --cpu N` (N = number of CPUs) keeps every core busy for 60 s. The master
must keep sending its adverts on time, so neither node may change state: the per-instance
"transitions" counters from `nospofctl status --json` are identical before and after, node1
is still MASTER and node2 still BACKUP.

Prints "PASS cpu_load_no_spurious_transition" or "FAIL cpu_load_no_spurious_transition: why"
and exits non-zero on failure (the tests/net/run.sh convention). Arguments: --build DIR (the
build holding src/daemon/nospofd); -k SUBSTRING runs the case only if its name matches;
other arguments are ignored. CPU_LOAD_SECONDS overrides the 60 s load. With
NOSPOF_IMPL=keepalived the nodes run keepalived instead (a harness check) and transitions are
counted from its log.
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_common as dc  # noqa: E402

NAME = "cpu_load_no_spurious_transition"
LOAD_S = int(os.environ.get("CPU_LOAD_SECONDS", "60"))


def parse_args(argv):
    build, filt, i = None, None, 0
    while i < len(argv):
        if argv[i] == "--build" and i + 1 < len(argv):
            build, i = argv[i + 1], i + 2
        elif argv[i] == "-k" and i + 1 < len(argv):
            filt, i = argv[i + 1], i + 2
        else:
            i += 1
    return build, filt


def transitions(d):
    """(state, transitions counter) of VI_1 on daemon d, or (None, None) if unreadable."""
    if d.kind == "keepalived":
        with open(d.log + ".cur") as f:
            states = re.findall(r"Entering (\w+) STATE", f.read())
        return (states[-1] if states else None), len(states)
    st = d.status()
    if not st or not st.get("instances"):
        return None, None
    inst = st["instances"][0]
    return inst["state"], inst["counters"]["transitions"]


def snapshot(ds):
    return {n: transitions(d) for n, d in ds.items()}


def load_cmd():
    n = str(os.cpu_count() or 2)
    if shutil.which("stress-ng"):
        return ["stress-ng", "--cpu", n, "--timeout", "%ds" % LOAD_S, "--quiet"]
    # Fallback: N bounded busy loops in one shell, each ends by itself after LOAD_S seconds.
    loop = "end=$(( $(date +%%s) + %d )); while [ $(date +%%s) -lt $end ]; do :; done" % LOAD_S
    return ["sh", "-c", " & ".join([loop] * int(n)) + "; wait"]


def run_case(build, kind):
    topo = dc.Topo("cpu")
    try:
        ds = {n: dc.Daemon(topo, n, kind, build, dc.vrrp_config(n, kind, "0.1"))
              for n in ("n1", "n2")}
        for d in ds.values():
            d.start()
        def settled():
            s = snapshot(ds)
            return s["n1"][0] == "MASTER" and s["n2"][0] == "BACKUP"
        if not dc.wait_for(settled, 20, 0.1):
            return "nodes did not settle to MASTER/BACKUP: %s" % snapshot(ds)
        time.sleep(1.0)
        before = snapshot(ds)
        load = subprocess.Popen(load_cmd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        topo.procs.append(load)
        try:
            load.wait(LOAD_S + 30)
        finally:
            topo.stop(load, timeout_s=5)
        after = snapshot(ds)
        dead = [n for n, d in ds.items() if not d.alive()]
        if dead:
            return "daemon died on %s" % ",".join(dead)
        if before != after:
            return "state/transitions changed under load: before %s, after %s" % (before, after)
        print("  %ds of full CPU load: states and transition counters unchanged %s"
              % (LOAD_S, after), flush=True)
        return None
    finally:
        topo.close()


def main():
    dc.need_root()
    build, filt = parse_args(sys.argv[1:])
    if filt and filt not in NAME:
        return 0
    kind = "keepalived" if os.environ.get("NOSPOF_IMPL") == "keepalived" else "nospof"
    try:
        build = os.path.abspath(build) if build else dc.find_build()
        why = run_case(build, kind)
    except Exception as e:  # a broken setup is a failure of this case, with the reason
        why = "%s: %s" % (type(e).__name__, e)
    if why:
        print("FAIL %s: %s" % (NAME, why), flush=True)
        return 1
    print("PASS %s" % NAME, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
