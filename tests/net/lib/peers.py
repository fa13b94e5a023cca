"""VRRP speakers under test, behind one small interface: nospofd, keepalived and FRR vrrpd.

An Inst describes one VRRP instance independently of the implementation; each peer class
turns a list of them into its own config, starts the daemon in a node namespace and answers
three questions: state(name) ("MASTER", "BACKUP", "FAULT", "INIT" or None when unknown),
owns_vip(name) (does this node carry the instance's first VIP as master), and problems()
(sanitizer reports, unclean exit) after stop().

  keepalived: config generated here (keepalived 2.2.7 grammar), run with
      keepalived -n -l -D -f CONF -p PID -r VRRPPID -c CHKPID --vrrp, pid files in the case
      dir; state from its log ("(VI_1) Entering MASTER STATE").
  nospofd: the same keepalived-grammar config, run with nospofd -n -l -D -f CONF -p PID
      -S SOCK; state from `nospofctl -S SOCK status --json` (docs/dev/control.md).
  FRR: zebra + vrrpd with their own pid files, zserv socket and vty sockets in the case dir;
      the VIP lives on a bridge-mode macvlan (00:00:5e:00:01:VRID) that vrrpd keeps in
      protodown while BACKUP, so ownership is "macvlan not protodown".
"""

import dataclasses
import json
import os
import pwd
import re

from .procs import Proc
from .topo import has_vip
from .util import TestFailure, poll, sh

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "AddressSanitizer:DEADLYSIGNAL")


@dataclasses.dataclass
class Inst:
    """One VRRP instance as every implementation sees it."""
    name: str = "VI_1"
    vrid: int = 51
    priority: int = 100
    version: int = 2
    advert: float = 1.0              # seconds
    family: str = "inet"             # or "inet6"
    vips: list = dataclasses.field(default_factory=lambda: ["192.0.2.100/24"])
    unicast_src: str = None
    unicast_peers: list = None
    auth_pass: str = None            # v2 PASS authentication
    interface: str = "eth0"
    state: str = "BACKUP"

    @property
    def vip(self):
        """The first VIP without its prefix length."""
        return self.vips[0].split("/")[0]

    def skew(self):
        """Skew_Time in seconds for this (backup) priority: RFC 3768 6.1 for v2 (independent
        of the interval), RFC 5798 6.1 for v3."""
        if self.version == 2:
            return (256 - self.priority) / 256.0
        return (256 - self.priority) * self.advert / 256.0

    def master_down(self):
        """Master_Down_Interval in seconds (3 x interval + skew)."""
        return 3 * self.advert + self.skew()


def _fmt_advert(inst):
    return str(int(inst.advert)) if inst.version == 2 else f"{inst.advert:g}"


def keepalived_conf(router_id, insts, global_extra=()):
    """keepalived.conf text (also read by nospofd) for the given instances."""
    lines = ["global_defs {", f"    router_id {router_id}"]
    lines += [f"    {g}" for g in global_extra]
    lines.append("}")
    for i in insts:
        lines += [f"vrrp_instance {i.name} {{",
                  f"    state {i.state}",
                  f"    interface {i.interface}",
                  f"    virtual_router_id {i.vrid}",
                  f"    priority {i.priority}",
                  f"    advert_int {_fmt_advert(i)}",
                  f"    version {i.version}"]
        if i.auth_pass:
            lines += ["    authentication {", "        auth_type PASS",
                      f"        auth_pass {i.auth_pass}", "    }"]
        if i.unicast_peers:
            if i.unicast_src:
                lines.append(f"    unicast_src_ip {i.unicast_src}")
            lines.append("    unicast_peer {")
            lines += [f"        {p}" for p in i.unicast_peers]
            lines.append("    }")
        lines.append("    virtual_ipaddress {")
        lines += [f"        {v}" for v in i.vips]
        lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


