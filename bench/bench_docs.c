/*
 * bench_docs.c — the workload (docs/BENCHMARKS.md) through kura's document
 * stores: embedded (SQLite JSON1) and PostgreSQL JSONB, each beside kura's
 * relational store on the same database, same model (sa_user), same calls.
 *
 * In the table, "raw" is kura's RELATIONAL table and "kura" is kura's
 * DOCUMENTS: the ratio is what storing the model as JSON costs against
 * columns. (bench_sqlite and bench_pg compare the relational store with
 * hand-written driver code.) MongoDB is not benchmarked: the only server here
 * is a wire-protocol test peer, whose speed means nothing.
 *
 *   bench_docs [-n N] [--quick] [--runs N] [--dir DIR]
 *   JSONB runs when KURA_BENCH_PG_URL or KURA_TEST_PG_URL is set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { OP_INSERT, OP_GET, OP_QUERY, OP_UPDATE, NOPS };
static const char *const op_names[NOPS] = {"insert", "get_by_id", "query_by_age", "update"};

typedef struct tally {
    int64_t age_sum, query_rows, updated;
} tally;

static void check(bool ok, const char *what, const kura_error *err)
{
    if (!ok) {
        fprintf(stderr, "bench_docs: %s: %s\n", what, err->message);
        exit(1);
    }
}

BENCH_OP static double op_insert(kura_store *db, const sa_user *users, int64_t n)
{
    sa_user *mine = malloc(sizeof *mine * (size_t)n);
    if (!mine) {
        fprintf(stderr, "bench_docs: out of memory\n");
        exit(1);
    }
    memcpy(mine, users, sizeof *mine * (size_t)n);
    kura_error err;
    double t0 = bench_now();
    check(kura_insert_many(db, &sa_user_model, mine, (size_t)n, &err), "insert", &err);
    double t = bench_now() - t0;
    free(mine);
    return t;
}

BENCH_OP static double op_get(kura_store *db, const bench_opts *o, tally *t)
{
    kura_error err;
    sa_user u;
    double t0 = bench_now();
    for (int64_t k = 0; k < o->lookups; k++) {
        check(kura_get(db, &sa_user_model, bench_lookup_id(o, k), &u, &err), "get", &err);
        t->age_sum += u.age;
    }
    return bench_now() - t0;
}

BENCH_OP static double op_query(kura_store *db, const bench_opts *o, tally *t)
{
    kura_error err;
    double t0 = bench_now();
    for (int64_t q = 0; q < o->queries; q++) {
        kura_query query = kura_query_for(&sa_user_model);
        kura_where_int(&query, "age", KURA_EQ, bench_query_age(q));
        kura_rows rows = {0};
        check(kura_find(db, &query, &rows, &err), "query_by_age", &err);
        t->query_rows += (int64_t)rows.count;
        kura_rows_free(&rows);
    }
    return bench_now() - t0;
}

BENCH_OP static double op_update(kura_store *db, const bench_opts *o, tally *t)
{
    kura_error err;
    double t0 = bench_now();
    for (int64_t id = 1; id <= o->updates; id++) {
        sa_user u;
        check(kura_get(db, &sa_user_model, id, &u, &err), "update: get", &err);
        sa_user_change_sex(&u, u.sex[0] == 'M' ? "F" : "M");
        check(kura_save(db, &sa_user_model, &u, &err), "update: save", &err);
        t->updated++;
    }
    return bench_now() - t0;
}

/* One run of the workload on a fresh model in `url`, as documents or as a table. */
static void run(const bench_opts *o, const char *url, bool docs, const sa_user *users,
                double seconds[NOPS], tally *t)
{
    kura_error err;
    kura_store *db = docs ? kura_document_store_open(url, &err) : kura_store_open(url, &err);
    check(db != NULL, url, &err);
    check(kura_drop(db, &sa_user_model, &err) && kura_create(db, &sa_user_model, &err), "create",
          &err);
    seconds[OP_INSERT] = op_insert(db, users, o->n);
    seconds[OP_GET] = op_get(db, o, t);
    seconds[OP_QUERY] = op_query(db, o, t);
    seconds[OP_UPDATE] = op_update(db, o, t);
    check(kura_drop(db, &sa_user_model, &err), "drop", &err);
    kura_store_close(db);
}

/* Runs the workload o->runs times on fixed_url (a server), or else on a fresh SQLite
 * file per run opened with sqlite_opts, and prints tables against documents. */
static void compare(const bench_opts *o, const char *title, const char *fixed_url,
                    const char *sqlite_opts, const sa_user *users)
{
    bench_line lines[NOPS];
    for (int i = 0; i < NOPS; i++)
        lines[i] = (bench_line){op_names[i], 0, 0};
    const double ops[NOPS] = {(double)o->n, (double)o->lookups, (double)o->queries,
                              (double)o->updates};
    for (int r = 0; r < o->runs; r++) {
        double sec[2][NOPS];
        tally t[2] = {{0}, {0}};
        for (int k = 0; k < 2; k++) {
            int docs = (r + k) % 2; /* alternate who goes first */
            char url[1200];
            const char *path = NULL;
            if (fixed_url) {
                snprintf(url, sizeof url, "%s", fixed_url);
            } else {
                path = bench_fresh_db(o, docs ? "docs" : "table");
                snprintf(url, sizeof url, "sqlite:///%s?%s", path, sqlite_opts);
            }
            run(o, url, docs, users, sec[docs], &t[docs]);
            if (path)
                bench_remove_db(path);
        }
        if (memcmp(&t[0], &t[1], sizeof t[0]) != 0) {
            fprintf(stderr, "bench_docs: %s: tables and documents read different results\n", title);
            exit(1);
        }
        for (int i = 0; i < NOPS; i++) {
            bench_keep_best(&lines[i].raw, ops[i], sec[0][i]);
            bench_keep_best(&lines[i].kura, ops[i], sec[1][i]);
        }
    }
    char full[300];
    snprintf(full, sizeof full,
             "%s: N=%lld, best of %d (raw = kura relational table, kura = kura documents)", title,
             (long long)o->n, o->runs);
    bench_print(full, lines, NOPS);
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_parse_args(argc, argv, &o);
    sa_user *users = malloc(sizeof *users * (size_t)o.n);
    if (!users)
        return 1;
    for (int64_t i = 0; i < o.n; i++)
        bench_make_user(&users[i], i + 1);
    printf("bench_docs: %lld users, %lld lookups, %lld queries, %lld updates\n", (long long)o.n,
           (long long)o.lookups, (long long)o.queries, (long long)o.updates);
    compare(&o, "Embedded documents (SQLite JSON1), WAL, synchronous=NORMAL", NULL,
            "journal_mode=wal&synchronous=normal", users);
    const char *pg = getenv("KURA_BENCH_PG_URL");
    if (!pg || !*pg)
        pg = getenv("KURA_TEST_PG_URL");
    if (pg && *pg)
        compare(&o, "PostgreSQL JSONB", pg, "", users);
    else
        printf("\nskipped: JSONB: no PostgreSQL URL (KURA_BENCH_PG_URL or KURA_TEST_PG_URL)\n");
    free(users);
    return 0;
}
