/*
 * replay_main.c — runs a fuzz target over files, without libFuzzer: each argument
 * is a file or a directory of files (the committed corpus). Exit 0 when every
 * input ran; a crash or a sanitizer report ends the process as it would under
 * libFuzzer.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, n;
    unsigned char buf[4096];
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            unsigned char *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return 1;
            }
            data = grown;
        }
        memcpy(data + len, buf, n);
        len += n;
    }
    fclose(f);
    /* An exact-size copy, so that ASan sees a read past the input's end. */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) {
        free(data);
        return 1;
    }
    if (len)
        memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0, ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed += run_file(argv[i]);
            ran++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            failed += run_file(path);
            ran++;
        }
        closedir(d);
    }
    printf("%d inputs replayed, %d unreadable\n", ran, failed);
    return failed || ran == 0 ? 1 : 0;
}
