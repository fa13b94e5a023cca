/* cfg_check FILE: loads a keepalived-style config the way `nospofd -t` will (cfg_load_file)
 * and prints every diagnostic as "file:line: error|warning: message" on stdout.
 * Exit status: 0 when the config has no error, 1 otherwise, 2 on bad usage. The
 * conformance script (tests/conf/conformance.py) drives it. */
#include <stdio.h>

#include "daemon/cfg.h"

int main(int argc, char **argv)
{
    struct diags d = {0};
    struct conf_opts opts = {0};
    struct cfg *cfg;
    int rc;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: cfg_check FILE [CONFIG_ID]\n");
        return 2;
    }
    if (argc == 3)
        opts.config_id = argv[2];
    cfg = cfg_load_file(argv[1], &opts, &d);
    diag_print(&d, stdout);
    rc = !cfg || diag_has_errors(&d) ? 1 : 0;
    cfg_free(cfg);
    diag_clear(&d);
    return rc;
}
