/*
 * bench_sqlite.c — the workload (docs/BENCHMARKS.md) on SQLite, through kura
 * and through hand-written sqlite3 code doing the same work: the same SQL,
 * the same struct filled column by column, the same datetime text.
 *
 * Three settings, at every size of --sizes, in interleaved pairs (common.h):
 * each pair opens a fresh database file per side and runs every operation on
 * both sides back to back, the order alternating.
 *   defaults: kura's defaults (no URL option) against SQLite's (no PRAGMA):
 *             what kura's defaults buy a program that sets nothing;
 *   wal:      the same settings on both sides (WAL, synchronous=NORMAL, the
 *             same mmap and page cache): kura's own overhead;
 *   rollback: the same settings on both sides, SQLite's rollback journal,
 *             synchronous=FULL, no mmap, a 2 MB cache: kura's overhead there
 *             (at the first size only, to keep the full run near 15 minutes).
 * Then a table of the cost per row (per operation) of each setting at every size.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

enum { OP_INSERT, OP_GET, OP_QUERY, OP_UPDATE, NOPS };
static const char *const op_names[NOPS] = {"insert", "get_by_id", "query_by_age", "update"};
static const char *const op_units[NOPS] = {"row", "op", "row", "op"};

typedef struct setting {
    const char *group; /* its name in the CSV and the instruction labels */
    const char *title;
    const char *raw_pragmas; /* NULL: none, SQLite's own defaults */
    const char *kura_query;  /* the URL's options */
    bool first_size_only;    /* an overhead line: the scaling is the other lines' */
} setting;

static const setting settings[] = {
    {"defaults", "kura's defaults (no URL option) vs SQLite's defaults (no PRAGMA)", NULL, ""},
    {"wal", "same settings: WAL, synchronous=NORMAL, mmap 256 MB, cache 128 MB",
     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456; "
     "PRAGMA cache_size=-131072;",
     "journal_mode=wal&synchronous=normal&mmap_size_mb=256&cache_size_mb=128"},
    {"rollback", "same settings: journal_mode=delete, synchronous=FULL, no mmap, cache 2 MB",
     "PRAGMA journal_mode=delete; PRAGMA synchronous=FULL; PRAGMA mmap_size=0; "
     "PRAGMA cache_size=-2048;",
     "journal_mode=delete&synchronous=full&mmap_size_mb=0&cache_size_mb=2", true},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* What a run read, so both sides can be checked to have done the same work. */
typedef struct tally {
    int64_t age_sum;    /* get_by_id: sum of the ages read */
    int64_t query_rows; /* query_by_age: rows read */
    int64_t updated;    /* update: rows saved */
} tally;

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

static raw_db raw_open(const char *path, const setting *s)
{
    raw_db r = {0};
    /* The same threading mode kura opens with: measure kura, not a mutex setting. */
    if (sqlite3_open_v2(path, &r.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die(path, sqlite3_errmsg(r.db));
    if (s->raw_pragmas)
        raw_exec(&r, s->raw_pragmas);
    raw_exec(&r, raw_ddl);
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_insert_sql, -1, &r.insert, NULL), "prepare");
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_get_sql, -1, &r.get, NULL), "prepare");
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_age_sql, -1, &r.by_age, NULL), "prepare");
    raw_check(&r, sqlite3_prepare_v2(r.db, raw_update_sql, -1, &r.update, NULL), "prepare");
    return r;
}

static void raw_close(raw_db *r)
{
    sqlite3_finalize(r->insert);
    sqlite3_finalize(r->get);
    sqlite3_finalize(r->by_age);
    sqlite3_finalize(r->update);
    sqlite3_close(r->db);
}

