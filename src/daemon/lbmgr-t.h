/* Runtime types of the load-balancer manager: the control plane of keepalived's
 * virtual_server / real_server, without IPVS.
 *
 * The manager runs on a thread of its own (health checks: TCP connects, TLS handshakes,
 * scripts), so a slow check never delays a VRRP advert, and drives the user-space data plane
 * (daemon/dp) by publishing immutable snapshots. Objects are allocated one by one so pointers
 * stay valid across reloads; each points into the config it was built from, which the manager
 * holds (cfg_hold) until the next reload has moved everything over. */
#ifndef NOSPOF_DAEMON_LBMGR_T_H
#define NOSPOF_DAEMON_LBMGR_T_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"
#include "cfg-t.h"
#include "daemon/dp/dp-t.h"
#include "daemon/dp/dp_pkt.h"
#include "io/fifo.h"
#include "io/loop.h"
#include "io/probe.h"
#include "io/script.h"
#include "proto/check/hc-t.h"

struct lbmgr;
struct upgrade_state;
struct lb_rs;
struct lb_vs;

/* Probe round-trip times of one checker as a Prometheus histogram (lbmgr_metrics.c): counts
 * per upper bound (1 ms .. 5 s, listed in lbmgr_metrics.c; cumulated when rendered), the
 * number of probes (+Inf) and the sum of their round-trip times. */
#define LBM_RTT_BUCKETS 12
struct lbm_rtt_hist {
    uint64_t bucket[LBM_RTT_BUCKETS]; /* probes with rtt <= bound i (and > bound i-1) */
    uint64_t count;
    uint64_t sum_us;
};

/* One checker of one real server: the pure core (hc) plus its in-flight probe. */
struct lb_check {
    struct lb_rs *rs;
    const struct cfg_check *cc;
    struct hc hc;
    struct io_timer timer;
    struct probe *probe;      /* in flight, or NULL */
    struct probe_result last; /* the last result, for status */
    bool has_last;
    bool resume; /* hc.up/has_run were carried over: the next START keeps them */
    struct lbm_rtt_hist rtt;
};

/* One real server of one virtual server. */
struct lb_rs {
    struct lb_vs *vs;
    const struct cfg_rs *crs;
    uint32_t id; /* data-plane dest id, stable across reloads */
    struct lb_check *checks;
    size_t nchecks;
    bool up;          /* every checker up (no checker: up) */
    bool disabled;    /* nospofctl disable: out of scheduling */
    int admin_weight; /* nospofctl weight/drain; -1: the configured weight */
    int dyn_weight;   /* MISC_CHECK misc_dynamic / FILE_CHECK; -1: none */
    mono_us since;    /* last health change */
    char why[128];    /* why it is down (the failing checker's reason) */
    uint64_t ups, downs;
    struct dp_dest_counters prev; /* rate sampling */
    double cps, in_bps, out_bps;
    mono_us passive_since; /* HTTP: when the error run reached http_error_limit; 0 = not */
};

/* One address:port a virtual server listens on (a group expands to several). */
struct lb_listen {
    struct ip_addr addr;
    uint16_t port;
};

struct lb_vs {
    struct lbmgr *mgr;
    const struct cfg_vs *cvs;
    char name[96]; /* "TCP 192.0.2.100:80" or "TCP group NAME" */
    struct lb_listen *listen;
    size_t nlisten;
    struct lb_rs **rss;
    size_t nrss;
    bool quorum_up;
    bool suspended; /* ha_suspend: the VIP is not ours, checks stopped */
    uint32_t sorry_id;
    uint32_t http_id; /* protocol HTTP: the stats block of requests and local replies */
};

/* Stable dest ids: a key ("VS|RS") to id map that survives reloads. */
struct lb_id {
    char key[128];
    uint32_t id;
};

struct lbmgr {
    struct io_loop loop;
    pthread_t thread;
    bool thread_started;
    struct io_scripts scripts;
    struct probe_env penv;
    struct rng rng;
    struct dp dp;
    bool dp_started;
    struct dp_pkt pkt; /* started with the first `nospof_data_plane packet` service */
    bool pkt_failed;   /* it could not start: said once, retried at the next reload */
    struct cfg *cfg;   /* held */
    struct lb_vs **vss;
    size_t nvss;
    struct lb_id *ids;
    size_t nids;
    uint32_t next_id;
    struct io_fifo fifo;    /* global notify_fifo: LVS lines */
    struct io_timer sample; /* every second: rates, ha_suspend */
    mono_us sampled_at;
    mono_us started_at;
    uint64_t publishes;
    const struct upgrade_state *resume; /* until the first apply: what an upgrade handed over */
};

#endif
