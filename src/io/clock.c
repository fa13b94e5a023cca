/* Clock reads (see clock.h). */
#include "io/clock.h"

#include <stdlib.h>
#include <time.h>

static int64_t read_clock(clockid_t id, int64_t div_ns)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0)
        abort();
    return (int64_t)ts.tv_sec * (1000000000 / div_ns) + ts.tv_nsec / div_ns;
}

mono_us io_clock_now(void)
{
    return read_clock(CLOCK_MONOTONIC, 1000);
}

int64_t io_clock_wall_ms(void)
{
    return read_clock(CLOCK_REALTIME, 1000000);
}
