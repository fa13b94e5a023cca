/* struct ip_addr helpers. inet_pton/inet_ntop are libc text conversions, not socket calls. */
#include "addr.h"

#include <arpa/inet.h>
#include <string.h>

size_t ip_addr_len(const struct ip_addr *a)
{
    switch (a->family) {
    case IP_V4:
        return 4;
    case IP_V6:
        return 16;
    default:
        return 0;
    }
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, ip_addr_len(a));
}

bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    return ip_addr_cmp(a, b) == 0;
}

bool ip_addr_parse(const char *text, struct ip_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->b) == 1) {
        out->family = IP_V4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->b) == 1) {
        out->family = IP_V6;
        return true;
    }
    memset(out, 0, sizeof(*out));
    return false;
}

char *ip_addr_format(const struct ip_addr *a, char *buf, size_t cap)
{
    int af = a->family == IP_V6 ? AF_INET6 : AF_INET;

    if (cap == 0)
        return buf;
    if (a->family == IP_NONE || !inet_ntop(af, a->b, buf, (socklen_t)cap)) {
        buf[0] = '-';
        buf[cap > 1 ? 1 : 0] = '\0';
    }
    return buf;
}

struct ip_addr ip_addr_from_v4(const uint8_t b[4])
{
    struct ip_addr a = {.family = IP_V4};
    memcpy(a.b, b, 4);
    return a;
}

struct ip_addr ip_addr_from_v6(const uint8_t b[16])
{
    struct ip_addr a = {.family = IP_V6};
    memcpy(a.b, b, 16);
    return a;
}

bool ip_addr_is_multicast(const struct ip_addr *a)
{
    if (a->family == IP_V4)
        return (a->b[0] & 0xf0) == 0xe0;
    return a->family == IP_V6 && a->b[0] == 0xff;
}

bool ip_addr_is_v6_linklocal(const struct ip_addr *a)
{
    return a->family == IP_V6 && a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}
