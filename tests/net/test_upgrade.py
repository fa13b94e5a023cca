#!/usr/bin/python3
"""`nospofctl upgrade` end to end: the running nospofd re-executes itself (or another binary)
and hands over its listeners, its VRRP mastership and its real servers' state without a
dropped connection, a missing VIP or a transition the peer can see (src/daemon/upgrade.h).

Topology (UpTopology, namespaces nsp-up-<pid><n>-*): n1 = nospofd, VRRP MASTER (priority 150)
of the VIP 192.0.2.100, with a `protocol TCP` virtual server on VIP:80 and a `protocol HTTP`
one on VIP:8080; n2 = keepalived 2.2.7 BACKUP (priority 100) of the same VRID; n3, n4 = nginx
real servers; cl = client (wrk, and single requests made by the test process in the client
namespace). VRRP runs version 3 with advert_int 0.1 s: VRRPv2 cannot express a sub-second
interval (RFC 3768 5.3.7, nospof refuses it), and 0.1 s makes keepalived's Master_Down_Interval
0.36 s, so any gap in nospof's adverts during a hand-over would make keepalived take over.

The test process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER): each new
nospofd is a child of the one it replaces, and is reparented to the test when that one exits,
so the test can reap every generation and read its exit status.

Cases:
  upgrade_under_load_no_errors        wrk through both virtual servers for 10 s while
                                      `nospofctl upgrade` runs 3 times: no socket error, no
                                      non-2xx, keepalived never left BACKUP (log and wire), the VIP
                                      never missing, no priority-0 advert, every old process
                                      exits 0 within nospof_upgrade_drain_timeout
  upgrade_keeps_down_server_down      a DOWN real server stays DOWN across an upgrade (no "UP"
                                      logged), a runtime weight survives it
  upgrade_to_bad_binary_keeps_running /bin/false and a missing path: error reply, exit 1, same
                                      pid, VIP and service; keepalived BACKUP; a good upgrade
                                      works afterwards
  upgrade_with_bad_config_keeps_running  an invalid config on disk: the error names the
                                      configuration, the old process carries on unchanged
  upgrade_keeps_udp_answers           a UDP virtual server before a real server that answers
                                      each datagram 0.4 s late, queried from a new source port
                                      every 25 ms: every query sent before the upgrade, and
                                      before a SIGTERM (to an address VRRP does not release),
                                      is answered (the stopping process relays its flows' late
                                      replies), and the old process exits soon after
"""

import ctypes
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import cleanup  # noqa: E402
from lib.capture import Capture  # noqa: E402
from lib.peers import Inst, Keepalived  # noqa: E402
from lib.procs import Proc  # noqa: E402
from lib.runner import case, main  # noqa: E402
from lib.servers import LbNospof, LbTopology, Nginx, NsSockets, Server, http_get  # noqa: E402
from lib.topo import AddrMonitor, has_vip  # noqa: E402
from lib.util import TestFailure, expect, hold, now, poll, ppid, sh  # noqa: E402

VIP = "192.0.2.100"
VRID = 51
ADVERT_S = 0.1
DRAIN_S = 5
# keepalived BACKUP at priority 100, v3: 3 x 0.1 + (256 - 100) x 0.1 / 256 (RFC 5798 6.1).
MASTER_DOWN_S = 3 * ADVERT_S + (256 - 100) * ADVERT_S / 256
UPGRADED_RE = re.compile(r"upgraded: pid (\d+) serves now .*; pid (\d+) drains")
PR_SET_CHILD_SUBREAPER = 36


class UpTopology(LbTopology):
    """LbTopology with this file's namespace prefix (nsp-up-<pid><n>)."""
    ns_prefix = "nsp-up-"


