/*
 * mongo.c — the MongoDB document store, through libmongoc.
 *
 * A mongoc_client_pool_t is shared by all threads (libmongoc's thread-safe
 * pool); each operation pops a client and pushes it back, a cursor keeps one
 * until closed. The URI configures everything libmongoc knows (replica sets,
 * TLS, auth, maxPoolSize, timeouts); kura adds nothing to it.
 *
 * Ids: for int64 keys `_id` is an int64 taken from the counter document
 * {_id: <collection>} in `kura_counters` with findAndModify {$inc: {seq: n}}
 * (upsert), so ids are small integers in every document driver and a batch
 * takes n in one trip. The other key kinds arrive made (store.c): an
 * ObjectId or a string `_id` (mongo_private.h says how they are matched).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log_private.h"
#include "document/document_private.h"
#include "document/mongo_private.h"
#include "document/mongoc_api.h"
#include "model/types.h"
#include "model/model_private.h"

/* libmongoc's functions (mongoc_api.h): loaded before the first store opens. */
#define MC (kura__mongoc())

typedef struct mongo_model {
    const kura_model *model;
    bool ensured; /* indexes created by this store */
    struct mongo_model *next;
} mongo_model;

typedef struct mongo_store {
    kura_store base;
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char *dbname;
    pthread_mutex_t lock;
    mongo_model *models;
} mongo_store;

typedef struct mongo_cursor {
    kura_cursor base;
    mongo_store *s;
    mongoc_client_t *client;
    mongoc_collection_t *coll;
    mongoc_cursor_t *cur; /* NULL: no rows (limit 0) */
} mongo_cursor;

static const kura_store_ops mongo_ops;

bool kura_mongo_is(const kura_store *store)
{
    return store && store->ops == &mongo_ops;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* libmongoc's log lines go to kura's log handler (kura/log.h), not to stderr. */
static void on_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message,
                          void *ctx)
{
    (void)ctx;
    kura_log_level l = level <= MONGOC_LOG_LEVEL_CRITICAL  ? KURA_LOG_ERROR
                       : level == MONGOC_LOG_LEVEL_WARNING ? KURA_LOG_WARN
                       : level <= MONGOC_LOG_LEVEL_INFO    ? KURA_LOG_INFO
                                                           : KURA_LOG_DEBUG;
    char source[64];
    snprintf(source, sizeof source, "mongoc %s", domain ? domain : "");
    kura__log(l, source, message ? message : "");
}

static void init_mongoc(void)
{
    /* Process-wide, as libmongoc is. (Its constructor ran mongoc_init when it
     * was loaded; calling it again is what its documentation asks, and free.) */
    MC->log_set_handler(on_mongoc_log, NULL);
    MC->log_trace_disable();
    MC->init();
}

/* ---- errors ------------------------------------------------------------------ */

