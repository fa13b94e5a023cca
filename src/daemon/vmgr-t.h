/* Runtime types of the VRRP manager: the adapter between the pure cores (src/proto/vrrp) and
 * the system (src/io). One struct vmgr runs on its own thread and loop; nothing here is
 * touched by another thread except through io_loop_post (see vmgr.h).
 *
 * Ownership: the vmgr owns every object below (allocated one by one so that pointers stay
 * valid across reloads) and holds a reference on each config it points into. */
#ifndef NOSPOF_DAEMON_VMGR_T_H
#define NOSPOF_DAEMON_VMGR_T_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"
#include "cfg-t.h"
#include "io/loop.h"
#include "io/nft-t.h"
#include "io/nl-t.h"
#include "io/script.h"
#include "notify.h"
#include "proto/vrrp/vrrp-t.h"
#include "proto/vrrp/vrrp_sync-t.h"
#include "proto/vrrp/vrrp_track-t.h"

struct vmgr;

/* A config shared by the objects built from it; freed when the last reference goes. */
struct vmgr_cfgref {
    struct cfg *cfg;
    unsigned refs;
};

/* One network interface: link state, addresses, and the raw sockets of the instances on it. */
struct vmgr_if {
    struct vmgr *mgr;
    char name[CFG_IFNAMSIZ];
    int ifindex;
    bool up; /* IFF_UP && IFF_RUNNING */
    uint8_t mac[6];
    struct ip_addr addr4; /* first global IPv4 address, or IP_NONE */
    struct ip_addr ll6;   /* IPv6 link-local, or IP_NONE */
    int fd[2];            /* raw VRRP sockets: [0] IPv4, [1] IPv6; -1 if unused */
    struct io_watch w[2];
    int garp_fd;                      /* packet socket for GARP/NA, -1 until needed */
    unsigned vmacs;                   /* VMACs we created on it (use_vmac) */
    char vmac_saved[2][8];            /* its arp_ignore, arp_announce before the first VMAC */
    bool mark;                        /* reload: still used */
    uint64_t drops[VRRP_DROP__COUNT]; /* drops we could not attribute to an instance */
};

/* A tracked vrrp_script: runs every interval, feeds the rise/fall tracker. */
struct vmgr_script {
    struct vmgr *mgr;
    const struct cfg_script *cs;
    struct vrrp_tracker trk;
    struct io_timer timer;
    bool running;
    bool disabled; /* refused by script security or unknown user */
    bool vetted;   /* the script security check ran */
    uint64_t runs, failures;
};

/* A tracked interface (track_interface): up while the link is running. */
struct vmgr_trackif {
    char name[CFG_IFNAMSIZ];
    struct vrrp_tracker trk;
};

/* A track_file: the number it holds. */
struct vmgr_file {
    const struct cfg_track_file *cf;
    int value;
};

/* What one instance tracks, resolved to runtime objects. */
struct vmgr_refs {
    struct vrrp_track_ref *refs; /* scripts and interfaces */
    size_t nrefs;
    struct vmgr_file **files;
    int *file_weight;
    bool *file_reverse;
    size_t nfiles;
};

struct vmgr_group;

/* The addresses an instance holds in the no_accept filter (vmgr_filter.c); owned array. */
struct vmgr_filtered {
    struct nft_vip *v;
    size_t n;
};

/* One vrrp_instance. */
struct vmgr_inst {
    struct vmgr *mgr;
    const struct cfg_instance *ci;
    struct vmgr_cfgref *cref;
    struct vrrp core;
    struct vmgr_if *vif; /* where adverts go and come from */
    int vip_ifindex;     /* where VIPs are installed: vif or the VMAC */
    bool vmac_created;
    struct io_timer timer;
    struct vmgr_group *group;
    unsigned member; /* index in the group */
    struct vmgr_refs track;
    struct ip_addr *adv_addrs; /* the VIPs of the instance's family, for adverts */
    unsigned nadv;
    bool vips_up;       /* VIPs are installed */
    bool prio_fault;    /* trackers demand FAULT */
    bool link_fault;    /* the interface is down or has no address */
    bool mark;          /* reload: kept */
    mono_us vips_up_us; /* how long the last VIP installation took */
    /* What the no_accept filter holds for this instance (while vips_up). */
    struct vmgr_filtered filtered;
    /* GARP/NA pacing (vrrp_garp_interval / vrrp_gna_interval): rounds still to send, the next
     * address of the current round, and the timer between two frames. */
    unsigned garp_pending;
    size_t garp_pos;
    struct io_timer garp_timer;
};

struct vmgr_group {
    const struct cfg_sync_group *cg;
    struct vrrp_sync sync;
    struct vrrp *members[VRRP_SYNC_MAX];
    struct vmgr_inst *insts[VRRP_SYNC_MAX];
    unsigned n;
    enum vrrp_state last_state; /* for group notifications */
};

/* A record of the event log kept for status (transitions, reloads). */
struct vmgr_event {
    mono_us at;
    char text[160];
};

#define VMGR_EVENTS 64

struct vmgr {
    struct io_loop loop;
    pthread_t thread;
    bool thread_started;
    struct nl nl;
    struct nl_monitor mon;
    struct io_watch mon_w;
    int inotify_fd;
    struct io_watch inotify_w;
    struct io_scripts scripts;
    struct notifier notify;
    struct rng rng;
    struct nft_filter nft; /* the no_accept filter (vmgr_filter.c) */
    bool nft_started;      /* start-up is over: holds reach the kernel */
    bool nft_off;          /* the kernel refused nftables: no_accept is not enforced */
    bool nft_keep;         /* abandoned to a new process: leave the table at exit */

    struct vmgr_cfgref *cref; /* the current config */
    struct vmgr_if **ifs;
    size_t nifs;
    struct vmgr_inst **insts;
    size_t ninsts;
    struct vmgr_inst **stopping; /* removed by reload, finishing their stop */
    size_t nstopping;
    struct vmgr_script **scripts_rt;
    size_t nscripts;
    struct vmgr_trackif **trackifs;
    size_t ntrackifs;
    struct vmgr_file **files;
    size_t nfiles;
    struct vmgr_group **groups;
    size_t ngroups;

    mono_us started_at;
    unsigned reloads;
    bool shutting_down;
    struct io_timer shutdown_timer;
    char **resume_masters; /* binary upgrade: instances to resume as MASTER at start */
    size_t nresume_masters;
    void (*on_stopped)(void *ctx); /* called on the vmgr thread when the stop completed */
    void *on_stopped_ctx;

    struct vmgr_event events[VMGR_EVENTS];
    unsigned nevents;
};

#endif
