/* DNS message codec for DNS_CHECK (see dns_msg.h). Names follow RFC 1035 section 3.1 (labels
 * of 1..63 octets, 255 octets in all) and section 4.1.4 (compression pointers, which are
 * followed at most DNS_PTR_MAX times so a loop cannot spin). */
#include "dns_msg.h"

#include <string.h>

#include "base/bytes.h"

#define DNS_PTR_MAX 32

static size_t encode_name(const char *name, uint8_t *buf, size_t cap)
{
    size_t n = 0, nlen = strlen(name);

    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    while (nlen > 0) {
        const char *dot = memchr(name, '.', nlen);
        size_t lab = dot ? (size_t)(dot - name) : nlen;

        /* RFC 1035 section 2.3.4: labels are 63 octets or less, names 255 or less */
        if (lab == 0 || lab > 63 || n + 1 + lab + 1 > DNS_NAME_MAX || n + 1 + lab >= cap)
            return 0;
        buf[n++] = (uint8_t)lab;
        memcpy(buf + n, name, lab);
        n += lab;
        name += lab + (dot ? 1 : 0);
        nlen -= lab + (dot ? 1 : 0);
        if (dot && nlen == 0)
            return 0; /* "a..": an empty label */
    }
    if (n >= cap)
        return 0;
    buf[n++] = 0;
    return n;
}

size_t dns_query_encode(uint16_t id, const char *name, uint16_t qtype, uint8_t *buf, size_t cap)
{
    size_t nlen;

    if (cap < DNS_HDR_LEN + 1 + 4)
        return 0;
    memset(buf, 0, DNS_HDR_LEN);
    put_be16(buf, id);
    put_be16(buf + 2, 0x0100); /* QUERY, RD */
    put_be16(buf + 4, 1);      /* QDCOUNT */
    nlen = encode_name(name, buf + DNS_HDR_LEN, cap - DNS_HDR_LEN - 4);
    if (nlen == 0)
        return 0;
    put_be16(buf + DNS_HDR_LEN + nlen, qtype);
    put_be16(buf + DNS_HDR_LEN + nlen + 2, 1); /* class IN */
    return DNS_HDR_LEN + nlen + 4;
}

/* Skips the name at *off; on success *off is just past it in the message's own bytes. */
static enum dns_msg_err skip_name(const uint8_t *buf, size_t len, size_t *off)
{
    size_t p = *off, total = 0, end = 0;
    unsigned ptrs = 0;

    for (;;) {
        if (p >= len)
            return DNS_MSG_SHORT;
        uint8_t l = buf[p];
        if ((l & 0xc0) == 0xc0) {
            if (p + 1 >= len)
                return DNS_MSG_SHORT;
            if (++ptrs > DNS_PTR_MAX)
                return DNS_MSG_BAD_NAME;
            if (end == 0)
                end = p + 2;
            p = (size_t)(get_be16(buf + p) & 0x3fff);
            continue;
        }
        if (l & 0xc0)
            return DNS_MSG_BAD_NAME; /* RFC 6891 reserves 01 and 10 label types */
        total += (size_t)l + 1;
        if (total > DNS_NAME_MAX)
            return DNS_MSG_BAD_NAME;
        if (l == 0) {
            *off = end ? end : p + 1;
            return DNS_MSG_OK;
        }
        p += (size_t)l + 1;
    }
}

static void decode_header(const uint8_t *buf, struct dns_resp *out)
{
    uint16_t flags = get_be16(buf + 2);

    out->id = get_be16(buf);
    out->qr = (flags & 0x8000) != 0;
    out->opcode = (uint8_t)((flags >> 11) & 0xf);
    out->tc = (flags & 0x0200) != 0;
    out->rcode = (uint8_t)(flags & 0xf);
    out->qdcount = get_be16(buf + 4);
    out->ancount = get_be16(buf + 6);
    out->nscount = get_be16(buf + 8);
    out->arcount = get_be16(buf + 10);
}

enum dns_msg_err dns_resp_decode(const uint8_t *buf, size_t len, struct dns_resp *out)
{
    size_t off = DNS_HDR_LEN;
    enum dns_msg_err e;

    memset(out, 0, sizeof(*out));
    if (len < DNS_HDR_LEN)
        return DNS_MSG_SHORT;
    decode_header(buf, out);
    for (unsigned i = 0; i < out->qdcount; i++) {
        if ((e = skip_name(buf, len, &off)) != DNS_MSG_OK)
            return e;
        if (off + 4 > len)
            return DNS_MSG_SHORT;
        if (i == 0)
            out->qtype = get_be16(buf + off);
        off += 4;
    }
    for (unsigned i = 0; i < out->ancount; i++) {
        if ((e = skip_name(buf, len, &off)) != DNS_MSG_OK)
            return e;
        if (off + 10 > len)
            return DNS_MSG_SHORT;
        uint16_t type = get_be16(buf + off), rdlen = get_be16(buf + off + 8);
        off += 10;
        if (off + rdlen > len)
            return DNS_MSG_SHORT;
        off += rdlen;
        if (out->qtype != 0 && type == out->qtype)
            out->answers_of_qtype++;
    }
    return DNS_MSG_OK;
}

enum dns_verdict dns_verdict(const uint8_t *buf, size_t len, uint16_t query_id,
                             struct dns_resp *out)
{
    (void)dns_resp_decode(buf, len, out); /* the rest is informative only */
    if (len < DNS_HDR_LEN || out->id != query_id || !out->qr)
        return DNS_V_IGNORE;
    /* keepalived DNS_CHECK: "rcode != 0" is a read error; any NOERROR reply is a success */
    return out->rcode == 0 ? DNS_V_OK : DNS_V_FAIL;
}

uint16_t dns_qtype_parse(const char *word)
{
    static const struct {
        const char *name;
        uint16_t type;
    } types[] = {{"A", DNS_T_A},   {"NS", DNS_T_NS},   {"CNAME", DNS_T_CNAME}, {"SOA", DNS_T_SOA},
                 {"MX", DNS_T_MX}, {"TXT", DNS_T_TXT}, {"AAAA", DNS_T_AAAA}};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t j = 0;
        while (types[i].name[j] && (word[j] & ~0x20) == types[i].name[j])
            j++;
        if (types[i].name[j] == '\0' && word[j] == '\0')
            return types[i].type;
    }
    return 0;
}
