/* Loading and attaching the packet data plane's BPF object (see nat_bpf.h). */
#include "io/nat_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/log.h"

/* The object file, from the build (nat_bpf_obj.c, generated). */
extern const unsigned char nat_bpf_obj[];
extern const size_t nat_bpf_obj_len;

#define ARPHRD_ETHER_    1
#define ARPHRD_LOOPBACK_ 772

/* libbpf's own messages: warnings and errors go to the log, the rest is dropped. */
__attribute__((format(printf, 2, 0))) static int libbpf_log(enum libbpf_print_level level,
                                                            const char *fmt, va_list ap)
{
    if (level == LIBBPF_WARN)
        log_vmsg(4 /* LOG_WARNING */, fmt, ap);
    return 0;
}

static int map_fd(struct nat_bpf *b, const char *name)
{
    struct bpf_map *m = bpf_object__find_map_by_name(b->obj, name);

    return m ? bpf_map__fd(m) : -ENOENT;
}

static int prog_fd(struct nat_bpf *b, const char *name)
{
    struct bpf_program *p = bpf_object__find_program_by_name(b->obj, name);

    return p ? bpf_program__fd(p) : -ENOENT;
}

static int set_max_flows(struct nat_bpf *b, uint32_t max_flows)
{
    const char *names[] = {"nat_fwd", "nat_rev"};

    for (size_t i = 0; i < 2; i++) {
        struct bpf_map *m = bpf_object__find_map_by_name(b->obj, names[i]);
        int rc = m ? bpf_map__set_max_entries(m, max_flows) : -ENOENT;
        if (rc < 0)
            return rc;
    }
    return 0;
}

int nat_bpf_open(struct nat_bpf *b, uint32_t max_flows, char *err, size_t errlen)
{
    int rc;

    memset(b, 0, sizeof(*b));
    b->fwd = b->rev = b->svcs = b->dctr = b->ctr = b->ring = -1;
    libbpf_set_print(libbpf_log);
    b->obj = bpf_object__open_mem(nat_bpf_obj, nat_bpf_obj_len, NULL);
    if (!b->obj) {
        rc = -errno;
        snprintf(err, errlen, "BPF object: %s", strerror(-rc));
        return rc;
    }
    if (max_flows && (rc = set_max_flows(b, max_flows)) < 0) {
        snprintf(err, errlen, "BPF flow maps: %s", strerror(-rc));
        return rc;
    }
    rc = bpf_object__load(b->obj);
    if (rc < 0) {
        snprintf(err, errlen, "loading the BPF programs: %s (needs CAP_BPF and CAP_NET_ADMIN)",
                 strerror(-rc));
        return rc;
    }
    b->prog_in = prog_fd(b, "nat_in");
    b->prog_out = prog_fd(b, "nat_out");
    b->fwd = map_fd(b, "nat_fwd");
    b->rev = map_fd(b, "nat_rev");
    b->svcs = map_fd(b, "nat_svcs");
    b->dctr = map_fd(b, "nat_dctr");
    b->ctr = map_fd(b, "nat_ctr");
    b->ring = map_fd(b, "nat_upcalls");
    return 0;
}

/* ARPHRD_* of the interface, from sysfs; -1 when unreadable. */
static int link_type(const char *name)
{
    char path[64 + IF_NAMESIZE];
    int type = -1;

    snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    if (fscanf(f, "%d", &type) != 1)
        type = -1;
    fclose(f);
    return type;
}

/* libbpf option structs zeroed whole (libbpf refuses non-zero bytes past the fields it
 * knows, trailing padding included) with .sz set: what DECLARE_LIBBPF_OPTS does, without its
 * GNU statement expression, which clang's -Wpedantic refuses (the -Werror build). */
static void tc_hook_init(struct bpf_tc_hook *h, int ifindex, enum bpf_tc_attach_point where)
{
    memset(h, 0, sizeof(*h));
    h->sz = sizeof(*h);
    h->ifindex = ifindex;
    h->attach_point = where;
}

/* nospof's filter (its handle and priority); prog_fd and flags 0 for a query or a detach. */
static void tc_opts_init(struct bpf_tc_opts *o, int prog_fd, __u32 flags)
{
    memset(o, 0, sizeof(*o));
    o->sz = sizeof(*o);
    o->handle = NAT_BPF_HANDLE;
    o->priority = NAT_BPF_PRIO;
    o->prog_fd = prog_fd;
    o->flags = flags;
}

static int attach_one(struct nat_bpf *b, int ifindex, bool *own_qdisc)
{
    struct bpf_tc_hook hook;

    tc_hook_init(&hook, ifindex, BPF_TC_INGRESS);
    int rc = bpf_tc_hook_create(&hook);

    if (rc < 0 && rc != -EEXIST)
        return rc;
    *own_qdisc = rc == 0;
    int progs[2] = {b->prog_in, b->prog_out};
    enum bpf_tc_attach_point pts[2] = {BPF_TC_INGRESS, BPF_TC_EGRESS};
    for (int i = 0; i < 2; i++) {
        struct bpf_tc_opts o;
        tc_opts_init(&o, progs[i], BPF_TC_F_REPLACE);
        hook.attach_point = pts[i];
        rc = bpf_tc_attach(&hook, &o);
        if (rc < 0) {
            if (*own_qdisc) { /* the interface is not recorded: leave it as it was */
                hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
                bpf_tc_hook_destroy(&hook);
            }
            return rc;
        }
    }
    return 0;
}

