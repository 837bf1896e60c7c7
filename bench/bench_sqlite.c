/*
 * bench_sqlite.c — the workload (docs/BENCHMARKS.md) on SQLite, through kura
 * and through hand-written sqlite3 code doing the same work: the same SQL,
 * the same struct filled column by column, the same datetime text.
 *
 * Two settings, each in a fresh database file per run, best of --runs:
 *   defaults: raw code sets no PRAGMA; kura ?journal_mode=delete&synchronous=full
 *   wal:      both journal_mode=WAL, synchronous=NORMAL
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

enum { OP_INSERT, OP_GET, OP_QUERY, OP_UPDATE, NOPS };
static const char *const op_names[NOPS] = {"insert", "get_by_id", "query_by_age", "update"};

typedef struct setting {
    const char *title;
    const char *raw_pragmas; /* NULL: none, SQLite's own defaults */
    const char *kura_query;  /* the URL's options */
} setting;

static const setting settings[] = {
    {"SQLite defaults (journal_mode=delete, synchronous=full)", NULL,
     "journal_mode=delete&synchronous=full"},
    {"SQLite WAL, synchronous=NORMAL", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
     "journal_mode=wal&synchronous=normal"},
};

/* What a run read, so both sides can be checked to have done the same work. */
typedef struct tally {
    int64_t age_sum;    /* get_by_id: sum of the ages read */
    int64_t query_rows; /* query_by_age: rows read */
    int64_t updated;    /* update: rows saved */
} tally;

typedef struct run_result {
    double seconds[NOPS];
    tally t;
} run_result;

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_sqlite: %s: %s\n", what, msg);
    exit(1);
}

/* ---- raw sqlite3 ---------------------------------------------------------- */

/* The same schema kura_create writes for sa_user. */
static const char raw_ddl[] =
    "CREATE TABLE IF NOT EXISTS \"sa_user\" (\"id\" INTEGER NOT NULL, \"name\" VARCHAR(128), "
    "\"email\" VARCHAR(128), \"age\" INTEGER, \"sex\" VARCHAR(1), \"created_at\" DATETIME, "
    "\"updated_at\" DATETIME, PRIMARY KEY (\"id\"));"
    "CREATE INDEX IF NOT EXISTS \"ix_sa_user_age\" ON \"sa_user\" (\"age\");";

#define RAW_COLS "\"id\", \"name\", \"email\", \"age\", \"sex\", \"created_at\", \"updated_at\""
static const char raw_insert_sql[] =
    "INSERT INTO \"sa_user\" (\"name\", \"email\", \"age\", \"sex\", \"created_at\", "
    "\"updated_at\") VALUES (?, ?, ?, ?, ?, ?)";
static const char raw_get_sql[] = "SELECT " RAW_COLS " FROM \"sa_user\" WHERE \"id\" = ?";
static const char raw_age_sql[] =
    "SELECT " RAW_COLS " FROM \"sa_user\" WHERE \"age\" = ? ORDER BY \"id\" ASC";
static const char raw_update_sql[] =
    "UPDATE \"sa_user\" SET \"name\" = ?, \"email\" = ?, \"age\" = ?, \"sex\" = ?, "
    "\"updated_at\" = ? WHERE \"id\" = ?";

/* "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as a C programmer would write it. */
static void raw_format_now(char out[64])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000));
}

static int digits(const unsigned char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* The fixed-width text back to microseconds: the fastest honest parse
 * (days from civil, no sscanf, no timegm), so raw is a hard baseline. */
static int64_t raw_parse_time(const unsigned char *s)
{
    if (!s || strlen((const char *)s) < 26)
        return 0;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    int64_t secs =
        days * 86400 + digits(s + 11, 2) * 3600 + digits(s + 14, 2) * 60 + digits(s + 17, 2);
    return secs * 1000000 + digits(s + 20, 6);
}

static void raw_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!t || len >= size)
        len = 0;
    memcpy(dst, t ? (const char *)t : "", len);
    dst[len] = '\0';
}

