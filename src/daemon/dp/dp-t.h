/* Types of the user-space L4 data plane (see dp.h for the theory of operation). */
#ifndef NOSPOF_DAEMON_DP_T_H
#define NOSPOF_DAEMON_DP_T_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/time-t.h"
#include "daemon/dp/dp_snap-t.h"

/* Tunables read by dp_start; zero fields take the defaults shown. Set before dp_start. */
struct dp_opts {
    size_t udp_max_flows;     /* per worker and service; default 16384; oldest evicted */
    size_t max_conns;         /* process-wide TCP connections; default from RLIMIT_NOFILE */
    mono_us drain_timeout_us; /* dp_stop: how long running connections may finish; 5 s */
    size_t pool_keep;         /* free 16 KiB buffers a worker keeps while busy; default 64 */
};

/* Summed counters (dp_stats). Gauges are current values, the rest count since dp_start. */
struct dp_counters {
    uint64_t accepted;         /* TCP client connections accepted */
    uint64_t refused_maxconn;  /* accepted then closed at once: connection bound reached */
    uint64_t accept_pauses;    /* EMFILE/ENFILE/ENOBUFS: accepting paused briefly */
    uint64_t no_dest;          /* no eligible dest (or every attempt failed): client closed */
    uint64_t connect_retries;  /* a further dest tried after a failed connect */
    uint64_t connect_failures; /* refused or timed-out connects (all dests) */
    uint64_t idle_timeouts;    /* TCP connections closed by the idle timeout */
    uint64_t bytes_in;         /* client -> real server (TCP and UDP) */
    uint64_t bytes_out;        /* real server -> client */
    uint64_t udp_flows_created;
    uint64_t udp_flows_expired; /* idle or dest removed */
    uint64_t udp_flows_evicted; /* table full: the oldest flow was evicted */
    uint64_t udp_drops;         /* datagrams dropped (no dest, send error) */
    uint64_t conns;             /* gauge: open TCP connections */
    uint64_t udp_flows;         /* gauge: open UDP flows */
    uint64_t buffers;           /* gauge: 16 KiB buffers allocated (in use + pooled) */
    uint64_t buffers_in_use;    /* gauge: buffers held by connections */
};

/* A copy of one dest's shared counters (dp_dest_read). */
struct dp_dest_counters {
    int64_t active;
    int64_t inactive;
    uint64_t conns_total;
    uint64_t connect_failures;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t http_requests, http_resp[5], http_retries, http_errors, http_reuses, http_err_run;
    uint64_t http_lat[DP_HTTP_LAT_BUCKETS];
    uint64_t http_lat_sum_us;
};

struct dp_worker; /* private, dp_priv.h */
struct dp_stats_reg;

/* A retired snapshot waiting for every worker to move past it. */
struct dp_retired {
    struct dp_snap *snap;
    struct dp_retired *next;
};

/* The data plane. Zero it, optionally set opts, then dp_start. All fields private. */
struct dp {
    struct dp_opts opts;
    _Atomic(struct dp_snap *) snap; /* current snapshot, NULL before the first publish */
    uint64_t gen;                   /* last generation published */
    pthread_mutex_t mu;             /* control-plane side: publish, reclaim, stats registry */
    struct dp_retired *retired;
    unsigned nworkers;
    struct dp_worker **workers;
    atomic_size_t conns; /* process-wide open TCP connections (the max_conns bound) */
    size_t max_conns;
    struct dp_dest_stats **dstats; /* registry by dest id, owned, freed by dp_fini */
    size_t ndstats, capdstats;
    bool started;
};

#endif