def become_subreaper():
    """Orphaned nospofd generations are reparented to this process (so it can reap them)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


# ---- config text ------------------------------------------------------------------------------

def tcp_check():
    return ["TCP_CHECK {", "    connect_timeout 0.5", "}", "delay_loop 0.3", "retry 1",
            "delay_before_retry 0.2", "warmup 0"]


def rs_block(ip, port=80, lines=()):
    body = [f"        {ln}" for ln in lines]
    return "\n".join([f"    real_server {ip} {port} {{"] + body + ["    }"])


def vrrp_lines(drain_s=DRAIN_S):
    """global_defs and the VRRP master instance of the VIP."""
    # vrrp_rt_priority: wrk, nginx and three nospofd generations share two cores here; the
    # adverts must not wait behind them (as on a loaded production box).
    return ["global_defs {", "    router_id n1", f"    nospof_upgrade_drain_timeout {drain_s}",
            "    vrrp_rt_priority 50", "}",
            "vrrp_instance VI_1 {", "    state BACKUP", "    interface eth0",
            f"    virtual_router_id {VRID}", "    priority 150", "    version 3",
            f"    advert_int {ADVERT_S}", "    virtual_ipaddress {", f"        {VIP}/24", "    }",
            "}"]


def config(rs_ips, down_ips=(), drain_s=DRAIN_S, http=True):
    """nospofd's config: the VRRP master instance, a TCP virtual server on VIP:80 over rs_ips
    and down_ips (all with TCP_CHECK) and, with http, an HTTP one on VIP:8080 over rs_ips."""
    lines = vrrp_lines(drain_s) + [
        f"virtual_server {VIP} 80 {{", "    lb_algo rr", "    lb_kind NAT", "    protocol TCP"]
    lines += [rs_block(ip, lines=tcp_check()) for ip in list(rs_ips) + list(down_ips)]
    lines.append("}")
    if http:
        lines += [f"virtual_server {VIP} 8080 {{", "    lb_algo rr", "    protocol HTTP"]
        lines += [rs_block(ip, lines=tcp_check()) for ip in rs_ips]
        lines.append("}")
    return "\n".join(lines) + "\n"


# ---- the lab ----------------------------------------------------------------------------------

class Lab:
    """n1 nospofd, n2 keepalived (optional), n3.. nginx (webs of them), client sockets."""

    def __init__(self, ctx, webs=2, keepalived=True, spare=0):
        become_subreaper()
        self.ctx = ctx
        self.topo = UpTopology(nodes=2 + webs + spare)
        self.lbnode, self.kanode = self.topo.node(1), self.topo.node(2)
        self.webs = [Nginx(ctx, self.topo.node(3 + i), f"web{i + 1}").start()
                     for i in range(webs)]
        self.spares = [self.topo.node(3 + webs + i) for i in range(spare)]
        self.nss = NsSockets(self.topo.client.ns)
        cleanup.register(self.nss.close)
        self.want_keepalived = keepalived
        self.lb = self.ka = None
        self.reaped = {}        # pid -> exit status of the nospofd generations reaped here

    def start(self, text):
        """nospofd (waits for MASTER with the VIP), then keepalived (waits for BACKUP)."""
        self.lb = LbNospof(self.ctx, self.lbnode, text).start()
        poll(lambda: self.lb.state() == "MASTER" and has_vip(self.lbnode.ns, VIP), 10,
             what="nospofd MASTER with the VIP")
        if self.want_keepalived:
            inst = Inst(vrid=VRID, priority=100, version=3, advert=ADVERT_S, vips=[f"{VIP}/24"])
            self.ka = Keepalived(self.ctx, self.kanode, [inst]).start()
            poll(lambda: self.ka.state() == "BACKUP", 10, what="keepalived BACKUP")
        return self.lb

    def pidfile_pid(self):
        with open(self.lb._path("n.pid"), encoding="utf-8") as f:
            return int(f.read().strip())

    def ctl(self, *args):
        """nospofctl -S SOCK args: (exit status, stdout + stderr)."""
        res = subprocess.run([self.ctx.nospofctl, "-S", self.lb.sock] + list(args),
                             capture_output=True, text=True, timeout=60, check=False)
        return res.returncode, res.stdout + res.stderr

    def upgrade(self, binary=None):
        """A successful upgrade: (new pid, old pid, seconds the command took)."""
        t0 = now()
        rc, out = self.ctl("upgrade", *([binary] if binary else []))
        took = now() - t0
        m = UPGRADED_RE.search(out)
        expect(rc == 0 and m, f"nospofctl upgrade: exit {rc}, {out!r}")
        new, old = int(m.group(1)), int(m.group(2))
        expect(new != old, f"upgrade: the same pid {new} serves")
        got = self.pidfile_pid()
        expect(got == new, f"pid file names {got} after the upgrade to pid {new}")
        return new, old, took

    def exited(self, pid):
        """Exit status of nospofd generation pid once it has exited, else None. The first
        generation is the Proc's own child; later ones are reaped here (subreaper)."""
        if pid in self.reaped:
            return self.reaped[pid]
        first = self.lb.procs[0]
        if pid == first.pid:
            return first.returncode()
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            # Not (yet) ours: its parent, the previous generation, still runs.
            return None
        if got == 0:
            return None
        self.reaped[pid] = os.waitstatus_to_exitcode(status)
        return self.reaped[pid]

    def stop_current(self, pid):
        """SIGTERM to the serving generation pid; expects exit status 0 within 10 s."""
        os.kill(pid, signal.SIGTERM)
        code = poll(lambda: (self.exited(pid),) if self.exited(pid) is not None else None,
                    10, interval=0.05, what=f"nospofd pid {pid} to exit on SIGTERM")[0]
        expect(code == 0, f"nospofd pid {pid} exited with {code} on SIGTERM")

    def get(self, port=80):
        return http_get(self.nss, VIP, port, timeout=3)

    def keepalived_master_lines(self):
        return [ln for ln in self.ka.procs[0].text().splitlines() if "Entering MASTER" in ln]


