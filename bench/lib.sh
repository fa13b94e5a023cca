# Shared by the proxy benches (sourced from the repository root): set-up, wrk runs with CPU
# accounting, syscall counts and the summary table.

# bench_setup NAME BINARY: the environment's settings (B, SECS, REPS, CONNS), the peers on the
# PATH, BINARY (under the build dir) built; a temp dir T and pids, killed and removed at exit.
bench_setup() {
    B=${NOSPOF_BUILD:-$(pwd)/build}
    SECS=${BENCH_SECS:-5}
    REPS=${BENCH_REPS:-3}
    CONNS=${BENCH_CONNS:-50}
    for p in wrk haproxy nginx strace bc; do
        command -v $p >/dev/null || { echo "$1: needs $p" >&2; exit 2; }
    done
    [ -x "$B/$2" ] || { echo "$1: build $2 first ($B)" >&2; exit 2; }
    T=$(mktemp -d)
    pids=()
    trap bench_cleanup EXIT
}

# start_nginx IP:PORT: the real server of both benches, one worker answering "hello world" on
# every path with keep-alive for the whole run; sets NGP to its worker's pid. Call after
# `ulimit -n`.
start_nginx() {
    cat >"$T/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $T/nginx.pid; error_log $T/nginx.err;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  client_body_temp_path $T/cb; proxy_temp_path $T/pt; fastcgi_temp_path $T/ft;
  uwsgi_temp_path $T/ut; scgi_temp_path $T/st;
  server { listen $1; location / { return 200 "hello world\n"; } } }
NGX
    nginx -c "$T/nginx.conf" &
    local master=$!
    pids+=($master)
    local i
    for i in $(seq 50); do # the worker: the master only waits
        NGP=$(pgrep -P $master -x nginx) && return 0
        sleep 0.1
    done
    echo "bench: nginx did not start: $(cat "$T/nginx.err")" >&2
    exit 1
}

bench_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
idle_ticks() { awk '/^cpu / {print $5}' /proc/stat; }

# measure NAME PROXY_PID ADDR WRK_PEERS...: one wrk run through ADDR. Appends to $T/res the
# line "NAME req/s p99 proxy_us/req peers_us/req idle%": CPU microseconds per request of the
# proxy (0 without one) and of the client and server processes (PIDs in WRK_PEERS, wrk
# added), and the share of both CPUs left idle.
measure() {
    local name=$1 pid=$2 addr=$3 tck c0 c1 p0 p1 i0 i1 t0 t1 wp rps p99
    shift 3
    tck=$(getconf CLK_TCK)
    wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://$addr/" >"$T/wrk.out" 2>&1 &
    wp=$!
    sleep 0.3 # wrk has connected: count from here to well before it ends
    c0=0; [ "$pid" != 0 ] && c0=$(cpu_ticks "$pid")
    p0=0; for p in "$@" $wp; do p0=$((p0 + $(cpu_ticks "$p"))); done
    i0=$(idle_ticks)
    t0=$(date +%s.%N)
    sleep "$(echo "$SECS - 1" | bc -l)"
    c1=0; [ "$pid" != 0 ] && c1=$(cpu_ticks "$pid")
    p1=0; for p in "$@" $wp; do p1=$((p1 + $(cpu_ticks "$p"))); done
    i1=$(idle_ticks)
    t1=$(date +%s.%N)
    wait $wp
    rps=$(awk '/Requests\/sec/ {print $2}' "$T/wrk.out")
    p99=$(awk '$1=="99%" {print $2}' "$T/wrk.out")
    [ -n "$rps" ] || { echo "bench: wrk through $name failed:" >&2; cat "$T/wrk.out" >&2; return 1; }
    echo "$name $rps $p99 $(awk -v c=$((c1 - c0)) -v p=$((p1 - p0)) -v i=$((i1 - i0)) \
        -v r="$rps" -v t="$tck" -v w="$(echo "$t1 - $t0" | bc -l)" -v n="$(nproc)" 'BEGIN {
        printf "%.2f %.2f %.0f", c * 1e6 / t / (r * w), p * 1e6 / t / (r * w), 100 * i / t / (n * w)}')" \
        >>"$T/res"
}

# start_floors IP FIRST_PORT THREADS DEST_IP DEST_PORT: starts bench/relay_floor in each mode
# the build has, on IP from FIRST_PORT up; fills floors (entries "floor-MODE IP:PORT PID") and
# adds the PIDs to pids (the caller's cleanup list). Needs B (the build dir).
start_floors() {
    local ip=$1 port=$2 threads=$3 mode fp
    floors=()
    for mode in epoll uring uring-ms; do
        "$B/bench/relay_floor" $mode "$ip" $port "$4" "$5" "$threads" 2>/dev/null &
        fp=$!
        sleep 0.2
        if kill -0 $fp 2>/dev/null; then
            pids+=($fp)
            floors+=("floor-$mode $ip:$port $fp")
        fi
        port=$((port + 1))
    done
}

