/* The libFuzzer entry point every fuzz target defines; replay_main.c and afl_main.c drive
 * the same function without libFuzzer. */
#ifndef NOSPOF_TESTS_FUZZ_H
#define NOSPOF_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Feeds one input; must not crash, leak or read out of bounds on any input. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
