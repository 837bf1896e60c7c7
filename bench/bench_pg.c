/*
 * bench_pg.c — the WORKLOAD.md model-store operations on PostgreSQL, through
 * kura and through hand-written libpq prepared statements, side by side in
 * one run, best of 3; prints the ratio kura/raw (1.0: no overhead).
 *
 *   bench_pg [URL]     (default: KURA_BENCH_PG_URL, then KURA_TEST_PG_URL)
 *
 * The database must be a throwaway one: the table sa_user is dropped and
 * created afresh before each side of each round.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sa_user.h"

#define RAW_BATCH 100 /* rows per multi-row INSERT, as kura batches them */
#define N         10000
#define GETS      10000
#define QUERIES   1000
#define UPDATES   1000
#define ROUNDS    3

enum { OP_INSERT, OP_GET, OP_QUERY, OP_UPDATE, NOPS };
static const char *const op_names[NOPS] = {"insert", "get_by_id", "query_by_age", "update"};
static const int op_counts[NOPS] = {N, GETS, QUERIES, UPDATES};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_pg: %s: %s\n", what, msg);
    exit(1);
}

static void make_user(sa_user *u, int i)
{
    kura_init(&sa_user_model, u);
    snprintf(u->name, sizeof u->name, "user%05d", i);
    snprintf(u->email, sizeof u->email, "user%05d@example.com", i);
    u->age = 18 + (int)((long)i * 7919 % 63);
    snprintf(u->sex, sizeof u->sex, "%s", i % 2 ? "M" : "F");
}

static void fresh_table(kura_store *db)
{
    kura_error err = {0};
    if (!kura_drop(db, &sa_user_model, &err) || !kura_create(db, &sa_user_model, &err))
        die("fresh table", err.message);
}

/* ---- kura -------------------------------------------------------------------- */

static size_t query_rows; /* rows read by query_by_age, to check both sides agree */

/* Runs operation op through kura; returns its time in seconds. */
static double bench_kura(kura_store *db, int op)
{
    kura_error err = {0};
    static sa_user users[N];
    double t0 = now_s();
    switch (op) {
    case OP_INSERT:
        for (int i = 0; i < N; i++)
            make_user(&users[i], i + 1);
        t0 = now_s();
        if (!kura_insert_many(db, &sa_user_model, users, N, &err))
            die("kura insert", err.message);
        break;
    case OP_GET:
        for (int k = 0; k < GETS; k++) {
            sa_user u;
            if (!kura_get(db, &sa_user_model, (int64_t)((long)k * 7919 % N) + 1, &u, &err))
                die("kura get", err.message);
        }
        break;
    case OP_QUERY: {
        size_t rows = 0;
        for (int q = 0; q < QUERIES; q++) {
            kura_query qu = kura_query_for(&sa_user_model);
            kura_where_int(&qu, "age", KURA_EQ, 18 + q % 63);
            kura_rows out = {0};
            if (!kura_find(db, &qu, &out, &err))
                die("kura query", err.message);
            rows += out.count;
            kura_rows_free(&out);
        }
        query_rows = rows;
        break;
    }
    case OP_UPDATE:
        for (int id = 1; id <= UPDATES; id++) {
            sa_user u;
            if (!kura_get(db, &sa_user_model, id, &u, &err))
                die("kura update/get", err.message);
            sa_user_change_sex(&u, u.sex[0] == 'M' ? "F" : "M");
            if (!kura_save(db, &sa_user_model, &u, &err))
                die("kura update/save", err.message);
        }
        break;
    }
    return now_s() - t0;
}

/* ---- raw libpq ------------------------------------------------------------------ */

static void raw_ok(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
    if (PQresultStatus(r) != want)
        die(what, PQerrorMessage(c));
}

static void raw_prepare(PGconn *c, const char *name, const char *sql)
{
    PGresult *r = PQprepare(c, name, sql, 0, NULL);
    raw_ok(c, r, PGRES_COMMAND_OK, name);
    PQclear(r);
}

/* Row r of a "SELECT id, name, email, age, sex, created_at, updated_at" into *u. */
static void raw_decode(PGresult *res, int r, sa_user *u)
{
    memset(u, 0, sizeof *u);
    u->base.id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
    snprintf(u->name, sizeof u->name, "%s", PQgetvalue(res, r, 1));
    snprintf(u->email, sizeof u->email, "%s", PQgetvalue(res, r, 2));
    u->age = (int32_t)strtol(PQgetvalue(res, r, 3), NULL, 10);
    snprintf(u->sex, sizeof u->sex, "%s", PQgetvalue(res, r, 4));
    kura_time_parse(PQgetvalue(res, r, 5), &u->base.created_at);
    kura_time_parse(PQgetvalue(res, r, 6), &u->base.updated_at);
}

