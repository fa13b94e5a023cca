/* The nfnetlink messages of the no_accept filter (table `inet nospof`, see nft-t.h), built
 * into a caller's buffer. No system call: the adapter (nft.c) sends what these build, and the
 * unit tests read it back.
 *
 * The table, as `nft list table inet nospof` shows it:
 *   set vips4   { type ipv4_addr }
 *   set vips6   { type ipv6_addr }
 *   set vips6ll { type ipv6_addr . iface_index }
 *   chain in  { type filter hook input priority -1; policy accept;
 *               ip daddr @vips4 drop
 *               icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
 *               ip6 daddr . iif @vips6ll drop
 *               ip6 daddr @vips6 drop }
 *   chain out { type filter hook output priority -1; policy accept;
 *               the same with saddr and oif }
 * which are keepalived's rules (its table is named keepalived): only neighbour solicitations
 * and advertisements pass, so that neighbours can still resolve and probe the VIPs. */
#ifndef NOSPOF_IO_NFT_MSG_H
#define NOSPOF_IO_NFT_MSG_H

#include "nft-t.h"

/* Starts a batch in buf (cap bytes) whose first message gets sequence number seq. */
void nft_batch_begin(struct nft_batch *b, uint8_t *buf, size_t cap, uint32_t seq);

/* Appends the messages that replace the table, whatever its state, by an empty one with its
 * chains, sets and rules: create it if missing, delete it, create it again. In one batch the
 * kernel applies them atomically, so packets see the old table or the new one, never none. */
void nft_batch_table_replace(struct nft_batch *b);

/* Appends the deletion of the table (the kernel answers -ENOENT if there is none). */
void nft_batch_table_delete(struct nft_batch *b);

/* Appends the addition (add true) or removal of n elements, one message per set that gets
 * any. in_new_table: the sets were created earlier in this same batch by
 * nft_batch_table_replace, so the messages also name them by their batch-local ids. */
void nft_batch_elems(struct nft_batch *b, const struct nft_vip *v, size_t n, bool add,
                     bool in_new_table);

/* Closes the batch. Returns 0, or -ENOSPC if it did not fit in cap (b->len is then 0). */
int nft_batch_end(struct nft_batch *b);

/* A buffer size that always holds a replace batch carrying n elements. */
size_t nft_batch_size_hint(size_t n);

/* The set an address belongs to: NFT_SET_V4, NFT_SET_V6 or NFT_SET_V6LL; NULL if none. */
const char *nft_vip_set(const struct nft_vip *v);

#endif
