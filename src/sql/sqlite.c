/*
 * sqlite.c — the SQLite driver: connections and statements for sql_store.c.
 *
 * Values are stored as Flask-SQLAlchemy stores them for SQLite, so that a
 * Python app and a kura program can share one file: datetimes as
 * "YYYY-MM-DD HH:MM:SS.ffffff" text, booleans as 0/1.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/sqlite_busy.h"
#include "base/url.h"
#include "sql/sql_private.h"

struct kura_sql_conn {
    sqlite3 *db;
};

struct kura_sql_stmt {
    sqlite3_stmt *st;
    sqlite3 *db;
    int64_t changes;
    /* Datetime parameters as text, one slot per parameter, so they can be
     * bound without a copy; a slot is reformatted only when its value changes
     * (a batch insert binds the same stamp to every row). */
    int nslots; /* the statement's parameter count */
    int bound;  /* bind calls since the last reset */
    bool running;
    kura_time *slot_time;
    char (*slot_text)[KURA_TIME_TEXT];
    /* Whether parameter i is bound to slot_text[i] now: bindings outlive a
     * reset, so the same datetime bound again (the stamp of every row of a
     * batch) needs no call into SQLite. Any other bind to i clears it. */
    bool *slot_live;
};

typedef struct sqlite_config {
    char *path; /* a file name, or a "file:" URI for in-memory databases */
    bool uri;
    long busy_ms;
    char journal[16]; /* the journal_mode each connection sets */
} sqlite_config;

/* Maps a SQLite result code to a kura error on err. */
static bool fail_sqlite(kura_error *err, sqlite3 *db, int rc, const char *what)
{
    int base = rc & 0xff;
    kura_code code = KURA_STORE;
    if (base == SQLITE_CONSTRAINT)
        code = KURA_CONSTRAINT;
    else if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
        code = KURA_TIMEOUT;
    else if (base == SQLITE_NOMEM)
        code = KURA_NOMEM;
    else if (base == SQLITE_CANTOPEN || base == SQLITE_IOERR || base == SQLITE_READONLY ||
             base == SQLITE_FULL || base == SQLITE_PERM)
        code = KURA_IO;
    /* SQLite names no constraint for a foreign key: say what the two cases are.
     * ON DELETE RESTRICT fails through the trigger SQLite makes for it. */
    bool fk = rc == SQLITE_CONSTRAINT_FOREIGNKEY ||
              (rc == SQLITE_CONSTRAINT_TRIGGER && db &&
               strstr(sqlite3_errmsg(db), "FOREIGN KEY constraint failed"));
    const char *hint = fk ? " (a field references a row that does not exist, or a row still "
                            "referenced would be deleted)"
                          : "";
    return kura_fail(err, code, NULL, "sqlite: %s: %s%s", what,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), hint);
}

/* PRAGMA journal_mode=<mode>, waiting for the lock a switch to WAL needs (sqlite_busy.h). */
static int set_journal(sqlite3 *db, const sqlite_config *cfg)
{
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", cfg->journal);
    return kura__sqlite_exec_busy(db, sql, cfg->busy_ms);
}

static kura_sql_conn *sq_connect(const void *config, kura_error *err)
{
    const sqlite_config *cfg = config;
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (cfg->uri)
        flags |= SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(cfg->path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        kura_fail(err, KURA_IO, NULL, "sqlite: cannot open '%.128s': %s", cfg->path,
                  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, (int)cfg->busy_ms);
    /* A double-quoted name that is no column must be an error, not a string
     * literal: otherwise a query on a dropped column silently matches nothing. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    sqlite3_extended_result_codes(db, 1);
    rc = set_journal(db, cfg);
    if (rc != SQLITE_OK) {
        fail_sqlite(err, db, rc, "journal_mode");
        sqlite3_close(db);
        return NULL;
    }
    kura_sql_conn *c = malloc(sizeof *c);
    if (!c) {
        sqlite3_close(db);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    c->db = db;
    return c;
}

static void sq_disconnect(kura_sql_conn *c)
{
    if (!c)
        return;
    sqlite3_close_v2(c->db);
    free(c);
}

static bool sq_alive(kura_sql_conn *c)
{
    (void)c;
    return true; /* a local file does not go away like a server */
}

static bool sq_exec(kura_sql_conn *c, const char *sql, kura_error *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail_sqlite(err, c->db, rc, "exec");
    return true;
}

static kura_sql_stmt *sq_prepare(kura_sql_conn *c, const char *sql, kura_error *err)
{
    kura_sql_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
    if (rc != SQLITE_OK) {
        fail_sqlite(err, c->db, rc, "prepare");
        free(s);
        return NULL;
    }
    s->db = c->db;
    int n = sqlite3_bind_parameter_count(s->st);
    if (n > 0) {
        s->slot_time = malloc((size_t)n * sizeof *s->slot_time);
        s->slot_text = malloc((size_t)n * sizeof *s->slot_text);
        s->slot_live = calloc((size_t)n, sizeof *s->slot_live);
        if (!s->slot_time || !s->slot_text || !s->slot_live) {
            free(s->slot_time);
            free(s->slot_text);
            free(s->slot_live);
            sqlite3_finalize(s->st);
            free(s);
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            s->slot_time[i] = INT64_MIN;
            s->slot_text[i][0] = '\0';
        }
        s->nslots = n;
    }
    return s;
}

static void sq_finalize(kura_sql_stmt *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->st);
    free(s->slot_time);
    free(s->slot_text);
    free(s->slot_live);
    free(s);
}