class VipProbe:
    """A thread that checks every ~20 ms that n1 carries the VIP and n2 does not; records
    every miss with its time. Bounded by limit_s."""

    def __init__(self, lab, limit_s=45):
        self.lab = lab
        self.misses = []
        self.checks = 0
        self._stop = threading.Event()
        self._limit = now() + limit_s
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set() and now() < self._limit:
            if not has_vip(self.lab.lbnode.ns, VIP):
                self.misses.append((now(), "VIP missing on nospofd's node"))
            if has_vip(self.lab.kanode.ns, VIP):
                self.misses.append((now(), "VIP on keepalived's node"))
            self.checks += 1
            time.sleep(0.02)

    def stop(self):
        self._stop.set()
        self.thread.join(5)


def addr_deletes(mon):
    """Lines of `ip monitor address` that report the VIP deleted."""
    return [ln for ln in mon.proc.text().splitlines() if "Deleted" in ln and f" {VIP}/" in ln]


# ---- wrk ----------------------------------------------------------------------------------------

WRK_SOCKET_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_NON2XX_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_REQS_RE = re.compile(r"(\d+) requests in")


# Prints every response that is not a 200 (status, a few headers, the start of the body).
WRK_LUA = """
response = function(status, headers, body)
  if status ~= 200 then
    local h = {}
    for k, v in pairs(headers) do h[#h + 1] = k .. "=" .. v end
    io.write(string.format("NON200 %d [%s] %q\\n", status, table.concat(h, " "),
                           string.sub(body, 1, 120)))
  end
end
"""


def start_wrk(lab, name, port, secs, conns, close):
    """wrk in the client namespace against VIP:port for secs seconds. close: every request
    asks for Connection: close (one TCP connection per request)."""
    lua = os.path.join(lab.ctx.tmp, "non200.lua")
    with open(lua, "w", encoding="utf-8") as f:
        f.write(WRK_LUA)
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--timeout", "3s", "-s", lua]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://{VIP}:{port}/")
    return Proc(name, lab.topo.client.ns, argv, lab.ctx.tmp)