/* Every column of the current row into *u. */
static void raw_read_user(sqlite3_stmt *st, sa_user *u)
{
    u->base.id = sqlite3_column_int64(st, 0);
    raw_text(u->name, sizeof u->name, st, 1);
    raw_text(u->email, sizeof u->email, st, 2);
    u->age = sqlite3_column_int(st, 3);
    raw_text(u->sex, sizeof u->sex, st, 4);
    u->base.created_at = raw_parse_time(sqlite3_column_text(st, 5));
    u->base.updated_at = raw_parse_time(sqlite3_column_text(st, 6));
    u->base.nulls = 0;
}

typedef struct raw_db {
    sqlite3 *db;
    sqlite3_stmt *insert, *get, *by_age, *update;
} raw_db;

static void raw_check(raw_db *r, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(what, sqlite3_errmsg(r->db));
}

static void raw_exec(raw_db *r, const char *sql)
{
    raw_check(r, sqlite3_exec(r->db, sql, NULL, NULL, NULL), sql);
}

/* Reads user `id` with the get statement; false when there is none. */
static bool raw_get(raw_db *r, int64_t id, sa_user *u)
{
    sqlite3_bind_int64(r->get, 1, id);
    int rc = sqlite3_step(r->get);
    raw_check(r, rc, "get");
    if (rc == SQLITE_ROW)
        raw_read_user(r->get, u);
    sqlite3_reset(r->get);
    return rc == SQLITE_ROW;
}

BENCH_OP static double raw_insert(raw_db *r, const sa_user *users, int64_t n)
{
    double t0 = bench_now();
    char now[64];
    raw_format_now(now); /* one instant for the whole batch, as kura_insert_many stamps it */
    raw_exec(r, "BEGIN");
    for (int64_t i = 0; i < n; i++) {
        const sa_user *u = &users[i];
        sqlite3_bind_text(r->insert, 1, u->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(r->insert, 2, u->email, -1, SQLITE_STATIC);
        sqlite3_bind_int(r->insert, 3, u->age);
        sqlite3_bind_text(r->insert, 4, u->sex, -1, SQLITE_STATIC);
        sqlite3_bind_text(r->insert, 5, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(r->insert, 6, now, -1, SQLITE_STATIC);
        raw_check(r, sqlite3_step(r->insert), "insert");
        sqlite3_reset(r->insert);
    }
    raw_exec(r, "COMMIT");
    return bench_now() - t0;
}

BENCH_OP static double raw_get_by_id(raw_db *r, const bench_opts *o, tally *t)
{
    double t0 = bench_now();
    sa_user u;
    for (int64_t k = 0; k < o->lookups; k++) {
        if (!raw_get(r, bench_lookup_id(o, k), &u))
            die("get_by_id", "a user is missing");
        t->age_sum += u.age;
    }
    return bench_now() - t0;
}

BENCH_OP static double raw_query_by_age(raw_db *r, const bench_opts *o, tally *t)
{
    double t0 = bench_now();
    for (int64_t q = 0; q < o->queries; q++) {
        size_t count = 0, cap = 0;
        sa_user *rows = NULL;
        sqlite3_bind_int(r->by_age, 1, bench_query_age(q));
        int rc;
        while ((rc = sqlite3_step(r->by_age)) == SQLITE_ROW) {
            if (count == cap) {
                cap = cap ? cap * 2 : 16;
                sa_user *grown = realloc(rows, cap * sizeof *rows);
                if (!grown)
                    die("query_by_age", "out of memory");
                rows = grown;
            }
            raw_read_user(r->by_age, &rows[count++]);
        }
        raw_check(r, rc, "query_by_age");
        sqlite3_reset(r->by_age);
        t->query_rows += (int64_t)count;
        free(rows);
    }
    return bench_now() - t0;
}

BENCH_OP static double raw_update(raw_db *r, const bench_opts *o, tally *t)
{
    double t0 = bench_now();
    for (int64_t id = 1; id <= o->updates; id++) {
        sa_user u;
        if (!raw_get(r, id, &u))
            die("update", "a user is missing");
        u.sex[0] = u.sex[0] == 'M' ? 'F' : 'M';
        char now[64];
        raw_format_now(now);
        sqlite3_bind_text(r->update, 1, u.name, -1, SQLITE_STATIC);
        sqlite3_bind_text(r->update, 2, u.email, -1, SQLITE_STATIC);
        sqlite3_bind_int(r->update, 3, u.age);
        sqlite3_bind_text(r->update, 4, u.sex, -1, SQLITE_STATIC);
        sqlite3_bind_text(r->update, 5, now, -1, SQLITE_STATIC);
        sqlite3_bind_int64(r->update, 6, id);
        raw_check(r, sqlite3_step(r->update), "update");
        sqlite3_reset(r->update);
        t->updated += sqlite3_changes(r->db);
    }
    return bench_now() - t0;
}

static void raw_run(const bench_opts *o, const setting *s, const sa_user *users, run_result *res)
{
    const char *path = bench_fresh_db(o, "raw");
    raw_db r = {0};
    if (sqlite3_open(path, &r.db) != SQLITE_OK)
        die(path, sqlite3_errmsg(r.db));
    if (s->raw_pragmas)
        raw_exec(&r, s->raw_pragmas);
    raw_exec(&r, raw_ddl);
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_insert_sql, -1, &r.insert, NULL), "prepare");
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_get_sql, -1, &r.get, NULL), "prepare");
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_age_sql, -1, &r.by_age, NULL), "prepare");
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_update_sql, -1, &r.update, NULL), "prepare");
    res->seconds[OP_INSERT] = raw_insert(&r, users, o->n);
    res->seconds[OP_GET] = raw_get_by_id(&r, o, &res->t);
    res->seconds[OP_QUERY] = raw_query_by_age(&r, o, &res->t);
    res->seconds[OP_UPDATE] = raw_update(&r, o, &res->t);
    sqlite3_finalize(r.insert);
    sqlite3_finalize(r.get);
    sqlite3_finalize(r.by_age);
    sqlite3_finalize(r.update);
    sqlite3_close(r.db);
    bench_remove_db(path);
}

