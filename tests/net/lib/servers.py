"""Real servers and clients for the load-balancing tests (test_lb.py): nginx and dnsmasq from
Debian packages, a listener that accepts and never answers, a nospofd with a hand-written
config, and client sockets opened inside a namespace from the test process itself.

Servers run in node namespaces under lib/procs.Proc (own session, stopped by process group,
cleanup registered); each has its own config, pid and log files in the case dir and touches
nothing of the system's (no /etc/nginx, no /etc/resolv.conf, no system service). They are
registered as peers of the case, so their logs are printed when a case fails.

Client traffic does not spawn a process per request: NsSockets keeps one thread that has
entered the namespace with setns(2) (a network namespace is per thread) and creates sockets
there; a socket stays in the namespace it was created in, so the test uses it from any thread.
"""

import concurrent.futures
import ctypes
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import time

from .peers import Peer, TextNospof
from .procs import Proc
from .topo import Topology
from .util import TestFailure, now, poll, sh

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


class LbTopology(Topology):
    """lib/topo.Topology with the load-balancing tests' namespace prefix (nsplb<pid><n>)."""
    ns_prefix = "nsplb"


class NsSockets:
    """Creates sockets inside network namespace ns (one helper thread that entered it)."""

    def __init__(self, ns):
        self.ns = ns
        self._pool = concurrent.futures.ThreadPoolExecutor(1, initializer=self._enter)

    def _enter(self):
        fd = os.open(f"/var/run/netns/{self.ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns {self.ns}: {os.strerror(err)}")
        finally:
            os.close(fd)

    def socket(self, kind=socket.SOCK_STREAM, family=socket.AF_INET):
        """A new socket in the namespace."""
        return self._pool.submit(socket.socket, family, kind).result(5)

    def run(self, fn, *args):
        """Runs fn(*args) in the namespace thread (for calls that create sockets themselves)."""
        return self._pool.submit(fn, *args).result(30)

    def close(self):
        self._pool.shutdown(wait=True)


# ---- HTTP over one connection ----------------------------------------------------------------

