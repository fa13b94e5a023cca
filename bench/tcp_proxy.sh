#!/bin/bash
# TCP proxy bench: wrk through nospof's data plane (bench/dp_bench_proxy, one worker per CPU)
# and through HAProxy (mode tcp, Debian's defaults: one thread per CPU) to the same nginx,
# alternating in one run, with reference rows:
#   floor-*  bench/relay_floor, the least a user-space relay can do (epoll, io_uring, io_uring
#            multishot), one thread per CPU: the ceiling for any proxy of this shape here;
#   direct   wrk to nginx with no proxy;
#   nospof-packet  nospofd with `nospof_data_plane packet` (LVS-NAT in TC BPF, no proxy). It is
#            started for its own run of each round and stopped after it, so the other rows run
#            without its programs attached to lo.
# Per row: req/s, p99, CPU us/request of the proxy and of wrk+nginx, idle CPU (medians over
# BENCH_REPS runs). For nospof and HAProxy also syscalls/request (strace -c -f) and resident
# memory with 5000 idle proxied connections. Loopback only (127.13.9.x), own configs in a
# temp dir. Env: NOSPOF_BUILD, BENCH_SECS (5), BENCH_REPS (3), BENCH_CONNS (50).
# Results: bench/results/tcp_proxy.json
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_setup tcp_proxy bench/dp_bench_proxy
NCPU=$(nproc)
NG_IP=127.13.9.1; NG_PORT=18080; NG=$NG_IP:$NG_PORT
NO=127.13.9.2:18081; HA=127.13.9.3:18082; PK=127.13.9.7:18090
cat >"$T/packet.conf" <<PKC
virtual_server ${PK%:*} ${PK#*:} {
    nospof_data_plane packet
    lb_algo rr
    protocol TCP
    real_server $NG_IP $NG_PORT {
    }
}
PKC
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
start_nginx $NG
"$B/bench/dp_bench_proxy" ${NO%:*} ${NO#*:} $NG_IP $NG_PORT >"$T/dp.out" & DPP=$!; pids+=($DPP)
haproxy -f "$T/haproxy.cfg" -db & HAP=$!; pids+=($HAP)
# The floor relays, one thread per CPU like the proxies.
start_floors 127.13.9.4 18083 "$NCPU" $NG_IP $NG_PORT
sleep 1
# One nospof-packet run: nospofd up until its TC programs are on lo, wrk, nospofd stopped
# (its programs and flows go with it).
measure_extra_row() {
    "$B/src/daemon/nospofd" -n -l -f "$T/packet.conf" -p "$T/pk.pid" -S "$T/pk.sock" \
        2>>"$T/pk.log" &
    local pp=$! i
    for i in $(seq 50); do
        tc filter show dev lo ingress 2>/dev/null | grep -q nat_in && break
        sleep 0.1
    done
    measure nospof-packet $pp $PK "$1"
    kill $pp
    wait $pp 2>/dev/null
}
: >"$T/res"
measure_rounds $DPP $NO $HAP $HA $NG $NGP
sn=$(syscalls_per_req $DPP $NO); sh=$(syscalls_per_req $HAP $HA)
rss_idle() { # pid addr -> RSS growth in kB with 5000 idle proxied connections
    /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
pid, addr = sys.argv[1], sys.argv[2].split(':')
def rss():
    return int([l for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS')][0].split()[1])
base, socks = rss(), []
for i in range(5000):
    socks.append(socket.create_connection((addr[0], int(addr[1]))))
time.sleep(1)
print(rss() - base)
PY
}
mn=$(rss_idle $DPP $NO); mh=$(rss_idle $HAP $HA)
# The packet plane keeps its flows in preallocated kernel maps: report their size (memlock,
# fixed whatever the number of connections) and nospofd's RSS growth.
"$B/src/daemon/nospofd" -n -l -f "$T/packet.conf" -p "$T/pk.pid" -S "$T/pk.sock" 2>>"$T/pk.log" &
PKP=$!; pids+=($PKP)
for i in $(seq 50); do tc filter show dev lo ingress | grep -q nat_in && break; sleep 0.1; done
mp=$(rss_idle $PKP $PK)
kp=$(cat /proc/$PKP/fdinfo/* 2>/dev/null | awk '/^memlock:/ {s += $2} END {printf "%d", s / 1024}')
sp=$(syscalls_per_req $PKP $PK)
kill $PKP; wait $PKP 2>/dev/null
mkdir -p bench/results
rm -f bench/results/tcp_proxy.txt # now bench/results/tcp_proxy.json
echo "tcp_proxy: wrk -t1 -c$CONNS, ${SECS}s x $REPS, $NCPU CPUs, medians"
summarize tcp_proxy "{\"cpus\": $NCPU,
    \"syscalls_per_req\": {\"nospof\": $sn, \"haproxy\": $sh, \"nospof_packet\": $sp},
    \"rss_growth_kB_5000_idle_conns\": {\"nospof\": $mn, \"haproxy\": $mh, \"nospof_packet\": $mp},
    \"nospof_packet_kernel_maps_kB\": $kp}"
echo "syscalls/req: nospof $sn, haproxy $sh, nospof-packet $sp (nospofd's own; the kernel does the work)"
echo "RSS growth with 5000 idle proxied connections: nospof ${mn} kB, haproxy ${mh} kB, nospof-packet ${mp} kB"
echo "nospof-packet kernel maps (preallocated, fixed): ${kp} kB"