/* ---- kura ------------------------------------------------------------------ */

static void kura_check(bool ok, const char *what, const kura_error *err)
{
    if (!ok)
        die(what, err->message);
}

BENCH_OP static double kura_insert_all(kura_store *db, sa_user *users, int64_t n)
{
    kura_error err;
    double t0 = bench_now();
    kura_check(kura_insert_many(db, &sa_user_model, users, (size_t)n, &err), "insert", &err);
    return bench_now() - t0;
}

BENCH_OP static double kura_get_by_id(kura_store *db, const bench_opts *o, tally *t)
{
    kura_error err;
    double t0 = bench_now();
    sa_user u;
    for (int64_t k = 0; k < o->lookups; k++) {
        kura_check(kura_get(db, &sa_user_model, bench_lookup_id(o, k), &u, &err), "get_by_id",
                   &err);
        t->age_sum += u.age;
    }
    return bench_now() - t0;
}

BENCH_OP static double kura_query_by_age(kura_store *db, const bench_opts *o, tally *t)
{
    kura_error err;
    double t0 = bench_now();
    for (int64_t q = 0; q < o->queries; q++) {
        kura_query query = kura_query_for(&sa_user_model);
        kura_where_int(&query, "age", KURA_EQ, bench_query_age(q));
        kura_rows rows = {0};
        kura_check(kura_find(db, &query, &rows, &err), "query_by_age", &err);
        t->query_rows += (int64_t)rows.count;
        kura_rows_free(&rows);
    }
    return bench_now() - t0;
}