class Peer:
    """Common part: a node, its instances, a case dir, the daemon process."""
    kind = "peer"

    def __init__(self, ctx, node, insts):
        self.ctx = ctx
        self.node = node
        self.insts = {i.name: i for i in insts}
        self.dir = os.path.join(ctx.tmp, f"{self.kind}-{node.name}")
        os.makedirs(self.dir, exist_ok=True)
        self.procs = []
        self.exit_codes = []
        ctx.peers.append(self)

    @property
    def label(self):
        return f"{self.kind}@{self.node.name}"

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _write(self, name, text):
        path = self._path(name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def alive(self):
        return bool(self.procs) and all(p.alive() for p in self.procs)

    def owns_vip(self, name="VI_1"):
        return has_vip(self.node.ns, self.insts[name].vip)

    def stop(self):
        """Stops the daemons (newest first), remembering their exit codes."""
        for p in reversed(self.procs):
            self.exit_codes.append((p.name, p.stop()))

    def problems(self):
        """Sanitizer reports found in the logs (list of strings)."""
        found = []
        for p in self.procs:
            text = p.text()
            for marker in SANITIZER_MARKERS:
                if marker in text:
                    found.append(f"{p.name}: '{marker}' in {p.log}")
        return found

    def logs(self):
        return [p.log for p in self.procs]


class Keepalived(Peer):
    """keepalived 2.2.7 --vrrp in a node namespace."""
    kind = "keepalived"
    STATE_RE = re.compile(r"\((\S+)\) Entering (\w+) STATE")

    def start(self):
        conf = self._write("keepalived.conf", keepalived_conf(self.node.name,
                                                              self.insts.values()))
        argv = ["keepalived", "-n", "-l", "-D", "-f", conf, "-p", self._path("k.pid"),
                "-r", self._path("vrrp.pid"), "-c", self._path("chk.pid"), "--vrrp",
                "-i", self.node.name]
        self.procs.append(Proc(f"keepalived-{self.node.name}", self.node.ns, argv, self.dir))
        self.procs[0].wait_log("Startup complete", 10, what=f"{self.label} start-up")
        return self

    def state(self, name="VI_1"):
        last = None
        for m in self.STATE_RE.finditer(self.procs[0].text()):
            if m.group(1) == name:
                last = m.group(2)
        return last


class Nospof(Peer):
    """nospofd from the build dir, state through nospofctl status --json."""
    kind = "nospof"

    def conf_text(self):
        """The config the daemon starts with: built from the instances here."""
        return keepalived_conf(self.node.name, self.insts.values())

    def start(self):
        conf = self._write("nospof.conf", self.conf_text())
        self.sock = self._path("ctl.sock")
        argv = [self.ctx.nospofd, "-n", "-l", "-D", "-f", conf, "-p", self._path("n.pid"),
                "-S", self.sock, "-i", self.node.name]
        env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:print_summary=1",
               "UBSAN_OPTIONS": "print_stacktrace=1"}
        proc = Proc(f"nospofd-{self.node.name}", self.node.ns, argv, self.dir, env=env)
        self.procs.append(proc)

        def ready():
            if not proc.alive():
                raise TestFailure(f"{self.label} exited with {proc.returncode()} at start-up,"
                                  f" log {proc.log}")
            return self.status(check=False) is not None
        poll(ready, 10, interval=0.02, what=f"{self.label} control socket")
        return self

    def status(self, check=True):
        """Parsed `nospofctl status --json`, or None (check=False) when not answering."""
        argv = [self.ctx.nospofctl, "-S", self.sock, "status", "--json"]
        out = sh(argv, check=check, timeout=5)
        try:
            return json.loads(out)
        except ValueError:
            if check:
                raise TestFailure(f"{self.label}: status --json is not JSON: {out[:300]!r}")
            return None

    def instance(self, name="VI_1", st=None):
        st = st or self.status()
        for i in st.get("instances", []):
            if i.get("name") == name:
                return i
        raise TestFailure(f"{self.label}: no instance {name} in status")

    def state(self, name="VI_1"):
        try:
            return self.instance(name)["state"]
        except TestFailure:
            return None

    def stop(self):
        super().stop()
        for name, code in self.exit_codes:
            if code != 0:
                self.exit_problem = f"{name} exited with {code} on SIGTERM (expected 0)"

    def problems(self):
        """Sanitizer reports, an unclean exit, and (when strict_log is set, as the interop
        scenario does) any WARNING or ERROR line in the daemon's log."""
        found = super().problems()
        if getattr(self, "exit_problem", None):
            found.append(self.exit_problem)
        if getattr(self, "strict_log", False):
            bad = [ln for p in self.procs for ln in p.text().splitlines()
                   if re.search(r"\b(WARNING|ERROR|CRITICAL):", ln)]
            if bad:
                found.append(f"{self.label} logged {len(bad)} warnings/errors, first: {bad[0]}")
        return found



