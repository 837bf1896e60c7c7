/*
 * bench_docs.c — the workload (docs/BENCHMARKS.md) through kura's document
 * stores: embedded (SQLite) and PostgreSQL (JSONB for undeclared keys), each beside kura's
 * relational store on the same database, same model (sa_user), same calls.
 *
 * In the table, "table" is kura's RELATIONAL table and "kura" is kura's
 * DOCUMENTS: the ratio is what a document collection (declared fields in
 * columns, undeclared keys in a JSON column) costs against a plain table. (bench_sqlite and
 * bench_pg compare the relational store with hand-written driver code.) MongoDB is not benchmarked:
 * the only server here is a wire-protocol test peer, whose speed means nothing.
 *
 *   bench_docs [URL] [-n N | --sizes ..] [--quick] [--pairs P] [--no-ir] [--csv F]
 *   JSONB runs with a PostgreSQL URL (argument, KURA_BENCH_PG_URL or KURA_TEST_PG_URL).
 *
 * Interleaved pairs (common.h): in each pair one side runs every operation on
 * a fresh table (or collection), then the other; the order alternates pair by pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { OP_INSERT, OP_GET, OP_QUERY, OP_UPDATE, NOPS };
static const char *const op_names[NOPS] = {"insert", "get_by_id", "query_by_age", "update"};
static const char *const op_units[NOPS] = {"row", "op", "row", "op"};

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

static double one_op(kura_store *db, int op, const bench_opts *o, const sa_user *users, tally *t)
{
    switch (op) {
    case OP_INSERT:
        return op_insert(db, users, o->n);
    case OP_GET:
        return op_get(db, o, t);
    case OP_QUERY:
        return op_query(db, o, t);
    default:
        return op_update(db, o, t);
    }
}

/* A fresh sa_user in `url`, as documents or as a table. */
static kura_store *open_fresh(const char *url, bool docs)
{
    kura_error err;
    kura_store *db = docs ? kura_document_store_open(url, &err) : kura_store_open(url, &err);
    check(db != NULL, url, &err);
    check(kura_drop(db, &sa_user_model, &err) && kura_create(db, &sa_user_model, &err), "create",
          &err);
    return db;
}

/* Runs o->pairs interleaved pairs on fixed_url (a server: the table and the
 * collection live side by side in one database) or else on a fresh SQLite file
 * per side and pair opened with sqlite_opts, and prints the table. */
static void compare(const bench_opts *o, const char *group, const char *title,
                    const char *fixed_url, const char *sqlite_opts, const sa_user *users)
{
    bench_figure f[NOPS];
    const double units[NOPS] = {(double)o->n, (double)o->lookups, 0, (double)o->updates};
    for (int op = 0; op < NOPS; op++)
        bench_figure_init(&f[op], op_names[op], op_units[op], units[op]);
    /* On a server the table and the collection have the same name (sa_user), so
     * one side runs all its operations and drops its table before the other
     * starts: the pairs alternate whole runs (A B, B A, ...). */
    for (int pair = 0; pair < o->pairs; pair++) {
        double sec[2][NOPS];
        tally t[2] = {{0}, {0}};
        for (int turn = 0; turn < 2; turn++) {
            int docs = (turn == 0) == bench_kura_first(pair, 0);
            char url[2400], path[1100] = "";
            if (fixed_url) {
                snprintf(url, sizeof url, "%s", fixed_url);
            } else {
                snprintf(path, sizeof path, "%s", bench_fresh_db(o, docs ? "docs" : "table"));
                snprintf(url, sizeof url, "sqlite:///%.1099s?%.1000s", path, sqlite_opts);
            }
            kura_store *db = open_fresh(url, docs);
            for (int op = 0; op < NOPS; op++) {
                char label[96];
                snprintf(label, sizeof label, "%s/%s/%s", group, op_names[op],
                         docs ? "kura" : "base");
                bench_ir_begin();
                sec[docs][op] = one_op(db, op, o, users, &t[docs]);
                bench_ir_end(label);
            }
            kura_error err;
            check(kura_drop(db, &sa_user_model, &err), "drop", &err);
            kura_store_close(db);
            if (*path)
                bench_remove_db(path);
        }
        if (memcmp(&t[0], &t[1], sizeof t[0]) != 0) {
            fprintf(stderr, "bench_docs: %s: tables and documents read different results\n", title);
            exit(1);
        }
        for (int op = 0; op < NOPS; op++)
            bench_figure_add(&f[op], sec[0][op], sec[1][op]);
        f[OP_QUERY].units = (double)t[0].query_rows;
    }
    for (int op = 0; op < NOPS; op++)
        bench_ir_fill(&f[op], group);
    char full[300];
    snprintf(full, sizeof full,
             "%s: N=%lld (table = kura's relational store, kura = kura's documents, same "
             "database)",
             title, (long long)o->n);
    bench_print(o, "docs", group, o->n, full, "table", f, NOPS, 0.80);
}

int main(int argc, char **argv)
{
    bench_opts o;
    const char *pg;
    bench_parse_args(argc, argv, &o, &pg);
    if (!pg)
        pg = getenv("KURA_BENCH_PG_URL");
    if (!pg || !*pg)
        pg = getenv("KURA_TEST_PG_URL");
    int64_t largest = 0;
    for (int i = 0; i < o.nsizes; i++)
        largest = o.sizes[i] > largest ? o.sizes[i] : largest;
    sa_user *users = malloc(sizeof *users * (size_t)largest);
    if (!users)
        return 1;
    for (int64_t i = 0; i < largest; i++)
        bench_make_user(&users[i], i + 1);
    if (!o.ir_child)
        printf("bench_docs: %d interleaved pairs per operation\n", o.pairs);
    bench_ir_collect(&o, argc, argv);
    for (int i = 0; i < o.nsizes; i++) {
        bench_use_size(&o, i);
        compare(&o, "embedded", "Embedded documents (SQLite), WAL, synchronous=NORMAL", NULL,
                "journal_mode=wal&synchronous=normal", users);
        if (pg && *pg)
            compare(&o, "jsonb", "PostgreSQL documents (JSONB)", pg, "", users);
        else if (!o.ir_child)
            printf("\nskipped: JSONB: no PostgreSQL URL (KURA_BENCH_PG_URL or KURA_TEST_PG_URL)\n");
    }
    free(users);
    return 0;
}