def wrk_result(proc):
    """(requests, socket errors dict, non-2xx count) from a finished wrk's output."""
    text = proc.text()
    m = WRK_REQS_RE.search(text)
    expect(m, f"{proc.name}: no result in its output: {text[-600:]!r}")
    sock = WRK_SOCKET_RE.search(text)
    errs = dict(zip(("connect", "read", "write", "timeout"),
                    (int(x) for x in sock.groups()))) if sock else {}
    non2xx = WRK_NON2XX_RE.search(text)
    return int(m.group(1)), errs, int(non2xx.group(1)) if non2xx else 0


# ---- cases --------------------------------------------------------------------------------------

def prio0_adverts(cap, src):
    """Frame numbers of VRRP packets from src with priority 0 (a resignation)."""
    out = sh(["tshark", "-n", "-r", cap.path, "-Y", f"vrrp && ip.src=={src} && vrrp.prio==0",
              "-T", "fields", "-e", "frame.number"], timeout=30)
    return out.split()


def advert_times(cap, src):
    """Capture times (s) of the VRRP packets from src."""
    out = sh(["tshark", "-n", "-r", cap.path, "-Y", f"vrrp && ip.src=={src}", "-T", "fields",
              "-e", "frame.time_epoch"], timeout=30)
    return [float(x) for x in out.split()]


def client_sysctls(lab):
    """One TCP connection per request for 10 s: let the client reuse TIME_WAIT ports (its own
    namespace's sysctls only)."""
    for kv in ("net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=10000 65000"):
        lab.topo.client.sh(["sysctl", "-qw", kv])


@case("upgrade_under_load_no_errors", needs_ctl=True)
def under_load(ctx):
    lab = Lab(ctx)
    ips = [w.node.ip4 for w in lab.webs]
    lab.start(config(ips))
    poll(lambda: set(lab.lb.rs_states().values()) == {"UP"}, 10, what="real servers UP")
    expect(lab.get(80) in ("web1", "web2") and lab.get(8080) in ("web1", "web2"),
           "no answer through the virtual servers before the upgrade")
    client_sysctls(lab)
    cap = Capture(ctx, lab.topo)
    mon = AddrMonitor(lab.lbnode.ns, ctx.tmp, Proc)
    probe = VipProbe(lab)
    wrk_secs = 10
    t_start = now()
    # L4: a new connection per request (the listeners' hand-over under a connect storm; the
    # old process has nothing long-lived to drain). L7: keep-alive (the old process closes
    # them with "Connection: close" on their next response).
    w4 = start_wrk(lab, "wrk-l4", 80, wrk_secs, 8, close=True)
    w7 = start_wrk(lab, "wrk-l7", 8080, wrk_secs, 8, close=False)
    gens = [(lab.lb.daemon_pid(), None)]   # (pid, time it was replaced)
    pid = gens[0][0]
    for at in (2.0, 5.0, 8.0):
        time.sleep(max(0.0, t_start + at - now()))
        new, old, took = lab.upgrade()
        expect(old == pid, f"upgrade: pid {old} drains, but pid {pid} was serving")
        gens[-1] = (old, now())
        gens.append((new, None))
        ctx.note(f"upgrade at {now() - t_start:.1f}s: pid {old} -> {new} in {took:.2f}s")
        pid = new
    poll(lambda: not w4.alive() and not w7.alive(), wrk_secs + 10, interval=0.1,
         what="wrk to finish")
    probe.stop()
    bad = []    # every finding, so one run tells the whole story
    for w in (w4, w7):
        reqs, errs, non2xx = wrk_result(w)
        ctx.note(f"{w.name}: {reqs} requests, socket errors {errs or 'none'}, non-2xx {non2xx}")
        if reqs < 100 or any(errs.values()) or non2xx:
            bad.append(f"{w.name}: {reqs} requests, socket errors {errs}, {non2xx} non-2xx")
    bad += check_old_exits(lab, ctx, gens[:-1])
    if not (os.path.exists(f"/proc/{pid}") and lab.pidfile_pid() == pid):
        bad.append(f"after the old ones exited: serving pid {pid}, pid file "
                   f"{lab.pidfile_pid()}")
    if lab.lb.state() != "MASTER":
        bad.append(f"nospofd after the upgrades: {lab.lb.state()}")
    if probe.misses:
        bad.append(f"VIP prober ({probe.checks} checks): {probe.misses[:5]}")
    if addr_deletes(mon):
        bad.append(f"ip monitor saw the VIP deleted: {addr_deletes(mon)}")
    if lab.ka.state() != "BACKUP" or lab.keepalived_master_lines():
        bad.append(f"keepalived left BACKUP: {lab.keepalived_master_lines()}")
    mon.stop()
    cap.stop()
    bad += check_wire(lab, ctx, cap)
    ctx.note(f"VIP probed {probe.checks} times")
    expect(not bad, "; ".join(bad))
    lab.stop_current(pid)