static struct nat_bpf_link *find_link(struct nat_bpf *b, int ifindex)
{
    for (size_t i = 0; i < b->nlinks; i++)
        if (b->links[i].ifindex == ifindex)
            return &b->links[i];
    return NULL;
}

static int add_link(struct nat_bpf *b, int ifindex)
{
    bool own = false;
    int rc = attach_one(b, ifindex, &own);

    if (rc < 0)
        return rc;
    struct nat_bpf_link *l = realloc(b->links, (b->nlinks + 1) * sizeof(*l));
    if (!l)
        abort();
    b->links = l;
    b->links[b->nlinks++] =
        (struct nat_bpf_link){.ifindex = ifindex, .own_qdisc = own, .seen = true};
    return 1;
}

int nat_bpf_attach_all(struct nat_bpf *b)
{
    struct if_nameindex *ifs = if_nameindex();
    int added = 0, first_err = 0;

    if (!ifs)
        return -errno;
    for (size_t i = 0; i < b->nlinks; i++)
        b->links[i].seen = false;
    for (struct if_nameindex *p = ifs; p->if_index; p++) {
        int t = link_type(p->if_name);
        if (t != ARPHRD_ETHER_ && t != ARPHRD_LOOPBACK_)
            continue;
        struct nat_bpf_link *l = find_link(b, (int)p->if_index);
        if (l) {
            l->seen = true;
            continue;
        }
        int rc = add_link(b, (int)p->if_index);
        if (rc < 0 && !first_err)
            first_err = rc;
        else if (rc > 0)
            added++;
    }
    if_freenameindex(ifs);
    size_t k = 0; /* forget the interfaces that are gone */
    for (size_t i = 0; i < b->nlinks; i++)
        if (b->links[i].seen)
            b->links[k++] = b->links[i];
    b->nlinks = k;
    return first_err ? first_err : added;
}

static uint32_t prog_id(int fd)
{
    struct bpf_prog_info info;
    uint32_t len = sizeof(info);

    memset(&info, 0, sizeof(info));
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* Whether nospof's ingress filter on the interface is still this process's program: after an
 * upgrade the new process has replaced it, and the old one must leave it alone. */
static bool still_ours(const struct nat_bpf *b, int ifindex)
{
    struct bpf_tc_hook hook;
    struct bpf_tc_opts o;

    tc_hook_init(&hook, ifindex, BPF_TC_INGRESS);
    tc_opts_init(&o, 0, 0);
    return bpf_tc_query(&hook, &o) == 0 && o.prog_id == prog_id(b->prog_in);
}

static void detach_one(const struct nat_bpf *b, const struct nat_bpf_link *l)
{
    struct bpf_tc_hook hook;

    tc_hook_init(&hook, l->ifindex, BPF_TC_INGRESS);
    if (!still_ours(b, l->ifindex))
        return;
    if (l->own_qdisc) { /* removing our clsact takes its filters with it */
        hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
        bpf_tc_hook_destroy(&hook);
        return;
    }
    enum bpf_tc_attach_point pts[2] = {BPF_TC_INGRESS, BPF_TC_EGRESS};
    for (int i = 0; i < 2; i++) {
        struct bpf_tc_opts o;
        tc_opts_init(&o, 0, 0);
        hook.attach_point = pts[i];
        bpf_tc_detach(&hook, &o);
    }
}

void nat_bpf_close(struct nat_bpf *b)
{
    for (size_t i = 0; i < b->nlinks; i++)
        detach_one(b, &b->links[i]);
    free(b->links);
    b->links = NULL;
    b->nlinks = 0;
    if (b->obj)
        bpf_object__close(b->obj);
    b->obj = NULL;
}

static int ncpus(void)
{
    int n = libbpf_num_possible_cpus();

    return n > 0 ? n : 1;
}

uint64_t nat_bpf_counter(const struct nat_bpf *b, enum nat_ctr which)
{
    int n = ncpus();
    uint64_t *v = calloc((size_t)n, sizeof(*v)), sum = 0;
    uint32_t key = which;

    if (!v)
        abort();
    if (b->ctr >= 0 && bpf_map_lookup_elem(b->ctr, &key, v) == 0)
        for (int i = 0; i < n; i++)
            sum += v[i];
    free(v);
    return sum;
}

int nat_bpf_dest_counters(const struct nat_bpf *b, uint32_t dest, struct nat_dest_ctr *out)
{
    int n = ncpus();
    struct nat_dest_ctr *v = calloc((size_t)n, sizeof(*v));

    if (!v)
        abort();
    memset(out, 0, sizeof(*out));
    int rc = dest < NAT_MAX_DESTS ? bpf_map_lookup_elem(b->dctr, &dest, v) : -ENOENT;
    if (rc == 0)
        for (int i = 0; i < n; i++) {
            out->pkts_in += v[i].pkts_in;
            out->bytes_in += v[i].bytes_in;
            out->pkts_out += v[i].pkts_out;
            out->bytes_out += v[i].bytes_out;
        }
    free(v);
    return rc < 0 ? -errno : 0;
}
