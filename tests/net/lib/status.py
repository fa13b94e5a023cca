"""The status listener's test helpers (test_metrics.py, test_dashboard.py): a lab with one
nospofd (a VRRP instance owning the VIP and a virtual server on it) in front of two nginx, an
HTTP client run inside the nospofd namespace (the listener is on its loopback), and a strict
parser of the Prometheus text exposition format 0.0.4.
"""

import math
import re
import subprocess

from . import cleanup
from .servers import LbNospof, LbTopology, Nginx
from .util import TestFailure, expect, poll

VIP = "192.0.2.100"
LISTEN_PORT = 9180
STATES = ["INIT", "BACKUP", "MASTER", "FAULT", "STOPPED"]


def lab_config(ips, listen=f"127.0.0.1:{LISTEN_PORT}"):
    """global_defs with the status listener, VI_1 (v3, 0.1 s) owning the VIP, and a virtual
    server VIP:80 (rr) over ips with fast TCP_CHECKs."""
    timing = ["delay_loop 0.3", "retry 1", "delay_before_retry 0.2", "connect_timeout 0.5",
              "warmup 0"]
    lines = ["global_defs {", "    router_id n1"]
    if listen:
        lines.append(f"    nospof_status_listen {listen}")
    lines += ["}", "vrrp_instance VI_1 {", "    state BACKUP", "    interface eth0",
              "    virtual_router_id 51", "    priority 150", "    version 3",
              "    advert_int 0.1", "    virtual_ipaddress {", f"        {VIP}/24", "    }", "}",
              f"virtual_server {VIP} 80 {{", "    lb_algo rr", "    lb_kind NAT",
              "    protocol TCP"]
    for w, ip in enumerate(ips, 1):
        lines += [f"    real_server {ip} 80 {{", f"        weight {w}", "        TCP_CHECK {"]
        lines += [f"            {t}" for t in timing] + ["        }", "    }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


class StatusLab:
    """n1 = nospofd, n2/n3 = nginx web1/web2, cl = client."""

    def __init__(self, ctx, listen=f"127.0.0.1:{LISTEN_PORT}"):
        self.ctx = ctx
        self.topo = LbTopology(nodes=3)
        self.node = self.topo.node(1)
        self.webs = [Nginx(ctx, self.topo.node(2 + i), f"web{i + 1}").start() for i in range(2)]
        self.ips = [w.node.ip4 for w in self.webs]
        self.lb = LbNospof(ctx, self.node, lab_config(self.ips, listen)).start()
        self.port = LISTEN_PORT

    def wait_ready(self):
        poll(lambda: self.lb.state("VI_1") == "MASTER", 10, what="VI_1 MASTER")
        poll(lambda: set(self.lb.rs_states().values()) == {"UP"}, 10, what="real servers UP")

    def http(self, path, method="GET", port=None, check=True):
        """(status, headers text, body) of one request to the listener, from inside n1."""
        # curl -X HEAD would wait for a body; -I prints the head itself (no -D then)
        verb = ["-I"] if method == "HEAD" else ["-X", method, "-D", "-"]
        argv = ["curl", "-sS", "-m", "5"] + verb + [f"http://127.0.0.1:{port or self.port}{path}"]
        res = subprocess.run(self.node.exec_argv(argv), capture_output=True, timeout=10,
                             check=False)  # bytes: text mode would rewrite the CRLFs
        if res.returncode != 0:
            if check:
                raise TestFailure(f"curl {path} failed ({res.returncode}): "
                                  f"{res.stderr.decode(errors='replace').strip()}")
            return None, "", ""
        head, _, body = res.stdout.decode().partition("\r\n\r\n")
        status = int(head.split(" ", 2)[1])
        return status, head, body

    def client_get(self, n):
        """n GETs through VIP:80 from the client namespace (new connection each)."""
        for _ in range(n):
            self.topo.client.sh(["curl", "-sS", "-m", "3", "-o", "/dev/null", f"http://{VIP}/"])


# ---- Prometheus text format 0.0.4, strictly ----------------------------------------------------

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def _value(text, where):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)", text):
        raise TestFailure(f"{where}: bad sample value {text!r}")
    return float(text)


def _labels(text, where):
    """Parses 'a="x",b="y"' (the inside of the braces) into a dict."""
    labels, i = {}, 0
    while i < len(text):
        m = re.match(r"([^=]*)=\"", text[i:])
        if not m or not LABEL_RE.match(m.group(1)) or m.group(1).startswith("__"):
            raise TestFailure(f"{where}: bad label name at {text[i:]!r}")
        name, i, val = m.group(1), i + m.end(), []
        while True:
            if i >= len(text):
                raise TestFailure(f"{where}: unterminated label value")
            ch = text[i]
            if ch == "\\":
                esc = text[i + 1:i + 2]
                if esc not in ("\\", "\"", "n"):
                    raise TestFailure(f"{where}: bad escape \\{esc} in a label value")
                val.append("\n" if esc == "n" else esc)
                i += 2
            elif ch == "\"":
                i += 1
                break
            elif ch == "\n":
                raise TestFailure(f"{where}: raw newline in a label value")
            else:
                val.append(ch)
                i += 1
        if name in labels:
            raise TestFailure(f"{where}: label {name} twice")
        labels[name] = "".join(val)
        if i < len(text):
            if text[i] != ",":
                raise TestFailure(f"{where}: expected ',' between labels at {text[i:]!r}")
            i += 1
    return labels


