/* libFuzzer target for the DNS codec (proto/check/dns_msg).
 *
 * The input is decoded as a response and judged against the id in its first two bytes
 * (which must then be OK or FAIL, never IGNORE, when QR is set), and its tail is used as a
 * name to encode: an encoded query must decode back to one question of the same type. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/check/dns_msg.h"

static void encode_name(const uint8_t *data, size_t size)
{
    char name[300];
    uint8_t q[DNS_QUERY_MAX];
    struct dns_resp d;
    size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1, len;

    memcpy(name, data, n);
    name[n] = '\0';
    len = dns_query_encode(0x4242, name, DNS_T_MX, q, sizeof(q));
    if (len == 0)
        return;
    if (len > sizeof(q) || dns_resp_decode(q, len, &d) != DNS_MSG_OK || d.id != 0x4242 || d.qr ||
        d.qdcount != 1 || d.qtype != DNS_T_MX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_resp d;
    enum dns_verdict v;

    (void)dns_resp_decode(data, size, &d);
    if (size >= DNS_HDR_LEN) {
        v = dns_verdict(data, size, (uint16_t)(data[0] << 8 | data[1]), &d);
        if ((data[2] & 0x80) && v == DNS_V_IGNORE)
            abort();
        if (!(data[2] & 0x80) && v != DNS_V_IGNORE)
            abort();
    }
    encode_name(data, size);
    return 0;
}