def check_old_exits(lab, ctx, replaced):
    """Every replaced generation (pid, time replaced) exits by itself with status 0 within
    the drain timeout. Returns the problems found."""
    bad = []
    for old, t_replaced in replaced:
        try:
            code = poll(lambda o=old: (lab.exited(o),) if lab.exited(o) is not None else None,
                        max(0.5, t_replaced + DRAIN_S + 1.5 - now()), interval=0.05,
                        what=f"old pid {old} to exit within {DRAIN_S} s of its replacement")[0]
        except TestFailure as exc:
            bad.append(str(exc))
            continue
        ctx.note(f"old pid {old}: exit {code}")
        if code != 0:
            bad.append(f"old pid {old} exited with {code}")
    return bad


def check_wire(lab, ctx, cap):
    """From the capture: no priority-0 advert from nospofd, none at all from keepalived, and
    no pause in nospofd's adverts as long as keepalived's Master_Down_Interval."""
    bad = []
    prio0 = prio0_adverts(cap, lab.lbnode.ip4)
    if prio0:
        bad.append(f"priority-0 adverts from nospofd in frames {prio0} ({cap.path})")
    ka_sent = advert_times(cap, lab.kanode.ip4)
    if ka_sent:
        bad.append(f"keepalived sent {len(ka_sent)} adverts (it acted as master)")
    times = advert_times(cap, lab.lbnode.ip4)
    gaps = sorted(((b - a, a) for a, b in zip(times, times[1:])), reverse=True)
    gap, at = gaps[0]
    ctx.note(f"{len(times)} adverts from nospofd, largest gaps "
             f"{[round(g * 1000) for g, _ in gaps[:3]]} ms; {len(prio0)} with priority 0")
    if gap >= MASTER_DOWN_S:
        stamp = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
        bad.append(f"nospofd's adverts paused {gap:.3f}s after {stamp} (keepalived's "
                   f"Master_Down_Interval is {MASTER_DOWN_S:.3f}s)")
    return bad


@case("upgrade_keeps_down_server_down", needs_ctl=True)
def keeps_down(ctx):
    lab = Lab(ctx, webs=1, keepalived=False, spare=1)
    up_ip, down_ip = lab.webs[0].node.ip4, lab.spares[0].ip4   # nothing listens on the spare
    lab.start(config([up_ip], down_ips=[down_ip], http=False))
    poll(lambda: lab.lb.rs_states() == {up_ip: "UP", down_ip: "DOWN"}, 10,
         what=f"{up_ip} UP and {down_ip} DOWN")
    vs = f"{VIP}:80"
    lab.lb.ctl("weight", vs, f"{up_ip}:80", "7")
    expect(lab.lb.rs(up_ip)["effective_weight"] == 7, f"weight 7: {lab.lb.rs(up_ip)}")
    mark = len(lab.lb.log_text())
    new, old, _ = lab.upgrade()
    after = lab.lb.rs_states()
    expect(after == {up_ip: "UP", down_ip: "DOWN"}, f"right after the upgrade: {after}")
    # Several check rounds (delay_loop 0.3 s) of the new process: the verdict holds.
    hold(lambda: lab.lb.rs_states() == {up_ip: "UP", down_ip: "DOWN"}, 2.0, interval=0.05,
         what=f"{down_ip} DOWN and {up_ip} UP after the upgrade")
    rs = lab.lb.rs(up_ip)
    expect(rs["effective_weight"] == 7, f"the runtime weight 7 did not survive: {rs}")
    log = lab.lb.log_text()[mark:]
    ups = [ln for ln in log.splitlines() if f"real server {down_ip}:80 is UP" in ln]
    expect(not ups, f"the down server was reported UP after the upgrade: {ups}")
    expect(lab.get(80) == "web1", "no answer through the VS after the upgrade")
    poll(lambda: lab.exited(old) is not None, DRAIN_S + 2, interval=0.05,
         what=f"old pid {old} to exit")
    ctx.note(f"pid {old} -> {new}: {down_ip} DOWN, {up_ip} UP with weight 7, no UP logged")
    lab.stop_current(new)