BENCH_OP static double kura_update_each(kura_store *db, const bench_opts *o, tally *t)
{
    kura_error err;
    double t0 = bench_now();
    for (int64_t id = 1; id <= o->updates; id++) {
        sa_user u;
        kura_check(kura_get(db, &sa_user_model, id, &u, &err), "update: get", &err);
        sa_user_change_sex(&u, u.sex[0] == 'M' ? "F" : "M");
        kura_check(kura_save(db, &sa_user_model, &u, &err), "update: save", &err);
        t->updated++;
    }
    return bench_now() - t0;
}

static void kura_run(const bench_opts *o, const setting *s, const sa_user *users, run_result *res)
{
    const char *path = bench_fresh_db(o, "kura");
    char url[1200];
    snprintf(url, sizeof url, "sqlite:///%s?%s", path, s->kura_query);
    kura_error err;
    kura_store *db = kura_store_open(url, &err);
    kura_check(db != NULL, url, &err);
    kura_check(kura_create(db, &sa_user_model, &err), "create", &err);
    /* kura_insert_many writes ids and stamps into the array: give it its own copy. */
    sa_user *mine = malloc(sizeof *mine * (size_t)o->n);
    if (!mine)
        die("insert", "out of memory");
    memcpy(mine, users, sizeof *mine * (size_t)o->n);
    res->seconds[OP_INSERT] = kura_insert_all(db, mine, o->n);
    free(mine);
    res->seconds[OP_GET] = kura_get_by_id(db, o, &res->t);
    res->seconds[OP_QUERY] = kura_query_by_age(db, o, &res->t);
    res->seconds[OP_UPDATE] = kura_update_each(db, o, &res->t);
    kura_store_close(db);
    bench_remove_db(path);
}

/* ---- the comparison ----------------------------------------------------------- */

static void compare(const bench_opts *o, const setting *s, const sa_user *users)
{
    bench_line lines[NOPS + 1];
    for (int i = 0; i < NOPS; i++)
        lines[i] = (bench_line){op_names[i], 0, 0};
    lines[NOPS] = (bench_line){"  (rows/s)", 0, 0};
    const double ops[NOPS] = {(double)o->n, (double)o->lookups, (double)o->queries,
                              (double)o->updates};
    for (int run = 0; run < o->runs; run++) {
        run_result raw = {0}, kura = {0};
        /* Alternate who goes first, so neither always gets the warmer cache. */
        if (run % 2 == 0) {
            raw_run(o, s, users, &raw);
            kura_run(o, s, users, &kura);
        } else {
            kura_run(o, s, users, &kura);
            raw_run(o, s, users, &raw);
        }
        if (memcmp(&raw.t, &kura.t, sizeof raw.t) != 0)
            die(s->title, "raw and kura read different results");
        for (int i = 0; i < NOPS; i++) {
            bench_keep_best(&lines[i].raw, ops[i], raw.seconds[i]);
            bench_keep_best(&lines[i].kura, ops[i], kura.seconds[i]);
        }
        bench_keep_best(&lines[NOPS].raw, (double)raw.t.query_rows, raw.seconds[OP_QUERY]);
        bench_keep_best(&lines[NOPS].kura, (double)kura.t.query_rows, kura.seconds[OP_QUERY]);
    }
    char title[256];
    snprintf(title, sizeof title, "%s: N=%lld, best of %d", s->title, (long long)o->n, o->runs);
    bench_print(title, lines, NOPS + 1);
}

int main(int argc, char **argv)
{
    bench_opts o;
    bench_parse_args(argc, argv, &o);
    sa_user *users = malloc(sizeof *users * (size_t)o.n);
    if (!users)
        die("users", "out of memory");
    for (int64_t i = 0; i < o.n; i++)
        bench_make_user(&users[i], i + 1);
    printf("bench_sqlite: SQLite %s; %lld users, %lld lookups, %lld queries, %lld updates\n",
           sqlite3_libversion(), (long long)o.n, (long long)o.lookups, (long long)o.queries,
           (long long)o.updates);
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        compare(&o, &settings[i], users);
    free(users);
    return 0;
}