static double raw_side(raw_db *r, int op, const bench_opts *o, const sa_user *users, tally *t)
{
    switch (op) {
    case OP_INSERT:
        return raw_insert(r, users, o->n);
    case OP_GET:
        return raw_get_by_id(r, o, t);
    case OP_QUERY:
        return raw_query_by_age(r, o, t);
    default:
        return raw_update(r, o, t);
    }
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

static double kura_side(kura_store *db, int op, const bench_opts *o, sa_user *mine, tally *t)
{
    switch (op) {
    case OP_INSERT:
        return kura_insert_all(db, mine, o->n);
    case OP_GET:
        return kura_get_by_id(db, o, t);
    case OP_QUERY:
        return kura_query_by_age(db, o, t);
    default:
        return kura_update_each(db, o, t);
    }
}

/* ---- the comparison ----------------------------------------------------------- */

/* Median cost per unit of each side, by setting, size and operation (the scaling table). */
static bench_stats results[NSETTINGS][BENCH_MAX_SIZES][NOPS];

/* The kura URL's options of setting s; for "defaults", BENCH_SQLITE_DEFAULTS_OPTIONS
 * when set (e.g. "cache_size_mb=512"), to measure another default beside SQLite's. */
static const char *kura_options(const setting *s)
{
    const char *env = getenv("BENCH_SQLITE_DEFAULTS_OPTIONS");
    return s->raw_pragmas == NULL && env ? env : s->kura_query;
}

/* One pair: a fresh file per side, every operation on both sides back to back. */
static void one_pair(const bench_opts *o, const setting *s, const sa_user *users, sa_user *mine,
                     int pair, bench_figure *f)
{
    const char *p = bench_fresh_db(o, "raw");
    char raw_path[1100];
    snprintf(raw_path, sizeof raw_path, "%s", p);
    const char *kura_path = bench_fresh_db(o, "kura");
    char url[1300];
    snprintf(url, sizeof url, "sqlite:///%s%s%s", kura_path, *kura_options(s) ? "?" : "",
             kura_options(s));
    raw_db r = raw_open(raw_path, s);
    kura_error err;
    kura_store *db = kura_store_open(url, &err);
    kura_check(db != NULL, url, &err);
    kura_check(kura_create(db, &sa_user_model, &err), "create", &err);
    /* kura_insert_many writes ids and stamps into the array: give it its own copy. */
    memcpy(mine, users, sizeof *mine * (size_t)o->n);
    tally rt = {0}, kt = {0};
    for (int op = 0; op < NOPS; op++) {
        double sec[2]; /* [0] raw, [1] kura */
        bool kura_first = bench_kura_first(pair, op);
        for (int turn = 0; turn < 2; turn++) {
            bool kura = (turn == 0) == kura_first;
            char label[96];
            snprintf(label, sizeof label, "%s/%s/%s", s->group, op_names[op],
                     kura ? "kura" : "base");
            bench_ir_begin();
            sec[kura] = kura ? kura_side(db, op, o, mine, &kt) : raw_side(&r, op, o, users, &rt);
            bench_ir_end(label);
        }
        bench_figure_add(&f[op], sec[0], sec[1]);
    }
    if (memcmp(&rt, &kt, sizeof rt) != 0)
        die(s->title, "raw and kura read different results");
    f[OP_QUERY].units = (double)rt.query_rows;
    raw_close(&r);
    kura_store_close(db);
    bench_remove_db(raw_path);
    bench_remove_db(kura_path);
}

static void compare(const bench_opts *o, int si, int size_i, const sa_user *users, sa_user *mine)
{
    const setting *s = &settings[si];
    bench_figure f[NOPS];
    const double units[NOPS] = {(double)o->n, (double)o->lookups, 0, (double)o->updates};
    for (int op = 0; op < NOPS; op++)
        bench_figure_init(&f[op], op_names[op], op_units[op], units[op]);
    for (int pair = 0; pair < o->pairs; pair++)
        one_pair(o, s, users, mine, pair, f);
    for (int op = 0; op < NOPS; op++) {
        bench_ir_fill(&f[op], s->group);
        results[si][size_i][op] = bench_figure_stats(&f[op]);
    }
    char title[256];
    snprintf(title, sizeof title, "SQLite, %s: N=%lld (%lld lookups, %lld queries, %lld updates)",
             s->title, (long long)o->n, (long long)o->lookups, (long long)o->queries,
             (long long)o->updates);
    bench_print(o, "sqlite", s->group, o->n, title, "raw", f, NOPS, 0.90);
}

/* Cost per unit at every size, and the largest size's cost over the smallest's. */
static void print_scaling(const bench_opts *o)
{
    if (o->nsizes < 2 || o->ir_child)
        return;
    printf("\nSQLite scaling: median µs per row (insert, query_by_age) or per operation "
           "(get_by_id, update)\n");
    printf("| %-9s | %-13s | %-4s |", "setting", "operation", "side");
    for (int i = 0; i < o->nsizes; i++)
        printf(" N=%-9lld |", (long long)o->sizes[i]);
    printf(" last/first |\n|-----------|---------------|------|");
    for (int i = 0; i < o->nsizes; i++)
        printf("------------:|");
    printf("-----------:|\n");
    for (size_t si = 0; si < NSETTINGS; si++)
        for (int op = 0; op < NOPS && !settings[si].first_size_only; op++)
            for (int side = 0; side < 2; side++) {
                printf("| %-9s | %-13s | %-4s |", settings[si].group, op_names[op],
                       side ? "kura" : "raw");
                for (int i = 0; i < o->nsizes; i++) {
                    const bench_stats *st = &results[si][i][op];
                    printf(" %11.3f |", side ? st->kura_us : st->base_us);
                }
                const bench_stats *a = &results[si][0][op], *b = &results[si][o->nsizes - 1][op];
                double first = side ? a->kura_us : a->base_us,
                       last = side ? b->kura_us : b->base_us;
                double growth = first > 0 ? last / first : 0;
                printf(" %9.2f%s |\n", growth, side && growth > 1.25 ? "*" : " ");
                bench_stats row = {.base_us = first, .kura_us = last, .median = growth};
                char group[64];
                snprintf(group, sizeof group, "%s-%s", settings[si].group, side ? "kura" : "raw");
                bench_csv_row(o, "sqlite-scaling", group, o->sizes[o->nsizes - 1], op_names[op],
                              op_units[op], &row);
            }
    printf("(* = kura's cost per unit at the largest size above 1.25x the smallest's)\n");
}

int main(int argc, char **argv)
{
    bench_opts o;
    const char *url;
    bench_parse_args(argc, argv, &o, &url);
    int64_t largest = 0;
    for (int i = 0; i < o.nsizes; i++)
        largest = o.sizes[i] > largest ? o.sizes[i] : largest;
    sa_user *users = malloc(sizeof *users * (size_t)largest);
    sa_user *mine = malloc(sizeof *mine * (size_t)largest);
    if (!users || !mine)
        die("users", "out of memory");
    for (int64_t i = 0; i < largest; i++)
        bench_make_user(&users[i], i + 1);
    if (!o.ir_child)
        printf("bench_sqlite: SQLite %s; sizes", sqlite3_libversion());
    for (int i = 0; i < o.nsizes && !o.ir_child; i++)
        printf(" %lld", (long long)o.sizes[i]);
    if (!o.ir_child)
        printf("; %d interleaved pairs per operation\n", o.pairs);
    if (!o.ir_child && getenv("BENCH_SQLITE_DEFAULTS_OPTIONS"))
        printf("kura's defaults line with URL options: %s\n",
               getenv("BENCH_SQLITE_DEFAULTS_OPTIONS"));
    bench_ir_collect(&o, argc, argv);
    for (int i = 0; i < o.nsizes; i++) {
        bench_use_size(&o, i);
        for (size_t si = 0; si < NSETTINGS; si++)
            if (i == 0 || !settings[si].first_size_only)
                compare(&o, (int)si, i, users, mine);
    }
    print_scaling(&o);
    free(users);
    free(mine);
    return 0;
}
