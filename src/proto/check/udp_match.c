/* UDP_CHECK reply matching (see udp_match.h). */
#include "udp_match.h"

bool udp_reply_match(const uint8_t *got, size_t got_len, const uint8_t *want, const uint8_t *mask,
                     size_t want_len, size_t min_len, size_t max_len)
{
    size_t n = got_len < want_len ? got_len : want_len;

    if (got_len < min_len || (max_len != 0 && got_len > max_len))
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t m = mask ? mask[i] : 0xff;
        if ((got[i] & m) != (want[i] & m))
            return false;
    }
    return true;
}