class TextNospof(Nospof):
    """A nospofd whose config text the case writes itself (and may rewrite for reloads)."""

    def __init__(self, ctx, node, text):
        super().__init__(ctx, node, [])
        self.text = text

    def conf_text(self):
        return self.text

    def write(self, text):
        """Replaces the config file (a reload then reads it)."""
        self.text = text
        return self._write("nospof.conf", text)

class Frr(Peer):
    """FRR zebra + vrrpd (IPv4 and v3 by default) with a macvlan per instance."""
    kind = "frr"
    BIN = "/usr/lib/frr"

    def macvlan(self, inst):
        return f"vrrp4-{inst.vrid}"

    def _setup_macvlan(self, inst):
        mv = self.macvlan(inst)
        ns = self.node.ns
        sh(["ip", "-n", ns, "link", "add", mv, "link", inst.interface, "type", "macvlan",
            "mode", "bridge"])
        sh(["ip", "-n", ns, "link", "set", mv, "address", f"00:00:5e:00:01:{inst.vrid:02x}"])
        sh(["ip", "-n", ns, "link", "set", mv, "addrgenmode", "random"])
        for v in inst.vips:
            sh(["ip", "-n", ns, "addr", "add", v, "dev", mv])
        sh(["ip", "-n", ns, "link", "set", mv, "up"])

    def _vrrpd_conf(self):
        lines = ["hostname " + self.node.name, "log stdout debugging", "debug vrrp"]
        for inst in self.insts.values():
            v = inst.vrid
            lines += [f"interface {inst.interface}",
                      f" vrrp {v} version {inst.version}",
                      f" vrrp {v} priority {inst.priority}",
                      f" vrrp {v} advertisement-interval {int(round(inst.advert * 1000))}"]
            lines += [f" vrrp {v} ip {x.split('/')[0]}" for x in inst.vips]
            lines.append("exit")
        return "\n".join(lines) + "\n"

    def start(self):
        for inst in self.insts.values():
            self._setup_macvlan(inst)
        zconf = self._write("zebra.conf", f"hostname {self.node.name}\n")
        vconf = self._write("vrrpd.conf", self._vrrpd_conf())
        zsock = self._path("zserv.api")
        # The daemons drop privileges to user frr (group frrvty for the vty sockets), so
        # their directory belongs to frr and the case dir must be traversable.
        frr = pwd.getpwnam("frr")
        os.chown(self.dir, frr.pw_uid, frr.pw_gid)
        os.chmod(self.ctx.tmp, 0o755)
        common = ["--vty_socket", self.dir, "-P", "0"]
        self.procs.append(Proc(f"zebra-{self.node.name}", self.node.ns,
                               [f"{self.BIN}/zebra", "-f", zconf, "-i", self._path("zebra.pid"),
                                "-z", zsock, "--log", "stdout"] + common, self.dir))
        poll(lambda: os.path.exists(zsock), 10, what=f"{self.label} zebra socket")
        self.procs.append(Proc(f"vrrpd-{self.node.name}", self.node.ns,
                               [f"{self.BIN}/vrrpd", "-f", vconf, "-i", self._path("vrrpd.pid"),
                                "-z", zsock, "--log", "stdout"] + common, self.dir))
        poll(lambda: os.path.exists(self._path("vrrpd.vty")), 10,
             what=f"{self.label} vrrpd vty socket")
        return self

    def vtysh(self, cmd):
        """Output of one vtysh command against this vrrpd."""
        return sh(["vtysh", "--vty_socket", self.dir, "-d", "vrrpd", "-c", cmd], timeout=5)

    def show(self):
        """`show vrrp json` parsed: a list of virtual routers."""
        return json.loads(self.vtysh("show vrrp json") or "[]")

    def state(self, name="VI_1"):
        inst = self.insts[name]
        for vr in self.show():
            if vr.get("vrid") == inst.vrid:
                status = vr.get("v4" if inst.family == "inet" else "v6", {}).get("status")
                return {"Master": "MASTER", "Backup": "BACKUP",
                        "Initialize": "INIT"}.get(status, status)
        return None

    def owns_vip(self, name="VI_1"):
        """True if the instance's macvlan is not in protodown (vrrpd's MASTER)."""
        mv = self.macvlan(self.insts[name])
        out = sh(["ip", "-n", self.node.ns, "-j", "link", "show", "dev", mv])
        link = json.loads(out)[0]
        down = link.get("proto_down", link.get("protodown", False))
        return not down and "UP" in link.get("flags", [])