/* Out of line: the binds themselves stay small (every row binds every field). */
static __attribute__((noinline, cold)) bool bind_failed(kura_sql_stmt *s, int rc, kura_error *err)
{
    return fail_sqlite(err, s->db, rc, "bind");
}

/* A datetime as its text in the statement's slot i, formatted again only when
 * the value changes (sq_bind skips this while parameter i still holds that text:
 * see slot_live). Its length is fixed: SQLite need not count it. Out of line,
 * so that the other binds save fewer registers. */
static __attribute__((noinline)) bool bind_time(kura_sql_stmt *s, int i, kura_time t,
                                                kura_error *err)
{
    if (i < 0 || i >= s->nslots)
        return bind_failed(s, SQLITE_RANGE, err);
    if (s->slot_time[i] != t) {
        kura_time_format(t, s->slot_text[i]);
        s->slot_time[i] = t;
    }
    int rc = sqlite3_bind_text(s->st, i + 1, s->slot_text[i], KURA_TIME_TEXT - 1, SQLITE_STATIC);
    s->slot_live[i] = rc == SQLITE_OK;
    return rc == SQLITE_OK || bind_failed(s, rc, err);
}

static bool sq_bind(kura_sql_stmt *s, int i, const kura_value *v, kura_error *err)
{
    s->bound++;
    if (v->kind == KURA_VALUE_TIME) {
        /* The common case, without a call: the stamp SQLite holds already
         * (while running, SQLite must be asked: it refuses the bind). */
        if (i >= 0 && i < s->nslots && s->slot_live[i] && s->slot_time[i] == v->as.t && !s->running)
            return true;
        return bind_time(s, i, v->as.t, err);
    }
    if (i >= 0 && i < s->nslots)
        s->slot_live[i] = false; /* i will hold another value */
    int rc = SQLITE_OK;
    switch (v->kind) {
    case KURA_VALUE_NULL:
        rc = sqlite3_bind_null(s->st, i + 1);
        break;
    case KURA_VALUE_INT:
        rc = sqlite3_bind_int64(s->st, i + 1, v->as.i);
        break;
    case KURA_VALUE_BOOL:
        rc = sqlite3_bind_int(s->st, i + 1, v->as.b ? 1 : 0);
        break;
    case KURA_VALUE_DOUBLE:
        rc = sqlite3_bind_double(s->st, i + 1, v->as.d);
        break;
    case KURA_VALUE_STRING: /* borrowed until reset: see sql_private.h */
        rc = sqlite3_bind_text(s->st, i + 1, v->as.s, -1, SQLITE_STATIC);
        break;
    case KURA_VALUE_TIME:
        break;
    }
    return rc == SQLITE_OK || bind_failed(s, rc, err);
}

static int sq_step(kura_sql_stmt *s, kura_error *err)
{
    /* Bindings are not cleared at reset (that costs every row of a batch), so
     * a run must bind every parameter afresh: never a borrowed pointer left
     * from the last run. */
    if (!s->running && s->bound < s->nslots) {
        kura_fail(err, KURA_INVALID, NULL, "sqlite: the statement has %d parameters, %d given",
                  s->nslots, s->bound);
        return -1;
    }
    s->running = true;
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(s->db);
        return 0;
    }
    fail_sqlite(err, s->db, rc, "step");
    sqlite3_reset(s->st);
    return -1;
}

