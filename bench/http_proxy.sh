#!/bin/bash
# HTTP (L7) proxy bench: wrk through nospofd (a real daemon, `protocol HTTP`, one data-plane
# worker) and through HAProxy (mode http, http-reuse always, one thread, option forwardfor
# so both add X-Forwarded-For) to the same nginx, alternating in one run. Reports req/s, p99
# latency, proxy CPU us/request (utime+stime from /proc), syscalls/request (strace -c -f,
# shorter run) and resident memory per idle keep-alive client connection (2000 connections
# that each made one request); ratio nospof/HAProxy.
# Loopback only (127.16.9.x), own configs in a temp dir. Env: NOSPOF_BUILD, BENCH_SECS (5),
# BENCH_REPS (2), BENCH_CONNS (50). Results: bench/results/http_proxy.json
set -u
cd "$(dirname "$0")/.."
B=${NOSPOF_BUILD:-$(pwd)/build}
SECS=${BENCH_SECS:-5}
REPS=${BENCH_REPS:-2}
CONNS=${BENCH_CONNS:-50}
for p in wrk haproxy nginx strace bc; do
    command -v $p >/dev/null || { echo "http_proxy: needs $p" >&2; exit 2; }
done
[ -x "$B/src/daemon/nospofd" ] || { echo "http_proxy: build nospofd first ($B)" >&2; exit 2; }
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
NG_IP=127.16.9.1; NG_PORT=18180
NO=127.16.9.2:18181; HA=127.16.9.3:18182
cat >"$T/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $T/nginx.pid; error_log $T/nginx.err;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  client_body_temp_path $T/cb; proxy_temp_path $T/pt; fastcgi_temp_path $T/ft;
  uwsgi_temp_path $T/ut; scgi_temp_path $T/st;
  server { listen $NG_IP:$NG_PORT; location / { return 200 "hello world\n"; } } }
NGX
cat >"$T/nospof.conf" <<NOC
global_defs {
    nospof_lb_workers 1
}
virtual_server ${NO%:*} ${NO#*:} {
    protocol HTTP
    lb_algo rr
    http_forwarded_proto off
    real_server $NG_IP $NG_PORT {
    }
}
NOC
cat >"$T/haproxy.cfg" <<HAC
global
    maxconn 9000
    nbthread 1
defaults
    mode http
    option forwardfor
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
frontend f
    bind $HA
    default_backend b
backend b
    server s1 $NG_IP:$NG_PORT
HAC
ulimit -n 20000
nginx -c "$T/nginx.conf" & pids+=($!)
"$B/src/daemon/nospofd" -n -l -f "$T/nospof.conf" -p "$T/nospofd.pid" -S "$T/nospofd.sock" \
    >"$T/nospofd.log" 2>&1 & NOP=$!; pids+=($NOP)
haproxy -f "$T/haproxy.cfg" -db & HAP=$!; pids+=($HAP)
sleep 1.5
kill -0 $NOP 2>/dev/null || { echo "http_proxy: nospofd did not start:" >&2; cat "$T/nospofd.log" >&2; exit 1; }
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() { # pid addr -> "rps p99 us_per_req"
    local c0 c1 out rps p99 tck
    tck=$(getconf CLK_TCK)
    c0=$(cpu $1)
    out=$(wrk -t1 -c$CONNS -d${SECS}s --latency "http://$2/" 2>&1)
    c1=$(cpu $1)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "$rps $p99 $(echo "($c1-$c0)*1000000/$tck/($rps*$SECS)" | bc -l | xargs printf %.2f)"
}
syscalls() { # pid addr -> syscalls per request
    strace -c -f -p $1 -o "$T/strace.out" & local s=$!
    sleep 0.5
    local out; out=$(wrk -t1 -c$CONNS -d2s "http://$2/" 2>&1)
    kill -INT $s; wait $s 2>/dev/null
    local req; req=$(echo "$out" | awk '/requests in/ {print $1}')
    local calls; calls=$(awk '$NF=="total" {print $(NF-2)}' "$T/strace.out")
    echo "$calls $req" | awk '{printf "%.2f", $1/$2}'
}
mem_idle() { # pid addr -> bytes of RSS per idle keep-alive client connection
    /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
pid, (ip, port) = sys.argv[1], sys.argv[2].split(':')
def rss():
    return int([l for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')][0].split()[1])
base, socks, n = rss(), [], 2000
for i in range(n):
    s = socket.create_connection((ip, int(port)))
    s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\n\r\n")
    got = b""
    while b"hello world\n" not in got:
        got += s.recv(4096)
    socks.append(s)
time.sleep(1)
print(int((rss() - base) * 1024 / n))
PY
}
: >"$T/res"
for r in $(seq "$REPS"); do
    echo "nospof $(run $NOP $NO)" >>"$T/res"
    echo "haproxy $(run $HAP $HA)" >>"$T/res"
done
sn=$(syscalls $NOP $NO); sh=$(syscalls $HAP $HA)
mn=$(mem_idle $NOP $NO); mh=$(mem_idle $HAP $HA)
kill -0 $NOP 2>/dev/null || { echo "http_proxy: nospofd died:" >&2; tail -20 "$T/nospofd.log" >&2; }
mkdir -p bench/results
/usr/bin/python3 - "$T/res" "$sn" "$sh" "$mn" "$mh" "$SECS" "$REPS" "$CONNS" <<'PY'
import json, sys
res, sn, sh, mn, mh, secs, reps, conns = sys.argv[1:]
rows = {}
for line in open(res):
    name, rps, p99, cpu = line.split()
    r = rows.setdefault(name, {"rps": [], "p99": [], "cpu_us_per_req": []})
    r["rps"].append(float(rps)); r["p99"].append(p99); r["cpu_us_per_req"].append(float(cpu))
out = {"bench": "http_proxy", "secs": int(secs), "reps": int(reps), "wrk_conns": int(conns),
       "proxies": {}}
for name, sc, mem in (("nospof", sn, mn), ("haproxy", sh, mh)):
    r = rows[name]
    out["proxies"][name] = {
        "req_per_s": round(sum(r["rps"]) / len(r["rps"])), "p99": r["p99"][-1],
        "cpu_us_per_req": round(sum(r["cpu_us_per_req"]) / len(r["cpu_us_per_req"]), 2),
        "syscalls_per_req": float(sc), "bytes_per_idle_keepalive_conn": int(mem)}
n, h = out["proxies"]["nospof"], out["proxies"]["haproxy"]
out["ratio_nospof_over_haproxy"] = {
    "req_per_s": round(n["req_per_s"] / h["req_per_s"], 2),
    "cpu_us_per_req": round(n["cpu_us_per_req"] / h["cpu_us_per_req"], 2),
    "syscalls_per_req": round(n["syscalls_per_req"] / h["syscalls_per_req"], 2)}
print("%-8s %10s %8s %10s %12s %16s" % ("proxy", "req/s", "p99", "cpu_us/req", "syscalls/req",
                                        "B/idle_ka_conn"))
for name in ("nospof", "haproxy"):
    p = out["proxies"][name]
    print("%-8s %10d %8s %10.2f %12.2f %16d" % (name, p["req_per_s"], p["p99"],
          p["cpu_us_per_req"], p["syscalls_per_req"], p["bytes_per_idle_keepalive_conn"]))
r = out["ratio_nospof_over_haproxy"]
print("ratio nospof/haproxy: req/s %.2f, cpu/req %.2f, syscalls/req %.2f" %
      (r["req_per_s"], r["cpu_us_per_req"], r["syscalls_per_req"]))
json.dump(out, open("bench/results/http_proxy.json", "w"), indent=2)
PY
