/* AFL-compatible driver: reads one input from stdin and feeds it to the fuzz target.
 * Build on request (ninja tests/fuzz/fuzz_afl_<target>) with CC=afl-clang-fast. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(void)
{
    enum { AFL_MAX_INPUT = 1024 * 1024 };
    unsigned char *buf = malloc(AFL_MAX_INPUT);
    if (!buf)
        return 1;
    size_t n = fread(buf, 1, AFL_MAX_INPUT, stdin);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}
