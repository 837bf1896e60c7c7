/*
 * bench_pg.c — the WORKLOAD.md model-store operations on PostgreSQL, through
 * kura and through hand-written libpq prepared statements, in interleaved
 * pairs (common.h) at every size of --sizes; prints the median ratio kura/raw
 * (1.0: no overhead) and, with more than one size, the cost per row at each.
 *
 *   bench_pg [URL] [--sizes ..] [--pairs P] [--no-ir] [--csv F]
 *   (URL default: KURA_BENCH_PG_URL, then KURA_TEST_PG_URL)
 *
 * The database must be a throwaway one: the tables sa_user and sa_user_raw are
 * dropped and created afresh before every pair.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

#define RAW_BATCH 100 /* rows per multi-row INSERT, as kura batches them */

enum { OP_INSERT, OP_GET, OP_QUERY, OP_UPDATE, NOPS };
static const char *const op_names[NOPS] = {"insert", "get_by_id", "query_by_age", "update"};
static const char *const op_units[NOPS] = {"row", "op", "row", "op"};

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_pg: %s: %s\n", what, msg);
    exit(1);
}

static void fresh_table(kura_store *db)
{
    kura_error err = {0};
    if (!kura_drop(db, &sa_user_model, &err) || !kura_create(db, &sa_user_model, &err))
        die("fresh table", err.message);
}

/* ---- kura -------------------------------------------------------------------- */

static size_t query_rows;     /* rows read by kura's query_by_age, to check both sides agree */
static size_t raw_query_rows; /* and by raw's */

