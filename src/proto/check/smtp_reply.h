/* A resumable parser of one SMTP reply (RFC 5321 section 4.2): one or more lines
 * "DDD-text" ending with "DDD text" (or "DDD"), all with the same code. Pure, no allocation. */
#ifndef NOSPOF_PROTO_CHECK_SMTP_REPLY_H
#define NOSPOF_PROTO_CHECK_SMTP_REPLY_H

#include "smtp_reply-t.h"

void smtp_reply_init(struct smtp_reply *r);

/* Consumes buf[0..len) up to the end of the reply; *used says how much. Returns NEED_MORE,
 * DONE (r->code set) or ERROR. After DONE or ERROR nothing more is consumed. */
enum smtp_reply_rc smtp_reply_feed(struct smtp_reply *r, const uint8_t *buf, size_t len,
                                   size_t *used);

#endif
