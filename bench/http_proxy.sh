#!/bin/bash
# HTTP (L7) proxy bench: wrk through nospofd (a real daemon, `protocol HTTP`, BENCH_THREADS
# data-plane workers) and through HAProxy (mode http, http-reuse always, nbthread
# BENCH_THREADS, option forwardfor so both add X-Forwarded-For) to the same nginx,
# alternating in one run. Reports req/s, p99
# latency, CPU us/request of the proxy and of wrk+nginx, idle CPU (medians over BENCH_REPS
# runs), syscalls/request (strace -c -f, shorter run) and resident memory per idle keep-alive
# client connection (the growth from 2000 to 4000 connections that each made one request);
# ratio nospof/HAProxy.
# Reference rows: floor-* (bench/relay_floor, an L4 relay doing the least socket work per
# request: the ceiling for any proxy here) and direct (wrk to nginx, no proxy).
# Loopback only (127.16.9.x), own configs in a temp dir. Env: NOSPOF_BUILD, BENCH_SECS (5),
# BENCH_REPS (3), BENCH_CONNS (50), BENCH_THREADS (1; bench/run.sh also runs it with one per
# CPU, both peers' default). Results: bench/results/http_proxy_t<THREADS>.json
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_setup http_proxy src/daemon/nospofd
THREADS=${BENCH_THREADS:-1} # data-plane workers of nospof, nbthread of HAProxy, floor threads
NG_IP=127.16.9.1; NG_PORT=18180
NO=127.16.9.2:18181; HA=127.16.9.3:18182
cat >"$T/nospof.conf" <<NOC
global_defs {
    nospof_lb_workers $THREADS
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
    nbthread $THREADS
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
start_nginx $NG_IP:$NG_PORT
"$B/src/daemon/nospofd" -n -l -f "$T/nospof.conf" -p "$T/nospofd.pid" -S "$T/nospofd.sock" \
    >"$T/nospofd.log" 2>&1 & NOP=$!; pids+=($NOP)
haproxy -f "$T/haproxy.cfg" -db & HAP=$!; pids+=($HAP)
sleep 1.5
kill -0 $NOP 2>/dev/null || { echo "http_proxy: nospofd did not start:" >&2; cat "$T/nospofd.log" >&2; exit 1; }
# The floor relays, with the proxies' thread count: an L4 relay does the socket work an HTTP
# proxy with server keep-alive cannot avoid.
start_floors 127.16.9.4 18183 "$THREADS" $NG_IP $NG_PORT
mem_idle() { # pid addr -> bytes of RSS per idle keep-alive client connection: the growth from
    # 2000 to 4000 connections that each made one request, so that memory the allocator had
    # kept from earlier traffic (reused by the first connections) does not hide the cost
    /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
pid, (ip, port) = sys.argv[1], sys.argv[2].split(':')
def rss():
    return int([l for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')][0].split()[1])
def open_idle(n, socks):
    for i in range(n):
        s = socket.create_connection((ip, int(port)))
        s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\n\r\n")
        got = b""
        while b"hello world\n" not in got:
            got += s.recv(4096)
        socks.append(s)
    time.sleep(1)
socks, n = [], 2000
open_idle(n, socks)
base = rss()
open_idle(n, socks)
print(int((rss() - base) * 1024 / n))
PY
}
: >"$T/res"
measure_rounds $NOP $NO $HAP $HA $NG_IP:$NG_PORT $NGP
sn=$(syscalls_per_req $NOP $NO); sh=$(syscalls_per_req $HAP $HA)
mn=$(mem_idle $NOP $NO); mh=$(mem_idle $HAP $HA)
kill -0 $NOP 2>/dev/null || { echo "http_proxy: nospofd died:" >&2; tail -20 "$T/nospofd.log" >&2; }
mkdir -p bench/results
echo "http_proxy: wrk -t1 -c$CONNS, ${SECS}s x $REPS, $THREADS worker(s)/thread(s) each, medians"
summarize "http_proxy_t$THREADS" "{\"threads\": $THREADS, \"syscalls_per_req\": {\"nospof\": $sn, \"haproxy\": $sh},
    \"bytes_per_idle_keepalive_conn\": {\"nospof\": $mn, \"haproxy\": $mh}}"
echo "syscalls/req: nospof $sn, haproxy $sh"
echo "bytes per idle keep-alive client connection: nospof $mn, haproxy $mh"