def http_request(sock, host="lb.test", keepalive=False, timeout=3.0):
    """Sends one GET / on a connected socket and returns the body (str), reading exactly
    Content-Length bytes. Raises OSError/TestFailure on a short or malformed answer."""
    sock.settimeout(timeout)
    conn = "keep-alive" if keepalive else "close"
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: {conn}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise TestFailure(f"connection closed before the headers: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if not head.startswith(b"HTTP/1.1 200") or length is None:
        raise TestFailure(f"unexpected answer head {head[:80]!r}")
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise TestFailure("connection closed inside the body")
        body += chunk
    return body[:length].decode().strip()


def http_get(nss, addr, port=80, timeout=3.0, src=None):
    """One GET on a new TCP connection from namespace nss (NsSockets) to addr:port; returns
    the body. src: optional (ip, port) to bind first."""
    s = nss.socket()
    try:
        s.settimeout(timeout)
        if src:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(src)
        s.connect((addr, port))
        return http_request(s, timeout=timeout)
    finally:
        s.close()


# ---- DNS over UDP ------------------------------------------------------------------------------

def dns_query_bytes(name, qid, qtype=1):
    """A recursion-desired query for name (type A by default)."""
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def dns_first_a(resp, qid):
    """The first A record of a response to query qid, as dotted text, or None."""
    if len(resp) < 12:
        return None
    rid, flags, qd, an = struct.unpack("!HHHH", resp[:8])
    if rid != qid or not flags & 0x8000 or flags & 0xF:
        return None
    off = 12
    for _ in range(qd):
        off = _skip_name(resp, off) + 4
    for _ in range(an):
        off = _skip_name(resp, off)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", resp[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntoa(resp[off:off + 4])
        off += rdlen
    return None


def _skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += n + 1


def dns_ask(sock, addr, name, qid, port=53, timeout=1.0):
    """Sends one A query for name with sock (an unconnected UDP socket) to addr:port; returns
    the first A record of the matching answer or None on timeout."""
    sock.settimeout(timeout)
    sock.sendto(dns_query_bytes(name, qid), (addr, port))
    deadline = now() + timeout
    while now() < deadline:
        try:
            resp, _ = sock.recvfrom(2048)
        except socket.timeout:
            return None
        a = dns_first_a(resp, qid)
        if a:
            return a
    return None


# ---- servers -----------------------------------------------------------------------------------

class Server(Peer):
    """A server process in a node namespace that can be killed (SIGKILL to its process group,
    a crash) and started again with the same files."""
    kind = "server"

    def __init__(self, ctx, node, name):
        self.sname = name
        self.kind = f"{self.kind}-{name}"
        super().__init__(ctx, node, [])

    def argv(self):
        raise NotImplementedError

    def ready(self):
        """True once the server answers."""
        return True

    def start(self):
        self.procs.append(Proc(self.kind, self.node.ns, self.argv(), self.dir))
        proc = self.procs[-1]

        def up():
            if not proc.alive():
                raise TestFailure(f"{self.label} exited with {proc.returncode()}: "
                                  f"{proc.text()[-400:]}")
            return self.ready()
        poll(up, 10, interval=0.05, what=f"{self.label} ready")
        return self

    def kill(self):
        """SIGKILL to every process of the server (master and workers)."""
        for p in self.procs:
            if p.alive():
                os.killpg(p.pid, signal.SIGKILL)
                p.popen.wait(5)

    def stop(self):
        for p in reversed(self.procs):
            p.stop()

    def listening(self, port, udp=False):
        """True if something in the node listens on port (ss)."""
        out = self.node.sh(["ss", "-Hln" + ("u" if udp else "t"), f"sport = :{port}"],
                           check=False)
        return bool(out.strip())


NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_timeout 60s;
    keepalive_requests 100000;
    server {{
        listen {ip}:{port} reuseport;
        default_type text/plain;
        location / {{ return 200 "{page}\\n"; }}
    }}
}}
"""


class Nginx(Server):
    """Debian's nginx on node.ip4:port answering every GET with its page (default: its name)."""
    kind = "nginx"

    def __init__(self, ctx, node, name, port=80, page=None):
        super().__init__(ctx, node, name)
        self.port = port
        self.conf = self._write("nginx.conf", NGINX_CONF.format(
            dir=self.dir, ip=node.ip4, port=port, page=page or name))

    def argv(self):
        return ["nginx", "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
                "-c", self.conf]

    def ready(self):
        return self.listening(self.port)

    def logs(self):
        return super().logs() + [os.path.join(self.dir, "error.log")]

    def requests(self):
        """Number of requests in the access log."""
        try:
            with open(os.path.join(self.dir, "access.log"), encoding="utf-8") as f:
                return sum(1 for _ in f)
        except OSError:
            return 0


class Dnsmasq(Server):
    """Debian's dnsmasq answering A NAME -> addr on node.ip4:53, nothing else (no resolv.conf,
    no hosts file, no DHCP)."""
    kind = "dnsmasq"

    def __init__(self, ctx, node, name, records):
        super().__init__(ctx, node, name)
        self.records = dict(records)

    def argv(self):
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--no-poll", "--bind-interfaces",
                f"--listen-address={self.node.ip4}", "--except-interface=lo", "--port=53",
                f"--pid-file={self._path('dnsmasq.pid')}", "--log-facility=-",
                "--log-queries", "--user=root", "--group=root", "--cache-size=0"]
        argv += [f"--address=/{n}/{a}" for n, a in self.records.items()]
        return argv

    def ready(self):
        return self.listening(53, udp=True)


HANG_PY = r"""
import selectors, socket, sys, time
sel = selectors.DefaultSelector()
for port in sys.argv[2].split(","):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(port)))
    s.listen(1024)
    sel.register(s, selectors.EVENT_READ)
held = []
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    for key, _ in sel.select(0.2):
        c, _ = key.fileobj.accept()
        held.append(c)
        print("accepted", key.fileobj.getsockname()[1], len(held), flush=True)
"""


