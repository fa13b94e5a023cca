#!/bin/sh
# Runs every benchmark in bench/ (what `make bench` calls). Each bench compares nospof with
# the peer a user would pick instead, in the same run, prints a table with ratios and writes
# bench/results/<name>.json. Needs root (the benches build network namespaces).
# Environment: BENCH_REPS (repetitions), NOSPOF_BUILD (build dir, default build/).
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "bench: needs root (it creates network namespaces); run: sudo make bench" >&2
    exit 2
fi
# The peers and meters the benches compare against (HAProxy, nginx, wrk, strace, bc).
for p in haproxy nginx wrk strace bc; do
    command -v $p >/dev/null 2>&1 || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
    echo "bench: installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        { echo "bench: could not install$missing" >&2; exit 2; }
fi
export NOSPOF_BUILD="${NOSPOF_BUILD:-$(pwd)/build}"
status=0
for b in bench/vrrp_failover.py; do
    echo "== $(basename "$b" .py)"
    /usr/bin/python3 "$b" || { echo "bench: $b failed" >&2; status=1; }
done
echo "== tcp_proxy"
bash bench/tcp_proxy.sh || { echo "bench: tcp_proxy failed" >&2; status=1; }
# The HTTP switch with one worker/thread each, then with both peers' default (one per CPU).
for t in 1 "$(nproc)"; do
    echo "== http_proxy, $t worker(s)/thread(s) each"
    BENCH_THREADS=$t bash bench/http_proxy.sh || { echo "bench: http_proxy failed" >&2; status=1; }
done
exit $status
