/* The VRRP simulator: real cores on simulated LANs with a virtual clock.
 *
 * A world holds up to SIM_NODES routers, each running one VRRP core per LAN (VRID = LAN index
 * + 1), optionally joined in a sync group. Adverts are really encoded and decoded with the
 * codec (vrrp_pkt_encode / vrrp_pkt_decode) and travel over links with delay, jitter (hence
 * reordering), loss and partitions, all drawn from one seeded rng, so a seed replays exactly.
 * Timers come from vrrp_deadline (vrrp_sync_deadline in a group); VIP ownership follows the
 * ADD/DEL_VIPS actions. Invariants are checked after every event (see sim.c). */
#ifndef NOSPOF_TESTS_SIM_H
#define NOSPOF_TESTS_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/rng.h"
#include "proto/vrrp/vrrp.h"
#include "proto/vrrp/vrrp_sync.h"
#include "proto/vrrp/vrrp_track.h"

#define SIM_NODES  5
#define SIM_LANS   3
#define SIM_EVENTS 2048
#define SIM_TRACE  200
#define SIM_PKT    64

/* Schedule events (the fault schedule) and the internal packet delivery. */
enum sim_ev_kind {
    SIM_DELIVER = 0, /* internal: a packet arrives */
    SIM_PARTITION,   /* node joins partition arg on lan (255: every lan); 0 = the main one */
    SIM_HEAL,        /* every node back in partition 0 on lan (255: every lan) */
    SIM_CRASH,       /* node dies: cores and VIPs gone, silent */
    SIM_RESTART,     /* node (re)starts every core from INIT */
    SIM_PRIORITY,    /* effective priority of node's core on lan becomes arg */
    SIM_LOSS,        /* packet loss becomes arg percent on every link */
    SIM_STOP,        /* node stops every core (gracefully if configured) */
    SIM_FAULT,       /* node's core on lan enters FAULT (a tracker or link) */
    SIM_CLEAR,       /* ... and leaves it */
    SIM_TRACK,       /* node's tracked script on lan reports arg (1 ok, 0 failed) */
    SIM_EXPECT,      /* check: node is the only master and VIP holder on lan (255: none) */
    SIM_EXPECT_ADDS, /* check: ADD_VIPS happened exactly arg times on lan so far */
    SIM_EV__COUNT
};

struct sim_event {
    mono_us at;
    uint64_t seq;
    uint8_t kind; /* enum sim_ev_kind */
    uint8_t node, lan, from;
    int arg;
    uint8_t len;
    uint8_t pkt[SIM_PKT];
};

struct sim_inst {
    struct vrrp core;
    struct vrrp_cfg cfg;
    bool vip;
    bool has_track;
    bool track_fault;
    struct vrrp_tracker track;
    int track_weight;
};

struct sim_node {
    bool up;
    struct ip_addr addr;
    struct sim_inst in[SIM_LANS];
    struct vrrp *ptr[SIM_LANS];
    struct vrrp_sync sync;
    uint8_t part[SIM_LANS]; /* partition id per lan */
};

/* What a world looks like; zero fields take defaults (see sim_init). */
struct sim_setup {
    unsigned nnodes, nlans;
    uint8_t prio[SIM_NODES][SIM_LANS];
    uint8_t version;       /* 3 */
    uint16_t adver_int_cs; /* 100 */
    bool sync;             /* every node's cores form one sync group */
    bool graceful_stop, nopreempt, higher_prio_send_advert, lower_prio_no_advert;
    mono_us preempt_delay_us;
    bool owner_init_master; /* priority 255 cores start with "state MASTER" */
    mono_us delay_min_us, delay_jitter_us;
    int track_weight; /* non-zero: node 0's core on lan 0 tracks a script */
    unsigned track_rise, track_fall;
};

struct sim {
    struct sim_setup set;
    struct rng rng;
    uint64_t seed;
    mono_us now;
    uint64_t seq;
    struct sim_node node[SIM_NODES];
    struct sim_event ev[SIM_EVENTS];
    unsigned nev;
    unsigned loss_pct;
    mono_us last_change, settle_us;
    uint64_t events, delivered, lost;
    unsigned adds[SIM_LANS];
    mono_us gap_from[SIM_LANS];   /* since when no node holds the VIP, or MONO_NEVER */
    mono_us max_gap_us[SIM_LANS]; /* longest such gap that has ended */
    char trace[SIM_TRACE][112];
    unsigned ntrace;
    bool failed;
    char why[200];
};

/* Builds a world (all nodes down until a SIM_RESTART). */
void sim_init(struct sim *s, uint64_t seed, const struct sim_setup *set);

/* Schedules a schedule event. */
void sim_at(struct sim *s, mono_us at, enum sim_ev_kind kind, unsigned node, unsigned lan, int arg);

/* Runs until virtual time 'until' or the first invariant failure; returns !s->failed. */
bool sim_run(struct sim *s, mono_us until);

/* Prints the seed, the failure and the recent event trace. */
void sim_dump(const struct sim *s, FILE *f);

#endif