def expect_unchanged(lab, pid, what):
    """pid still serves: pid file, process, VIP, status, one request through the VS."""
    expect(lab.pidfile_pid() == pid, f"{what}: pid file names {lab.pidfile_pid()}, not {pid}")
    expect(os.path.exists(f"/proc/{pid}"), f"{what}: pid {pid} is gone")
    expect(has_vip(lab.lbnode.ns, VIP), f"{what}: the VIP is gone")
    expect(lab.lb.state() == "MASTER", f"{what}: state {lab.lb.state()}")
    expect(lab.get(80) in ("web1", "web2"), f"{what}: no answer through the VS")
    if lab.ka:
        expect(lab.ka.state() == "BACKUP" and not lab.keepalived_master_lines(),
               f"{what}: keepalived left BACKUP")


def no_stray_children(lab, pid):
    """The failed successor was reaped by nospofd: no child (zombie or not) is left."""
    kids = [d for d in os.listdir("/proc") if d.isdigit() and ppid(d) == pid]
    expect(not kids, f"nospofd pid {pid} has children after a failed upgrade: {kids}")


@case("upgrade_to_bad_binary_keeps_running", needs_ctl=True)
def bad_binary(ctx):
    lab = Lab(ctx)
    lab.start(config([w.node.ip4 for w in lab.webs], http=False))
    poll(lambda: set(lab.lb.rs_states().values()) == {"UP"}, 10, what="real servers UP")
    pid = lab.lb.daemon_pid()
    probe = VipProbe(lab)
    missing = os.path.join(ctx.tmp, "no-such-nospofd")
    for binary in ("/bin/false", missing):
        rc, out = lab.ctl("upgrade", binary)
        expect(rc == 1 and "error" in out and "upgraded" not in out,
               f"upgrade {binary}: exit {rc}, {out!r}")
        ctx.note(f"upgrade {binary}: exit {rc}: {out.strip()}")
        expect_unchanged(lab, pid, f"after upgrade {binary}")
        no_stray_children(lab, pid)
    probe.stop()
    expect(not probe.misses, f"VIP prober: {probe.misses[:5]}")
    # Nothing was left half-done: a real upgrade still works.
    new, old, _ = lab.upgrade()
    expect(old == pid, f"upgrade drained pid {old}, not {pid}")
    poll(lambda: lab.exited(old) is not None, DRAIN_S + 2, interval=0.05,
         what=f"old pid {old} to exit")
    expect(lab.exited(old) == 0, f"old pid {old} exited with {lab.exited(old)}")
    expect(lab.get(80) in ("web1", "web2"), "no answer after the good upgrade")
    expect(lab.ka.state() == "BACKUP", "keepalived left BACKUP after the good upgrade")
    lab.stop_current(new)


