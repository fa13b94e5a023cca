/* ICMP echo codec for PING_CHECK (see icmp_echo.h). */
#include "icmp_echo.h"

#include <string.h>

#include "base/bytes.h"

uint16_t icmp_cksum(const uint8_t *buf, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += get_be16(buf + i);
    if (i < len)
        sum += (uint32_t)buf[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t icmp_echo_build(uint8_t family, uint16_t id, uint16_t seq, const uint8_t *data,
                       size_t data_len, uint8_t *buf, size_t cap)
{
    if ((family != 4 && family != 6) || cap < ICMP_ECHO_HDR_LEN ||
        data_len > cap - ICMP_ECHO_HDR_LEN)
        return 0;
    buf[0] = family == 4 ? 8 : 128; /* RFC 792 echo; RFC 4443 section 4.1 */
    buf[1] = 0;
    put_be16(buf + 2, 0);
    put_be16(buf + 4, id);
    put_be16(buf + 6, seq);
    if (data_len)
        memcpy(buf + ICMP_ECHO_HDR_LEN, data, data_len);
    if (family == 4)
        put_be16(buf + 2, icmp_cksum(buf, ICMP_ECHO_HDR_LEN + data_len));
    return ICMP_ECHO_HDR_LEN + data_len;
}

enum icmp_echo_err icmp_echo_parse(uint8_t family, const uint8_t *buf, size_t len,
                                   struct icmp_echo *out)
{
    memset(out, 0, sizeof(*out));
    if (len < ICMP_ECHO_HDR_LEN)
        return ICMP_ECHO_SHORT;
    out->type = buf[0];
    out->code = buf[1];
    out->id = get_be16(buf + 4);
    out->seq = get_be16(buf + 6);
    out->data = buf + ICMP_ECHO_HDR_LEN;
    out->data_len = len - ICMP_ECHO_HDR_LEN;
    /* RFC 792: echo reply is type 0; RFC 4443 section 4.2: type 129 */
    if (out->type != (family == 4 ? 0 : 129) || out->code != 0)
        return ICMP_ECHO_NOT_REPLY;
    /* RFC 792: the checksum of the whole message is zero when it is right */
    if (family == 4 && icmp_cksum(buf, len) != 0)
        return ICMP_ECHO_BAD_CKSUM;
    return ICMP_ECHO_OK;
}

size_t icmp_ip4_payload_off(const uint8_t *buf, size_t len)
{
    size_t ihl;

    if (len < 20 || (buf[0] >> 4) != 4)
        return 0;
    ihl = (size_t)(buf[0] & 0xf) * 4;
    return (ihl < 20 || ihl > len) ? 0 : ihl;
}
