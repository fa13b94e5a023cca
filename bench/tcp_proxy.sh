#!/bin/bash
# TCP proxy bench: wrk through nospof's data plane (bench/dp_bench_proxy) and through HAProxy
# (mode tcp) to the same nginx, alternating in one run. Reports req/s, p99 latency, proxy CPU
# us/request (utime+stime from /proc), syscalls/request (strace -c -f, shorter run) and the
# proxy's resident memory with 5000 idle proxied connections; ratio nospof/HAProxy.
# Loopback only (127.13.9.x), own configs in a temp dir. Env: NOSPOF_BUILD, BENCH_SECS (5),
# BENCH_REPS (2). Results: bench/results/tcp_proxy.txt
set -u
cd "$(dirname "$0")/.."
B=${NOSPOF_BUILD:-$(pwd)/build}
SECS=${BENCH_SECS:-5}
REPS=${BENCH_REPS:-2}
for p in wrk haproxy nginx strace; do
    command -v $p >/dev/null || apt-get install -y wrk haproxy nginx-light strace >/dev/null
done
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
NG=127.13.9.1:18080; NO=127.13.9.2:18081; HA=127.13.9.3:18082
cat >"$T/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $T/nginx.pid; error_log $T/nginx.err;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000;
  server { listen $NG; location / { return 200 "hello world\n"; } } }
NGX
cat >"$T/haproxy.cfg" <<HAC
global
    maxconn 9000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend f
    bind $HA
    default_backend b
backend b
    server s1 $NG
HAC
ulimit -n 20000
nginx -c "$T/nginx.conf" & pids+=($!)
"$B/bench/dp_bench_proxy" 127.13.9.2 18081 127.13.9.1 18080 >"$T/dp.out" & DPP=$!; pids+=($DPP)
haproxy -f "$T/haproxy.cfg" -db & HAP=$!; pids+=($HAP)
sleep 1
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() { # pid addr -> "rps p99 us_per_req"
    local c0 c1 out rps p99 tck
    tck=$(getconf CLK_TCK)
    c0=$(cpu $1)
    out=$(wrk -t1 -c50 -d${SECS}s --latency "http://$2/" 2>&1)
    c1=$(cpu $1)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "$rps $p99 $(echo "($c1-$c0)*1000000/$tck/($rps*$SECS)" | bc -l | xargs printf %.2f)"
}
syscalls() { # pid addr -> syscalls per request
    strace -c -f -p $1 -o "$T/st" & local s=$!
    sleep 0.5
    local out; out=$(wrk -t1 -c50 -d2s "http://$2/" 2>&1)
    kill -INT $s; wait $s 2>/dev/null
    local req; req=$(echo "$out" | awk '/requests in/ {print $1}')
    local calls; calls=$(awk '$NF=="total" {print $(NF-2)}' "$T/st")
    echo "$calls $req" | awk '{printf "%.2f", $1/$2}'
}
rss_idle() { # pid port -> RSS kB with 5000 idle proxied connections
    /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
pid, addr = sys.argv[1], sys.argv[2].split(':')
base = int([l for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')][0].split()[1])
socks = []
for i in range(5000):
    s = socket.create_connection((addr[0], int(addr[1]))); socks.append(s)
time.sleep(1)
rss = int([l for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')][0].split()[1])
print(rss - base, rss)
PY
}
: >"$T/res"
for r in $(seq "$REPS"); do
    echo "nospof $(run $DPP $NO)" >>"$T/res"
    echo "haproxy $(run $HAP $HA)" >>"$T/res"
done
sn=$(syscalls $DPP $NO); sh=$(syscalls $HAP $HA)
mn=$(rss_idle $DPP $NO); mh=$(rss_idle $HAP $HA)
mkdir -p bench/results
{
printf "%-8s %10s %8s %10s %12s %14s\n" proxy req/s p99 cpu_us/req syscalls/req rss_5000idle_kB
for n in nospof haproxy; do
    awk -v n=$n '$1==n {r+=$2; c+=$4; k++; p=$3} END {printf "%-8s %10.0f %8s %10.2f ", n, r/k, p, c/k}' "$T/res"
    if [ $n = nospof ]; then printf "%12s %14s\n" "$sn" "${mn%% *}"; else printf "%12s %14s\n" "$sh" "${mh%% *}"; fi
done
awk '{r[$1]+=$2; c[$1]+=$4} END {printf "ratio nospof/haproxy: req/s %.2f, cpu/req %.2f\n", r["nospof"]/r["haproxy"], c["nospof"]/c["haproxy"]}' "$T/res"
} | tee bench/results/tcp_proxy.txt
