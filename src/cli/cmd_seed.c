/*
 * cmd_seed.c — `kura seed N`: the benchmark workload's users 1..N
 * (docs/BENCHMARKS.md), inserted in batched transactions.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sa_user.h"

#define SEED_MAX   10000000 /* ten million users: ~1.5 GB of SQLite, past any test's need */
#define SEED_BATCH 1000     /* rows per transaction: big enough to amortise the commit's fsync */

static void usage(FILE *out)
{
    fputs("Usage: kura seed [OPTIONS] N\n\n"
          "Inserts N users (1 <= N <= 10000000), user i being\n"
          "  name user%05d, email user%05d@example.com, age 18 + (i*7919 % 63),\n"
          "  sex M for odd i, F for even i,\n"
          "in transactions of 1000 rows. Run 'kura migrate' first.\n\n" CLI_GLOBAL_USAGE,
          out);
}

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

static int seed(kura_store *db, int64_t n)
{
    kura_error err = {0};
    int64_t existing;
    kura_query all = kura_query_for(&sa_user_model);
    if (!kura_count(db, &all, &existing, &err)) {
        cli_fail(&err);
        fputs("kura: is the database migrated? Run 'kura migrate' first.\n", stderr);
        return CLI_ERROR;
    }
    sa_user *batch = malloc(sizeof(sa_user) * SEED_BATCH);
    if (!batch) {
        kura_fail(&err, KURA_NOMEM, NULL, "out of memory");
        return cli_fail(&err);
    }
    bool tty = isatty(STDERR_FILENO);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = CLI_OK;
    for (int64_t done = 0; done < n;) {
        int64_t left = n - done;
        size_t count = left < SEED_BATCH ? (size_t)left : SEED_BATCH;
        for (size_t k = 0; k < count; k++)
            make_user(&batch[k], done + 1 + (int64_t)k);
        if (!kura_insert_many(db, &sa_user_model, batch, count, &err)) {
            if (tty)
                fputc('\n', stderr);
            rc = cli_fail(&err);
            break;
        }
        done += (int64_t)count;
        if (tty)
            progress(done, n);
    }
    free(batch);
    if (rc == CLI_OK)
        printf("seeded %lld users in %.2fs\n", (long long)n, seconds_since(&t0));
    return rc;
}

static int run(cli *c, int argc, char **argv)
{
    static const struct option options[] = {CLI_GLOBAL_OPTIONS, {0}};
    int rc = CLI_OK;
    cli_getopt_reset();
    if (cli_getopt(c, argc, argv, ":", options, usage, &rc) == CLI_STOP)
        return rc;
    if (optind >= argc)
        return cli_usage_error(argv[0], "how many users? (kura seed N)");
    if (argc - optind > 1)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind + 1]);
    int64_t n;
    if (!cli_parse_int(argv[0], "N", argv[optind], 1, SEED_MAX, &n))
        return CLI_USAGE;

    kura_app *app = cli_open_app(c);
    if (!app)
        return CLI_ERROR;
    rc = seed(kura_app_db(app), n);
    cli_close_app(app);
    return rc;
}

const cli_command cli_cmd_seed = {"seed", "insert N generated users", run};
