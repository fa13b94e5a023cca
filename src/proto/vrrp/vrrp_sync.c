/* VRRP sync groups: derives the inputs that keep the members of one group together.
 *
 * The group holds no state of its own beyond which members are faulted by their own inputs;
 * everything else is read from the member cores. See vrrp_sync.h for the rule. */
#include "vrrp_sync.h"

#include "vrrp.h"

void vrrp_sync_init(struct vrrp_sync *g, struct vrrp *const *members, unsigned n)
{
    *g = (struct vrrp_sync){
        .members = members,
        .n = n > VRRP_SYNC_MAX ? VRRP_SYNC_MAX : n,
    };
}

static bool timer_expired(const struct vrrp *vr, mono_us now)
{
    return vr->state == VRRP_STATE_BACKUP && vr->t_master_down <= now;
}

/* keepalived: a member may go MASTER when it is one already or would go on its own. */
static bool member_may(const struct vrrp *vr, mono_us now)
{
    return vr->state == VRRP_STATE_MASTER || vr->state == VRRP_STATE_STOPPED ||
           timer_expired(vr, now);
}

bool vrrp_sync_may_master(const struct vrrp_sync *g, unsigned i, mono_us now)
{
    for (unsigned k = 0; k < g->n; k++)
        if (k != i && !member_may(g->members[k], now))
            return false;
    return true;
}

bool vrrp_sync_held(const struct vrrp_sync *g, unsigned i, mono_us now)
{
    return i < g->n && timer_expired(g->members[i], now) && !vrrp_sync_may_master(g, i, now);
}

mono_us vrrp_sync_deadline(const struct vrrp_sync *g, unsigned i, mono_us now)
{
    if (i >= g->n || vrrp_sync_held(g, i, now))
        return MONO_NEVER;
    return vrrp_deadline(g->members[i]);
}

static unsigned put(struct vrrp_sync_in *q, unsigned nq, unsigned cap, unsigned member,
                    enum vrrp_in_kind kind)
{
    if (nq >= cap)
        return nq;
    q[nq] = (struct vrrp_sync_in){.member = member, .in = {.kind = kind}};
    q[nq].in.u.reason = VRRP_WHY_SYNC_GROUP;
    return nq + 1;
}

/* Own faults are cleared together: the group leaves FAULT when none is left. */
static unsigned admit_clear(struct vrrp_sync *g, unsigned i, struct vrrp_sync_in *q, unsigned cap)
{
    unsigned nq = 0;

    g->own_fault &= ~(UINT32_C(1) << i);
    if (g->own_fault != 0)
        return 0;
    for (unsigned k = 0; k < g->n; k++)
        if (g->members[k]->state == VRRP_STATE_FAULT)
            nq = put(q, nq, cap, k, VRRP_IN_FAULT_CLEAR);
    return nq;
}

unsigned vrrp_sync_admit(struct vrrp_sync *g, unsigned i, const struct vrrp_in *in, mono_us now,
                         struct vrrp_sync_in *q, unsigned cap)
{
    if (i >= g->n || cap == 0)
        return 0;
    switch (in->kind) {
    case VRRP_IN_FAULT:
        g->own_fault |= UINT32_C(1) << i;
        break;
    case VRRP_IN_FAULT_CLEAR:
        return admit_clear(g, i, q, cap);
    case VRRP_IN_TICK:
        if (vrrp_sync_held(g, i, now))
            return 0;
        break;
    case VRRP_IN_START:
    case VRRP_IN_RESUME:
    case VRRP_IN_ADVERT:
    case VRRP_IN_PRIORITY:
    case VRRP_IN_STOP:
    case VRRP_IN_SYNC_MASTER:
    case VRRP_IN_SYNC_BACKUP:
        break;
    }
    q[0] = (struct vrrp_sync_in){.member = i, .in = *in};
    return 1;
}

/* The inputs one transition of member i asks of the others. */
static unsigned fan_out(const struct vrrp_sync *g, unsigned i, const struct vrrp_act *a,
                        struct vrrp_sync_in *q, unsigned nq, unsigned cap)
{
    for (unsigned k = 0; k < g->n; k++) {
        enum vrrp_state s = g->members[k]->state;

        if (k == i)
            continue;
        if (a->to == VRRP_STATE_MASTER && s == VRRP_STATE_BACKUP)
            nq = put(q, nq, cap, k, VRRP_IN_SYNC_MASTER);
        else if (a->to == VRRP_STATE_BACKUP && a->from == VRRP_STATE_MASTER &&
                 s == VRRP_STATE_MASTER)
            nq = put(q, nq, cap, k, VRRP_IN_SYNC_BACKUP);
        else if (a->to == VRRP_STATE_FAULT && s != VRRP_STATE_FAULT && s != VRRP_STATE_STOPPED)
            nq = put(q, nq, cap, k, VRRP_IN_FAULT);
    }
    return nq;
}

unsigned vrrp_sync_follow(const struct vrrp_sync *g, unsigned i, const struct vrrp_act *acts,
                          unsigned n, struct vrrp_sync_in *q, unsigned cap)
{
    unsigned nq = 0;

    if (i >= g->n)
        return 0;
    for (unsigned j = 0; j < n; j++) {
        const struct vrrp_act *a = &acts[j];

        if (a->kind == VRRP_ACT_STATE && a->reason != VRRP_WHY_SYNC_GROUP)
            nq = fan_out(g, i, a, q, nq, cap);
    }
    return nq;
}

void vrrp_sync_step(struct vrrp_sync *g, unsigned i, const struct vrrp_in *in, mono_us now,
                    struct vrrp_acts *outs)
{
    struct vrrp_sync_in q[VRRP_SYNC_QUEUE];
    unsigned head = 0;
    unsigned tail = vrrp_sync_admit(g, i, in, now, q, VRRP_SYNC_QUEUE);

    while (head < tail) {
        struct vrrp_sync_in cur = q[head++];
        struct vrrp_acts *out = &outs[cur.member];
        unsigned first = out->n;

        vrrp_step(g->members[cur.member], &cur.in, now, out);
        tail += vrrp_sync_follow(g, cur.member, &out->a[first], out->n - first, &q[tail],
                                 VRRP_SYNC_QUEUE - tail);
    }
}
