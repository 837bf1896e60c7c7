/*
 * kv.c — the public key-value API: argument checks, then one command handed
 * to the driver's run function (batches: batch.c).
 */
#include <kura/kv.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "kv/kv_private.h"

/* ---- values ---------------------------------------------------------------------- */

void kura_bytes_free(kura_bytes *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

bool kura_bytes_set(kura_bytes *b, const void *data, size_t len)
{
    b->data = malloc(len + 1);
    if (!b->data) {
        b->len = 0;
        return false;
    }
    if (len)
        memcpy(b->data, data, len);
    b->data[len] = '\0';
    b->len = len;
    return true;
}

void kura_kv_entries_free(kura_kv_entries *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->count; i++) {
        free(e->items[i].name);
        kura_bytes_free(&e->items[i].value);
    }
    free(e->items);
    e->items = NULL;
    e->count = 0;
}

void kura_kv_reply_fail(kura_kv_reply *r, kura_code code, const char *msg, int len)
{
    r->code = code;
    free(r->error);
    size_t n = len < 0 ? strlen(msg) : (size_t)len;
    r->error = malloc(n + 1);
    if (r->error) {
        memcpy(r->error, msg, n);
        r->error[n] = '\0';
    }
}

void kura_kv_reply_clear(kura_kv_reply *r)
{
    free(r->error);
    kura_bytes_free(&r->value);
    kura_kv_entries_free(&r->entries);
    memset(r, 0, sizeof *r);
}

/* ---- opening (kura_kv_open is in src/app/drivers.c: one table for every store kind) - */

/* The file of a sqlite: URL (malloc'd; ":memory:" for memory), or NULL with
 * *is_sqlite false when it is not a SQLite URL. */
static char *sqlite_file(const char *database_url, bool *is_sqlite, kura_error *err)
{
    *is_sqlite = database_url && strncmp(database_url, "sqlite:", 7) == 0;
    if (!*is_sqlite)
        return NULL;
    if (strncmp(database_url, "sqlite://:memory:", 17) == 0)
        return strdup(":memory:");
    kura_url u;
    if (!kura_url_parse(database_url, &u, err))
        return NULL;
    char *path = u.path && *u.path && !u.host ? strdup(u.path) : NULL;
    if (!path)
        kura_fail(err, KURA_CONFIG, NULL, "SQLite URL '%.64s' names no file", database_url);
    kura_url_free(&u);
    return path;
}

kura_kv *kura_kv_open_for_app(const char *url, const char *database_url, char **data_file,
                              kura_error *err)
{
    if (data_file)
        *data_file = NULL;
    if (!url || !*url)
        url = "embedded:";
    bool is_sqlite = false;
    char *db_file = sqlite_file(database_url, &is_sqlite, err);
    if (is_sqlite && !db_file)
        return NULL;
    kura_kv *kv = NULL;
    if (strcmp(url, "embedded:") != 0) {
        kv = kura_kv_open(url, err);
    } else if (!is_sqlite) {
        /* The database cannot hold it (PostgreSQL): a file of its own, beside kura.db's
         * default place, so moving to PostgreSQL needs no other setting. */
        kv = kura_embedded_kv_open_file(KURA_EMBEDDED_KV_DEFAULT_FILE, NULL, 5000, false, err);
    } else {
        kv = kura_embedded_kv_open_file(db_file, NULL, 5000, true, err);
    }
    if (kv && data_file) {
        const char *f = kv->ops->file ? kv->ops->file(kv) : NULL;
        if (!f && db_file && strcmp(db_file, ":memory:") != 0)
            f = db_file;
        if (f && !(*data_file = strdup(f))) {
            kura_kv_close(kv);
            kv = NULL;
            kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        }
    }
    free(db_file);
    return kv;
}

void kura_kv_close(kura_kv *kv)
{
    if (kv)
        kv->ops->close(kv);
}