@case("upgrade_with_bad_config_keeps_running", needs_ctl=True)
def bad_config(ctx):
    lab = Lab(ctx)
    good = config([w.node.ip4 for w in lab.webs], http=False)
    lab.start(good)
    poll(lambda: set(lab.lb.rs_states().values()) == {"UP"}, 10, what="real servers UP")
    pid = lab.lb.daemon_pid()
    lab.lb.write(good.replace("lb_algo rr", "lb_algo no_such_scheduler"))
    try:
        rc, out = lab.ctl("upgrade")
    finally:
        lab.lb.write(good)
    ctx.note(f"upgrade with a bad config: exit {rc}: {out.strip()}")
    expect(rc == 1 and "configuration" in out and "upgraded" not in out,
           f"upgrade with a bad config: exit {rc}, {out!r}")
    expect_unchanged(lab, pid, "after the refused upgrade")
    no_stray_children(lab, pid)
    expect("no_such_scheduler" in lab.lb.log_text(),
           "the successor's log does not name the bad line")
    lab.stop_current(pid)


# ---- UDP: answers in flight across the hand-over ------------------------------------------------

UDP_PORT = 53
# An address n1 keeps when nospofd stops (the test adds it), unlike the VRRP VIP: a stopping
# nospofd releases the VIP first, and the kernel then refuses replies from it (ENETUNREACH).
STATIC_VIP = "192.0.2.101"
SLOW_PORT = 5300
SLOW_DELAY_S = 0.4

# Answers every datagram with "re:" + its bytes SLOW_DELAY_S after it arrived (in arrival
# order), and logs both; exits by itself after 60 s.
SLOW_UDP = """
import select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
delay, due, end = float(sys.argv[3]), [], time.monotonic() + 60
while time.monotonic() < end:
    wait = max(0.0, due[0][0] - time.monotonic()) if due else 1.0
    if select.select([s], [], [], wait)[0]:
        data, addr = s.recvfrom(2048)
        due.append((time.monotonic() + delay, data, addr))
        print(f"{time.time():.3f} got {data!r} from {addr}", flush=True)
    while due and due[0][0] <= time.monotonic():
        _, data, addr = due.pop(0)
        s.sendto(b"re:" + data, addr)
        print(f"{time.time():.3f} sent re:{data!r} to {addr}", flush=True)
"""


class SlowUdp(Server):
    """The delayed-answer UDP real server above, on node.ip4:SLOW_PORT."""
    kind = "slowudp"

    def argv(self):
        return ["/usr/bin/python3", "-c", SLOW_UDP, self.node.ip4, str(SLOW_PORT),
                str(SLOW_DELAY_S)]

    def ready(self):
        return self.listening(SLOW_PORT, udp=True)


def udp_config(rs_ip):
    """The VRRP master instance and UDP virtual servers VIP:53 and STATIC_VIP:53 over
    rs_ip:SLOW_PORT."""
    lines = vrrp_lines()
    for vip in (VIP, STATIC_VIP):
        lines += [f"virtual_server {vip} {UDP_PORT} {{", "    lb_algo rr", "    lb_kind NAT",
                  "    protocol UDP", f"    real_server {rs_ip} {SLOW_PORT} {{",
                  "        weight 1", "    }", "}"]
    return "\n".join(lines) + "\n"