static void raw_prepare_all(PGconn *c)
{
    PQclear(PQexec(c, "DEALLOCATE ALL"));
    raw_prepare(c, "ins",
                "INSERT INTO sa_user_raw (name, email, age, sex, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id");
    /* The same batching kura does: 100 rows per statement, one round trip each. */
    char sql[16384];
    int len = snprintf(sql, sizeof sql,
                       "WITH ins AS (INSERT INTO sa_user_raw (name, email, age, sex, created_at, "
                       "updated_at) VALUES ");
    for (int r = 0; r < RAW_BATCH; r++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, "%s($%d, $%d, $%d, $%d, $%d, $%d)",
                        r ? ", " : "", r * 6 + 1, r * 6 + 2, r * 6 + 3, r * 6 + 4, r * 6 + 5,
                        r * 6 + 6);
    snprintf(sql + len, sizeof sql - (size_t)len, " RETURNING id) SELECT id FROM ins ORDER BY id");
    raw_prepare(c, "insb", sql);
    raw_prepare(c, "get",
                "SELECT id, name, email, age, sex, created_at, updated_at FROM sa_user_raw "
                "WHERE id = $1");
    raw_prepare(c, "age",
                "SELECT id, name, email, age, sex, created_at, updated_at FROM sa_user_raw "
                "WHERE age = $1 ORDER BY id");
    raw_prepare(c, "upd",
                "UPDATE sa_user_raw SET name = $1, email = $2, age = $3, sex = $4, "
                "updated_at = $5 WHERE id = $6");
}

