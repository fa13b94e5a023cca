/* Clock reads. The only place in nospof that reads the time; cores get it as a parameter. */
#ifndef NOSPOF_IO_CLOCK_H
#define NOSPOF_IO_CLOCK_H

#include <stdint.h>

#include "base/time-t.h"

/* CLOCK_MONOTONIC in microseconds. Never fails (aborts if the clock is unavailable). */
mono_us io_clock_now(void);

/* CLOCK_REALTIME in milliseconds since the Unix epoch, for logs and status output only. */
int64_t io_clock_wall_ms(void);

#endif