/* Runs operation op through kura; returns its time in seconds. */
BENCH_OP static double bench_kura(kura_store *db, int op, const bench_opts *o, sa_user *users)
{
    kura_error err = {0};
    double t0 = bench_now();
    switch (op) {
    case OP_INSERT:
        for (int64_t i = 0; i < o->n; i++)
            bench_make_user(&users[i], i + 1);
        t0 = bench_now();
        if (!kura_insert_many(db, &sa_user_model, users, (size_t)o->n, &err))
            die("kura insert", err.message);
        break;
    case OP_GET:
        for (int64_t k = 0; k < o->lookups; k++) {
            sa_user u;
            if (!kura_get(db, &sa_user_model, bench_lookup_id(o, k), &u, &err))
                die("kura get", err.message);
        }
        break;
    case OP_QUERY: {
        size_t rows = 0;
        for (int64_t q = 0; q < o->queries; q++) {
            kura_query qu = kura_query_for(&sa_user_model);
            kura_where_int(&qu, "age", KURA_EQ, bench_query_age(q));
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
        for (int64_t id = 1; id <= o->updates; id++) {
            sa_user u;
            if (!kura_get(db, &sa_user_model, id, &u, &err))
                die("kura update/get", err.message);
            sa_user_change_sex(&u, u.sex[0] == 'M' ? "F" : "M");
            if (!kura_save(db, &sa_user_model, &u, &err))
                die("kura update/save", err.message);
        }
        break;
    }
    return bench_now() - t0;
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
BENCH_OP static double bench_raw(PGconn *c, int op, const bench_opts *o, sa_user *users)
{
    char age[16], id[24], stamp[KURA_TIME_TEXT];
    PGresult *r;
    double t0 = bench_now();
    switch (op) {
    case OP_INSERT:
        for (int64_t i = 0; i < o->n; i++)
            bench_make_user(&users[i], i + 1);
        t0 = bench_now();
        PQclear(PQexec(c, "BEGIN"));
        kura_time_format(kura_now(), stamp);
        for (int64_t i = 0; i < o->n; i += RAW_BATCH) {
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
        for (int64_t k = 0; k < o->lookups; k++) {
            snprintf(id, sizeof id, "%lld", (long long)bench_lookup_id(o, k));
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
        for (int64_t q = 0; q < o->queries; q++) {
            snprintf(age, sizeof age, "%d", bench_query_age(q));
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
        raw_query_rows = rows;
        break;
    }
    case OP_UPDATE:
        for (int64_t k = 1; k <= o->updates; k++) {
            snprintf(id, sizeof id, "%lld", (long long)k);
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
    return bench_now() - t0;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* One pair for every operation at the current size: fresh tables, then each
 * operation on both sides back to back, the order alternating (common.h). */
static void one_pair(const bench_opts *o, kura_store *db, PGconn *raw, sa_user *users, int pair,
                     bench_figure *f)
{
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
    for (int op = 0; op < NOPS; op++) {
        double sec[2];
        bool kura_first = bench_kura_first(pair, op);
        for (int turn = 0; turn < 2; turn++) {
            bool kura = (turn == 0) == kura_first;
            char label[96];
            snprintf(label, sizeof label, "pg/%s/%s", op_names[op], kura ? "kura" : "base");
            bench_ir_begin();
            sec[kura] = kura ? bench_kura(db, op, o, users) : bench_raw(raw, op, o, users);
            bench_ir_end(label);
        }
        bench_figure_add(&f[op], sec[0], sec[1]);
    }
    if (raw_query_rows != query_rows)
        fprintf(stderr, "bench_pg: raw read %zu rows by age, kura %zu\n", raw_query_rows,
                query_rows);
    f[OP_QUERY].units = (double)query_rows;
}

int main(int argc, char **argv)
{
    bench_opts o;
    const char *url;
    bench_parse_args(argc, argv, &o, &url);
    if (!url)
        url = getenv("KURA_BENCH_PG_URL");
    if (!url || !*url)
        url = getenv("KURA_TEST_PG_URL");
    if (!url || !*url) {
        printf("skipped: no PostgreSQL URL (argument, KURA_BENCH_PG_URL or KURA_TEST_PG_URL)\n");
        return 0;
    }
    int64_t largest = 0;
    for (int i = 0; i < o.nsizes; i++) {
        if (o.sizes[i] % RAW_BATCH)
            die("--sizes", "every size must be a multiple of 100 (the raw batch)");
        largest = o.sizes[i] > largest ? o.sizes[i] : largest;
    }
    sa_user *users = malloc(sizeof *users * (size_t)largest);
    if (!users)
        die("users", "out of memory");
    kura_error err = {0};
    kura_store *db = kura_store_open(url, &err);
    if (!db)
        die("open", err.message);
    PGconn *raw = PQconnectdb(url);
    if (PQstatus(raw) != CONNECTION_OK)
        die("raw connect", PQerrorMessage(raw));
    PQsetNoticeProcessor(raw, quiet, NULL);
    PQclear(PQexec(raw, "SET datestyle TO 'ISO, YMD'"));
    if (!o.ir_child)
        printf("bench_pg: PostgreSQL %d; %d interleaved pairs per operation\n",
               PQserverVersion(raw) / 10000, o.pairs);
    bench_ir_collect(&o, argc, argv);
    bench_stats scale[BENCH_MAX_SIZES][NOPS];
    for (int i = 0; i < o.nsizes; i++) {
        bench_use_size(&o, i);
        bench_figure f[NOPS];
        const double units[NOPS] = {(double)o.n, (double)o.lookups, 0, (double)o.updates};
        for (int op = 0; op < NOPS; op++)
            bench_figure_init(&f[op], op_names[op], op_units[op], units[op]);
        for (int pair = 0; pair < o.pairs; pair++)
            one_pair(&o, db, raw, users, pair, f);
        for (int op = 0; op < NOPS; op++) {
            bench_ir_fill(&f[op], "pg");
            scale[i][op] = bench_figure_stats(&f[op]);
        }
        char title[200];
        snprintf(title, sizeof title,
                 "PostgreSQL (fsync on): N=%lld (%lld lookups, %lld queries, %lld updates)",
                 (long long)o.n, (long long)o.lookups, (long long)o.queries, (long long)o.updates);
        bench_print(&o, "pg", "pg", o.n, title, "raw", f, NOPS, 0.90);
    }
    if (o.nsizes > 1 && !o.ir_child) {
        printf("\nPostgreSQL scaling: median µs per row (insert, query_by_age) or per operation\n");
        printf("| %-13s | %-4s |", "operation", "side");
        for (int i = 0; i < o.nsizes; i++)
            printf(" N=%-9lld |", (long long)o.sizes[i]);
        printf(" last/first |\n|---------------|------|");
        for (int i = 0; i < o.nsizes; i++)
            printf("------------:|");
        printf("-----------:|\n");
        for (int op = 0; op < NOPS; op++)
            for (int side = 0; side < 2; side++) {
                printf("| %-13s | %-4s |", op_names[op], side ? "kura" : "raw");
                for (int i = 0; i < o.nsizes; i++)
                    printf(" %11.3f |", side ? scale[i][op].kura_us : scale[i][op].base_us);
                const bench_stats *a = &scale[0][op], *b = &scale[o.nsizes - 1][op];
                double first = side ? a->kura_us : a->base_us;
                double last = side ? b->kura_us : b->base_us;
                printf(" %10.2f |\n", first > 0 ? last / first : 0);
            }
    }
    kura_drop(db, &sa_user_model, &err);
    PQclear(PQexec(raw, "DROP TABLE IF EXISTS sa_user_raw"));
    PQfinish(raw);
    kura_store_close(db);
    free(users);
    return 0;
}