static void sq_reset(kura_sql_stmt *s)
{
    sqlite3_reset(s->st);
    s->bound = 0;
    s->running = false;
}

static int sq_column_count(kura_sql_stmt *s)
{
    return sqlite3_column_count(s->st);
}

static const char *sq_column_name(kura_sql_stmt *s, int i)
{
    return sqlite3_column_name(s->st, i);
}

static bool sq_column_null(kura_sql_stmt *s, int i)
{
    return sqlite3_column_type(s->st, i) == SQLITE_NULL;
}

static int sq_column_kind(kura_sql_stmt *s, int i)
{
    switch (sqlite3_column_type(s->st, i)) {
    case SQLITE_NULL:
        return KURA_SQL_KIND_NULL;
    case SQLITE_INTEGER:
        return KURA_SQL_KIND_INT;
    case SQLITE_FLOAT: { /* json_extract's 2.0, say; the bounds are int64's */
        double d = sqlite3_column_double(s->st, i);
        /* The bounds first: casting a double outside int64 (or NaN) is undefined. */
        return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d
                   ? KURA_SQL_KIND_INT
                   : KURA_SQL_KIND_REAL;
    }
    default:
        return KURA_SQL_KIND_OTHER;
    }
}

static int64_t sq_column_int(kura_sql_stmt *s, int i)
{
    return sqlite3_column_int64(s->st, i);
}

static double sq_column_double(kura_sql_stmt *s, int i)
{
    return sqlite3_column_double(s->st, i);
}

static const char *sq_column_text(kura_sql_stmt *s, int i, size_t *len)
{
    const char *t = (const char *)sqlite3_column_text(s->st, i);
    if (len) /* after column_text, as SQLite's documentation orders the two */
        *len = (size_t)sqlite3_column_bytes(s->st, i);
    return t;
}

static int64_t sq_changes(kura_sql_stmt *s)
{
    return s->changes;
}

static int64_t sq_last_insert_id(kura_sql_conn *c)
{
    return sqlite3_last_insert_rowid(c->db);
}

static void sq_free_config(void *config)
{
    sqlite_config *cfg = config;
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg);
}

static const kura_sql_driver sqlite_driver = {
    .name = "sqlite",
    .dialect = &kura__sqlite_dialect,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .alive = sq_alive,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind = sq_bind,
    .stream = NULL,
    .step = sq_step,
    .reset = sq_reset,
    .column_count = sq_column_count,
    .column_name = sq_column_name,
    .column_null = sq_column_null,
    .column_kind = sq_column_kind,
    .column_int = sq_column_int,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .changes = sq_changes,
    .last_insert_id = sq_last_insert_id,
    .free_config = sq_free_config,
};

static const char *const sqlite_options[] = {
    "journal_mode", "synchronous",  "busy_timeout",  "pool",
    "foreign_keys", "mmap_size_mb", "cache_size_mb", NULL};

/*
 * The memory-sized defaults. SQLite's own (no mmap, a 2 MB page cache per
 * connection) make a read of a table larger than the cache a pread() and a
 * page decode per page: at 1M users get_by_id cost twice and query_by_age three
 * times as much per row as at 10k (docs/BENCHMARKS.md). Memory-mapped reads
 * share the OS page cache between connections and processes, and the kernel
 * drops those pages under memory pressure: an eighth of RAM, at most 256 MiB.
 * The page cache is private memory, filled only as pages are read: the pool
 * shares a sixteenth of RAM, at most 1 GiB in all, at least 2 MiB a connection
 * (23 GB and 8 connections: 128 MiB each).
 */
static long long phys_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (long long)pages * size : 0;
}

static long long clamp(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

#define MIB (1024LL * 1024)

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcasecmp(v, *allowed) == 0)
            return true;
    return false;
}