const unsigned char kura__kv_op_traits[KV_HDEL + 1] = {
    [KV_PING] = KV_READS,
    [KV_GET] = KV_READS,
    [KV_SET] = 0, /* SET ALWAYS: below */
    [KV_DEL] = 0,
    [KV_EXISTS] = KV_READS,
    [KV_EXPIRE] = KV_REPEATABLE,
    [KV_TTL] = KV_READS,
    [KV_INCR] = 0,
    [KV_MGET] = KV_READS,
    [KV_MSET] = KV_REPEATABLE,
    [KV_ZADD] = 0,
    [KV_ZINCR] = 0,
    [KV_ZSCORE] = KV_READS,
    [KV_ZRANK] = KV_READS,
    [KV_ZRANGE] = KV_READS,
    [KV_ZREM] = 0,
    [KV_ZCARD] = KV_READS,
    [KV_ZCOUNT] = KV_READS,
    [KV_HSET] = 0,
    [KV_HGET] = KV_READS,
    [KV_HGETALL] = KV_READS,
    [KV_HDEL] = 0,
};

const char *kura_kv_driver(const kura_kv *kv)
{
    return kv ? kv->ops->name : "";
}

/* ---- one command ---------------------------------------------------------------------- */

/* Runs one command; on a refusal moves the store's message into err. On
 * success the caller takes what *r owns. */
static bool run1(kura_kv *kv, const kura_kv_cmd *c, kura_kv_reply *r, kura_error *err)
{
    memset(r, 0, sizeof *r);
    if (!kura__kv_run(kv, c, 1, r, err)) {
        kura_kv_reply_clear(r);
        return false;
    }
    if (r->code != KURA_OK) {
        kura_fail(err, r->code, NULL, "%s: %s", kv->ops->name,
                  r->error ? r->error : kura_code_text(r->code));
        kura_kv_reply_clear(r);
        return false;
    }
    return true;
}

static bool check_kv(const kura_kv *kv, const char *key, kura_error *err)
{
    if (!kv)
        return kura_fail(err, KURA_INVALID, NULL, "NULL key-value store");
    if (!key)
        return kura_fail(err, KURA_INVALID, NULL, "NULL key");
    return true;
}

static bool check_value(const void *value, size_t len, kura_error *err)
{
    if (!value && len)
        return kura_fail(err, KURA_INVALID, NULL, "NULL value of %zu bytes", len);
    return true;
}

static bool check_ttl(int64_t ttl_ms, bool required, kura_error *err)
{
    if (ttl_ms < 0 || (required && ttl_ms == 0))
        return kura_fail(err, KURA_INVALID, NULL, "TTL of %lld ms: it must be %s",
                         (long long)ttl_ms, required ? "positive" : "0 (none) or positive");
    if (ttl_ms > KURA_KV_TTL_MAX)
        return kura_fail(err, KURA_INVALID, NULL, "TTL of %lld ms: it must be at most %lld",
                         (long long)ttl_ms, (long long)KURA_KV_TTL_MAX);
    return true;
}

