/* VRRP core types: configuration, state, inputs, actions, counters.
 *
 * The core (vrrp.c) is one virtual router instance: (interface, VRID, family). It knows no
 * sockets and no clock; the adapter feeds it inputs with "now" and executes its actions. */
#ifndef NOSPOF_PROTO_VRRP_T_H
#define NOSPOF_PROTO_VRRP_T_H

#include <stdbool.h>
#include <stdint.h>
#include "../../base/addr-t.h"
#include "../../base/time-t.h"
#include "vrrp_pkt-t.h"

enum vrrp_state {
    VRRP_STATE_INIT = 0,
    VRRP_STATE_BACKUP,
    VRRP_STATE_MASTER,
    VRRP_STATE_FAULT,   /* keepalived's addition: a tracker or the link says we must not serve */
    VRRP_STATE_STOPPED, /* after VRRP_IN_STOP has completed (the adapter may free the core) */
    VRRP_STATE__COUNT
};

/* Why a transition happened; recorded with every transition and shown by nospofctl. */
enum vrrp_reason {
    VRRP_WHY_START = 0,   /* INIT -> BACKUP at start-up */
    VRRP_WHY_OWNER_START, /* INIT -> MASTER: state MASTER and priority 255 */
    VRRP_WHY_MASTER_DOWN, /* Master_Down_Timer fired: no advert heard */
    VRRP_WHY_PREEMPT,     /* down timer fired while a lower-priority master was heard */
    VRRP_WHY_PRIO_ZERO,   /* the master announced priority 0 (skew-time takeover) */
    VRRP_WHY_HIGHER_PRIO, /* a master heard a better advert (RFC 5798 6.4.3) */
    VRRP_WHY_FAULT,       /* a tracker or the interface put us in FAULT */
    VRRP_WHY_FAULT_CLEARED,
    VRRP_WHY_SYNC_GROUP,    /* forced by another member of the sync group */
    VRRP_WHY_STOP,          /* shutdown or removal by reload */
    VRRP_WHY_HANDOVER_DONE, /* graceful stop: the new master was heard (or time ran out) */
    VRRP_WHY_RESUMED,       /* INIT -> MASTER: a binary upgrade handed the mastership over */
    VRRP_WHY__COUNT
};

/* Static configuration of one instance, validated by the config layer. Pointers refer to
 * memory the caller keeps alive as long as the core uses this cfg. */
struct vrrp_cfg {
    uint8_t version;            /* 2 or 3 */
    uint8_t family;             /* IP_V4 or IP_V6 (v6 requires version 3) */
    uint8_t vrid;               /* 1..255 */
    uint8_t priority;           /* configured base priority 1..255; 255 = address owner */
    uint16_t adver_int_cs;      /* v2: multiple of 100; v3: 1..4095 */
    uint8_t down_timer_adverts; /* Master_Down_Interval multiplier, 3 by default */
    bool init_master;           /* "state MASTER": immediate master only with priority 255 */
    bool nopreempt;             /* a higher priority backup does not take over */
    mono_us preempt_delay_us;   /* after start-up, wait this long before preempting */
    bool accept;                /* accept mode (informational for the core) */

    struct ip_addr src; /* our primary address: advert source and tie-break */
    bool unicast;       /* adverts go to peers[] instead of the multicast group */
    const struct ip_addr *peers;
    unsigned npeers;
    bool check_unicast_src; /* drop unicast adverts whose source is not a peer */

    uint8_t auth_type; /* v2 only */
    uint8_t auth_pass[VRRP_AUTH_LEN];

    unsigned garp_repeat;            /* GARP/NA rounds at once on becoming master (5) */
    mono_us garp_delay_us;           /* second burst after this; 0 = none (5 s) */
    unsigned garp_refresh_repeat;    /* rounds per refresh (1) */
    mono_us garp_refresh_us;         /* periodic GARP while master; 0 = off */
    unsigned garp_lower_prio_repeat; /* GARP rounds on hearing a lower priority; 0 = none */

    bool lower_prio_no_advert;    /* master hearing a lower prio does not answer with an advert */
    bool higher_prio_send_advert; /* master sends one advert before yielding to a higher prio */

    /* Graceful stop (nospof): on stop, a master announces priority 0 but keeps its VIPs
     * until it hears the new master or until the worst-case skew time plus this margin. */
    bool graceful_stop;
    mono_us graceful_margin_us;
};

