//  Runs a libFuzzer target over every file of a corpus directory, so the seeds and any
//  crash reproducers found by fuzzing are replayed by ctest under every build.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int s_run_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc (f)) != EOF) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *grown = realloc (buf, cap);
            if (!grown) {
                free (buf);
                fclose (f);
                return -1;
            }
            buf = grown;
        }
        buf[len++] = (uint8_t) c;
    }
    fclose (f);
    LLVMFuzzerTestOneInput (buf ? buf : (const uint8_t *) "", len);
    free (buf);
    return 0;
}

int main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir (argv[1]);
    if (!dir) {
        fprintf (stderr, "cannot open corpus %s\n", argv[1]);
        return 1;
    }
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", argv[1], entry->d_name);
        if (s_run_file (path) == 0)
            count++;
    }
    closedir (dir);
    printf ("replayed %d inputs\n", count);
    return count > 0 ? 0 : 1;
}
