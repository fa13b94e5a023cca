/* The no_accept packet filter: nftables table `inet nospof` (nft_msg.h shows it), driven over
 * NETLINK_NETFILTER without the nft tool.
 *
 * The caller holds and releases addresses; the adapter counts references and changes the
 * kernel's sets only when an address gets its first holder or loses its last one. While the
 * table is not live (before nft_filter_sync, or after the kernel refused it) holding and
 * releasing only update the in-memory mirror, so nft_filter_sync can later install exactly
 * what is held, atomically. Every function returns 0 or a negative errno, and waits at most
 * f->timeout_ms per answer. */
#ifndef NOSPOF_IO_NFT_H
#define NOSPOF_IO_NFT_H

#include "nft-t.h"

/* Empties f (no socket, nothing held, not live). No system call. */
void nft_filter_init(struct nft_filter *f);

/* Replaces the kernel's table, whatever it holds (a stale one from a crashed run, or the one
 * of the process that handed over in a binary upgrade), by ours with every held address, in
 * one atomic transaction: no packet sees the addresses unfiltered in between. On success f is
 * live. Errors: -EPERM (no CAP_NET_ADMIN), -EPROTONOSUPPORT/-EOPNOTSUPP/-ENOENT (no
 * nf_tables in the kernel), -ETIMEDOUT, -ENOMEM. */
int nft_filter_sync(struct nft_filter *f);

/* Adds one reference to each of the n addresses (duplicates in v count twice). If f is live,
 * the addresses that had none are added to the kernel's sets; should that fail, the table is
 * rebuilt from the mirror (nft_filter_sync) before the error is returned. */
int nft_filter_hold(struct nft_filter *f, const struct nft_vip *v, size_t n);

/* Drops one reference from each of the n addresses (ones not held are ignored). If f is live,
 * the addresses that lost their last one leave the kernel's sets (with the same repair as
 * nft_filter_hold). */
int nft_filter_release(struct nft_filter *f, const struct nft_vip *v, size_t n);

/* Deletes our table from the kernel; f is no longer live (the mirror stays). Returns 0,
 * -ENOENT when there was no table, or another -errno. */
int nft_filter_delete(struct nft_filter *f);

/* Closes the socket and frees the mirror; f is empty. The kernel's table is left as it is:
 * call nft_filter_delete first to remove it. Accepts NULL and an empty f. */
void nft_filter_close(struct nft_filter *f);

#endif
