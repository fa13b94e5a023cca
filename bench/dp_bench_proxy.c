/* Bench driver: runs the data plane with a static one-service snapshot until SIGINT/SIGTERM,
 * then prints the summed counters. Usage: dp_bench_proxy VIP PORT DEST_IP DEST_PORT [WORKERS]
 * (used by bench/tcp_proxy.sh until the daemon wires the data plane). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/addr.h"
#include "daemon/dp/dp.h"

int main(int argc, char **argv)
{
    struct dp dp;
    sigset_t set;
    int sig;

    if (argc < 5) {
        fprintf(stderr, "usage: %s VIP PORT DEST_IP DEST_PORT [WORKERS]\n", argv[0]);
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit the mask */
    dp_init(&dp);
    struct dp_snap *snap = dp_snap_new(1);
    struct dp_svc *svc = &snap->svc[0];
    if (!ip_addr_parse(argv[1], &svc->addr))
        return 2;
    svc->port = (uint16_t)atoi(argv[2]);
    svc->proto = DP_TCP;
    struct dp_dest *d = dp_svc_dests(svc, 1);
    if (!ip_addr_parse(argv[3], &d->addr))
        return 2;
    d->port = (uint16_t)atoi(argv[4]);
    d->id = 1;
    d->weight = 1;
    d->stats = dp_dest_stats(&dp, 1);
    if (dp_start(&dp, argc > 5 ? (unsigned)atoi(argv[5]) : 0) < 0)
        return 1;
    dp_publish(&dp, snap);
    sigwait(&set, &sig);
    struct dp_counters c;
    dp_stats(&dp, &c);
    printf("accepted %llu bytes_in %llu bytes_out %llu\n", (unsigned long long)c.accepted,
           (unsigned long long)c.bytes_in, (unsigned long long)c.bytes_out);
    dp.opts.drain_timeout_us = MONO_MS(200);
    dp_fini(&dp);
    return 0;
}
