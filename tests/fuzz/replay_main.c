/* Replays a corpus through a fuzz target without libFuzzer, so that every build (gcc or
 * clang, with the sanitizers of that build) checks the committed corpus as a plain test.
 *
 * Usage: replay DIR|FILE...  Each regular file is fed once. Exit 0 when all were fed, 77
 * (meson "skip") when the first argument does not exist, 1 on a usage or read error. A
 * crash shows as the sanitizer's report and a failing exit. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

enum { REPLAY_MAX_INPUT = 16 * 1024 * 1024 };

/* Feeds the file at path; returns 0 or -1 on a read error. */
static int feed_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char *buf = malloc(REPLAY_MAX_INPUT);
    size_t n = buf ? fread(buf, 1, REPLAY_MAX_INPUT, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (!bad)
        LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return bad ? -1 : 0;
}

/* Feeds every regular file of dir; returns the number fed or -1. */
static int feed_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int count = 0;
    char path[4096];
    struct stat st;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && feed_file(path) == 0)
            count++;
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    struct stat st;
    int total = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 1;
    }
    if (stat(argv[1], &st) != 0) {
        printf("%s: no corpus, skipped\n", argv[1]);
        return 77;
    }
    for (int i = 1; i < argc; i++) {
        int n = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? feed_dir(argv[i])
                                                               : (feed_file(argv[i]) == 0);
        if (n < 0) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            return 1;
        }
        total += n;
    }
    printf("replayed %d inputs\n", total);
    return 0;
}