class UdpAsker:
    """A thread that sends one query every 25 ms from a new client socket (a new source
    port, as a resolver does) to vip:53 until stop(), then waits up to 2 s for the answers.
    sent: {n: time sent}; answered: {n: time answered}. Bounded by limit_s."""

    def __init__(self, nss, vip, limit_s=20):
        self.nss, self.vip = nss, vip
        self.sent, self.answered, self.wrong = {}, {}, []
        self._socks = {}
        self._stop, self._quiet = threading.Event(), threading.Event()
        self._limit = now() + limit_s
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _send(self, n):
        sock = self.nss.socket(socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.sendto(b"q%d" % n, (self.vip, UDP_PORT))
        self.sent[n] = now()
        self._socks[sock] = n

    def _collect(self, wait):
        ready = select.select(list(self._socks), [], [], max(0.0, wait))[0]
        for sock in ready:
            n = self._socks.pop(sock)
            data, src = sock.recvfrom(2048)
            if data != b"re:q%d" % n or src != (self.vip, UDP_PORT):
                self.wrong.append((n, data, src))
            self.answered[n] = now()
            sock.close()

    def _run(self):
        n, nxt = 0, now()
        while not self._stop.is_set() and now() < self._limit:
            if now() >= nxt:
                self._send(n)
                n, nxt = n + 1, nxt + 0.025
            self._collect(min(nxt - now(), 0.025))
        self._quiet.set()
        end = now() + 2.0
        while self._socks and now() < end:
            self._collect(end - now())
        for sock in self._socks:
            sock.close()

    def stop_sending(self):
        """Returns once no more query will be sent."""
        self._stop.set()
        self._quiet.wait(5)

    def stop(self):
        """Stops sending; returns once the answers are in (or 2 s passed)."""
        self.stop_sending()
        self.thread.join(10)

    def missing(self):
        return sorted(set(self.sent) - set(self.answered))


def in_flight(asker, t):
    """Queries sent before t whose answer came after t (the ones a hand-over at t could lose)."""
    return [n for n, ts in asker.sent.items() if ts < t and asker.answered.get(n, t + 1) > t]


@case("upgrade_keeps_udp_answers", needs_ctl=True)
def udp_answers(ctx):
    lab = Lab(ctx, webs=0, keepalived=False, spare=1)
    slow = SlowUdp(ctx, lab.spares[0], "slow").start()
    lab.lbnode.sh(["ip", "addr", "add", f"{STATIC_VIP}/32", "dev", lab.lbnode.ifname])
    lab.start(udp_config(slow.node.ip4))
    probe = lab.nss.socket(socket.SOCK_DGRAM)
    probe.settimeout(1.0)

    def answered_once(vip):
        probe.sendto(b"q-1", (vip, UDP_PORT))
        try:
            return probe.recvfrom(2048)[0] == b"re:q-1"
        except socket.timeout:
            return False
    for vip in (VIP, STATIC_VIP):
        poll(lambda v=vip: answered_once(v), 10, interval=0.1,
             what=f"an answer through the UDP virtual server {vip}")
    probe.close()

    # The upgrade, with queries to the VRRP VIP before and after it.
    asker = UdpAsker(lab.nss, VIP)
    time.sleep(0.6)    # traffic before: not needed for correctness
    new, old, took = lab.upgrade()
    t_ok = now()
    time.sleep(0.3)
    asker.stop()
    late = in_flight(asker, t_ok)
    ctx.note(f"upgrade pid {old} -> {new} in {took:.2f}s: {len(asker.sent)} queries, "
             f"{len(asker.answered)} answered, {len(late)} answered after the 'ok'")
    expect(not asker.wrong, f"wrong answers: {asker.wrong[:5]}")
    lost = asker.missing()
    expect(not lost, f"queries without an answer across the upgrade: {lost} (sent at "
           f"{[round(asker.sent[n] - t_ok, 3) for n in lost]} s from the 'ok')")
    expect(late, "no query was in flight at the upgrade: the case tested nothing")
    code = poll(lambda: (lab.exited(old),) if lab.exited(old) is not None else None,
                3, interval=0.05, what=f"old pid {old} to exit once its flows were answered")[0]
    expect(code == 0, f"old pid {old} exited with {code}")
    ctx.note(f"old pid {old} exited {now() - t_ok:.2f}s after the 'ok'")

    # A plain stop: the queries sent before the SIGTERM are answered too (to STATIC_VIP, which
    # stays on n1; see above).
    asker = UdpAsker(lab.nss, STATIC_VIP)
    time.sleep(0.6)
    asker.stop_sending()    # first: nobody serves a query sent after the SIGTERM
    t_term = now()
    lab.stop_current(new)
    asker.stop()
    late = in_flight(asker, t_term)
    ctx.note(f"SIGTERM to pid {new}: {len(asker.sent)} queries, {len(asker.answered)} answered,"
             f" {len(late)} after the SIGTERM")
    expect(not asker.wrong, f"wrong answers: {asker.wrong[:5]}")
    expect(not asker.missing(), f"queries without an answer across the SIGTERM: "
           f"{asker.missing()}")
    expect(late, "no query was in flight at the SIGTERM: the case tested nothing")


if __name__ == "__main__":
    sys.exit(main())
