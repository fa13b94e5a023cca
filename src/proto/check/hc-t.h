/* Types of the health-checker core: one checker of one real server (keepalived semantics). */
#ifndef NOSPOF_PROTO_CHECK_HC_T_H
#define NOSPOF_PROTO_CHECK_HC_T_H

#include <stdbool.h>
#include <stdint.h>

#include "base/time-t.h"

/* A probe result that has not arrived this long after connect_timeout is counted as a
 * failure (the adapter's probe has a hard timeout; this is the core's safety net). */
#define HC_PROBE_GRACE_US MONO_S(1)

struct hc_cfg {
    mono_us delay_loop_us;      /* between probes (keepalived default 60 s) */
    mono_us connect_timeout_us; /* one probe's bound (default 5 s; misc_timeout for MISC) */
    unsigned retry;             /* extra attempts after a failure before DOWN */
    mono_us delay_before_retry_us;
    mono_us warmup_us; /* first probe after a random delay in [0, warmup] */
    bool alpha;        /* start DOWN, come UP on the first success */
};

enum hc_state {
    HC_STOPPED = 0,
    HC_WAITING, /* the next probe is due at next_us */
    HC_PROBING, /* a probe is in flight since probe_start_us */
};

enum hc_ev {
    HC_EV_START = 0, /* rnd: the random draw for warmup */
    HC_EV_STOP,
    HC_EV_RESULT, /* ok: the probe's outcome */
    HC_EV_TICK,   /* time passed (deadline reached) */
};

struct hc_in {
    enum hc_ev ev;
    bool ok;
    uint64_t rnd;
    bool resume; /* START: keep the verdict carried into the core (reload, upgrade) */
};

enum hc_act_kind {
    HC_ACT_START_PROBE = 0,
    HC_ACT_CANCEL_PROBE, /* the in-flight probe is abandoned (stop, or no result in time) */
    HC_ACT_UP,
    HC_ACT_DOWN,
};

enum hc_why {
    HC_WHY_NONE = 0,
    HC_WHY_INITIAL,       /* START: the initial health (UP, or DOWN with alpha) */
    HC_WHY_PROBE_OK,      /* a success while DOWN */
    HC_WHY_RETRIES_SPENT, /* a failure with no retry left while UP */
};

struct hc_act {
    enum hc_act_kind kind;
    enum hc_why why;
};

#define HC_ACTS_MAX 4
struct hc_acts {
    struct hc_act a[HC_ACTS_MAX];
    unsigned n;
};

struct hc {
    struct hc_cfg cfg;
    enum hc_state state;
    bool up;
    bool has_run;           /* a probe result has been seen since START */
    unsigned retries_used;  /* consecutive failures answered by a retry */
    mono_us next_us;        /* HC_WAITING: when the next probe starts */
    mono_us probe_start_us; /* HC_PROBING */
    /* last health transition, for status output */
    bool last_old_up;
    enum hc_why last_why;
    uint64_t probes, failures; /* counters */
};

#endif
