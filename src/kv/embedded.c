/*
 * embedded.c — the embedded key-value driver: Redis's behaviour in SQLite.
 *
 * Tables (created when missing, in the app's database file or its own):
 *   kura_kv(key, type, value, expires_at)      one row per key; expires_at
 *                                              is Unix time in ms, so TTLs
 *                                              survive a restart
 *   kura_kv_zset(key, member, score)           indexed on (key, score, member)
 *   kura_kv_hash(key, field, value)
 * Keys, members and fields are BLOBs, so SQLite compares them with memcmp,
 * shorter first on a common prefix: Redis's order for equal scores.
 * Triggers delete a key's members when its row is deleted or retyped.
 *
 * Expiry: every read checks expires_at; writes purge the expired key they
 * touch, and at most once a second a sweep deletes a batch of expired keys.
 *
 * Threads: one connection, one mutex. Every operation is short, and SQLite
 * serialises writers anyway; other processes on the same file are waited
 * for (busy_timeout). A run is one transaction, so a batch is atomic here.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/sqlite_busy.h"
#include "base/url.h"
#include "kv/kv_private.h"

enum { T_NONE = 0, T_STRING = 1, T_ZSET = 2, T_HASH = 3 };

#define SWEEP_EVERY_MS 1000
#define SWEEP_BATCH    1000

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS kura_kv ("
    "  key BLOB PRIMARY KEY NOT NULL, type INTEGER NOT NULL, value BLOB, expires_at INTEGER"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS kura_kv_expiry ON kura_kv(expires_at)"
    "  WHERE expires_at IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS kura_kv_zset ("
    "  key BLOB NOT NULL, member BLOB NOT NULL, score REAL NOT NULL,"
    "  PRIMARY KEY (key, member)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS kura_kv_zset_score ON kura_kv_zset(key, score, member);"
    "CREATE TABLE IF NOT EXISTS kura_kv_hash ("
    "  key BLOB NOT NULL, field BLOB NOT NULL, value BLOB NOT NULL,"
    "  PRIMARY KEY (key, field)) WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS kura_kv_gone AFTER DELETE ON kura_kv BEGIN"
    "  DELETE FROM kura_kv_zset WHERE key = old.key;"
    "  DELETE FROM kura_kv_hash WHERE key = old.key; END;"
    "CREATE TRIGGER IF NOT EXISTS kura_kv_retyped AFTER UPDATE OF type ON kura_kv"
    "  WHEN old.type <> new.type BEGIN"
    "  DELETE FROM kura_kv_zset WHERE key = old.key;"
    "  DELETE FROM kura_kv_hash WHERE key = old.key; END;";

enum {
    S_BEGIN,
    S_BEGIN_WRITE,
    S_COMMIT,
    S_ROLLBACK,
    S_LOOKUP,
    S_DELETE,
    S_UPSERT,
    S_SET_VALUE,
    S_SET_EXPIRY,
    S_Z_SCORE,
    S_Z_UPSERT,
    S_Z_DEL,
    S_Z_CARD,
    S_Z_COUNT,
    S_Z_BELOW,
    S_Z_ABOVE,
    S_Z_RANGE,
    S_Z_REVRANGE,
    S_H_GET,
    S_H_UPSERT,
    S_H_DEL,
    S_H_COUNT,
    S_H_ALL,
    S_SWEEP,
    NSTMT
};

static const char *const sql[NSTMT] = {
    [S_BEGIN] = "BEGIN",
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_LOOKUP] = "SELECT type, value, expires_at FROM kura_kv WHERE key = ?1",
    [S_DELETE] = "DELETE FROM kura_kv WHERE key = ?1",
    [S_UPSERT] = "INSERT INTO kura_kv (key, type, value, expires_at) VALUES (?1, ?2, ?3, ?4)"
                 " ON CONFLICT (key) DO UPDATE SET type = excluded.type,"
                 " value = excluded.value, expires_at = excluded.expires_at",
    [S_SET_VALUE] = "UPDATE kura_kv SET value = ?2 WHERE key = ?1",
    [S_SET_EXPIRY] = "UPDATE kura_kv SET expires_at = ?2 WHERE key = ?1",
    [S_Z_SCORE] = "SELECT score FROM kura_kv_zset WHERE key = ?1 AND member = ?2",
    [S_Z_UPSERT] = "INSERT INTO kura_kv_zset (key, member, score) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (key, member) DO UPDATE SET score = excluded.score",
    [S_Z_DEL] = "DELETE FROM kura_kv_zset WHERE key = ?1 AND member = ?2",
    [S_Z_CARD] = "SELECT count(*) FROM kura_kv_zset WHERE key = ?1",
    [S_Z_COUNT] = "SELECT count(*) FROM kura_kv_zset WHERE key = ?1 AND score >= ?2"
                  " AND score <= ?3",
    [S_Z_BELOW] = "SELECT count(*) FROM kura_kv_zset WHERE key = ?1"
                  " AND (score, member) < (?2, ?3)",
    [S_Z_ABOVE] = "SELECT count(*) FROM kura_kv_zset WHERE key = ?1"
                  " AND (score, member) > (?2, ?3)",
    [S_Z_RANGE] = "SELECT member, score FROM kura_kv_zset WHERE key = ?1"
                  " ORDER BY score, member LIMIT ?2 OFFSET ?3",
    [S_Z_REVRANGE] = "SELECT member, score FROM kura_kv_zset WHERE key = ?1"
                     " ORDER BY score DESC, member DESC LIMIT ?2 OFFSET ?3",
    [S_H_GET] = "SELECT value FROM kura_kv_hash WHERE key = ?1 AND field = ?2",
    [S_H_UPSERT] = "INSERT INTO kura_kv_hash (key, field, value) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (key, field) DO UPDATE SET value = excluded.value",
    [S_H_DEL] = "DELETE FROM kura_kv_hash WHERE key = ?1 AND field = ?2",
    [S_H_COUNT] = "SELECT count(*) FROM kura_kv_hash WHERE key = ?1",
    [S_H_ALL] = "SELECT field, value FROM kura_kv_hash WHERE key = ?1 ORDER BY field",
    [S_SWEEP] = "DELETE FROM kura_kv WHERE key IN (SELECT key FROM kura_kv"
                " WHERE expires_at <= ?1 LIMIT ?2)",
};

typedef struct embedded_kv {
    kura_kv base;
    sqlite3 *db;
    pthread_mutex_t mu;
    sqlite3_stmt *st[NSTMT];
    int64_t next_sweep_ms;
} embedded_kv;

/* One run's state: the connection, the clock, and whether writes are allowed. */
typedef struct run_ctx {
    embedded_kv *e;
    int64_t now;
    bool writable;
    kura_error *err;
} run_ctx;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool fail_sqlite(kura_error *err, sqlite3 *db, int rc, const char *what)
{
    int base = rc & 0xff;
    kura_code code = KURA_STORE;
    if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
        code = KURA_TIMEOUT;
    else if (base == SQLITE_NOMEM)
        code = KURA_NOMEM;
    else if (base == SQLITE_CANTOPEN || base == SQLITE_IOERR || base == SQLITE_READONLY ||
             base == SQLITE_FULL || base == SQLITE_PERM)
        code = KURA_IO;
    return kura_fail(err, code, NULL, "embedded: %s: %s", what,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* ---- statement helpers ------------------------------------------------------------------ */

/* A prepared statement, reset and unbound, ready for this use. */
static sqlite3_stmt *stmt(run_ctx *x, int which)
{
    sqlite3_stmt *s = x->e->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
    sqlite3_bind_blob(s, i, t, (int)strlen(t), SQLITE_STATIC);
}

/* A value as a BLOB; never NULL, so an empty value stays an empty value. */
static void bind_value(sqlite3_stmt *s, int i, const void *v, size_t len)
{
    sqlite3_bind_blob64(s, i, len ? v : "", len, SQLITE_STATIC);
}

/* Steps a statement that returns no row (or whose row is ignored). */
static bool exec_stmt(run_ctx *x, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail_sqlite(x->err, x->e->db, rc, what);
    return true;
}

/* Steps a statement returning one integer (count(*)). */
static bool query_int(run_ctx *x, sqlite3_stmt *s, int64_t *out, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else
        *out = 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_sqlite(x->err, x->e->db, rc, what);
    return true;
}

static bool copy_column(sqlite3_stmt *s, int col, kura_bytes *out)
{
    const void *p = sqlite3_column_blob(s, col);
    size_t n = (size_t)sqlite3_column_bytes(s, col);
    return kura_bytes_set(out, p ? p : "", n);
}

/*
 * The live type of key (T_NONE when missing or expired); *value (may be NULL)
 * gets a copy of a string's value, *expires (may be NULL) its expiry (0: none).
 * In a writable run an expired key found here is deleted.
 */
static bool lookup(run_ctx *x, const char *key, int *type, kura_bytes *value, int64_t *expires)
{
    sqlite3_stmt *s = stmt(x, S_LOOKUP);
    bind_text(s, 1, key);
    int rc = sqlite3_step(s);
    *type = T_NONE;
    if (expires)
        *expires = 0;
    bool expired = false;
    if (rc == SQLITE_ROW) {
        bool has_expiry = sqlite3_column_type(s, 2) != SQLITE_NULL;
        int64_t at = sqlite3_column_int64(s, 2);
        if (has_expiry && at <= x->now) {
            expired = true;
        } else {
            *type = sqlite3_column_int(s, 0);
            if (expires && has_expiry)
                *expires = at;
            if (value && *type == T_STRING && !copy_column(s, 1, value)) {
                sqlite3_reset(s);
                return kura_fail(x->err, KURA_NOMEM, NULL, "out of memory");
            }
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_sqlite(x->err, x->e->db, rc, "lookup");
    if (expired && x->writable) {
        s = stmt(x, S_DELETE);
        bind_text(s, 1, key);
        return exec_stmt(x, s, "purge");
    }
    return true;
}

/* Writes key's row: type, value (NULL for sets and hashes), expiry (0: none). */
static bool upsert(run_ctx *x, const char *key, int type, const void *value, size_t len,
                   int64_t expires)
{
    sqlite3_stmt *s = stmt(x, S_UPSERT);
    bind_text(s, 1, key);
    sqlite3_bind_int(s, 2, type);
    if (type == T_STRING)
        bind_value(s, 3, value, len);
    if (expires)
        sqlite3_bind_int64(s, 4, expires);
    return exec_stmt(x, s, "write");
}

static bool delete_key(run_ctx *x, const char *key)
{
    sqlite3_stmt *s = stmt(x, S_DELETE);
    bind_text(s, 1, key);
    return exec_stmt(x, s, "delete");
}

/* Redis's string2ll: optional '-', no '+', no leading zeros or spaces. */
static bool parse_ll(const char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    bool neg = p[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i >= n || p[i] < '1' || p[i] > '9')
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

/* ---- commands ------------------------------------------------------------------------ */

static void wrongtype(kura_kv_reply *out)
{
    kura_kv_reply_fail(out, KURA_STORE, KURA_KV_WRONGTYPE, -1);
}

/* Looks key up for a command on `want`: false on a store failure; *type is
 * T_NONE or want, and a key of another type is answered with WRONGTYPE
 * (*refused true). */
static bool lookup_as(run_ctx *x, const char *key, int want, int *type, bool *refused,
                      kura_kv_reply *out)
{
    *refused = false;
    if (!lookup(x, key, type, NULL, NULL))
        return false;
    if (*type != T_NONE && *type != want) {
        wrongtype(out);
        *refused = true;
    }
    return true;
}

static bool do_set(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    if (k->cond != KURA_KV_ALWAYS) {
        int type;
        if (!lookup(x, k->key, &type, NULL, NULL))
            return false;
        if ((k->cond == KURA_KV_IF_ABSENT) == (type != T_NONE))
            return true; /* not stored */
    }
    if (!upsert(x, k->key, T_STRING, k->value, k->len, k->ttl_ms ? x->now + k->ttl_ms : 0))
        return false;
    out->found = true;
    return true;
}

static bool do_incr(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    kura_bytes cur = {0};
    if (!lookup(x, k->key, &type, &cur, NULL))
        return false;
    int64_t v = 0;
    bool ok = true;
    if (type != T_NONE && type != T_STRING)
        wrongtype(out);
    else if (type == T_STRING && !parse_ll(cur.data, cur.len, &v))
        kura_kv_reply_fail(out, KURA_STORE, KURA_KV_NOT_INT, -1);
    else if ((k->by > 0 && v > INT64_MAX - k->by) || (k->by < 0 && v < INT64_MIN - k->by))
        kura_kv_reply_fail(out, KURA_STORE, KURA_KV_OVERFLOW, -1);
    else {
        v += k->by;
        char text[24];
        int n = snprintf(text, sizeof text, "%" PRId64, v);
        if (type == T_NONE) {
            ok = upsert(x, k->key, T_STRING, text, (size_t)n, 0);
        } else {
            sqlite3_stmt *s = stmt(x, S_SET_VALUE);
            bind_text(s, 1, k->key);
            bind_value(s, 2, text, (size_t)n);
            ok = exec_stmt(x, s, "incr");
        }
        out->integer = v;
    }
    kura_bytes_free(&cur);
    return ok;
}

/* A member's score; *found false when absent. */
static bool zscore(run_ctx *x, const char *key, const char *member, double *score, bool *found)
{
    sqlite3_stmt *s = stmt(x, S_Z_SCORE);
    bind_text(s, 1, key);
    bind_text(s, 2, member);
    int rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found)
        *score = sqlite3_column_double(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_sqlite(x->err, x->e->db, rc, "zscore");
    return true;
}

static bool do_zwrite(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    bool refused, found;
    double score = 0;
    if (!lookup_as(x, k->key, T_ZSET, &type, &refused, out))
        return false;
    if (refused)
        return true;
    if (type != T_NONE && !zscore(x, k->key, k->name, &score, &found))
        return false;
    if (type == T_NONE)
        found = false;
    double next = k->op == KV_ZADD ? k->score : (found ? score : 0) + k->score;
    if (isnan(next)) {
        kura_kv_reply_fail(out, KURA_STORE, KURA_KV_NAN, -1);
        return true;
    }
    if (type == T_NONE && !upsert(x, k->key, T_ZSET, NULL, 0, 0))
        return false;
    sqlite3_stmt *s = stmt(x, S_Z_UPSERT);
    bind_text(s, 1, k->key);
    bind_text(s, 2, k->name);
    sqlite3_bind_double(s, 3, next);
    if (!exec_stmt(x, s, "zadd"))
        return false;
    out->found = !found;
    out->score = next;
    if (k->op == KV_ZINCR)
        out->found = true;
    return true;
}

static bool do_zrank(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    bool refused, found = false;
    double score = 0;
    out->integer = -1;
    if (!lookup_as(x, k->key, T_ZSET, &type, &refused, out))
        return false;
    if (refused || type == T_NONE)
        return true;
    if (!zscore(x, k->key, k->name, &score, &found))
        return false;
    if (!found)
        return true;
    sqlite3_stmt *s = stmt(x, k->reverse ? S_Z_ABOVE : S_Z_BELOW);
    bind_text(s, 1, k->key);
    sqlite3_bind_double(s, 2, score);
    bind_text(s, 3, k->name);
    out->found = true;
    return query_int(x, s, &out->integer, "zrank");
}

/* Reads (name, score or value) rows into entries. */
static bool read_entries(run_ctx *x, sqlite3_stmt *s, bool scores, kura_kv_entries *e)
{
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (e->count == cap) {
            cap = cap ? cap * 2 : 16;
            kura_kv_entry *p = realloc(e->items, cap * sizeof *p);
            if (!p)
                goto nomem;
            e->items = p;
        }
        kura_kv_entry *it = &e->items[e->count];
        memset(it, 0, sizeof *it);
        const char *name = sqlite3_column_blob(s, 0);
        it->name = strndup(name ? name : "", (size_t)sqlite3_column_bytes(s, 0));
        if (!it->name)
            goto nomem;
        e->count++;
        if (scores)
            it->score = sqlite3_column_double(s, 1);
        else if (!copy_column(s, 1, &it->value))
            goto nomem;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail_sqlite(x->err, x->e->db, rc, "read");
    return true;
nomem:
    sqlite3_reset(s);
    return kura_fail(x->err, KURA_NOMEM, NULL, "out of memory");
}

static bool count_of(run_ctx *x, int which, const char *key, int64_t *n)
{
    sqlite3_stmt *s = stmt(x, which);
    bind_text(s, 1, key);
    return query_int(x, s, n, "count");
}

static bool do_zrange(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    bool refused;
    int64_t len;
    if (!lookup_as(x, k->key, T_ZSET, &type, &refused, out))
        return false;
    if (refused || type == T_NONE)
        return true;
    if (!count_of(x, S_Z_CARD, k->key, &len))
        return false;
    /* Redis's ZRANGE index rules. */
    int64_t start = k->start, stop = k->stop;
    if (start < 0)
        start += len;
    if (stop < 0)
        stop += len;
    if (start < 0)
        start = 0;
    if (start > stop || start >= len)
        return true;
    if (stop >= len)
        stop = len - 1;
    sqlite3_stmt *s = stmt(x, k->reverse ? S_Z_REVRANGE : S_Z_RANGE);
    bind_text(s, 1, k->key);
    sqlite3_bind_int64(s, 2, stop - start + 1);
    sqlite3_bind_int64(s, 3, start);
    return read_entries(x, s, true, &out->entries);
}

/* Deletes a member or field; drops the key when it was the last one. */
static bool do_remove(run_ctx *x, const kura_kv_cmd *k, int want, kura_kv_reply *out)
{
    int type;
    bool refused;
    if (!lookup_as(x, k->key, want, &type, &refused, out))
        return false;
    if (refused || type == T_NONE)
        return true;
    sqlite3_stmt *s = stmt(x, want == T_ZSET ? S_Z_DEL : S_H_DEL);
    bind_text(s, 1, k->key);
    bind_text(s, 2, k->name);
    if (!exec_stmt(x, s, "remove"))
        return false;
    out->found = sqlite3_changes(x->e->db) > 0;
    if (!out->found)
        return true;
    int64_t left;
    if (!count_of(x, want == T_ZSET ? S_Z_CARD : S_H_COUNT, k->key, &left))
        return false;
    return left > 0 || delete_key(x, k->key);
}

static bool do_hset(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    bool refused;
    if (!lookup_as(x, k->key, T_HASH, &type, &refused, out))
        return false;
    if (refused)
        return true;
    bool existed = false;
    if (type == T_NONE) {
        if (!upsert(x, k->key, T_HASH, NULL, 0, 0))
            return false;
    } else {
        sqlite3_stmt *s = stmt(x, S_H_GET);
        bind_text(s, 1, k->key);
        bind_text(s, 2, k->name);
        int rc = sqlite3_step(s);
        existed = rc == SQLITE_ROW;
        sqlite3_reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return fail_sqlite(x->err, x->e->db, rc, "hset");
    }
    sqlite3_stmt *s = stmt(x, S_H_UPSERT);
    bind_text(s, 1, k->key);
    bind_text(s, 2, k->name);
    bind_value(s, 3, k->value, k->len);
    out->found = !existed;
    return exec_stmt(x, s, "hset");
}

static bool do_hget(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    bool refused;
    if (!lookup_as(x, k->key, T_HASH, &type, &refused, out))
        return false;
    if (refused || type == T_NONE)
        return true;
    sqlite3_stmt *s = stmt(x, S_H_GET);
    bind_text(s, 1, k->key);
    bind_text(s, 2, k->name);
    int rc = sqlite3_step(s);
    bool ok = rc != SQLITE_ROW || copy_column(s, 0, &out->value);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_sqlite(x->err, x->e->db, rc, "hget");
    out->found = out->value.data != NULL;
    return ok ? true : kura_fail(x->err, KURA_NOMEM, NULL, "out of memory");
}

static bool do_one(run_ctx *x, const kura_kv_cmd *k, kura_kv_reply *out)
{
    int type;
    bool refused;
    int64_t expires;
    switch (k->op) {
    case KV_PING:
        return true;
    case KV_GET:
        if (!lookup(x, k->key, &type, &out->value, NULL))
            return false;
        if (type != T_NONE && type != T_STRING)
            wrongtype(out);
        out->found = out->value.data != NULL;
        return true;
    case KV_SET:
        return do_set(x, k, out);
    case KV_DEL:
        if (!lookup(x, k->key, &type, NULL, NULL))
            return false;
        out->found = type != T_NONE;
        return type == T_NONE || delete_key(x, k->key);
    case KV_EXISTS:
        if (!lookup(x, k->key, &type, NULL, NULL))
            return false;
        out->found = type != T_NONE;
        return true;
    case KV_EXPIRE: {
        if (!lookup(x, k->key, &type, NULL, NULL))
            return false;
        out->found = type != T_NONE;
        if (!out->found)
            return true;
        sqlite3_stmt *s = stmt(x, S_SET_EXPIRY);
        bind_text(s, 1, k->key);
        sqlite3_bind_int64(s, 2, x->now + k->ttl_ms);
        return exec_stmt(x, s, "expire");
    }
    case KV_TTL:
        if (!lookup(x, k->key, &type, NULL, &expires))
            return false;
        out->integer = type == T_NONE ? -2 : expires == 0 ? -1 : expires - x->now;
        return true;
    case KV_INCR:
        return do_incr(x, k, out);
    case KV_MGET:
        out->entries.items = calloc(k->n, sizeof *out->entries.items);
        if (!out->entries.items)
            return kura_fail(x->err, KURA_NOMEM, NULL, "out of memory");
        out->entries.count = k->n;
        for (size_t i = 0; i < k->n; i++) {
            kura_bytes *v = &out->entries.items[i].value;
            if (!lookup(x, k->keys[i], &type, v, NULL))
                return false;
        }
        return true;
    case KV_MSET:
        for (size_t i = 0; i < k->n; i++)
            if (!upsert(x, k->pairs[i].key, T_STRING, k->pairs[i].value, k->pairs[i].len, 0))
                return false;
        return true;
    case KV_ZADD:
    case KV_ZINCR:
        return do_zwrite(x, k, out);
    case KV_ZSCORE:
        if (!lookup_as(x, k->key, T_ZSET, &type, &refused, out))
            return false;
        if (refused || type == T_NONE)
            return true;
        return zscore(x, k->key, k->name, &out->score, &out->found);
    case KV_ZRANK:
        return do_zrank(x, k, out);
    case KV_ZRANGE:
        return do_zrange(x, k, out);
    case KV_ZREM:
        return do_remove(x, k, T_ZSET, out);
    case KV_ZCARD:
    case KV_ZCOUNT: {
        if (!lookup_as(x, k->key, T_ZSET, &type, &refused, out))
            return false;
        if (refused || type == T_NONE)
            return true;
        if (k->op == KV_ZCARD)
            return count_of(x, S_Z_CARD, k->key, &out->integer);
        sqlite3_stmt *s = stmt(x, S_Z_COUNT);
        bind_text(s, 1, k->key);
        sqlite3_bind_double(s, 2, k->score);
        sqlite3_bind_double(s, 3, k->max);
        return query_int(x, s, &out->integer, "zcount");
    }
    case KV_HSET:
        return do_hset(x, k, out);
    case KV_HGET:
        return do_hget(x, k, out);
    case KV_HGETALL: {
        if (!lookup_as(x, k->key, T_HASH, &type, &refused, out))
            return false;
        if (refused || type == T_NONE)
            return true;
        sqlite3_stmt *s = stmt(x, S_H_ALL);
        bind_text(s, 1, k->key);
        return read_entries(x, s, false, &out->entries);
    }
    case KV_HDEL:
        return do_remove(x, k, T_HASH, out);
    }
    return kura_fail(x->err, KURA_INVALID, NULL, "unknown command %d", (int)k->op);
}

/* Deletes up to `limit` expired keys; *n gets how many. Caller holds the mutex. */
static bool sweep(embedded_kv *e, int64_t now, int64_t limit, int64_t *n, kura_error *err)
{
    run_ctx x = {.e = e, .now = now, .writable = true, .err = err};
    sqlite3_stmt *s = stmt(&x, S_SWEEP);
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, limit);
    if (!exec_stmt(&x, s, "sweep"))
        return false;
    *n = sqlite3_changes(e->db);
    return true;
}

static bool step_simple(embedded_kv *e, int which, kura_error *err)
{
    sqlite3_stmt *s = e->st[which];
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail_sqlite(err, e->db, rc, sql[which]);
    return true;
}

/* The tables and statements, made on first use (with e->mu held): an app that
 * never touches its key-value store leaves no kura_kv tables in the user's file. */
static bool ready(embedded_kv *e, kura_error *err)
{
    if (e->st[NSTMT - 1])
        return true;
    int rc = sqlite3_exec(e->db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail_sqlite(err, e->db, rc, "creating the kura_kv tables");
    for (int i = 0; i < NSTMT; i++) {
        if (e->st[i])
            continue;
        rc = sqlite3_prepare_v3(e->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &e->st[i], NULL);
        if (rc != SQLITE_OK)
            return fail_sqlite(err, e->db, rc, "prepare");
    }
    return true;
}

static bool em_run(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                   kura_kv_blocks *values, kura_error *err)
{
    (void)values; /* SQLite's values are copied out one by one anyway: each is malloc'd */
    embedded_kv *e = (embedded_kv *)kv;
    /* Reads leave an expired key they meet to the sweep. */
    bool writable = false;
    for (size_t i = 0; i < n && !writable; i++)
        writable = !(kura__kv_op_traits[cmds[i].op] & KV_READS);
    pthread_mutex_lock(&e->mu);
    if (!ready(e, err)) {
        pthread_mutex_unlock(&e->mu);
        return false;
    }
    run_ctx x = {.e = e, .now = now_ms(), .writable = writable, .err = err};
    /* One statement needs no transaction of its own: a lone GET runs in autocommit. */
    bool txn = n > 1 || writable || (cmds[0].op != KV_GET && cmds[0].op != KV_PING);
    bool ok = !txn || step_simple(e, writable ? S_BEGIN_WRITE : S_BEGIN, err);
    if (ok) {
        for (size_t i = 0; i < n && ok; i++)
            ok = do_one(&x, &cmds[i], &replies[i]);
        if (txn) {
            if (ok)
                ok = step_simple(e, S_COMMIT, err);
            if (!ok)
                step_simple(e, S_ROLLBACK, NULL);
        }
    }
    /* A writer sweeps now and then, so expired keys that nobody reads go too. */
    if (ok && writable && x.now >= e->next_sweep_ms) {
        int64_t purged = 0;
        kura_error ignored;
        if (sweep(e, x.now, SWEEP_BATCH, &purged, &ignored))
            e->next_sweep_ms = purged == SWEEP_BATCH ? x.now : x.now + SWEEP_EVERY_MS;
    }
    pthread_mutex_unlock(&e->mu);
    return ok;
}

static bool em_purge(kura_kv *kv, int64_t *purged, kura_error *err)
{
    embedded_kv *e = (embedded_kv *)kv;
    pthread_mutex_lock(&e->mu);
    bool ok = ready(e, err) && sweep(e, now_ms(), INT64_MAX, purged, err);
    pthread_mutex_unlock(&e->mu);
    return ok;
}

static void em_close(kura_kv *kv)
{
    embedded_kv *e = (embedded_kv *)kv;
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(e->st[i]);
    sqlite3_close_v2(e->db);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

static const char *em_file(kura_kv *kv)
{
    const char *f = sqlite3_db_filename(((embedded_kv *)kv)->db, "main");
    return f && *f ? f : NULL;
}

static const kura_kv_ops embedded_ops = {
    .name = "embedded",
    .close = em_close,
    .run = em_run,
    .purge = em_purge,
    .file = em_file,
};

kura_kv *kura_embedded_kv_open_file(const char *path, const char *sync, long busy_ms,
                                    bool inherit_journal, kura_error *err)
{
    bool memory = strcmp(path, ":memory:") == 0;
    embedded_kv *e = calloc(1, sizeof *e);
    if (!e) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    e->base.ops = &embedded_ops;
    pthread_mutex_init(&e->mu, NULL);
    int rc = sqlite3_open_v2(
        path, &e->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        kura_fail(err, KURA_IO, NULL, "embedded: cannot open '%.128s': %s", path,
                  e->db ? sqlite3_errmsg(e->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(e->db, (int)busy_ms);
    sqlite3_extended_result_codes(e->db, 1);
    /* Sessions and caches: a commit survives a crash of the app; NORMAL in WAL
     * may lose the last commits on power loss, as Redis without fsync would. */
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas, "PRAGMA synchronous=%s;", sync ? sync : "normal");
    rc = memory || inherit_journal
             ? SQLITE_OK
             : kura__sqlite_exec_busy(e->db, "PRAGMA journal_mode=WAL", busy_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(e->db, pragmas, NULL, NULL, NULL);
    /* Reading the schema's version reads the file's header: a file that is not a
     * database is refused here, at open, though the tables come on first use. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(e->db, "PRAGMA schema_version", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fail_sqlite(err, e->db, rc, "opening the key-value store");
        goto fail;
    }
    e->next_sweep_ms = 0; /* the first write sweeps what expired while we were away */
    return &e->base;
fail:
    em_close(&e->base);
    return NULL;
}

static const char *const embedded_options[] = {"busy_timeout", "synchronous", NULL};

kura_kv *kura_embedded_kv_open(const char *url, kura_error *err)
{
    /* "embedded:" and "embedded://:memory:" have no path: in memory. */
    char rewritten[512];
    const char *parse = url;
    if (strncmp(url, "embedded://:memory:", 19) == 0) {
        snprintf(rewritten, sizeof rewritten, "embedded:///:memory:%s", url + 19);
        parse = rewritten;
    } else if (strcmp(url, "embedded:") == 0 || strncmp(url, "embedded:?", 10) == 0) {
        snprintf(rewritten, sizeof rewritten, "embedded:///:memory:%s", url + 9);
        parse = rewritten;
    }
    kura_url u;
    if (!kura_url_parse(parse, &u, err))
        return NULL;
    kura_kv *kv = NULL;
    long busy;
    const char *sync = kura_url_param(&u, "synchronous");
    if (u.host || u.user || u.port || !u.path || !*u.path) {
        kura_fail(err, KURA_CONFIG, NULL,
                  "malformed embedded URL '%.64s': expected embedded:, embedded:///file.db or "
                  "embedded:////absolute/file.db",
                  url);
        goto out;
    }
    if (!kura_url_check_params(&u, embedded_options, err) ||
        !kura_url_param_int(&u, "busy_timeout", 0, 3600000, 5000, &busy, err))
        goto out;
    if (sync && strcasecmp(sync, "off") != 0 && strcasecmp(sync, "normal") != 0 &&
        strcasecmp(sync, "full") != 0 && strcasecmp(sync, "extra") != 0) {
        kura_fail(err, KURA_CONFIG, NULL,
                  "synchronous='%.16s' is not one of off, normal, full, extra", sync);
        goto out;
    }
    kv = kura_embedded_kv_open_file(u.path, sync, busy, false, err);
out:
    kura_url_free(&u);
    return kv;
}
