/* The kernel half of the packet data plane, loaded and attached: the BPF object of
 * io/bpf/nat.bpf.c (embedded in the binary at build time), its maps, and its TC programs on
 * the interfaces of this network namespace (libbpf).
 *
 * Attaching: nat_in at clsact ingress and nat_out at egress, with nospof's own handle and
 * priority (NAT_BPF_HANDLE, NAT_BPF_PRIO), replacing a filter left there by an earlier
 * nospofd. Only Ethernet and loopback interfaces are used (the programs read a 14-byte MAC
 * header). A clsact qdisc this process created is removed at nat_bpf_close; one that was there
 * before stays, with only nospof's filters taken off. */
#ifndef NOSPOF_IO_NAT_BPF_H
#define NOSPOF_IO_NAT_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/bpf/nat_abi.h"

#define NAT_BPF_HANDLE 0x6e73u /* "ns" */
#define NAT_BPF_PRIO   0x6e73u

struct bpf_object;

/* One interface the programs are attached to. */
struct nat_bpf_link {
    int ifindex;
    bool own_qdisc; /* we created its clsact qdisc */
    bool seen;      /* present at the last nat_bpf_attach_all */
};

struct nat_bpf {
    struct bpf_object *obj;
    int prog_in, prog_out;
    int fwd, rev, svcs, dctr, ctr, ring; /* map fds */
    struct nat_bpf_link *links;
    size_t nlinks;
};

/* Loads the embedded object with flow maps of max_flows entries per direction (0: the
 * default NAT_MAX_FLOWS). On failure returns -errno and writes the reason (the kernel's or
 * libbpf's) to err. */
int nat_bpf_open(struct nat_bpf *b, uint32_t max_flows, char *err, size_t errlen);

/* Attaches to every Ethernet and loopback interface not yet attached, and forgets those that
 * are gone. Returns the number of interfaces newly attached, or -errno of the first failure
 * (the others are still tried). */
int nat_bpf_attach_all(struct nat_bpf *b);

/* Detaches from every interface and frees everything; b may be zeroed or half opened. */
void nat_bpf_close(struct nat_bpf *b);

/* Sum of a global counter (enum nat_ctr) over the CPUs. */
uint64_t nat_bpf_counter(const struct nat_bpf *b, enum nat_ctr which);

/* Sum of a dest's counters over the CPUs; 0 or -errno. */
int nat_bpf_dest_counters(const struct nat_bpf *b, uint32_t dest, struct nat_dest_ctr *out);

#endif
