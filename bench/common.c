/* common.c — options, clock, workload data and the result table for the bench programs. */
#include "common.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [-n N] [--quick] [--runs R] [--dir DIR]\n"
            "  -n N       users to insert (default 10000)\n"
            "  --quick    a small smoke run: 1000 users, 1000 lookups, 100 queries, 100 updates\n"
            "  --runs R   best of R fresh runs (default 3)\n"
            "  --dir DIR  where the database files go (default $TMPDIR or /tmp)\n",
            prog);
}

static int64_t parse_count(const char *prog, const char *what, const char *s, int64_t max)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || v < 1 || v > max) {
        fprintf(stderr, "%s: %s must be a whole number from 1 to %lld, not '%s'\n", prog, what,
                (long long)max, s);
        exit(2);
    }
    return v;
}

void bench_parse_args(int argc, char **argv, bench_opts *o)
{
    static const struct option options[] = {{"quick", no_argument, NULL, 'q'},
                                            {"runs", required_argument, NULL, 'r'},
                                            {"dir", required_argument, NULL, 'd'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0}};
    const char *tmp = getenv("TMPDIR");
    *o = (bench_opts){10000, 10000, 1000, 1000, 3, tmp && *tmp ? tmp : "/tmp"};
    bool quick = false, n_given = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1) {
        switch (opt) {
        case 'n':
            o->n = parse_count(argv[0], "-n", optarg, 10000000);
            n_given = true;
            break;
        case 'q':
            quick = true;
            break;
        case 'r':
            o->runs = (int)parse_count(argv[0], "--runs", optarg, 100);
            break;
        case 'd':
            o->dir = optarg;
            break;
        case 'h':
            usage(stdout, argv[0]);
            exit(0);
        default:
            usage(stderr, argv[0]);
            exit(2);
        }
    }
    if (optind < argc) {
        usage(stderr, argv[0]);
        exit(2);
    }
    if (quick) {
        o->n = n_given ? o->n : 1000;
        o->lookups = 1000;
        o->queries = 100;
        o->updates = 100;
    }
    if (o->updates > o->n)
        o->updates = o->n;
}

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bench_make_user(sa_user *u, int64_t i)
{
    kura_init(&sa_user_model, u);
    snprintf(u->name, sizeof u->name, "user%05lld", (long long)i);
    snprintf(u->email, sizeof u->email, "user%05lld@example.com", (long long)i);
    u->age = (int32_t)(18 + (i * 7919 % 63));
    u->sex[0] = i % 2 ? 'M' : 'F';
    u->sex[1] = '\0';
}

int64_t bench_lookup_id(const bench_opts *o, int64_t k)
{
    return (k * 7919 % o->n) + 1;
}

int bench_query_age(int64_t q)
{
    return (int)(18 + q % 63);
}

void bench_keep_best(double *best, double ops, double seconds)
{
    double rate = seconds > 0 ? ops / seconds : 0;
    if (rate > *best)
        *best = rate;
}

void bench_print(const char *title, const bench_line *lines, size_t n)
{
    printf("\n%s\n", title);
    printf("| %-14s | %12s | %12s | %9s |\n", "operation", "raw ops/s", "kura ops/s", "kura/raw");
    printf("|----------------|-------------:|-------------:|----------:|\n");
    for (size_t i = 0; i < n; i++) {
        double ratio = lines[i].raw > 0 ? lines[i].kura / lines[i].raw : 0;
        printf("| %-14s | %12.0f | %12.0f | %7.3f%s |\n", lines[i].op, lines[i].raw, lines[i].kura,
               ratio, ratio < 0.90 ? " *" : "  ");
    }
    fflush(stdout);
}

void bench_remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[1100];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

const char *bench_fresh_db(const bench_opts *o, const char *stem)
{
    static char path[1024];
    static unsigned counter;
    snprintf(path, sizeof path, "%s/%s-%ld-%u.db", o->dir, stem, (long)getpid(), counter++);
    bench_remove_db(path);
    return path;
}
