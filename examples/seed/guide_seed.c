/*
 * guide_seed.c — `seed N`: the benchmark workload's users 1..N
 * (docs/BENCHMARKS.md), inserted in batched transactions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "guide_commands.h"
#include "sa_user.h"

#define SEED_MAX   10000000 /* ten million users: ~1.5 GB of SQLite, past any test's need */
#define SEED_BATCH 1000     /* rows per transaction: big enough to amortise the commit's fsync */

/* User i of the workload; the struct must not own anything (sa_user owns nothing). */
static void make_user(sa_user *u, int64_t i)
{
    kura_init(&sa_user_model, u);
    snprintf(u->name, sizeof u->name, "user%05lld", (long long)i);
    snprintf(u->email, sizeof u->email, "user%05lld@example.com", (long long)i);
    u->age = (int32_t)(18 + (i * 7919 % 63));
    kura_copy_string(u->sex, sizeof u->sex, i % 2 ? "M" : "F");
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A one-line bar redrawn in place with \r; only ever written to a terminal. */
static void progress(int64_t done, int64_t total)
{
    enum { WIDTH = 40 };
    int filled = (int)(done * WIDTH / total);
    fprintf(stderr, "\r[%-*.*s] %lld/%lld", WIDTH, filled,
            "########################################", (long long)done, (long long)total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int seed(kura_cli *cli, kura_store *db, int64_t n)
{
    kura_error err = {0};
    int64_t existing;
    kura_query all = kura_query_for(&sa_user_model);
    if (!kura_count(db, &all, &existing, &err)) {
        kura_cli_fail(cli, &err);
        fputs("is the database migrated? Run 'migrate' first.\n", stderr);
        return KURA_EXIT_ERROR;
    }
    sa_user *batch = malloc(sizeof(sa_user) * SEED_BATCH);
    if (!batch) {
        kura_fail(&err, KURA_NOMEM, NULL, "out of memory");
        return kura_cli_fail(cli, &err);
    }
    bool tty = isatty(STDERR_FILENO);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = KURA_EXIT_OK;
    for (int64_t done = 0; done < n;) {
        int64_t left = n - done;
        size_t count = left < SEED_BATCH ? (size_t)left : SEED_BATCH;
        for (size_t k = 0; k < count; k++)
            make_user(&batch[k], done + 1 + (int64_t)k);
        if (!kura_insert_many(db, &sa_user_model, batch, count, &err)) {
            if (tty)
                fputc('\n', stderr);
            rc = kura_cli_fail(cli, &err);
            break;
        }
        done += (int64_t)count;
        if (tty)
            progress(done, n);
    }
    free(batch);
    if (rc == KURA_EXIT_OK)
        printf("seeded %lld users in %.2fs\n", (long long)n, seconds_since(&t0));
    return rc;
}

int guide_seed(kura_cli *cli, int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == '-' && argv[1][1])
        return kura_cli_usage_error(cli, argv[0], "unknown option '%s'", argv[1]);
    if (argc < 2)
        return kura_cli_usage_error(cli, argv[0], "how many users? (seed N)");
    if (argc > 2)
        return kura_cli_usage_error(cli, argv[0], "unexpected argument '%s'", argv[2]);
    int64_t n;
    if (!kura_cli_parse_int(cli, argv[0], "N", argv[1], 1, SEED_MAX, &n))
        return KURA_EXIT_USAGE;
    kura_app *app = kura_cli_app(cli);
    if (!app)
        return KURA_EXIT_ERROR;
    return seed(cli, kura_app_model_store(app, &sa_user_model), n);
}