enum vrrp_in_kind {
    VRRP_IN_START = 0,   /* leave INIT; call once */
    VRRP_IN_TICK,        /* nothing but time: fires due timers */
    VRRP_IN_ADVERT,      /* a decoded advert for this VRID */
    VRRP_IN_PRIORITY,    /* the effective priority changed (trackers) */
    VRRP_IN_FAULT,       /* enter FAULT (trackers, link down, sync group) */
    VRRP_IN_FAULT_CLEAR, /* leave FAULT */
    VRRP_IN_STOP,        /* shut down (gracefully if configured) */
    VRRP_IN_SYNC_MASTER, /* the sync group went MASTER: follow */
    VRRP_IN_SYNC_BACKUP, /* the sync group went BACKUP: follow */
    VRRP_IN_RESUME,      /* leave INIT as MASTER: the previous process was master (upgrade) */
};

struct vrrp_in {
    enum vrrp_in_kind kind;
    union {
        struct {
            const struct vrrp_pkt *pkt; /* codec-valid */
            struct ip_addr src;         /* IP source */
            uint8_t ttl;                /* TTL or hop limit as received */
            bool to_multicast;          /* IP destination was the VRRP group */
        } advert;
        uint8_t priority; /* VRRP_IN_PRIORITY: new effective priority */
        uint8_t reason;   /* FAULT/SYNC_*: enum vrrp_reason to record */
    } u;
};

enum vrrp_act_kind {
    VRRP_ACT_SEND_ADVERT = 0, /* .priority: value of the priority field (0 when leaving) */
    VRRP_ACT_ADD_VIPS,        /* install virtual addresses */
    VRRP_ACT_DEL_VIPS,        /* remove virtual addresses */
    VRRP_ACT_SEND_GARP,       /* .count rounds of GARP/unsolicited NA for every VIP */
    VRRP_ACT_STATE,           /* .from -> .to because .reason: log, notify, count */
    VRRP_ACT_LOWER_PRIO_SEEN, /* master heard a lower priority (notify_master_rx_lower_pri) */
    VRRP_ACT__COUNT
};

struct vrrp_act {
    enum vrrp_act_kind kind;
    uint8_t priority;
    uint16_t count;
    uint8_t from;   /* enum vrrp_state */
    uint8_t to;     /* enum vrrp_state */
    uint8_t reason; /* enum vrrp_reason */
};

#define VRRP_ACTS_MAX 16
struct vrrp_acts {
    unsigned n;
    struct vrrp_act a[VRRP_ACTS_MAX];
};

struct vrrp_counters {
    uint64_t adverts_rx;
    uint64_t adverts_tx;
    uint64_t prio_zero_rx;
    uint64_t prio_zero_tx;
    uint64_t transitions;
    uint64_t became_master;
    uint64_t garp_rounds;
    uint64_t drops[VRRP_DROP__COUNT];
};

struct vrrp_transition {
    mono_us at;
    uint8_t from, to, reason;
    uint8_t priority; /* effective priority at that moment */
};

#define VRRP_HISTORY 16

/* Graceful stop: how long a stopping master keeps its VIPs after hearing the new master.
 * The new master sends its GARPs right after its first advert; 20 ms covers their delivery
 * and processing on a LAN with margin, and a duplicate answer during the overlap is harmless
 * while a lost one is not. */
#define VRRP_HANDOVER_OVERLAP_US 20000

/* One instance's dynamic state. Treat as opaque outside vrrp.c except for reading. */
struct vrrp {
    struct vrrp_cfg cfg;
    enum vrrp_state state;
    uint8_t eff_priority;         /* base + trackers, clamped; 255 for an owner */
    uint16_t master_adver_int_cs; /* v3: adopted from the master's adverts */
    bool master_known;            /* we heard a master (or are one) */
    struct ip_addr master_addr;
    uint8_t master_priority;
    bool lower_master_heard; /* backup: last advert was from a lower priority master */
    bool stopping;           /* graceful stop in progress (still MASTER, priority 0 sent) */
    mono_us started_at;
    mono_us entered_at;      /* when the current state was entered */
    mono_us t_advert;        /* master: next advert */
    mono_us t_master_down;   /* backup: Master_Down_Timer */
    mono_us t_preempt_until; /* backup: preempt_delay runs until */
    mono_us t_garp_second;   /* master: second GARP burst */
    mono_us t_garp_refresh;  /* master: periodic refresh */
    mono_us t_handover;      /* graceful stop: give up waiting at */
    struct vrrp_counters cnt;
    struct vrrp_transition hist[VRRP_HISTORY]; /* ring, newest at (hist_n - 1) % size */
    unsigned hist_n;
};

#endif
