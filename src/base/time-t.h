/* Time types shared by every layer.
 *
 * All protocol time is monotonic microseconds. Cores receive "now" as a parameter and return
 * absolute deadlines; only src/io reads the clock. */
#ifndef NOSPOF_BASE_TIME_T_H
#define NOSPOF_BASE_TIME_T_H

#include <stdint.h>

/* Monotonic time in microseconds since an arbitrary origin (CLOCK_MONOTONIC in the daemon,
 * zero in tests). */
typedef int64_t mono_us;

/* The deadline of something that is not armed. Compares later than every real time. */
#define MONO_NEVER INT64_MAX

#define MONO_MS(ms) ((mono_us)(ms)*1000)
#define MONO_S(s)   ((mono_us)(s)*1000000)

static inline mono_us mono_min(mono_us a, mono_us b)
{
    return a < b ? a : b;
}

#endif