bool kura_kv_ping(kura_kv *kv, kura_error *err)
{
    if (!kv)
        return kura_fail(err, KURA_INVALID, NULL, "NULL key-value store");
    kura_kv_cmd c = {.op = KV_PING};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_get(kura_kv *kv, const char *key, kura_bytes *out, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    kura_kv_cmd c = {.op = KV_GET, .key = key};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    *out = r.value;
    r.value.data = NULL;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_set_if(kura_kv *kv, const char *key, const void *value, size_t len, int64_t ttl_ms,
                    kura_kv_cond cond, bool *stored, kura_error *err)
{
    if (!check_kv(kv, key, err) || !check_value(value, len, err) || !check_ttl(ttl_ms, false, err))
        return false;
    if (cond != KURA_KV_ALWAYS && cond != KURA_KV_IF_ABSENT && cond != KURA_KV_IF_PRESENT)
        return kura_fail(err, KURA_INVALID, NULL, "unknown SET condition %d", (int)cond);
    kura_kv_cmd c = {
        .op = KV_SET, .key = key, .value = value, .len = len, .ttl_ms = ttl_ms, .cond = cond};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    if (stored)
        *stored = r.found;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_set(kura_kv *kv, const char *key, const void *value, size_t len, int64_t ttl_ms,
                 kura_error *err)
{
    return kura_kv_set_if(kv, key, value, len, ttl_ms, KURA_KV_ALWAYS, NULL, err);
}

/* Runs a command whose answer is one flag. */
static bool run_flag(kura_kv *kv, const kura_kv_cmd *c, bool *flag, kura_error *err)
{
    kura_kv_reply r;
    if (!run1(kv, c, &r, err))
        return false;
    if (flag)
        *flag = r.found;
    kura_kv_reply_clear(&r);
    return true;
}

/* Runs a command whose answer is one integer. */
static bool run_int(kura_kv *kv, const kura_kv_cmd *c, int64_t *out, kura_error *err)
{
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    kura_kv_reply r;
    if (!run1(kv, c, &r, err))
        return false;
    *out = r.integer;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_del(kura_kv *kv, const char *key, bool *deleted, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    kura_kv_cmd c = {.op = KV_DEL, .key = key};
    return run_flag(kv, &c, deleted, err);
}

bool kura_kv_exists(kura_kv *kv, const char *key, bool *exists, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    if (!exists)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    kura_kv_cmd c = {.op = KV_EXISTS, .key = key};
    return run_flag(kv, &c, exists, err);
}

bool kura_kv_expire(kura_kv *kv, const char *key, int64_t ttl_ms, bool *set, kura_error *err)
{
    if (!check_kv(kv, key, err) || !check_ttl(ttl_ms, true, err))
        return false;
    kura_kv_cmd c = {.op = KV_EXPIRE, .key = key, .ttl_ms = ttl_ms};
    return run_flag(kv, &c, set, err);
}

bool kura_kv_ttl(kura_kv *kv, const char *key, int64_t *ttl_ms, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    kura_kv_cmd c = {.op = KV_TTL, .key = key};
    return run_int(kv, &c, ttl_ms, err);
}

bool kura_kv_incr(kura_kv *kv, const char *key, int64_t by, int64_t *result, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    kura_kv_cmd c = {.op = KV_INCR, .key = key, .by = by};
    int64_t ignored;
    return run_int(kv, &c, result ? result : &ignored, err);
}

bool kura_kv_mget(kura_kv *kv, const char *const *keys, size_t n, kura_kv_entries *out,
                  kura_error *err)
{
    if (!kv || !out || (n && !keys))
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    for (size_t i = 0; i < n; i++)
        if (!keys[i])
            return kura_fail(err, KURA_INVALID, NULL, "key %zu is NULL", i);
    out->items = NULL;
    out->count = 0;
    if (n == 0)
        return true;
    kura_kv_cmd c = {.op = KV_MGET, .keys = keys, .n = n};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    *out = r.entries;
    r.entries.items = NULL;
    r.entries.count = 0;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_mset(kura_kv *kv, const kura_kv_pair *pairs, size_t n, kura_error *err)
{
    if (!kv || (n && !pairs))
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    for (size_t i = 0; i < n; i++)
        if (!pairs[i].key || !check_value(pairs[i].value, pairs[i].len, err))
            return pairs[i].key ? false : kura_fail(err, KURA_INVALID, NULL, "key %zu is NULL", i);
    if (n == 0)
        return true;
    kura_kv_cmd c = {.op = KV_MSET, .pairs = pairs, .n = n};
    return run_flag(kv, &c, NULL, err);
}

/* ---- sorted sets ------------------------------------------------------------------------ */

static bool check_member(kura_kv *kv, const char *key, const char *member, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    if (!member)
        return kura_fail(err, KURA_INVALID, NULL, "NULL member or field");
    return true;
}

static bool check_score(double score, kura_error *err)
{
    if (isnan(score))
        return kura_fail(err, KURA_INVALID, NULL, "a score is NaN");
    return true;
}

bool kura_kv_zadd(kura_kv *kv, const char *key, const char *member, double score, bool *added,
                  kura_error *err)
{
    if (!check_member(kv, key, member, err) || !check_score(score, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZADD, .key = key, .name = member, .score = score};
    return run_flag(kv, &c, added, err);
}

bool kura_kv_zincr(kura_kv *kv, const char *key, const char *member, double by, double *score,
                   kura_error *err)
{
    if (!check_member(kv, key, member, err) || !check_score(by, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZINCR, .key = key, .name = member, .score = by};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    if (score)
        *score = r.score;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_zscore(kura_kv *kv, const char *key, const char *member, double *score, bool *found,
                    kura_error *err)
{
    if (!check_member(kv, key, member, err))
        return false;
    if (!score || !found)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    kura_kv_cmd c = {.op = KV_ZSCORE, .key = key, .name = member};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    *found = r.found;
    if (r.found)
        *score = r.score;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_zrank(kura_kv *kv, const char *key, const char *member, bool reverse, int64_t *rank,
                   kura_error *err)
{
    if (!check_member(kv, key, member, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZRANK, .key = key, .name = member, .reverse = reverse};
    return run_int(kv, &c, rank, err);
}

/* Moves a reply's list into *out. */
static bool run_list(kura_kv *kv, const kura_kv_cmd *c, kura_kv_entries *out, kura_error *err)
{
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    out->items = NULL;
    out->count = 0;
    kura_kv_reply r;
    if (!run1(kv, c, &r, err))
        return false;
    *out = r.entries;
    r.entries.items = NULL;
    r.entries.count = 0;
    kura_kv_reply_clear(&r);
    return true;
}

bool kura_kv_zrange(kura_kv *kv, const char *key, int64_t start, int64_t stop, bool reverse,
                    kura_kv_entries *out, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZRANGE, .key = key, .start = start, .stop = stop, .reverse = reverse};
    return run_list(kv, &c, out, err);
}

bool kura_kv_zrem(kura_kv *kv, const char *key, const char *member, bool *removed, kura_error *err)
{
    if (!check_member(kv, key, member, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZREM, .key = key, .name = member};
    return run_flag(kv, &c, removed, err);
}

bool kura_kv_zcard(kura_kv *kv, const char *key, int64_t *count, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZCARD, .key = key};
    return run_int(kv, &c, count, err);
}

bool kura_kv_zcount(kura_kv *kv, const char *key, double min, double max, int64_t *count,
                    kura_error *err)
{
    if (!check_kv(kv, key, err) || !check_score(min, err) || !check_score(max, err))
        return false;
    kura_kv_cmd c = {.op = KV_ZCOUNT, .key = key, .score = min, .max = max};
    return run_int(kv, &c, count, err);
}

/* ---- hashes ------------------------------------------------------------------------------ */

bool kura_kv_hset(kura_kv *kv, const char *key, const char *field, const void *value, size_t len,
                  bool *created, kura_error *err)
{
    if (!check_member(kv, key, field, err) || !check_value(value, len, err))
        return false;
    kura_kv_cmd c = {.op = KV_HSET, .key = key, .name = field, .value = value, .len = len};
    return run_flag(kv, &c, created, err);
}

bool kura_kv_hget(kura_kv *kv, const char *key, const char *field, kura_bytes *out, kura_error *err)
{
    if (!check_member(kv, key, field, err))
        return false;
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    kura_kv_cmd c = {.op = KV_HGET, .key = key, .name = field};
    kura_kv_reply r;
    if (!run1(kv, &c, &r, err))
        return false;
    *out = r.value;
    r.value.data = NULL;
    kura_kv_reply_clear(&r);
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const kura_kv_entry *)a)->name, ((const kura_kv_entry *)b)->name);
}

bool kura_kv_hgetall(kura_kv *kv, const char *key, kura_kv_entries *out, kura_error *err)
{
    if (!check_kv(kv, key, err))
        return false;
    kura_kv_cmd c = {.op = KV_HGETALL, .key = key};
    if (!run_list(kv, &c, out, err))
        return false;
    /* Redis's order depends on the hash's encoding; one defined order for both. */
    if (out->count > 1)
        qsort(out->items, out->count, sizeof out->items[0], by_name);
    return true;
}

bool kura_kv_hdel(kura_kv *kv, const char *key, const char *field, bool *deleted, kura_error *err)
{
    if (!check_member(kv, key, field, err))
        return false;
    kura_kv_cmd c = {.op = KV_HDEL, .key = key, .name = field};
    return run_flag(kv, &c, deleted, err);
}

bool kura_kv_purge(kura_kv *kv, int64_t *purged, kura_error *err)
{
    if (!kv)
        return kura_fail(err, KURA_INVALID, NULL, "NULL key-value store");
    int64_t ignored;
    if (!purged)
        purged = &ignored;
    *purged = 0;
    return kv->ops->purge ? kv->ops->purge(kv, purged, err) : true;
}