class Hang(Server):
    """TCP listeners on node.ip4:ports that accept and then never send nor read (a hung
    application, or a TLS server that never answers the ClientHello). Exits by itself after
    `life` seconds."""
    kind = "hang"

    def __init__(self, ctx, node, name, ports, life=60):
        super().__init__(ctx, node, name)
        self.ports = [ports] if isinstance(ports, int) else list(ports)
        self.life = life
        self.script = self._write("hang.py", HANG_PY)

    def argv(self):
        return ["/usr/bin/python3", self.script, self.node.ip4,
                ",".join(str(p) for p in self.ports), str(self.life)]

    def ready(self):
        return all(self.listening(p) for p in self.ports)

    def accepted(self, port=None):
        """Connections accepted so far (on port, or on any)."""
        text = self.procs[-1].text()
        if port is None:
            return text.count("accepted ")
        return text.count(f"accepted {port} ")


# ---- the load balancer -------------------------------------------------------------------------

class LbNospof(TextNospof):
    """nospofd with a config text the case writes; lb --json and fd counting. nofile: the
    RLIMIT_NOFILE (soft and hard) nospofd starts with (inherited from this process, which
    lowers its own limit only for the spawn)."""

    def __init__(self, ctx, node, text, nofile=None):
        super().__init__(ctx, node, text)
        self.nofile = nofile

    def start(self):
        old = resource.getrlimit(resource.RLIMIT_NOFILE)
        try:
            if self.nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, old[1]))
            return super().start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, old)

    def ctl(self, *args, check=True):
        """Runs nospofctl -S SOCK args; returns stdout (raises on failure when check)."""
        res = subprocess.run([self.ctx.nospofctl, "-S", self.sock] + list(args),
                             capture_output=True, text=True, timeout=10, check=False)
        if check and res.returncode != 0:
            raise TestFailure(f"nospofctl {' '.join(args)} failed ({res.returncode}): "
                              f"{res.stdout} {res.stderr}")
        return res.stdout

    def lb(self):
        """`nospofctl lb --json` parsed (a list of virtual servers, or the object holding
        them under "virtual_servers")."""
        out = json.loads(self.ctl("lb", "--json"))
        return out["virtual_servers"] if isinstance(out, dict) else out

    def vs(self, name=None):
        """One virtual server of lb --json (the first one when name is None)."""
        for v in self.lb():
            if name is None or v.get("name") == name:
                return v
        raise TestFailure(f"no virtual server {name} in lb --json")

    def rs(self, addr, vs=None):
        """The real server entry with address addr ("IP" or "IP:PORT") of a virtual server."""
        ip = addr.split(":")[0]
        for r in self.vs(vs)["real_servers"]:
            if r["address"] == ip and (":" not in addr or str(r["port"]) == addr.split(":")[1]):
                return r
        raise TestFailure(f"no real server {addr} in lb --json")

    def rs_states(self, vs=None):
        """{address: state} of a virtual server's real servers."""
        return {r["address"]: r["state"] for r in self.vs(vs)["real_servers"]}

    def pid(self):
        return self.procs[0].pid

    def daemon_pid(self):
        """The nospofd process itself (the Proc runs `ip netns exec`, which execs it)."""
        return self.procs[0].pid

    def fds(self):
        """Number of open fds of nospofd."""
        return len(os.listdir(f"/proc/{self.daemon_pid()}/fd"))

    def children(self):
        """argv lists of nospofd's child processes (scripts it runs)."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", encoding="utf-8") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid != self.daemon_pid():
                    continue
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    out.append([a.decode() for a in f.read().split(b"\0") if a])
            except (OSError, ValueError, IndexError):
                continue
        return out

    def log_text(self):
        return self.procs[0].text()

    def workers(self):
        """Number of data-plane workers (from the start-up log line)."""
        import re
        m = re.search(r"(\d+) data-plane workers", self.log_text())
        return int(m.group(1)) if m else None


def wait_rs_state(lb, addr, state, timeout, vs=None):
    """Polls lb --json until real server addr is in state; returns the elapsed seconds."""
    t0 = now()
    poll(lambda: lb.rs(addr, vs)["state"] == state, timeout, interval=0.05,
         what=f"real server {addr} {state} (now {lb.rs(addr, vs)['state']})")
    return now() - t0


def settle(seconds):
    """A pause that is not a correctness wait (lets a background load loop run)."""
    time.sleep(seconds)


__all__ = ["LbTopology", "NsSockets", "Nginx", "Dnsmasq", "Hang", "LbNospof", "http_get",
           "http_request", "dns_ask", "wait_rs_state", "sh", "settle"]
