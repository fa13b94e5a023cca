/* Tracker types: script/interface state with rise/fall hysteresis, and the inputs and result
 * of the effective-priority computation (keepalived.conf(5) track_script, track_interface,
 * track_file; research/vrrp.md 1.2 "Tracking"). */
#ifndef NOSPOF_PROTO_VRRP_TRACK_T_H
#define NOSPOF_PROTO_VRRP_TRACK_T_H

#include <stdbool.h>
#include <stdint.h>

/* The state of one tracked thing whose checks pass or fail (vrrp_script, track_interface,
 * track_process, track_bfd). Shared by every instance that tracks it; weight and reverse are
 * the tracker's own defaults, which an instance's track_* entry may override. */
struct vrrp_tracker {
    int weight;      /* -253..253; 0 = FAULT while down */
    bool reverse;    /* reverse the direction of the adjustment (0: FAULT while up) */
    unsigned rise;   /* consecutive successes to come up (>= 1) */
    unsigned fall;   /* consecutive failures to go down (>= 1) */
    unsigned streak; /* consecutive results disagreeing with 'up' so far */
    bool up;
};

/* An instance's (or sync group's) reference to a tracker with the weight it applies. */
struct vrrp_track_ref {
    const struct vrrp_tracker *tracker;
    int weight;
    bool reverse;
};

/* A track_file as one instance sees it: the number last read and the weight applied. */
struct vrrp_track_file_val {
    int value;    /* number read from the file */
    int weight;   /* 0: a non-zero value means FAULT; otherwise value * weight is added */
    bool reverse; /* negate the product (weight 0: a zero value means FAULT) */
};

/* Lowest adjustment of a track_file before it means FAULT (keepalived.conf(5) track_file). */
#define VRRP_TRACK_FILE_FAULT_BELOW (-253)
#define VRRP_PRIO_EFF_MIN           1
#define VRRP_PRIO_EFF_MAX           254

/* Result of vrrp_effective_priority. */
struct vrrp_prio {
    uint8_t priority; /* base + adjustments clamped to 1..254; 255 stays 255 (owner) */
    bool fault;       /* some tracker demands the FAULT state */
    int total;        /* base + adjustments before clamping (saturated), for display */
};

#endif
