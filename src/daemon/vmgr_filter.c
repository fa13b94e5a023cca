/* The VRRP manager's no_accept filter: which addresses io/nft drops, and when.
 *
 * keepalived's rule (keepalived.conf(5), accept/no_accept, vrrp_strict): a master that is not
 * the address owner (configured priority below 255) and runs with accept mode off must not
 * receive traffic addressed to its VIPs and excluded VIPs; keepalived drops it (and traffic
 * sourced from them) with a firewall entry that exists exactly while the addresses are
 * installed. Here each instance holds its addresses in the filter (table `inet nospof`,
 * io/nft.h) from just before its VIPs are added until just after they are removed, so the
 * addresses are never on the interface unfiltered.
 *
 * Lifetime of the table: holds made while the manager starts only fill the adapter's
 * mirror; vmgr_filter_start then replaces whatever table the namespace has (a crashed run's,
 * or the one of the process that handed over in a binary upgrade, whose resumed masters hold
 * the same addresses already) in one atomic transaction. A clean stop deletes the table; an
 * abandon (binary upgrade) leaves it to the new process. If the kernel refuses nftables,
 * one error says that no_accept is not enforced, and VRRP carries on unfiltered. */
#include <stdlib.h>
#include <string.h>

#include "io/log.h"
#include "io/nft.h"
#include "vmgr.h"

/* keepalived: no filter for accept mode or for the address owner. */
static bool inst_filters(const struct cfg_instance *ci)
{
    return !ci->core.accept && ci->core.priority != 255;
}

static void filter_establish(struct vmgr *m)
{
    int rc = nft_filter_sync(&m->nft);

    if (rc == 0) {
        log_info("no_accept: nftables table inet %s in place (%zu addresses)", NFT_TABLE_NAME,
                 m->nft.n);
        return;
    }
    m->nft_off = true;
    log_err("no_accept is NOT enforced: the kernel refused the nftables table inet %s (%s); "
            "masters with accept mode off accept traffic to their VIPs as with 'accept'",
            NFT_TABLE_NAME, strerror(-rc));
    vmgr_event(m, "no_accept not enforced: nftables refused (%s)", strerror(-rc));
}

static void filter_call(struct vmgr *m, const struct nft_vip *v, size_t n, bool hold)
{
    int rc;

    if (n == 0)
        return;
    rc = hold ? nft_filter_hold(&m->nft, v, n) : nft_filter_release(&m->nft, v, n);
    if (rc < 0)
        log_err("no_accept: cannot %s %zu address(es) in nftables table inet %s: %s",
                hold ? "add" : "remove", n, NFT_TABLE_NAME, strerror(-rc));
    if (hold && !m->nft.live && m->nft_started && !m->nft_off)
        filter_establish(m); /* a reload brought the first no_accept master */
}

void vmgr_filter_set(struct vmgr_inst *vi, const struct nl_addr_req *reqs, size_t n)
{
    struct vmgr_filtered old = vmgr_filter_take(vi);

    if (!inst_filters(vi->ci))
        n = 0;
    if (n > 0) {
        vi->filtered.v = calloc(n, sizeof(*vi->filtered.v));
        if (vi->filtered.v == NULL)
            abort();
        vi->filtered.n = n;
        for (size_t i = 0; i < n; i++)
            vi->filtered.v[i] = (struct nft_vip){.addr = reqs[i].addr, .ifindex = reqs[i].ifindex};
        filter_call(vi->mgr, vi->filtered.v, n, true);
    }
    vmgr_filter_drop(vi->mgr, &old); /* after the hold: a shared address never leaves */
}

struct vmgr_filtered vmgr_filter_take(struct vmgr_inst *vi)
{
    struct vmgr_filtered f = vi->filtered;

    vi->filtered = (struct vmgr_filtered){0};
    return f;
}

void vmgr_filter_drop(struct vmgr *m, struct vmgr_filtered *f)
{
    filter_call(m, f->v, f->n, false);
    free(f->v);
    *f = (struct vmgr_filtered){0};
}

void vmgr_filter_start(struct vmgr *m)
{
    bool wanted = m->nft.n > 0;
    int rc;

    m->nft_started = true;
    for (size_t i = 0; i < m->ninsts && !wanted; i++)
        wanted = inst_filters(m->insts[i]->ci);
    if (wanted) {
        filter_establish(m);
        return;
    }
    rc = nft_filter_delete(&m->nft); /* nothing to filter: only clear a stale table */
    if (rc == 0)
        log_info("no_accept: removed a stale nftables table inet %s", NFT_TABLE_NAME);
}

void vmgr_filter_close(struct vmgr *m)
{
    if (m->nft.live && !m->nft_keep) {
        int rc = nft_filter_delete(&m->nft);
        if (rc < 0)
            log_warn("no_accept: cannot delete nftables table inet %s: %s", NFT_TABLE_NAME,
                     strerror(-rc));
    }
    nft_filter_close(&m->nft);
}
