/*
 * sql_stmt.c — each connection's prepared statements, cached by SQL text, and
 * running one to completion.
 *
 * A connection keeps an open-addressing table of its statements keyed by the
 * SQL text's hash; the fixed statements of a model hash once (model_sql), so
 * the hot paths look theirs up without hashing the text again.
 */
#include "sql/sql_store_private.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_MAX 512

uint64_t kura__sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void kura__sql_cache_clear(const kura_sql_driver *drv, pconn *pc, bool all)
{
    for (size_t i = 0; i < pc->cache_cap; i++) {
        cached_stmt *c = &pc->cache[i];
        if (!c->sql || (c->in_use && !all))
            continue;
        drv->finalize(c->stmt);
        free(c->sql);
        c->sql = NULL;
        c->in_use = false;
        pc->cache_count--;
    }
}

static bool cache_grow(pconn *pc)
{
    size_t cap = pc->cache_cap ? pc->cache_cap * 2 : 64;
    cached_stmt *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    for (size_t i = 0; i < pc->cache_cap; i++) {
        cached_stmt *c = &pc->cache[i];
        if (!c->sql)
            continue;
        size_t j = c->hash & (cap - 1);
        while (n[j].sql)
            j = (j + 1) & (cap - 1);
        n[j] = *c;
    }
    free(pc->cache);
    pc->cache = n;
    pc->cache_cap = cap;
    return true;
}

/*
 * The cached statement for sql on pc, prepared on first use. A statement
 * already in use (a cursor over the same query on the same connection) gets a
 * fresh, uncached one: the caller finalises it when cs->sql is NULL.
 */
cached_stmt *kura__sql_stmt_get_hashed(sql_store *s, pconn *pc, const char *sql, uint64_t h,
                                       cached_stmt *scratch, kura_error *err)
{
    if (pc->cache_cap) {
        for (size_t j = h & (pc->cache_cap - 1);; j = (j + 1) & (pc->cache_cap - 1)) {
            cached_stmt *c = &pc->cache[j];
            if (!c->sql)
                break;
            if (c->hash == h && strcmp(c->sql, sql) == 0) {
                if (!c->in_use) {
                    c->in_use = true;
                    pc->cache_busy++;
                    return c;
                }
                scratch->sql = NULL;
                scratch->stmt = s->drv->prepare(pc->conn, sql, err);
                if (!scratch->stmt)
                    return NULL;
                scratch->in_use = true;
                return scratch;
            }
        }
    }
    kura_sql_stmt *st = s->drv->prepare(pc->conn, sql, err);
    if (!st)
        return NULL;
    if (pc->cache_count >= CACHE_MAX)
        kura__sql_cache_clear(s->drv, pc, false); /* in-use entries stay where they are */
    if ((pc->cache_count + 1) * 2 > pc->cache_cap && pc->cache_busy > 0) {
        /* Growing moves the array, and a cursor holds a pointer into it: this
         * statement goes uncached instead. */
        scratch->sql = NULL;
        scratch->stmt = st;
        scratch->in_use = true;
        return scratch;
    }
    if ((pc->cache_count + 1) * 2 > pc->cache_cap && !cache_grow(pc)) {
        s->drv->finalize(st);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory caching a statement");
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        s->drv->finalize(st);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory caching a statement");
        return NULL;
    }
    size_t j = h & (pc->cache_cap - 1);
    while (pc->cache[j].sql)
        j = (j + 1) & (pc->cache_cap - 1);
    pc->cache[j] = (cached_stmt){copy, h, st, true};
    pc->cache_count++;
    pc->cache_busy++;
    return &pc->cache[j];
}

cached_stmt *kura__sql_stmt_get(sql_store *s, pconn *pc, const char *sql, cached_stmt *scratch,
                                kura_error *err)
{
    return kura__sql_stmt_get_hashed(s, pc, sql, kura__sql_hash(sql), scratch, err);
}

bool kura__sql_stmt_bound(sql_store *s, pconn *pc, const char *sql, const kura_value *params,
                          size_t n, cached_stmt *scratch, cached_stmt **cs, kura_error *err)
{
    *cs = kura__sql_stmt_get(s, pc, sql, scratch, err);
    bool ok = *cs != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = s->drv->bind((*cs)->stmt, (int)i, &params[i], err);
    return ok;
}

/* Runs a statement with no parameters on a borrowed connection. */
bool kura__sql_exec_plain(sql_store *s, const char *sql, kura_error *err)
{
    bool borrowed;
    pconn *pc = kura__sql_borrow(s, &borrowed, err);
    if (!pc)
        return false;
    bool ok = s->drv->exec(pc->conn, sql, err);
    if (!ok)
        kura__sql_note_failure(pc);
    else
        kura__sql_note_ddl(s, sql);
    kura__sql_give_back(s, pc, borrowed);
    return ok;
}

/* Prepares sql with params bound, runs it to completion; *changes gets the count. */
bool kura__sql_run_params(sql_store *s, pconn *pc, const char *sql, const kura_value *params,
                          size_t n, int64_t *changes, kura_error *err)
{
    cached_stmt scratch, *cs;
    bool ok = kura__sql_stmt_bound(s, pc, sql, params, n, &scratch, &cs, err);
    if (!cs) {
        kura__sql_note_failure(pc);
        return false;
    }
    int rc = 0;
    if (ok) {
        while ((rc = s->drv->step(cs->stmt, err)) == 1)
            ;
        ok = rc == 0;
    }
    if (ok && changes)
        *changes = s->drv->changes(cs->stmt);
    if (!ok)
        kura__sql_note_failure(pc);
    kura__sql_stmt_put(s, pc, cs);
    return ok;
}
