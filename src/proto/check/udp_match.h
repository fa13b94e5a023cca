/* UDP_CHECK reply matching (keepalived semantics). Pure. */
#ifndef NOSPOF_PROTO_CHECK_UDP_MATCH_H
#define NOSPOF_PROTO_CHECK_UDP_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* keepalived.conf(5) UDP_CHECK: the reply length must lie in [min_len, max_len] (0: no
 * bound), and when an expected reply is given it "must match up to the minimum of the
 * received data length and the length of the require_reply HEX_STR", nibbles whose mask is 0
 * (written X) being ignored. mask may be NULL (compare every bit). */
bool udp_reply_match(const uint8_t *got, size_t got_len, const uint8_t *want, const uint8_t *mask,
                     size_t want_len, size_t min_len, size_t max_len);

#endif
