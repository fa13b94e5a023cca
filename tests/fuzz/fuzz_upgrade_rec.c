/* libFuzzer target for the binary-upgrade records (daemon/upgrade_rec).
 *
 * Any input either is refused or parses into a record that formats back into text which
 * parses to the same record (the old process only ever sends what the new one accepts). */
#include <stdlib.h>
#include <string.h>

#include "daemon/upgrade_rec.h"
#include "fuzz.h"

static bool same(const struct upgrade_rec *a, const struct upgrade_rec *b)
{
    return a->kind == b->kind && a->version == b->version && a->nfds == b->nfds &&
           a->vrrp_state == b->vrrp_state && a->up == b->up && a->disabled == b->disabled &&
           a->admin_weight == b->admin_weight && strcmp(a->checks, b->checks) == 0 &&
           a->pid == b->pid && strcmp(a->text, b->text) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct upgrade_rec r, back;
    char buf[512];

    if (upgrade_rec_parse((const char *)data, size, &r) != 0)
        return 0;
    size_t n = upgrade_rec_format(&r, buf, sizeof(buf));
    if (n == 0 || upgrade_rec_parse(buf, n, &back) != 0 || !same(&r, &back))
        abort();
    return 0;
}
