#!/usr/bin/python3
"""Config conformance checks for nospof's validator (cfg_check = what `nospofd -t` runs).

  conformance.py broken CFG_CHECK DIR
      Every DIR/*.conf holds a line `# expect: LINE: SUBSTRING`. cfg_check must exit 1 and
      print exactly one error, at FILE:LINE, whose message contains SUBSTRING.

  conformance.py samples CFG_CHECK [SAMPLES_DIR]
      For every keepalived sample config (Debian's keepalived package), compares cfg_check's
      verdict (accept/reject) with `keepalived -t -f FILE`. keepalived checks that the
      interfaces exist, so it runs in a private network namespace holding veth interfaces
      named like the samples' (eth0..eth3, eth0.1). Without root, ip(8) or keepalived, the
      verdicts recorded below from keepalived 2.2.7 are used instead. Every difference must
      be listed in KNOWN_DIFFS with its reason; an unlisted difference (or a listed one that
      no longer differs) fails the test.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

SAMPLES = "/usr/share/doc/keepalived/samples"
NETNS = "nspcfg-conf-%d" % os.getpid()
IFACES = ["eth0", "eth1", "eth2", "eth3", "eth0.1"]

# keepalived 2.2.7 `-t` verdicts with eth0..eth3 and eth0.1 present (True = accepted).
KEEPALIVED_RECORDED = {
    "keepalived.conf.HTTP_GET.port": True,
    "keepalived.conf.IPv6": True,
    "keepalived.conf.PING_CHECK": True,
    "keepalived.conf.SMTP_CHECK": True,
    "keepalived.conf.SSL_GET": False,  # state MASTER with AH authentication
    "keepalived.conf.UDP_CHECK": True,
    "keepalived.conf.conditional_conf": False,  # vrrp_script without script (no @id matched)
    "keepalived.conf.fwmark": False,  # protocol given for a fwmark virtual server
    "keepalived.conf.inhibit": True,
    "keepalived.conf.misc_check": True,
    "keepalived.conf.misc_check_arg": True,
    "keepalived.conf.quorum": True,
    "keepalived.conf.sample": True,
    "keepalived.conf.status_code": True,
    "keepalived.conf.track_interface": False,  # virtual route without an interface
    "keepalived.conf.virtual_server_group": True,
    "keepalived.conf.virtualhost": True,
    "keepalived.conf.vrrp": True,
    "keepalived.conf.vrrp.localcheck": False,  # scripts run without enable_script_security
    "keepalived.conf.vrrp.lvs_syncd": False,  # sync group members outside 'group { }'
    "keepalived.conf.vrrp.routes": False,  # virtual routes without an interface
    "keepalived.conf.vrrp.rules": False,  # invalid rule addresses (192.168.100./24)
    "keepalived.conf.vrrp.scripts": True,
    "keepalived.conf.vrrp.static_ipaddress": False,  # static route without an interface
    "keepalived.conf.vrrp.sync": True,
}

# sample -> (nospof accepts?, keepalived accepts?, reason). nospof may only be MORE lenient
# where the difference comes from features it does not implement yet (warned, block skipped)
# or from host checks it leaves to start-up; it may be stricter only with a stated reason
# (fwmark, DR and TUN services need a packet data plane: nospof proxies in user space).
KNOWN_DIFFS = {
    "keepalived.conf.virtual_server_group": (
        False, True, "the group holds 'fwmark 1' and 'fwmark 2' lines: fwmark services need "
        "a packet data plane that nospof does not have (it proxies in user space), so nospof "
        "refuses them with that reason"),
    "keepalived.conf.track_interface": (
        True, False, "virtual_routes/static_routes are not implemented yet (warning, block "
        "skipped), so keepalived's 'cannot track route' complaint is not seen"),
    "keepalived.conf.vrrp.routes": (
        True, False, "virtual_routes/static_routes are not implemented yet (warning, block "
        "skipped)"),
    "keepalived.conf.vrrp.rules": (
        True, False, "virtual_rules/static_rules are not implemented yet (warning, block "
        "skipped), so the bad rule addresses inside them are not checked"),
    "keepalived.conf.vrrp.static_ipaddress": (
        True, False, "static_routes is not implemented yet (warning, block skipped)"),
    "keepalived.conf.vrrp.localcheck": (
        True, False, "keepalived -t fails on its SECURITY VIOLATION notice (scripts without "
        "enable_script_security); nospof leaves script-path security to start-up"),
}


def run_check(cfg_check, path):
    """Runs the checker on path: `nospofd -t -f PATH` (what the issue and the operator use),
    or the cfg_check test program (same validator) when given instead."""
    argv = [cfg_check, "-t", "-f", path] if os.path.basename(cfg_check) == "nospofd" \
        else [cfg_check, path]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def check_broken(cfg_check, directory):
    files = sorted(glob.glob(os.path.join(directory, "*.conf")))
    failures = 0
    for path in files:
        with open(path) as f:
            m = re.search(r"^# expect: (\d+): (.+)$", f.read(), re.M)
        if not m:
            print("FAIL %s: no '# expect: LINE: substring' line" % path)
            failures += 1
            continue
        line, want = int(m.group(1)), m.group(2).strip()
        rc, out = run_check(cfg_check, path)
        errors = [l for l in out.splitlines() if ": error: " in l]
        prefix = "%s:%d: error: " % (path, line)
        ok = rc == 1 and len(errors) == 1 and errors[0].startswith(prefix) and want in errors[0]
        print("%s %s" % ("ok  " if ok else "FAIL", os.path.basename(path)))
        if not ok:
            print("     expected exactly one error '%s...%s' and exit 1; got exit %d:\n%s"
                  % (prefix, want, rc, out))
            failures += 1
    print("%d broken configs, %d failures" % (len(files), failures))
    if len(files) < 25:
        print("FAIL: the corpus needs at least 25 configs")
        return 1
    return 1 if failures else 0


def netns_usable():
    return (os.geteuid() == 0 and shutil.which("ip") and shutil.which("keepalived")
            and subprocess.run(["ip", "netns", "add", NETNS]).returncode == 0)


def netns_setup():
    for i, name in enumerate(IFACES):
        subprocess.run(["ip", "-n", NETNS, "link", "add", name, "type", "veth", "peer",
                        "name", "cfgp%d" % i], check=True)
        subprocess.run(["ip", "-n", NETNS, "link", "set", name, "up"], check=True)


def keepalived_accepts(path):
    # -t parses only; it exits non-zero on any config error it logs.
    p = subprocess.run(["ip", "netns", "exec", NETNS, "keepalived", "-t", "-n", "-l", "-f",
                        path], capture_output=True, text=True, timeout=60)
    return p.returncode == 0


def compare_samples(cfg_check, samples, live):
    failures = 0
    print("%-40s %-8s %-10s %s" % ("sample", "nospof", "keepalived", "note"))
    for path in samples:
        name = os.path.basename(path)
        ours = run_check(cfg_check, path)[0] == 0
        if live:
            theirs = keepalived_accepts(path)
        elif name in KEEPALIVED_RECORDED:
            theirs = KEEPALIVED_RECORDED[name]
        else:
            print("%-40s skipped (no recorded keepalived verdict)" % name)
            continue
        note = ""
        if ours != theirs:
            known = KNOWN_DIFFS.get(name)
            if known and known[:2] == (ours, theirs):
                note = "known: " + known[2]
            else:
                note = "UNEXPECTED DIFFERENCE"
                failures += 1
                print(run_check(cfg_check, path)[1])
        elif name in KNOWN_DIFFS:
            note = "listed in KNOWN_DIFFS but no longer differs: update the table"
            failures += 1
        print("%-40s %-8s %-10s %s" % (name, "accept" if ours else "reject",
                                       "accept" if theirs else "reject", note))
    return failures


def check_samples(cfg_check, directory):
    samples = sorted(p for p in glob.glob(os.path.join(directory, "keepalived.conf.*")))
    if not samples:
        print("SKIP: no keepalived samples in %s" % directory)
        return 77
    live = netns_usable()
    try:
        if live:
            netns_setup()
        else:
            print("(keepalived not runnable in a namespace: using recorded 2.2.7 verdicts)")
        failures = compare_samples(cfg_check, samples, live)
    finally:
        if live:
            subprocess.run(["ip", "netns", "del", NETNS])
    print("%d samples, %d unexpected differences" % (len(samples), failures))
    return 1 if failures else 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "broken":
        return check_broken(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 3 and sys.argv[1] == "samples":
        return check_samples(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else SAMPLES)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