static bool fail_bson(kura_error *err, const bson_error_t *e, const char *what)
{
    kura_code code = KURA_STORE;
    if (e->code == 11000 || e->code == 11001)
        code = KURA_CONSTRAINT;
    else if (e->domain == MONGOC_ERROR_SERVER_SELECTION || e->domain == MONGOC_ERROR_STREAM)
        code = KURA_UNAVAILABLE;
    else if (e->domain == MONGOC_ERROR_CLIENT && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
        code = KURA_AUTH;
    return kura_fail(err, code, NULL, "mongodb: %s: %s", what, e->message);
}

/* ---- clients and collections ------------------------------------------------- */

static mongoc_collection_t *coll_for(mongo_store *s, mongoc_client_t *c, const char *name)
{
    return MC->client_get_collection(c, s->dbname, name);
}

static mongoc_client_t *pop(mongo_store *s, kura_error *err)
{
    mongoc_client_t *c = MC->client_pool_pop(s->pool);
    if (!c)
        kura_fail(err, KURA_TIMEOUT, NULL, "mongodb: no client came free");
    return c;
}

static void push(mongo_store *s, mongoc_client_t *c)
{
    if (c)
        MC->client_pool_push(s->pool, c);
}

static mongo_model *model_entry(mongo_store *s, const kura_model *m, kura_error *err)
{
    pthread_mutex_lock(&s->lock);
    mongo_model *mm = s->models;
    while (mm && mm->model != m)
        mm = mm->next;
    if (!mm) {
        mm = calloc(1, sizeof *mm);
        if (mm) {
            mm->model = m;
            mm->next = s->models;
            s->models = mm;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (!mm)
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    return mm;
}

/* The partial-index type filter for a field: a unique index then ignores
 * documents where the field is null or missing, as a SQL UNIQUE does. */
static const char *bson_type_alias(kura_type t)
{
    return kura__type(t)->bson_alias;
}

static bool create_indexes(mongo_store *s, mongoc_client_t *c, mongo_model *mm, kura_error *err)
{
    const kura_model *m = mm->model;
    if (!kura__declaration_check(m, err)) /* unique_with names fields that exist */
        return false;
    bson_t cmd = BSON_INITIALIZER, arr;
    bson_append_utf8(&cmd, "createIndexes", -1, m->name, -1);
    bson_append_array_begin(&cmd, "indexes", -1, &arr);
    uint32_t n = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (!f->index && !f->unique)
            continue;
        char idx[16], name[160];
        const char *key;
        bson_uint32_to_string(n++, &key, idx, sizeof idx);
        snprintf(name, sizeof name, "ix_%s_%s", m->name, f->name);
        bson_t ix, k;
        bson_append_document_begin(&arr, key, -1, &ix);
        bson_append_document_begin(&ix, "key", -1, &k);
        bson_append_int32(&k, f->name, -1, 1);
        bson_append_document_end(&ix, &k);
        bson_append_utf8(&ix, "name", -1, name, -1);
        if (f->unique) {
            bson_t pf, t;
            bson_append_bool(&ix, "unique", -1, true);
            bson_append_document_begin(&ix, "partialFilterExpression", -1, &pf);
            bson_append_document_begin(&pf, f->name, -1, &t);
            bson_append_utf8(&t, "$type", -1, bson_type_alias(f->type), -1);
            bson_append_document_end(&pf, &t);
            bson_append_document_end(&ix, &pf);
        }
        bson_append_document_end(&arr, &ix);
    }
    for (size_t i = 0; i < m->nfields; i++) { /* fields unique together */
        const kura_field *f = &m->fields[i];
        if (!f->unique_with)
            continue;
        char idx[16], name[64];
        const char *key;
        bson_uint32_to_string(n++, &key, idx, sizeof idx);
        kura__unique_with_name(m, f, name);
        bson_t ix, k, pf;
        bson_append_document_begin(&arr, key, -1, &ix);
        bson_append_document_begin(&ix, "key", -1, &k);
        bson_append_int32(&k, f->name, -1, 1);
        for (size_t j = 0; f->unique_with[j]; j++)
            bson_append_int32(&k, f->unique_with[j], -1, 1);
        bson_append_document_end(&ix, &k);
        bson_append_utf8(&ix, "name", -1, name, -1);
        bson_append_bool(&ix, "unique", -1, true);
        /* Only documents holding every field of the set are indexed: one
         * where any is null or missing conflicts with nothing, as in SQL. */
        bson_append_document_begin(&ix, "partialFilterExpression", -1, &pf);
        for (size_t j = 0; j == 0 || f->unique_with[j - 1]; j++) {
            const kura_field *g = j == 0 ? f : kura_field_named(m, f->unique_with[j - 1]);
            bson_t t;
            bson_append_document_begin(&pf, g->name, -1, &t);
            bson_append_utf8(&t, "$type", -1, bson_type_alias(g->type), -1);
            bson_append_document_end(&pf, &t);
        }
        bson_append_document_end(&ix, &pf);
        bson_append_document_end(&arr, &ix);
    }
    bson_append_array_end(&cmd, &arr);
    bool ok = true;
    if (n > 0) {
        bson_error_t e;
        mongoc_database_t *db = MC->client_get_database(c, s->dbname);
        ok = MC->database_write_command_with_opts(db, &cmd, NULL, NULL, &e);
        MC->database_destroy(db);
        if (!ok)
            fail_bson(err, &e, "createIndexes");
    }
    bson_destroy(&cmd);
    if (ok)
        __atomic_store_n(&mm->ensured, true, __ATOMIC_RELEASE);
    return ok;
}

/* A client for an operation on m, after the model's indexes exist: made by
 * kura_create or on the model's first use by this store, never per write. */
static bool plain_name(const kura_model *m, kura_error *err)
{
    if (kura_doc_plain_name(m->name))
        return true;
    return kura_fail(err, KURA_INVALID, NULL, "collection name '%.64s' is not a plain identifier",
                     m->name);
}

static mongoc_client_t *ready(mongo_store *s, const kura_model *m, kura_error *err)
{
    if (!plain_name(m, err))
        return NULL;
    mongo_model *mm = model_entry(s, m, err);
    if (!mm)
        return NULL;
    mongoc_client_t *c = pop(s, err);
    if (c && !__atomic_load_n(&mm->ensured, __ATOMIC_ACQUIRE) && !create_indexes(s, c, mm, err)) {
        push(s, c);
        return NULL;
    }
    return c;
}

/* ---- schema ------------------------------------------------------------------------ */

static bool create_model(kura_store *store, const kura_model *m, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    if (!plain_name(m, err)) /* as every other call: a collection none of them could use */
        return false;
    mongo_model *mm = model_entry(s, m, err);
    if (!mm)
        return false;
    mongoc_client_t *c = pop(s, err);
    if (!c)
        return false;
    bool ok = create_indexes(s, c, mm, err);
    push(s, c);
    return ok;
}

static bool drop_model(kura_store *store, const kura_model *m, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    mongo_model *mm = model_entry(s, m, err);
    if (!mm)
        return false;
    mongoc_client_t *c = pop(s, err);
    if (!c)
        return false;
    mongoc_collection_t *coll = coll_for(s, c, m->name);
    bson_error_t e;
    bool ok = MC->collection_drop_with_opts(coll, NULL, &e);
    if (!ok && (e.code == 26 || strstr(e.message, "ns not found")))
        ok = true; /* dropping what does not exist is done, as DROP TABLE IF EXISTS */
    MC->collection_destroy(coll);
    if (ok) { /* ids start again at 1, as a dropped SQL table's do */
        mongoc_collection_t *counters = coll_for(s, c, KURA_MONGO_COUNTERS);
        bson_t sel = BSON_INITIALIZER;
        bson_append_utf8(&sel, "_id", -1, m->name, -1);
        ok = MC->collection_delete_one(counters, &sel, NULL, NULL, &e);
        bson_destroy(&sel);
        MC->collection_destroy(counters);
    }
    if (!ok)
        fail_bson(err, &e, "drop");
    else
        __atomic_store_n(&mm->ensured, false, __ATOMIC_RELEASE);
    push(s, c);
    return ok;
}

/* ---- ids and stamps --------------------------------------------------------------- */

/* Reserves n ids for collection `name`; *first gets the first of them. */
static bool take_ids(mongo_store *s, mongoc_client_t *c, const char *name, size_t n, int64_t *first,
                     kura_error *err)
{
    mongoc_collection_t *counters = coll_for(s, c, KURA_MONGO_COUNTERS);
    bson_t query = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, reply;
    bson_append_utf8(&query, "_id", -1, name, -1);
    bson_append_document_begin(&update, "$inc", -1, &inc);
    bson_append_int64(&inc, "seq", -1, (int64_t)n);
    bson_append_document_end(&update, &inc);
    mongoc_find_and_modify_opts_t *opts = MC->find_and_modify_opts_new();
    MC->find_and_modify_opts_set_update(opts, &update);
    MC->find_and_modify_opts_set_flags(opts, MONGOC_FIND_AND_MODIFY_UPSERT |
                                                 MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    bson_error_t e;
    bool ok = MC->collection_find_and_modify_with_opts(counters, &query, opts, &reply, &e);
    if (!ok) {
        fail_bson(err, &e, "findAndModify on " KURA_MONGO_COUNTERS);
    } else {
        bson_iter_t it;
        int64_t seq = 0;
        if (bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.seq", &it) &&
            BSON_ITER_HOLDS_NUMBER(&it))
            seq = bson_iter_as_int64(&it);
        if (seq < (int64_t)n)
            ok = kura_fail(err, KURA_STORE, NULL, "mongodb: the id counter for %s is broken", name);
        else
            *first = seq - (int64_t)n + 1;
    }
    bson_destroy(&reply);
    MC->find_and_modify_opts_destroy(opts);
    bson_destroy(&query);
    bson_destroy(&update);
    MC->collection_destroy(counters);
    return ok;
}

/*
 * A stamp a BSON date can hold: t rounded up to the millisecond, after waiting
 * until that instant has passed. Rounding down would give a stamp earlier than
 * the call; rounding up without waiting, one later than its return.
 */
static kura_time ms_stamp(kura_time t)
{
    kura_time up = (kura_mongo_ms_floor(t) + (t % 1000 != 0)) * 1000;
    while (kura_now() < up) {
        struct timespec ts = {0, 100000}; /* 0.1 ms: the wait is below 1 ms */
        nanosleep(&ts, NULL);
    }
    return up;
}

/* ---- documents ----------------------------------------------------------------- */

/* The filter for the documents of a batch: their id range, or their keys. */
static void batch_filter(const kura_model *m, const void *objs, size_t n, int64_t first,
                         bson_t *sel)
{
    bson_t cond, arr;
    bson_append_document_begin(sel, "_id", -1, &cond);
    if (m->key == KURA_KEY_INT64) {
        bson_append_int64(&cond, "$gte", -1, first);
        bson_append_int64(&cond, "$lt", -1, first + (int64_t)n);
    } else {
        bson_append_array_begin(&cond, "$in", -1, &arr);
        for (size_t i = 0; i < n; i++) {
            char idx[24];
            const char *ikey;
            bson_uint32_to_string((uint32_t)i, &ikey, idx, sizeof idx);
            kura_keyref k = kura_keyref_of(m, (const char *)objs + i * m->size);
            kura_mongo_append_key(m, &k, &arr, ikey);
        }
        bson_append_array_end(&cond, &arr);
    }
    bson_append_document_end(sel, &cond);
}

static bool do_insert(kura_store *store, const kura_model *m, void *objs, size_t n, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    mongoc_client_t *c = ready(s, m, err);
    if (!c)
        return false;
    kura_base *b0 = objs;
    bool stamps = kura_model_has_timestamps(m);
    kura_time stamp = stamps ? ms_stamp(b0->created_at) : 0;
    int64_t first = 0;
    bool int_keys = m->key == KURA_KEY_INT64;
    bool ok = !int_keys || take_ids(s, c, m->name, n, &first, err);
    bson_t *docs = ok ? calloc(n, sizeof *docs) : NULL;
    const bson_t **ptrs = ok ? calloc(n, sizeof *ptrs) : NULL;
    if (ok && (!docs || !ptrs))
        ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    size_t built = 0;
    for (; ok && built < n; built++) {
        kura_base *b = (kura_base *)((char *)objs + built * m->size);
        if (stamps)
            b->created_at = b->updated_at = stamp; /* the caller holds what is stored */
        if (int_keys)
            b->id = first + (int64_t)built;
        bson_init(&docs[built]);
        ptrs[built] = &docs[built];
        ok = kura_mongo_from_model(m, b, false, &docs[built], err);
    } /* the increment counts a failed document too: it is destroyed below */
    if (ok) {
        mongoc_collection_t *coll = coll_for(s, c, m->name);
        bson_error_t e;
        bool sent = n == 1 ? MC->collection_insert_one(coll, ptrs[0], NULL, NULL, &e)
                           : MC->collection_insert_many(coll, ptrs, n, NULL, NULL, &e);
        if (!sent) {
            ok = fail_bson(err, &e, "insert");
            if (n > 1) {
                /* All or nothing without a transaction: delete what the ordered
                 * batch wrote before it stopped (only ids taken for it). */
                bson_t sel = BSON_INITIALIZER;
                batch_filter(m, objs, n, first, &sel);
                bson_error_t e2;
                if (!MC->collection_delete_many(coll, &sel, NULL, NULL, &e2))
                    kura_fail(err, KURA_STORE, NULL,
                              "mongodb: insert failed (%.100s) and its partial batch could not "
                              "be removed: %.100s",
                              e.message, e2.message);
                bson_destroy(&sel);
            }
        }
        MC->collection_destroy(coll);
    }
    for (size_t i = 0; docs && i < built; i++)
        bson_destroy(&docs[i]);
    free(docs);
    free(ptrs);
    push(s, c);
    if (!ok && int_keys)
        for (size_t i = 0; i < n; i++)
            ((kura_base *)((char *)objs + i * m->size))->id = 0;
    return ok;
}

/* What a found document becomes: the model struct (do_get) or its JSON (do_get_json). */
typedef bool (*found_fn)(const kura_model *m, const bson_t *doc, void *out, kura_error *err);

/* Finds the document of `key` and hands it to `found`; KURA_NOT_FOUND when there is none. */
static bool find_by_key(kura_store *store, const kura_model *m, const kura_keyref *key,
                        found_fn found, void *out, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    mongoc_client_t *c = ready(s, m, err);
    if (!c)
        return false;
    mongoc_collection_t *coll = coll_for(s, c, m->name);
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    kura_mongo_key_filter(m, key, &filter);
    bson_append_int64(&opts, "limit", -1, 1);
    mongoc_cursor_t *cur = MC->collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    bool ok;
    if (MC->cursor_next(cur, &doc)) {
        ok = found(m, doc, out, err);
    } else {
        bson_error_t e;
        if (MC->cursor_error(cur, &e))
            ok = fail_bson(err, &e, "find");
        else
            ok = kura_key_not_found(err, m, key);
    }
    MC->cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
    MC->collection_destroy(coll);
    push(s, c);
    return ok;
}

static bool found_model(const kura_model *m, const bson_t *doc, void *out, kura_error *err)
{
    memset(out, 0, m->size);
    if (kura_mongo_to_model(m, doc, out, err))
        return true;
    kura_clear(m, out);
    return false;
}

static bool found_json(const kura_model *m, const bson_t *doc, void *out, kura_error *err)
{
    (void)m;
    json_t **json = out;
    char *text = bson_as_relaxed_extended_json(doc, NULL);
    *json = text ? json_loads(text, 0, NULL) : NULL;
    bson_free(text);
    if (!*json)
        return kura_fail(err, KURA_MISFIT, NULL, "the stored document cannot be written as JSON");
    json_object_del(*json, "_id");
    return true;
}

static bool do_get(kura_store *store, const kura_model *m, const kura_keyref *key, void *out,
                   kura_error *err)
{
    return find_by_key(store, m, key, found_model, out, err);
}

static bool do_get_json(kura_store *store, const kura_model *m, const kura_keyref *key,
                        json_t **out, kura_error *err)
{
    return find_by_key(store, m, key, found_json, out, err);
}

/* Runs an update or delete; *n gets matchedCount / deletedCount. */
static bool write_op(mongo_store *s, mongoc_client_t *c, const char *name, const bson_t *filter,
                     const bson_t *set, bool many, int64_t *n, kura_error *err)
{
    mongoc_collection_t *coll = coll_for(s, c, name);
    bson_t reply, update = BSON_INITIALIZER;
    bson_error_t e;
    bool ok;
    if (set) {
        bson_append_document(&update, "$set", -1, set);
        ok = many ? MC->collection_update_many(coll, filter, &update, NULL, &reply, &e)
                  : MC->collection_update_one(coll, filter, &update, NULL, &reply, &e);
    } else {
        ok = many ? MC->collection_delete_many(coll, filter, NULL, &reply, &e)
                  : MC->collection_delete_one(coll, filter, NULL, &reply, &e);
    }
    if (ok) {
        bson_iter_t it;
        *n = 0;
        if (bson_iter_init_find(&it, &reply, set ? "matchedCount" : "deletedCount"))
            *n = bson_iter_as_int64(&it);
    } else {
        fail_bson(err, &e, set ? "update" : "delete");
    }
    bson_destroy(&reply);
    bson_destroy(&update);
    MC->collection_destroy(coll);
    return ok;
}

static bool do_update(kura_store *store, const kura_model *m, const void *obj, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    mongoc_client_t *c = ready(s, m, err);
    if (!c)
        return false;
    /* kura_update's obj is the caller's writable struct (store.c only passes it
     * as const): the rounded stamp goes back so the caller holds what is stored. */
    kura_base *b = (kura_base *)(uintptr_t)obj;
    if (kura_model_has_timestamps(m))
        b->updated_at = ms_stamp(b->updated_at);
    bson_t filter = BSON_INITIALIZER, set = BSON_INITIALIZER;
    kura_keyref key = kura_keyref_of(m, b);
    kura_mongo_key_filter(m, &key, &filter);
    int64_t matched = 0;
    /* $set names only the model's keys: the others in the document stay. */
    bool ok = kura_mongo_from_model(m, obj, true, &set, err) &&
              write_op(s, c, m->name, &filter, &set, false, &matched, err);
    if (ok && matched == 0)
        ok = kura_key_not_found(err, m, &key);
    bson_destroy(&filter);
    bson_destroy(&set);
    push(s, c);
    return ok;
}

static bool do_remove(kura_store *store, const kura_model *m, const kura_keyref *key,
                      kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    mongoc_client_t *c = ready(s, m, err);
    if (!c)
        return false;
    bson_t filter = BSON_INITIALIZER;
    kura_mongo_key_filter(m, key, &filter);
    int64_t n = 0;
    bool ok = write_op(s, c, m->name, &filter, NULL, false, &n, err);
    if (ok && n == 0)
        ok = kura_key_not_found(err, m, key);
    bson_destroy(&filter);
    push(s, c);
    return ok;
}

/* ---- queries ----------------------------------------------------------------------- */

static int cursor_next(kura_cursor *kc, void *out, kura_error *err)
{
    mongo_cursor *mc = (mongo_cursor *)kc;
    if (!mc->cur)
        return 0;
    const bson_t *doc;
    if (MC->cursor_next(mc->cur, &doc)) {
        memset(out, 0, kc->model->size);
        if (!kura_mongo_to_model(kc->model, doc, out, err)) {
            kura_clear(kc->model, out);
            return -1;
        }
        return 1;
    }
    bson_error_t e;
    if (MC->cursor_error(mc->cur, &e)) {
        fail_bson(err, &e, "find");
        return -1;
    }
    return 0;
}

static void cursor_close(kura_cursor *kc)
{
    mongo_cursor *mc = (mongo_cursor *)kc;
    if (mc->cur)
        MC->cursor_destroy(mc->cur);
    if (mc->coll)
        MC->collection_destroy(mc->coll);
    push(mc->s, mc->client);
    free(mc);
}

static const kura_cursor_ops mongo_cursor_ops = {cursor_next, cursor_close};

static kura_cursor *open_cursor(kura_store *store, const kura_query *q, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    bson_t filter = BSON_INITIALIZER;
    if (!kura_mongo_filter(q, &filter, err)) {
        bson_destroy(&filter);
        return NULL;
    }
    mongo_cursor *mc = calloc(1, sizeof *mc);
    if (!mc) {
        bson_destroy(&filter);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a cursor");
        return NULL;
    }
    mc->base.ops = &mongo_cursor_ops;
    mc->base.model = q->model;
    mc->s = s;
    mc->client = ready(s, q->model, err);
    if (!mc->client) {
        free(mc);
        bson_destroy(&filter);
        return NULL;
    }
    if (q->limit != 0) { /* MongoDB reads limit 0 as "no limit" */
        bson_t opts = BSON_INITIALIZER, sort;
        bson_append_document_begin(&opts, "sort", -1, &sort);
        kura_mongo_sort(q, &sort);
        bson_append_document_end(&opts, &sort);
        if (q->limit > 0)
            bson_append_int64(&opts, "limit", -1, q->limit);
        if (q->offset > 0)
            bson_append_int64(&opts, "skip", -1, q->offset);
        mc->coll = coll_for(s, mc->client, q->model->name);
        mc->cur = MC->collection_find_with_opts(mc->coll, &filter, &opts, NULL);
        bson_destroy(&opts);
        bson_error_t e;
        if (MC->cursor_error(mc->cur, &e)) { /* bad options are known at once */
            fail_bson(err, &e, "find");
            cursor_close(&mc->base);
            mc = NULL;
        }
    }
    bson_destroy(&filter);
    return mc ? &mc->base : NULL;
}

static bool count_docs(kura_store *store, const kura_query *q, int64_t *count, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    bson_t filter = BSON_INITIALIZER;
    if (!kura_mongo_filter(q, &filter, err)) {
        bson_destroy(&filter);
        return false;
    }
    mongoc_client_t *c = ready(s, q->model, err);
    bool ok = c != NULL;
    if (ok) {
        mongoc_collection_t *coll = coll_for(s, c, q->model->name);
        bson_error_t e;
        int64_t n = MC->collection_count_documents(coll, &filter, NULL, NULL, NULL, &e);
        ok = n >= 0 ? (*count = n, true) : fail_bson(err, &e, "count");
        MC->collection_destroy(coll);
    }
    push(s, c);
    bson_destroy(&filter);
    return ok;
}

static bool update_where(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                         kura_time now, int64_t *affected, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    bool ok = kura_mongo_filter(q, &filter, err) &&
              kura_mongo_from_assign(q->model, set, n, now ? ms_stamp(now) : 0, &doc, err);
    mongoc_client_t *c = ok ? ready(s, q->model, err) : NULL;
    ok = ok && c && write_op(s, c, q->model->name, &filter, &doc, true, affected, err);
    push(s, c);
    bson_destroy(&filter);
    bson_destroy(&doc);
    return ok;
}

static bool delete_where(kura_store *store, const kura_query *q, int64_t *affected, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    bson_t filter = BSON_INITIALIZER;
    bool ok = kura_mongo_filter(q, &filter, err);
    mongoc_client_t *c = ok ? ready(s, q->model, err) : NULL;
    ok = ok && c && write_op(s, c, q->model->name, &filter, NULL, true, affected, err);
    push(s, c);
    bson_destroy(&filter);
    return ok;
}

/* ---- transactions: not offered (see document.h) ------------------------------- */

static bool no_tx(kura_error *err)
{
    return kura_fail(err, KURA_UNSUPPORTED, NULL,
                     "the MongoDB document store has no transactions (they need a replica set "
                     "and sessions; kura does not emulate them)");
}

static bool tx_begin(kura_store *store, kura_error *err)
{
    (void)store;
    return no_tx(err);
}

static bool tx_end(kura_store *store, kura_error *err)
{
    (void)store;
    return no_tx(err);
}

static int tx_depth(kura_store *store)
{
    (void)store;
    return 0;
}

/* ---- the store --------------------------------------------------------------------- */

static bool ping(kura_store *store, kura_error *err)
{
    mongo_store *s = (mongo_store *)store;
    mongoc_client_t *c = pop(s, err);
    if (!c)
        return false;
    bson_t cmd = BSON_INITIALIZER;
    bson_append_int32(&cmd, "ping", -1, 1);
    bson_error_t e;
    bool ok = MC->client_command_simple(c, "admin", &cmd, NULL, NULL, &e);
    if (!ok)
        fail_bson(err, &e, "ping");
    bson_destroy(&cmd);
    push(s, c);
    return ok;
}

static void close_store(kura_store *store)
{
    mongo_store *s = (mongo_store *)store;
    if (s->pool)
        MC->client_pool_destroy(s->pool);
    if (s->uri)
        MC->uri_destroy(s->uri);
    while (s->models) {
        mongo_model *mm = s->models;
        s->models = mm->next;
        free(mm);
    }
    pthread_mutex_destroy(&s->lock);
    free(s->dbname);
    free(s);
}

static const kura_store_ops mongo_ops = {
    .name = "mongodb",
    .close = close_store,
    .ping = ping,
    .create = create_model,
    .drop = drop_model,
    .insert = do_insert,
    .get = do_get,
    .get_json = do_get_json,
    .update = do_update,
    .remove = do_remove,
    .cursor_open = open_cursor,
    .count = count_docs,
    .update_where = update_where,
    .delete_where = delete_where,
    .begin = tx_begin,
    .commit = tx_end,
    .rollback = tx_end,
    .depth = tx_depth,
    .sql_query = NULL,
    .sql_exec = NULL,
};

kura_store *kura_mongo_store_open(const char *url, kura_error *err)
{
    if (!kura__mongoc_load(err))
        return NULL;
    pthread_once(&init_once, init_mongoc);
    mongo_store *s = calloc(1, sizeof *s);
    if (!s) {
        kura_fail(err, KURA_NOMEM, NULL, "out of memory opening a store");
        return NULL;
    }
    s->base.ops = &mongo_ops;
    s->base.driver = "mongodb";
    pthread_mutex_init(&s->lock, NULL);
    bson_error_t e;
    s->uri = MC->uri_new_with_error(url, &e);
    if (!s->uri) {
        kura_fail(err, KURA_CONFIG, NULL, "malformed MongoDB URL: %s", e.message);
        goto fail;
    }
    const char *db = MC->uri_get_database(s->uri);
    s->dbname = strdup(db && *db ? db : "kura");
    /* The URI goes to libmongoc as written (replica set, mongodb+srv, read preference,
     * read and write concern, retryable writes): with_error, so that a failed SRV
     * lookup says why. */
    s->pool = MC->client_pool_new_with_error(s->uri, &e);
    if (!s->dbname || !s->pool) {
        kura_fail(err, KURA_CONFIG, NULL, "cannot make a MongoDB client pool for this URL: %s",
                  s->pool ? "out of memory" : e.message);
        goto fail;
    }
    MC->client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
    if (!MC->uri_get_appname(s->uri)) /* the URI's own appname stays */
        MC->client_pool_set_appname(s->pool, "kura");
    /* Reach the server now: a wrong host or a refused login fails at start-up. */
    if (!ping(&s->base, err))
        goto fail;
    return &s->base;
fail:
    close_store(&s->base);
    return NULL;
}