/* Runs operation op through hand-written libpq; returns its time in seconds. */
static double bench_raw(PGconn *c, int op)
{
    char age[16], id[24], stamp[KURA_TIME_TEXT];
    static sa_user users[N];
    PGresult *r;
    double t0 = now_s();
    switch (op) {
    case OP_INSERT:
        for (int i = 0; i < N; i++)
            make_user(&users[i], i + 1);
        t0 = now_s();
        PQclear(PQexec(c, "BEGIN"));
        kura_time_format(kura_now(), stamp);
        for (int i = 0; i < N; i += RAW_BATCH) {
            static char ages[RAW_BATCH][16];
            const char *v[RAW_BATCH * 6];
            for (int j = 0; j < RAW_BATCH; j++) {
                sa_user *u = &users[i + j];
                snprintf(ages[j], sizeof ages[j], "%d", u->age);
                const char *row[6] = {u->name, u->email, ages[j], u->sex, stamp, stamp};
                memcpy(&v[j * 6], row, sizeof row);
            }
            r = PQexecPrepared(c, "insb", RAW_BATCH * 6, v, NULL, NULL, 0);
            raw_ok(c, r, PGRES_TUPLES_OK, "raw insert");
            for (int j = 0; j < RAW_BATCH; j++)
                users[i + j].base.id = strtoll(PQgetvalue(r, j, 0), NULL, 10);
            PQclear(r);
        }
        r = PQexec(c, "COMMIT");
        raw_ok(c, r, PGRES_COMMAND_OK, "raw commit");
        PQclear(r);
        break;
    case OP_GET:
        for (int k = 0; k < GETS; k++) {
            snprintf(id, sizeof id, "%ld", (long)k * 7919 % N + 1);
            const char *v[1] = {id};
            r = PQexecPrepared(c, "get", 1, v, NULL, NULL, 0);
            raw_ok(c, r, PGRES_TUPLES_OK, "raw get");
            sa_user u;
            raw_decode(r, 0, &u);
            PQclear(r);
        }
        break;
    case OP_QUERY: {
        size_t rows = 0;
        for (int q = 0; q < QUERIES; q++) {
            snprintf(age, sizeof age, "%d", 18 + q % 63);
            const char *v[1] = {age};
            r = PQexecPrepared(c, "age", 1, v, NULL, NULL, 0);
            raw_ok(c, r, PGRES_TUPLES_OK, "raw query");
            int n = PQntuples(r);
            sa_user *out = malloc((size_t)(n ? n : 1) * sizeof *out);
            for (int i = 0; i < n; i++)
                raw_decode(r, i, &out[i]);
            rows += (size_t)n;
            free(out);
            PQclear(r);
        }
        if (rows != query_rows)
            fprintf(stderr, "bench_pg: raw read %zu rows by age, kura %zu\n", rows, query_rows);
        break;
    }
    case OP_UPDATE:
        for (int k = 1; k <= UPDATES; k++) {
            snprintf(id, sizeof id, "%d", k);
            const char *v1[1] = {id};
            r = PQexecPrepared(c, "get", 1, v1, NULL, NULL, 0);
            raw_ok(c, r, PGRES_TUPLES_OK, "raw update/get");
            sa_user u;
            raw_decode(r, 0, &u);
            PQclear(r);
            snprintf(u.sex, sizeof u.sex, "%s", u.sex[0] == 'M' ? "F" : "M");
            u.base.updated_at = kura_now();
            kura_time_format(u.base.updated_at, stamp);
            snprintf(age, sizeof age, "%d", u.age);
            const char *v[6] = {u.name, u.email, age, u.sex, stamp, id};
            r = PQexecPrepared(c, "upd", 6, v, NULL, NULL, 0);
            raw_ok(c, r, PGRES_COMMAND_OK, "raw update");
            PQclear(r);
        }
        break;
    }
    return now_s() - t0;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int main(int argc, char **argv)
{
    /* A URL argument, else the environment; other arguments (bench/run passes
     * its own, such as --runs) are not this program's. */
    const char *url = argc > 1 && strstr(argv[1], "://") ? argv[1] : getenv("KURA_BENCH_PG_URL");
    if (!url || !*url)
        url = getenv("KURA_TEST_PG_URL");
    if (!url || !*url) {
        printf("skipped: no PostgreSQL URL (argument, KURA_BENCH_PG_URL or KURA_TEST_PG_URL)\n");
        return 0;
    }
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        die("open", err.message);
    PGconn *raw = PQconnectdb(url);
    if (PQstatus(raw) != CONNECTION_OK)
        die("raw connect", PQerrorMessage(raw));
    PQsetNoticeProcessor(raw, quiet, NULL);
    PQclear(PQexec(raw, "SET datestyle TO 'ISO, YMD'"));

    double best_k[NOPS], best_r[NOPS];
    for (int op = 0; op < NOPS; op++)
        best_k[op] = best_r[op] = 1e30;
    for (int round = 0; round < ROUNDS; round++) {
        /* A fresh table for each side (same DDL), then each operation on both
         * sides back to back, alternating which goes first, so that both see
         * the same machine at nearly the same moment. */
        PQclear(PQexec(raw, "DROP TABLE IF EXISTS sa_user_raw"));
        fresh_table(db);
        PGresult *r = PQexec(raw, "CREATE TABLE sa_user_raw (id SERIAL NOT NULL PRIMARY KEY, "
                                  "name VARCHAR(128), email VARCHAR(128), age INTEGER, "
                                  "sex VARCHAR(1), created_at TIMESTAMP WITHOUT TIME ZONE, "
                                  "updated_at TIMESTAMP WITHOUT TIME ZONE); "
                                  "CREATE INDEX ix_sa_user_raw_age ON sa_user_raw (age)");
        raw_ok(raw, r, PGRES_COMMAND_OK, "raw table");
        PQclear(r);
        raw_prepare_all(raw);
        for (int op = 0; op < NOPS; op++)
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == ((round + op) % 2 == 0)) {
                    double t = bench_kura(db, op);
                    best_k[op] = t < best_k[op] ? t : best_k[op];
                } else {
                    double t = bench_raw(raw, op);
                    best_r[op] = t < best_r[op] ? t : best_r[op];
                }
            }
    }
    printf("PostgreSQL, N=%d, best of %d (ops/s; ratio = kura/raw throughput)\n", N, ROUNDS);
    printf("%-14s %12s %12s %8s\n", "operation", "kura", "raw libpq", "ratio");
    for (int op = 0; op < NOPS; op++) {
        double k = op_counts[op] / best_k[op], r = op_counts[op] / best_r[op];
        printf("%-14s %12.0f %12.0f %8.2f\n", op_names[op], k, r, k / r);
    }
    printf("%-14s %12.0f %12.0f %8s\n", "(query rows/s)", (double)query_rows / best_k[OP_QUERY],
           (double)query_rows / best_r[OP_QUERY], "");
    kura_drop(db, &sa_user_model, &err);
    PQclear(PQexec(raw, "DROP TABLE IF EXISTS sa_user_raw"));
    PQfinish(raw);
    kura_store_close(db);
    return 0;
}