def _split_sample(line, where):
    m = re.match(r"([^{ ]+)(\{(.*)\})? (\S+)( (-?\d+))?\Z", line)
    if not m:
        raise TestFailure(f"{where}: not a sample line: {line!r}")
    if not NAME_RE.match(m.group(1)):
        raise TestFailure(f"{where}: bad metric name {m.group(1)!r}")
    return m.group(1), _labels(m.group(3) or "", where), _value(m.group(4), where)


def _family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return name


class Exposition:
    """Parsed exposition: families {name: {"type", "help", "samples": [(name, labels, v)]}}."""

    def __init__(self, text):
        expect(text.endswith("\n"), "exposition does not end with a newline")
        self.families = {}
        types, closed, current, seen = {}, set(), None, set()
        for no, line in enumerate(text[:-1].split("\n"), 1):
            where = f"line {no}"
            if line.startswith("#"):
                m = re.fullmatch(r"# (HELP|TYPE) (\S+) (.*)", line)
                if not m:
                    raise TestFailure(f"{where}: unexpected comment {line!r}")
                kind, name, rest = m.groups()
                if not NAME_RE.match(name):
                    raise TestFailure(f"{where}: bad metric name {name!r}")
                fam = self.families.setdefault(name, {"type": None, "help": None,
                                                      "samples": []})
                if name in closed or (fam["samples"] and kind == "TYPE"):
                    raise TestFailure(f"{where}: {kind} for {name} after its samples")
                key = kind.lower()
                if fam[key] is not None:
                    raise TestFailure(f"{where}: second {kind} line for {name}")
                if kind == "TYPE":
                    if rest not in TYPES:
                        raise TestFailure(f"{where}: unknown type {rest!r}")
                    types[name] = rest
                fam[key] = rest
                if current != name:
                    if current:
                        closed.add(current)
                    current = name
                continue
            if not line:
                raise TestFailure(f"{where}: empty line")
            name, labels, value = _split_sample(line, where)
            fam_name = _family_of(name, types)
            if fam_name in closed:
                raise TestFailure(f"{where}: family {fam_name} is not contiguous")
            if current != fam_name:
                if current:
                    closed.add(current)
                current = fam_name
            series = (name, tuple(sorted(labels.items())))
            if series in seen:
                raise TestFailure(f"{where}: duplicate series {series}")
            seen.add(series)
            fam = self.families.setdefault(fam_name, {"type": None, "help": None,
                                                      "samples": []})
            if fam["type"] == "counter" and not value >= 0:
                raise TestFailure(f"{where}: negative counter {line!r}")
            fam["samples"].append((name, labels, value))
        for name, fam in self.families.items():
            expect(fam["type"] and fam["help"], f"{name}: missing TYPE or HELP")
            if fam["type"] == "histogram":
                self._check_histogram(name, fam["samples"])

    @staticmethod
    def _check_histogram(name, samples):
        groups = {}
        for sname, labels, value in samples:
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            g = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
            if sname == name + "_bucket":
                expect("le" in labels, f"{name}: bucket without le")
                g["buckets"].append((_value(labels["le"], name), value))
            elif sname == name + "_sum":
                g["sum"] = value
            elif sname == name + "_count":
                g["count"] = value
            else:
                raise TestFailure(f"{name}: stray sample {sname} in a histogram")
        for key, g in groups.items():
            b = g["buckets"]
            expect(b and b[-1][0] == math.inf, f"{name}{key}: no +Inf bucket last")
            expect(all(b[i][0] < b[i + 1][0] for i in range(len(b) - 1)),
                   f"{name}{key}: le not increasing")
            expect(all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)),
                   f"{name}{key}: buckets not cumulative")
            expect(g["count"] == b[-1][1], f"{name}{key}: _count != +Inf bucket")
            expect(g["sum"] is not None and g["sum"] >= 0, f"{name}{key}: no _sum")

    def value(self, name, **labels):
        """The value of the one sample of name whose labels include labels."""
        fam = self.families.get(_family_of(name, {k: f["type"] for k, f in
                                                  self.families.items()}))
        hits = [v for n, ls, v in (fam["samples"] if fam else [])
                if n == name and all(ls.get(k) == str(x) for k, x in labels.items())]
        expect(len(hits) == 1, f"{name}{labels}: {len(hits)} samples (want 1)")
        return hits[0]


__all__ = ["StatusLab", "Exposition", "VIP", "STATES", "LISTEN_PORT", "lab_config", "cleanup"]
