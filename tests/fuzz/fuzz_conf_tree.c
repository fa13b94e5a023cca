/* Fuzz target: the keepalived.conf reader (daemon/conf_tree) on arbitrary text.
 *
 * Inputs containing "include" are skipped so that the fuzzer never reads the file system
 * (include handling is covered by the unit tests with a temporary directory). */
#include <string.h>

#include "daemon/conf_tree.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_opts opts = {.config_id = "main"};
    struct conf_tree tree;
    struct diags diags = {0};

    if (memmem(data, size, "include", 7))
        return 0;
    conf_parse_buffer("fuzz.conf", (const char *)data, size, &opts, &tree, &diags);
    conf_tree_free(&tree);
    diag_clear(&diags);
    return 0;
}
