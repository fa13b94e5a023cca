/* Types of the rtnetlink adapter (src/io/nl.h): the request socket, the monitor socket, and
 * the plain records (link, address, event) that cross the adapter boundary.
 *
 * Interface names are at most 15 characters plus a NUL (IFNAMSIZ). Addresses use the pure
 * struct ip_addr of src/base, so callers never see rtnetlink structures. */
#ifndef NOSPOF_IO_NL_T_H
#define NOSPOF_IO_NL_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/addr-t.h"

#define NL_IFNAMSIZ 16

struct mnl_socket;

/* A request/response rtnetlink socket. Owned by the caller (embed it), filled by nl_open(),
 * released by nl_close(). Not thread-safe: one user at a time. */
struct nl {
    struct mnl_socket *sock;
    uint32_t portid;
    uint32_t seq; /* sequence number of the last request sent */
    uint8_t *buf; /* send/receive scratch buffer, buf_cap bytes (heap) */
    size_t buf_cap;
    int timeout_ms; /* bound on each wait for an answer (default 1000) */
};

/* A link as nl_link_get() reports it. */
struct nl_link {
    int ifindex;
    char name[NL_IFNAMSIZ];
    uint32_t flags;  /* raw IFF_* flags */
    bool up;         /* IFF_UP */
    bool running;    /* IFF_RUNNING (operationally up) */
    bool lower_up;   /* IFF_LOWER_UP (carrier) */
    uint8_t mac[6];  /* IFLA_ADDRESS when it is a 6-byte MAC, else zero */
    uint8_t mac_len; /* length of IFLA_ADDRESS (6 for Ethernet, 0 if none) */
    uint32_t mtu;
    char kind[NL_IFNAMSIZ]; /* IFLA_INFO_KIND ("macvlan", "veth", ...) or "" */
    bool is_macvlan;        /* kind == "macvlan" */
    uint32_t macvlan_mode;  /* IFLA_MACVLAN_MODE (MACVLAN_MODE_*) when is_macvlan */
    int parent_ifindex;     /* IFLA_LINK (macvlan/veth parent or peer), 0 if none */
};

/* One address to add or delete. family of brd is IP_NONE for "no broadcast".
 * scope is an RT_SCOPE_* value (0 = global). label applies to IPv4 only ("" = none; the
 * kernel requires it to start with the interface name). nodad sets IFA_F_NODAD (IPv6) so a
 * VIP is usable at once instead of after duplicate address detection. */
struct nl_addr_req {
    int ifindex;
    struct ip_addr addr;
    uint8_t prefix_len;
    struct ip_addr brd;
    uint8_t scope;
    char label[NL_IFNAMSIZ];
    bool nodad;
};

/* An address as nl_addr_list() reports it. For IPv4 addr is IFA_LOCAL (falls back to
 * IFA_ADDRESS); for IPv6 it is IFA_ADDRESS. */
struct nl_addr_info {
    int ifindex;
    uint8_t family; /* enum ip_family */
    struct ip_addr addr;
    uint8_t prefix_len;
    uint8_t scope;  /* RT_SCOPE_* */
    uint32_t flags; /* IFA_F_* (IFA_FLAGS when present) */
    char label[NL_IFNAMSIZ];
};

/* A non-blocking socket subscribed to link and IPv4/IPv6 address changes. Put fd on the
 * event loop (EPOLLIN) and call nl_monitor_read() when it is readable. */
struct nl_monitor {
    struct mnl_socket *sock;
    int fd;       /* -1 when closed */
    uint8_t *buf; /* receive buffer, buf_cap bytes (heap) */
    size_t buf_cap;
};

enum nl_ev_kind {
    NL_EV_LINK = 0, /* a link was created or changed (flags, name, carrier...) */
    NL_EV_LINK_DEL, /* a link was deleted */
    NL_EV_ADDR_NEW, /* an address was added (or updated) */
    NL_EV_ADDR_DEL, /* an address was removed */
};

/* One monitor event. For link events addr is IP_NONE and prefix_len 0; for address events
 * ifname is the label (IPv4) or "" (IPv6) and up/running/flags are false/0. */
struct nl_event {
    enum nl_ev_kind kind;
    int ifindex;
    char ifname[NL_IFNAMSIZ];
    bool up;        /* IFF_UP && IFF_RUNNING */
    bool lower_up;  /* IFF_LOWER_UP */
    uint32_t flags; /* raw IFF_* flags (link events) or IFA_F_* flags (address events) */
    struct ip_addr addr;
    uint8_t prefix_len;
};

/* macvlan modes for nl_macvlan_add(); values are the kernel's MACVLAN_MODE_*. */
enum nl_macvlan_mode {
    NL_MACVLAN_PRIVATE = 1, /* keepalived's use_vmac */
    NL_MACVLAN_BRIDGE = 4,  /* FRR's vrrpd */
};

#endif