kura_store *kura_sqlite_store_open(const char *url, kura_error *err)
{
    /* "sqlite://:memory:" has no valid authority; read it as SQLAlchemy does. */
    char rewritten[512];
    const char *parse = url;
    if (strncmp(url, "sqlite://:memory:", 17) == 0) {
        snprintf(rewritten, sizeof rewritten, "sqlite:///:memory:%s", url + 17);
        parse = rewritten;
    }
    kura_url u;
    if (!kura_url_parse(parse, &u, err))
        return NULL;
    kura_store *store = NULL;
    sqlite_config *cfg = NULL;
    if (strcmp(u.scheme, "sqlite") != 0 || strncmp(url, "sqlite://", 9) != 0 || u.user ||
        u.password || u.port) {
        kura_fail(
            err, KURA_CONFIG, NULL,
            "malformed SQLite URL '%.64s': expected sqlite:///path or sqlite://:memory:", url);
        goto out;
    }
    if (!kura_url_check_params(&u, sqlite_options, err))
        goto out;
    /* sqlite://:memory: parses as host ":memory:"-ish; take what follows "//". */
    bool memory = (!u.path && !u.host) || (u.path && strcmp(u.path, ":memory:") == 0);
    if (!memory && u.host) {
        kura_fail(err, KURA_CONFIG, NULL,
                  "malformed SQLite URL '%.64s': a host is given (use sqlite:///relative.db or "
                  "sqlite:////absolute.db)",
                  url);
        goto out;
    }
    long busy, pool, mmap_mb, cache_mb;
    long long ram = phys_memory();
    if (!kura_url_param_int(&u, "busy_timeout", 0, 3600000, 5000, &busy, err) ||
        !kura_url_param_int(&u, "pool", 1, 1024, 8, &pool, err))
        goto out;
    if (memory)
        pool = 1;
    if (!kura_url_param_int(&u, "mmap_size_mb", 0, 1L << 20, (long)clamp(ram / 8 / MIB, 0, 256),
                            &mmap_mb, err) ||
        !kura_url_param_int(&u, "cache_size_mb", 1, 1L << 20,
                            (long)clamp(ram / 16 / MIB, 2 * pool, 1024) / pool, &cache_mb, err))
        goto out;
    const char *journal = kura_url_param(&u, "journal_mode");
    const char *sync = kura_url_param(&u, "synchronous");
    const char *fk = kura_url_param(&u, "foreign_keys");
    static const char *const journals[] = {"wal",    "delete", "truncate", "persist",
                                           "memory", "off",    NULL};
    static const char *const syncs[] = {"off", "normal", "full", "extra", NULL};
    static const char *const onoff[] = {"on", "off", NULL};
    if (journal && !one_of(journal, journals)) {
        kura_fail(err, KURA_CONFIG, NULL,
                  "journal_mode='%.16s' is not one of wal, delete, "
                  "truncate, persist, memory, off",
                  journal);
        goto out;
    }
    if (sync && !one_of(sync, syncs)) {
        kura_fail(err, KURA_CONFIG, NULL,
                  "synchronous='%.16s' is not one of off, normal, full, extra", sync);
        goto out;
    }
    if (fk && !one_of(fk, onoff)) {
        kura_fail(err, KURA_CONFIG, NULL, "foreign_keys='%.16s' is not on or off", fk);
        goto out;
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        goto out;
    }
    cfg->busy_ms = busy;
    if (memory) {
        /* One connection: every connection to ":memory:" would be a new database. */
        cfg->path = strdup(":memory:");
        pool = 1;
    } else {
        if (!u.path || !*u.path) {
            kura_fail(err, KURA_CONFIG, NULL, "SQLite URL '%.64s' names no file", url);
            goto out;
        }
        cfg->path = strdup(u.path);
    }
    if (!cfg->path) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        goto out;
    }
    snprintf(cfg->journal, sizeof cfg->journal, "%s",
             memory ? "memory" : (journal ? journal : "wal"));
    char init[384]; /* journal_mode is set at connect (set_journal) */
    snprintf(init, sizeof init,
             "PRAGMA synchronous=%s; PRAGMA foreign_keys=%s; PRAGMA case_sensitive_like=ON; "
             "PRAGMA mmap_size=%lld; PRAGMA cache_size=-%lld;",
             sync ? sync : "full", fk ? fk : "on", memory ? 0LL : mmap_mb * MIB,
             (long long)cache_mb * 1024);
    kura_sql_pool_opts opts = {.size = (int)pool, .wait_ms = busy, .init_sql = init};
    store = kura_sql_store_new(&sqlite_driver, cfg, &opts, err);
    cfg = NULL; /* owned by the store now, even on failure */
out:
    sq_free_config(cfg);
    kura_url_free(&u);
    return store;
}
