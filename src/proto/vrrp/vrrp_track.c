/* Tracking arithmetic (keepalived.conf(5): vrrp_script, track_script, track_interface,
 * track_file; research/vrrp.md 1.2 "Tracking").
 *
 * Trackers only count: the adapter runs scripts, watches links and reads files, feeds each
 * result here, and when a tracker changes state recomputes every dependent instance's
 * effective priority and FAULT flag, which it hands to the core (VRRP_IN_PRIORITY /
 * VRRP_IN_FAULT). Adjustments are summed in 64 bits with every term bounded, so no input can
 * overflow; values far outside 1..254 simply clamp. */
#include "vrrp_track.h"

#include <limits.h>

#include "vrrp_pkt-t.h"

#define TERM_BOUND 100000 /* far beyond any clamp, small enough never to overflow a sum */

void vrrp_tracker_init(struct vrrp_tracker *t, int weight, bool reverse, unsigned rise,
                       unsigned fall, bool init_fail)
{
    t->weight = weight;
    t->reverse = reverse;
    t->rise = rise ? rise : 1;
    t->fall = fall ? fall : 1;
    t->streak = 0;
    t->up = !init_fail;
}

bool vrrp_tracker_feed(struct vrrp_tracker *t, bool ok)
{
    unsigned need = t->up ? t->fall : t->rise;

    if (ok == t->up) {
        t->streak = 0;
        return false;
    }
    if (++t->streak < need)
        return false;
    t->up = ok;
    t->streak = 0;
    return true;
}

struct vrrp_track_ref vrrp_track_ref_default(const struct vrrp_tracker *t)
{
    struct vrrp_track_ref r = {.tracker = t, .weight = t->weight, .reverse = t->reverse};

    return r;
}

static int64_t bound(int64_t v)
{
    return v < -TERM_BOUND ? -TERM_BOUND : v > TERM_BOUND ? TERM_BOUND : v;
}

/* Adjustment of one script/interface reference; sets *fault for an unweighted failure. */
static int64_t ref_delta(const struct vrrp_track_ref *r, bool *fault)
{
    bool up = r->tracker->up;
    int64_t d = 0;

    if (r->weight == 0) {
        /* "weight 0 reverse": down while the tracked thing is up, and vice versa. */
        if (up == r->reverse)
            *fault = true;
        return 0;
    }
    if ((r->weight > 0 && up) || (r->weight < 0 && !up))
        d = r->weight;
    return bound(r->reverse ? -d : d);
}

/* Adjustment of one track_file; sets *fault per the track_file rules. */
static int64_t file_delta(const struct vrrp_track_file_val *f, bool *fault)
{
    int64_t d;

    if (f->weight == 0) {
        if ((f->value != 0) != f->reverse)
            *fault = true;
        return 0;
    }
    d = (int64_t)f->value * f->weight;
    if (f->reverse)
        d = -d;
    if (d < VRRP_TRACK_FILE_FAULT_BELOW)
        *fault = true;
    return bound(d);
}

static uint8_t clamp_prio(int64_t v)
{
    if (v < VRRP_PRIO_EFF_MIN)
        return VRRP_PRIO_EFF_MIN;
    return v > VRRP_PRIO_EFF_MAX ? VRRP_PRIO_EFF_MAX : (uint8_t)v;
}

struct vrrp_prio vrrp_effective_priority(uint8_t base, const struct vrrp_track_ref *refs,
                                         size_t nref, const struct vrrp_track_file_val *files,
                                         size_t nfile)
{
    struct vrrp_prio p = {.fault = false};
    int64_t sum = base;

    for (size_t i = 0; i < nref; i++)
        sum += ref_delta(&refs[i], &p.fault);
    for (size_t i = 0; i < nfile; i++)
        sum += file_delta(&files[i], &p.fault);
    p.total = sum < INT_MIN ? INT_MIN : sum > INT_MAX ? INT_MAX : (int)sum;
    /* Trackers never move priority to or from 255 (keepalived.conf(5) track_file). */
    p.priority = base == VRRP_PRIO_OWNER ? base : clamp_prio(sum);
    return p;
}