# measure_rounds NOSPOF_PID NOSPOF_ADDR HAPROXY_PID HAPROXY_ADDR DIRECT_ADDR SERVER_PID: REPS
# rounds of nospof, HAProxy, each floor and direct, alternating, into $T/res. When the caller
# defines measure_extra_row, each round ends with it (called with SERVER_PID).
measure_rounds() {
    local nop=$1 no=$2 hap=$3 ha=$4 direct=$5 srv=$6 r f name addr pid
    for r in $(seq "$REPS"); do
        measure nospof "$nop" "$no" "$srv"
        measure haproxy "$hap" "$ha" "$srv"
        for f in "${floors[@]}"; do
            read -r name addr pid <<<"$f"
            measure "$name" "$pid" "$addr" "$srv"
        done
        measure direct 0 "$direct" "$srv"
        if declare -F measure_extra_row >/dev/null; then measure_extra_row "$srv"; fi
    done
}

# syscalls_per_req PID ADDR: system calls per request of PID under a short wrk run.
syscalls_per_req() {
    strace -c -f -p "$1" -o "$T/strace.out" 2>/dev/null &
    local s=$! out req calls
    sleep 0.5
    out=$(wrk -t1 -c"$CONNS" -d2s "http://$2/" 2>&1)
    kill -INT $s
    wait $s 2>/dev/null
    req=$(echo "$out" | awk '/requests in/ {print $1}')
    calls=$(awk '$NF=="total" {print $(NF-2)}' "$T/strace.out")
    echo "$calls $req" | awk '{printf "%.2f", $1/$2}'
}

# summarize BENCH [EXTRA_JSON]: prints one row per name of $T/res with the medians over its
# runs (the p99 is the median run's), then the ratios that matter: nospof over HAProxy, and the
# best floor relay over HAProxy (the most any proxy of this shape can gain on this machine).
# Writes the same to bench/results/BENCH.json, merged with EXTRA_JSON (an object).
summarize() {
    /usr/bin/python3 - "$T/res" "$1" "${2:-}" "$SECS" "$REPS" "$CONNS" <<'PY'
import json, statistics, sys
res, bench, extra, secs, reps, conns = sys.argv[1:]
runs = {}
for line in open(res):
    name, rps, p99, cpu, peers, idle = line.split()
    runs.setdefault(name, []).append((float(rps), p99, float(cpu), float(peers), int(idle)))
rows = {}
for name, rs in runs.items():
    med = lambda i: statistics.median(r[i] for r in rs)
    rows[name] = {"req_per_s": round(med(0)), "p99": sorted(rs)[len(rs) // 2][1],
                  "proxy_cpu_us_per_req": round(med(2), 2),
                  "wrk_and_server_cpu_us_per_req": round(med(3), 2), "idle_cpu_pct": med(4)}
print("%-15s %9s %8s %12s %14s %6s" % ("row", "req/s", "p99", "proxy_us/req",
                                        "wrk+srv_us/req", "idle%"))
for name, r in rows.items():
    print("%-15s %9d %8s %12.2f %14.2f %6.0f" % (name, r["req_per_s"], r["p99"],
          r["proxy_cpu_us_per_req"], r["wrk_and_server_cpu_us_per_req"], r["idle_cpu_pct"]))
no, ha = rows["nospof"], rows["haproxy"]
ratios = {"nospof_over_haproxy_req_per_s": round(no["req_per_s"] / ha["req_per_s"], 2),
          "nospof_over_haproxy_cpu_per_req":
              round(no["proxy_cpu_us_per_req"] / ha["proxy_cpu_us_per_req"], 2)}
print("ratio nospof/haproxy: req/s %.2f, proxy cpu/req %.2f" %
      (ratios["nospof_over_haproxy_req_per_s"], ratios["nospof_over_haproxy_cpu_per_req"]))
if "nospof-packet" in rows:
    # The packet plane's work runs in the kernel on behalf of wrk and nginx, so the fair CPU
    # figure is the whole: proxy + wrk + server per request.
    pk = rows["nospof-packet"]
    tot = lambda r: r["proxy_cpu_us_per_req"] + r["wrk_and_server_cpu_us_per_req"]
    ratios["nospof_packet_over_haproxy_req_per_s"] = round(pk["req_per_s"] / ha["req_per_s"], 2)
    ratios["nospof_packet_over_haproxy_total_cpu_per_req"] = round(tot(pk) / tot(ha), 2)
    print("ratio nospof-packet/haproxy: req/s %.2f, total cpu/req %.2f" %
          (ratios["nospof_packet_over_haproxy_req_per_s"],
           ratios["nospof_packet_over_haproxy_total_cpu_per_req"]))
floors = [n for n in rows if n.startswith("floor")]
if floors:
    best = max(floors, key=lambda n: rows[n]["req_per_s"])
    ratios["best_floor"] = best
    ratios["best_floor_over_haproxy_req_per_s"] = round(rows[best]["req_per_s"] / ha["req_per_s"], 2)
    ratios["nospof_over_best_floor_req_per_s"] = round(no["req_per_s"] / rows[best]["req_per_s"], 2)
    print("ceiling %s/haproxy: req/s %.2f (nospof/%s %.2f)" % (best,
          ratios["best_floor_over_haproxy_req_per_s"], best, ratios["nospof_over_best_floor_req_per_s"]))
out = {"bench": bench, "secs": int(secs), "reps": int(reps), "wrk_conns": int(conns),
       "rows": rows, "ratios": ratios}
out.update(json.loads(extra) if extra else {})
json.dump(out, open("bench/results/%s.json" % bench, "w"), indent=2)
PY
}
