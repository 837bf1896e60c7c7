/*
 * store.c — the public model-store API: argument checks, validation and
 * timestamps happen here, once, for every driver.
 */
#include <kura/store.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "model/model_private.h"
#include "model/types.h"
#include "store/store_private.h"

/* ---- closing (opening is src/app/drivers.c: one table for every store kind) ----- */

static void pending_forget(kura_store *store);

void kura_store_close(kura_store *store)
{
    pending_forget(store);
    if (store)
        store->ops->close(store);
}

const char *kura_store_driver(const kura_store *store)
{
    if (!store)
        return NULL;
    return store->driver ? store->driver : store->ops->name;
}

bool kura_store_add_write_hook(kura_store *store, kura_write_hook hook, void *ctx, kura_error *err)
{
    if (!store || !hook)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or write hook");
    if (store->nhooks == KURA_WRITE_HOOKS)
        return kura_fail(err, KURA_INVALID, NULL, "the store holds %d write hooks already",
                         KURA_WRITE_HOOKS);
    store->hooks[store->nhooks].fn = hook;
    store->hooks[store->nhooks].ctx = ctx;
    store->nhooks++;
    return true;
}

void kura_store_remove_write_hook(kura_store *store, kura_write_hook hook, void *ctx)
{
    if (!store)
        return;
    for (int i = 0; i < store->nhooks; i++)
        if (store->hooks[i].fn == hook && store->hooks[i].ctx == ctx) {
            /* The rest keep their order. */
            memmove(&store->hooks[i], &store->hooks[i + 1],
                    (size_t)(store->nhooks - i - 1) * sizeof store->hooks[0]);
            store->nhooks--;
            return;
        }
}

/* Every write hook, told that (model, id, key) changed. */
static void call_hooks(kura_store *store, const kura_model *model, int64_t id, const char *key)
{
    for (int i = 0; i < store->nhooks; i++)
        store->hooks[i].fn(store->hooks[i].ctx, model, id, key);
}

/* Whether a write the driver was asked to make may have changed a row: all
 * but one that found no such row (kura_save tries an update before each
 * insert of a new string key: a cache need not hear of that one). */
static bool may_have_written(bool ok, const kura_error *err)
{
    return ok || !err || err->code != KURA_NOT_FOUND;
}

/* Tells the write hooks, if any, that the row `id` (0: many rows) changed. */
/*
 * Writes inside a transaction are reported when its outermost level ends, as
 * one "anything may have changed" (model NULL, id 0): a cache must not act on
 * a write that may still roll back, and its own store may be the very file the
 * transaction holds locked (the embedded key-value store would wait out its
 * busy timeout). Which stores have such news is bookkeeping of the calling
 * thread, like its transaction: a few slots per thread, and a write that finds
 * them full is reported at once instead.
 */
#define PENDING_SLOTS 8
static _Thread_local kura_store *pending[PENDING_SLOTS];

static bool pending_mark(kura_store *store)
{
    for (int i = 0; i < PENDING_SLOTS; i++)
        if (pending[i] == store)
            return true;
    for (int i = 0; i < PENDING_SLOTS; i++)
        if (!pending[i]) {
            pending[i] = store;
            return true;
        }
    return false;
}

/* After a commit or rollback: when the transaction is over, report its writes. */
static void pending_flush(kura_store *store)
{
    if (store->ops->depth(store) > 0)
        return;
    for (int i = 0; i < PENDING_SLOTS; i++)
        if (pending[i] == store) {
            pending[i] = NULL;
            call_hooks(store, NULL, 0, NULL);
        }
}

static void pending_forget(kura_store *store)
{
    for (int i = 0; i < PENDING_SLOTS; i++)
        if (pending[i] == store)
            pending[i] = NULL;
}

/*
 * key: the row's key (NULL: many rows may have changed). Called after the
 * driver was asked to write, whether or not it says it did: a write that
 * failed may have been applied (the connection lost before the server
 * answered, KURA_OUTCOME_UNKNOWN; a MongoDB update of many documents stopped
 * part way), and a cache told of a write that was not made only misses once.
 */
static void written(kura_store *store, const kura_model *model, const kura_keyref *key)
{
    if (store->nhooks == 0)
        return;
    if (store->ops->depth(store) > 0 && pending_mark(store))
        return;
    /* The key in its canonical form, the one a cache keeps the row under: a
     * store may match another spelling (PostgreSQL's UUID column, MongoDB's
     * ObjectIds: upper case). One that does not parse may be any row. */
    char text[KURA_KEY_BYTES];
    if (key && key->text && !kura_key_parse(model, key->text, NULL, text, NULL))
        key = NULL;
    call_hooks(store, model, key ? key->id : 0, key && key->text ? text : NULL);
}

/* Keeps m among the store's cascading models when a delete elsewhere can
 * change its rows (store_private.h). Once per model in a row of calls: the
 * usual case costs one comparison. */
static void note_model(kura_store *store, const kura_model *m)
{
    /* Only a store with hooks (a cache, the service) needs to know; they are
     * added before the traffic they watch. */
    if (store->nhooks == 0 || atomic_load_explicit(&store->noted, memory_order_relaxed) == m)
        return;
    atomic_store_explicit(&store->noted, m, memory_order_relaxed);
    if (!kura__model_cascades(m))
        return;
    for (int i = 0; i < KURA_STORE_CASCADING; i++) {
        const kura_model *none = NULL;
        const kura_model *have = atomic_load(&store->cascading[i]);
        if (have == m ||
            (!have &&
             (atomic_compare_exchange_strong(&store->cascading[i], &none, m) || none == m)))
            return;
    }
    atomic_store(&store->cascading_full, true);
}

/* After a delete of rows of `model` (reported by written()): the rows of the
 * cascading models that reference it may have gone or changed too, inside the
 * database, so each is heard of as a write to many of its rows. In a
 * transaction, the commit's report says anything may have changed already. */
static void deleted(kura_store *store, const kura_model *model)
{
    if (store->nhooks == 0 || store->ops->depth(store) > 0)
        return;
    if (atomic_load(&store->cascading_full)) {
        call_hooks(store, NULL, 0, NULL);
        return;
    }
    for (int i = 0; i < KURA_STORE_CASCADING; i++) {
        const kura_model *r = atomic_load(&store->cascading[i]);
        if (!r)
            break;
        if (kura__cascades_from(r, model))
            call_hooks(store, r, 0, NULL);
    }
}

bool kura_key_not_found(kura_error *err, const kura_model *m, const kura_keyref *k)
{
    if (k->text)
        return kura_fail(err, KURA_NOT_FOUND, NULL, "%s %.63s not found", m->name, k->text);
    return kura_fail(err, KURA_NOT_FOUND, NULL, "%s %lld not found", m->name, (long long)k->id);
}

bool kura_store_ping(kura_store *store, kura_error *err)
{
    if (!store)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store");
    return store->ops->ping(store, err);
}

/* ---- rows ---------------------------------------------------------------------- */

void *kura_row(const kura_rows *rows, size_t i)
{
    if (!rows || i >= rows->count)
        return NULL;
    return (char *)rows->items + i * rows->model->size;
}

void *kura_rows_push_raw(kura_rows *rows, const kura_model *model)
{
    if (rows->model && rows->model != model)
        return NULL;
    rows->model = model;
    if (rows->count == rows->capacity) {
        size_t cap = rows->capacity ? rows->capacity * 2 : 16;
        void *n = realloc(rows->items, cap * model->size);
        if (!n)
            return NULL;
        rows->items = n;
        rows->capacity = cap;
    }
    return (char *)rows->items + rows->count++ * model->size;
}

void *kura_rows_push(kura_rows *rows, const kura_model *model)
{
    void *row = kura_rows_push_raw(rows, model);
    if (row)
        memset(row, 0, model->size);
    return row;
}

void kura_rows_pop(kura_rows *rows)
{
    if (rows->count == 0)
        return;
    rows->count--;
    kura_clear(rows->model, (char *)rows->items + rows->count * rows->model->size);
}

void kura_rows_free(kura_rows *rows)
{
    if (!rows)
        return;
    bool owns = false; /* only owned text (TEXT, JSON) needs freeing: skip the walk without it */
    for (size_t i = 0; rows->model && i < rows->model->nfields && !owns; i++)
        owns = kura__type(rows->model->fields[i].type)->owns;
    if (!owns)
        rows->count = 0;
    while (rows->count)
        kura_rows_pop(rows);
    free(rows->items);
    free(rows->misfits);
    memset(rows, 0, sizeof *rows);
}

/* ---- checks ---------------------------------------------------------------------- */

/* The table or collection a model names: SQL stores made a table "" (and
 * read through a NULL name), document stores refused it. */
static bool check_name(const kura_model *model, kura_error *err)
{
    if (!model->name || !*model->name)
        return kura_fail(err, KURA_INVALID, NULL, "a model without a name");
    return true;
}

static bool check_args(kura_store *store, const kura_model *model, const void *obj, kura_error *err)
{
    if (!store || !model)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or model");
    if (!check_name(model, err))
        return false;
    if (!obj)
        return kura_fail(err, KURA_INVALID, NULL, "NULL %s object", model->name);
    if (model->nfields > KURA_MAX_FIELDS)
        return kura_fail(err, KURA_INVALID, NULL, "%s has more than %d fields", model->name,
                         KURA_MAX_FIELDS);
    note_model(store, model);
    return true;
}

static bool check_query(kura_store *store, const kura_query *q, kura_error *err)
{
    if (!store || !q)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or query");
    const kura_error *qe = kura_query_error(q);
    if (qe) {
        if (err)
            *err = *qe;
        return false;
    }
    if (!check_name(q->model, err))
        return false;
    note_model(store, q->model);
    return true;
}

/* ---- schema ---------------------------------------------------------------------- */

bool kura_create(kura_store *store, const kura_model *model, kura_error *err)
{
    if (!store || !model)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or model");
    if (!check_name(model, err))
        return false;
    if (!kura__declaration_check(model, err)) /* a declaration error, whatever the store */
        return false;
    return store->ops->create(store, model, err);
}

bool kura_create_all(kura_store *store, const kura_model *const *models, size_t n, kura_error *err)
{
    if (n == 0)
        return true;
    if (!models)
        return kura_fail(err, KURA_INVALID, NULL, "no models");
    const kura_model **order = kura__models_by_references(models, n);
    bool ok = order || kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    for (size_t i = 0; ok && i < n; i++)
        ok = kura_create(store, order[i], err);
    free(order);
    return ok;
}

bool kura_drop(kura_store *store, const kura_model *model, kura_error *err)
{
    if (!store || !model)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or model");
    if (!check_name(model, err))
        return false;
    return store->ops->drop(store, model, err);
}

bool kura_drop_all(kura_store *store, const kura_model *const *models, size_t n, kura_error *err)
{
    if (n == 0)
        return true;
    if (!models)
        return kura_fail(err, KURA_INVALID, NULL, "no models");
    const kura_model **order = kura__models_by_references(models, n);
    bool ok = order || kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    for (size_t i = n; ok && i > 0; i--) /* a referencing table before the one it references */
        ok = kura_drop(store, order[i - 1], err);
    free(order);
    return ok;
}

/* ---- objects ---------------------------------------------------------------------- */

/*
 * The key of a row about to be inserted (non-int64 kinds): generated when the
 * kind allows and the caller left it empty (*made says so, so that a failed
 * insert can take it back), else checked.
 */
static bool key_for_insert(const kura_model *m, kura_base *b, bool *made, kura_error *err)
{
    *made = false;
    if (m->key == KURA_KEY_INT64)
        return true;
    if (b->key[0] == '\0' && (m->key == KURA_KEY_UUID || m->key == KURA_KEY_OBJECTID)) {
        if (!kura_key_new(m->key, b->key, err))
            return false;
        *made = true;
        return true;
    }
    if (b->key[0] == '\0')
        return kura_fail(err, KURA_VALIDATION, "id", "%s needs a key: set base.key", m->name);
    return kura_key_check_new(m, b, err);
}

bool kura_insert(kura_store *store, const kura_model *model, void *obj, kura_error *err)
{
    if (!check_args(store, model, obj, err) || !kura_validate(model, obj, err))
        return false;
    kura_base *b = obj;
    bool made;
    if (!key_for_insert(model, b, &made, err))
        return false;
    kura_time created = b->created_at, updated = b->updated_at;
    if (kura_model_has_timestamps(model))
        b->created_at = b->updated_at = kura_now();
    if (store->ops->insert(store, model, obj, 1, err))
        return true;
    b->created_at = created;
    b->updated_at = updated;
    if (made)
        b->key[0] = '\0';
    return false;
}

/* Keys for rows [0, n) of a batch (non-int64 kinds); made[i] as key_for_insert.
 * On failure the keys made so far are taken back. */
static bool keys_for_batch(const kura_model *m, void *objs, size_t n, bool *made, kura_error *err)
{
    for (size_t i = 0; i < n; i++) {
        kura_base *b = (kura_base *)((char *)objs + i * m->size);
        bool ok = key_for_insert(m, b, &made[i], err);
        /* A batch's UUIDs in the order of its rows: two made within one
         * microsecond may not be; make the later one again (the clock moves
         * on within a microsecond). */
        const kura_base *prev = i ? (const kura_base *)((char *)objs + (i - 1) * m->size) : NULL;
        for (int tries = 0; ok && made[i] && m->key == KURA_KEY_UUID && prev && made[i - 1] &&
                            strcmp(b->key, prev->key) <= 0 && tries < 100000;
             tries++) /* bounded: a clock set back is not waited out */
            ok = kura_key_new(m->key, b->key, err);
        if (!ok) {
            if (err) {
                char msg[sizeof err->message];
                memcpy(msg, err->message, sizeof msg);
                kura_fail(err, err->code, err->field, "row %zu: %s", i, msg);
            }
            for (size_t j = 0; j < i; j++)
                if (made[j])
                    ((kura_base *)((char *)objs + j * m->size))->key[0] = '\0';
            return false;
        }
    }
    return true;
}

static bool insert_batch(kura_store *store, const kura_model *model, void *objs, size_t n,
                         kura_error *err);

bool kura_insert_many(kura_store *store, const kura_model *model, void *objs, size_t n,
                      kura_error *err)
{
    if (n == 0)
        return true;
    if (!check_args(store, model, objs, err))
        return false;
    if (model->key == KURA_KEY_INT64) /* the benchmarked path: nothing more per row */
        return insert_batch(store, model, objs, n, err);
    bool *made = calloc(n, sizeof *made);
    if (!made)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    bool ok = keys_for_batch(model, objs, n, made, err) && insert_batch(store, model, objs, n, err);
    if (!ok)
        for (size_t i = 0; i < n; i++)
            if (made[i])
                ((kura_base *)((char *)objs + i * model->size))->key[0] = '\0';
    free(made);
    return ok;
}

static bool insert_batch(kura_store *store, const kura_model *model, void *objs, size_t n,
                         kura_error *err)
{
    bool stamps = kura_model_has_timestamps(model);
    kura_time now = stamps ? kura_now() : 0;
    if (store->ops->insert_checked) /* checks each row as it writes it: one pass */
        return store->ops->insert_checked(store, model, objs, n, now, err);
    return kura__check_and_stamp(model, objs, n, now, err) &&
           store->ops->insert(store, model, objs, n, err);
}

bool kura__check_and_stamp(const kura_model *model, void *objs, size_t n, kura_time now,
                           kura_error *err)
{
    bool stamps = kura_model_has_timestamps(model);
    /* Validate and stamp in one pass, while each struct is in cache. */
    for (size_t i = 0; i < n; i++) {
        kura_base *b = (kura_base *)((char *)objs + i * model->size);
        if (!kura_validate(model, b, err)) {
            if (err) {
                char msg[sizeof err->message];
                memcpy(msg, err->message, sizeof msg);
                kura_fail(err, KURA_VALIDATION, err->field, "row %zu: %s", i, msg);
            }
            return false;
        }
        if (stamps)
            b->created_at = b->updated_at = now;
    }
    return true;
}

static bool int64_only(const kura_model *model, const char *what, kura_error *err)
{
    if (model->key == KURA_KEY_INT64)
        return true;
    return kura_fail(err, KURA_INVALID, "id", "%s has %s keys: use %s_key", model->name,
                     kura_key_kind_name(model->key), what);
}

bool kura_get(kura_store *store, const kura_model *model, int64_t id, void *out, kura_error *err)
{
    if (!check_args(store, model, out, err) || !int64_only(model, "kura_get", err))
        return false;
    kura_keyref k = {id, NULL};
    return store->ops->get(store, model, &k, out, err);
}

bool kura_get_key(kura_store *store, const kura_model *model, const char *key, void *out,
                  kura_error *err)
{
    if (!check_args(store, model, out, err))
        return false;
    char text[KURA_KEY_BYTES];
    kura_keyref k = {0, NULL};
    if (!kura_key_parse(model, key, &k.id, text, err))
        return false;
    if (model->key != KURA_KEY_INT64)
        k.text = text;
    return store->ops->get(store, model, &k, out, err);
}

/* Whether obj has the key an update needs. */
static bool has_key(const kura_model *model, const kura_base *b, kura_error *err)
{
    if (model->key == KURA_KEY_INT64 ? b->id > 0 : b->key[0] != '\0')
        return true;
    return kura_fail(err, KURA_INVALID, "id", "%s has no id: insert it first", model->name);
}

bool kura_update(kura_store *store, const kura_model *model, void *obj, kura_error *err)
{
    if (!check_args(store, model, obj, err) || !kura_validate(model, obj, err))
        return false;
    kura_base *b = obj;
    if (!has_key(model, b, err))
        return false;
    kura_time previous = b->updated_at;
    if (kura_model_has_timestamps(model))
        b->updated_at = kura_now();
    bool ok = store->ops->update(store, model, obj, err);
    kura_keyref k = kura_keyref_of(model, obj);
    if (may_have_written(ok, err))
        written(store, model, &k);
    if (!ok)
        b->updated_at = previous;
    return ok;
}

bool kura_save(kura_store *store, const kura_model *model, void *obj, kura_error *err)
{
    if (!check_args(store, model, obj, err))
        return false;
    if (model->key == KURA_KEY_STRING) {
        /* The caller names the key either way: an update, or an insert when
         * no row has it yet. Without one, the insert's error says what the
         * key must be (the update's said "insert it first", which fails too). */
        if (!kura_key_is_set(model, obj))
            return kura_insert(store, model, obj, err);
        kura_error e;
        kura_error_clear(&e);
        if (kura_update(store, model, obj, &e))
            return true;
        if (e.code != KURA_NOT_FOUND) {
            if (err)
                *err = e;
            return false;
        }
        return kura_insert(store, model, obj, err);
    }
    if (!kura_key_is_set(model, obj))
        return kura_insert(store, model, obj, err);
    return kura_update(store, model, obj, err);
}

static bool remove_key(kura_store *store, const kura_model *model, const kura_keyref *k,
                       kura_error *err)
{
    bool ok = store->ops->remove(store, model, k, err);
    if (may_have_written(ok, err)) {
        written(store, model, k);
        deleted(store, model);
    }
    return ok;
}

bool kura_delete(kura_store *store, const kura_model *model, int64_t id, kura_error *err)
{
    if (!store || !model)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or model");
    if (!int64_only(model, "kura_delete", err))
        return false;
    kura_keyref k = {id, NULL};
    return remove_key(store, model, &k, err);
}

bool kura_delete_key(kura_store *store, const kura_model *model, const char *key, kura_error *err)
{
    if (!store || !model)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or model");
    char text[KURA_KEY_BYTES];
    kura_keyref k = {0, NULL};
    if (!kura_key_parse(model, key, &k.id, text, err))
        return false;
    if (model->key != KURA_KEY_INT64)
        k.text = text;
    return remove_key(store, model, &k, err);
}

/* ---- queries ---------------------------------------------------------------------- */

kura_cursor *kura_cursor_open(kura_store *store, const kura_query *q, kura_error *err)
{
    if (!check_query(store, q, err))
        return NULL;
    return store->ops->cursor_open(store, q, err);
}

int kura_cursor_next(kura_cursor *cursor, void *out, kura_error *err)
{
    if (!cursor || !out) {
        kura_fail(err, KURA_INVALID, NULL, "NULL cursor or row");
        return -1;
    }
    return cursor->ops->next(cursor, out, err);
}

void kura_cursor_close(kura_cursor *cursor)
{
    if (cursor)
        cursor->ops->close(cursor);
}

/* Records the misfit the cursor reported for `row` (whose base holds its key). */
static bool note_misfit(kura_rows *out, const kura_model *m, const void *row, const kura_error *e)
{
    if ((out->nmisfits & (out->nmisfits - 1)) == 0) { /* 0, 1, 2, 4 ...: grow by doubling */
        size_t cap = out->nmisfits ? out->nmisfits * 2 : 1;
        kura_misfit *n = realloc(out->misfits, cap * sizeof *n);
        if (!n)
            return false;
        out->misfits = n;
    }
    kura_misfit *mf = &out->misfits[out->nmisfits++];
    kura_key_text(m, row, mf->id);
    snprintf(mf->field, sizeof mf->field, "%s", e->field[0] ? e->field : "id");
    kura_copy_string(mf->reason, sizeof mf->reason, e->message); /* whole characters */
    return true;
}

bool kura_find(kura_store *store, const kura_query *q, kura_rows *out, kura_error *err)
{
    if (!out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL rows");
    if (!check_query(store, q, err))
        return false;
    if (out->model && out->model != q->model)
        return kura_fail(err, KURA_INVALID, NULL, "rows hold %s, the query is over %s",
                         out->model->name, q->model->name);
    kura_cursor *c = store->ops->find_open ? store->ops->find_open(store, q, err)
                                           : store->ops->cursor_open(store, q, err);
    if (!c)
        return false;
    size_t before = out->count, misfits_before = out->nmisfits;
    int rc;
    bool fills = c->ops->fills_rows;
    for (;;) {
        void *row = fills ? kura_rows_push_raw(out, q->model) : kura_rows_push(out, q->model);
        if (!row) {
            kura_fail(err, KURA_NOMEM, NULL, "out of memory reading rows");
            rc = -1;
            break;
        }
        kura_error e;
        kura_error_clear(&e);
        rc = c->ops->next(c, row, &e);
        if (rc != 1) {
            out->count--; /* the slot pushed for a row that did not come */
            if (rc < 0 && e.code == KURA_MISFIT) {
                if (note_misfit(out, q->model, row, &e))
                    continue;
                kura_fail(&e, KURA_NOMEM, NULL, "out of memory reading rows");
            }
            if (rc < 0 && err)
                *err = e;
            break;
        }
    }
    c->ops->close(c);
    if (rc < 0) {
        while (out->count > before)
            kura_rows_pop(out);
        out->nmisfits = misfits_before;
        return false;
    }
    return true;
}

bool kura_first(kura_store *store, const kura_query *q, void *out, bool *found, kura_error *err)
{
    if (!out || !found)
        return kura_fail(err, KURA_INVALID, NULL, "NULL row or found flag");
    if (!check_query(store, q, err))
        return false;
    kura_query one = *q;
    one.limit = 1;
    kura_cursor *c = store->ops->cursor_open(store, &one, err);
    if (!c)
        return false;
    int rc = c->ops->next(c, out, err);
    c->ops->close(c);
    *found = rc == 1;
    return rc >= 0;
}

bool kura_count(kura_store *store, const kura_query *q, int64_t *count, kura_error *err)
{
    if (!count)
        return kura_fail(err, KURA_INVALID, NULL, "NULL count");
    if (!check_query(store, q, err))
        return false;
    return store->ops->count(store, q, count, err);
}

bool kura_exists(kura_store *store, const kura_query *q, bool *exists, kura_error *err)
{
    if (!exists)
        return kura_fail(err, KURA_INVALID, NULL, "NULL result");
    if (!check_query(store, q, err))
        return false;
    void *row = calloc(1, q->model->size);
    if (!row)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    bool ok = kura_first(store, q, row, exists, err);
    kura_clear(q->model, row);
    free(row);
    return ok;
}

/*
 * The hooks hear of the one row a query names by its key alone (key = value:
 * a PATCH is one) as of that row, so a cache drops that row's entry, not every
 * entry of the model; of anything else as of many rows (key NULL).
 */
static const kura_keyref *one_key(const kura_query *q, kura_keyref *k)
{
    const kura_term *t = &q->terms[0];
    if (q->nterms != 1 || t->kind != KURA_TERM_CMP || t->op != KURA_EQ ||
        t->column != KURA_COL_ID || t->count != 1)
        return NULL;
    const kura_value *v = &q->values[t->first];
    *k = (kura_keyref){0, NULL};
    if (q->model->key == KURA_KEY_INT64) {
        k->id = v->as.i;
        return v->kind == KURA_VALUE_INT && k->id > 0 ? k : NULL;
    }
    k->text = v->as.s; /* written() puts it in canonical form */
    return v->kind == KURA_VALUE_STRING && k->text ? k : NULL;
}

bool kura_update_where(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                       int64_t *affected, kura_error *err)
{
    if (!check_query(store, q, err))
        return false;
    if (n == 0 || !set)
        return kura_fail(err, KURA_INVALID, NULL, "bulk update assigns nothing");
    for (size_t i = 0; i < n; i++) {
        if (!kura_assign_check(q->model, &set[i], err))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(set[i].field, set[j].field) == 0)
                return kura_fail(err, KURA_INVALID, set[i].field, "%s is assigned twice",
                                 set[i].field);
    }
    int64_t ignored;
    kura_time now = kura_model_has_timestamps(q->model) ? kura_now() : 0;
    bool ok = store->ops->update_where(store, q, set, n, now, affected ? affected : &ignored, err);
    kura_keyref k;
    if (may_have_written(ok, err))
        written(store, q->model, one_key(q, &k));
    return ok;
}

bool kura_delete_where(kura_store *store, const kura_query *q, int64_t *affected, kura_error *err)
{
    if (!check_query(store, q, err))
        return false;
    int64_t ignored;
    bool ok = store->ops->delete_where(store, q, affected ? affected : &ignored, err);
    kura_keyref k;
    if (may_have_written(ok, err)) {
        written(store, q->model, one_key(q, &k));
        deleted(store, q->model);
    }
    return ok;
}

/* Validates an assigned value by writing it into a scratch struct and running
 * the field's own validator, so bulk updates obey the same rules as saves. */
bool kura_assign_check(const kura_model *model, const kura_assign *a, kura_error *err)
{
    if (!a->field)
        return kura_fail(err, KURA_INVALID, NULL, "bulk update names no field");
    const kura_field *f = kura_field_named(model, a->field);
    if (!f)
        return kura_fail(err, KURA_INVALID, NULL, "%s has no assignable field '%.64s'", model->name,
                         a->field);
    void *tmp = calloc(1, model->size);
    if (!tmp)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    const kura_value *v = &a->value;
    bool ok = true;
    if (v->kind == KURA_VALUE_NULL)
        kura_set_null(model, tmp, f, true);
    else
        ok = kura__type(f->type)->from_value(f, v, (char *)tmp + f->offset, err);
    if (ok)
        ok = kura_validate_field(model, tmp, f, err);
    else if (!err || err->code == KURA_OK || strcmp(err->field, f->name) != 0)
        kura_fail(err, KURA_VALIDATION, f->name, "%s: value of the wrong type", f->name);
    free(tmp); /* never kura_clear: owned text here is the caller's pointer (borrowed) */
    return ok;
}

/* ---- transactions and raw SQL ------------------------------------------------------ */

bool kura_begin(kura_store *store, kura_error *err)
{
    if (!store)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store");
    return store->ops->begin(store, err);
}

bool kura_commit(kura_store *store, kura_error *err)
{
    if (!store)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store");
    bool ok = store->ops->commit(store, err);
    pending_flush(store); /* also after a rollback: a cache may hold what it read inside */
    return ok;
}

bool kura_rollback(kura_store *store, kura_error *err)
{
    if (!store)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store");
    bool ok = store->ops->rollback(store, err);
    pending_flush(store);
    return ok;
}

int kura_transaction_depth(kura_store *store)
{
    if (!store)
        return 0;
    return store->ops->depth(store);
}

bool kura_sql_query(kura_store *store, const kura_model *model, const char *sql,
                    const kura_value *params, size_t nparams, kura_rows *out, kura_error *err)
{
    if (!store || !model || !sql || !out || (nparams && !params))
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    if (out->model && out->model != model)
        return kura_fail(err, KURA_INVALID, NULL, "rows hold another model");
    if (!store->ops->sql_query)
        return kura_fail(err, KURA_UNSUPPORTED, NULL, "the %s store does not run SQL",
                         kura_store_driver(store));
    return store->ops->sql_query(store, model, sql, params, nparams, out, err);
}

bool kura_sql_exec(kura_store *store, const char *sql, const kura_value *params, size_t nparams,
                   int64_t *affected, kura_error *err)
{
    if (!store || !sql || (nparams && !params))
        return kura_fail(err, KURA_INVALID, NULL, "NULL argument");
    if (!store->ops->sql_exec)
        return kura_fail(err, KURA_UNSUPPORTED, NULL, "the %s store does not run SQL",
                         kura_store_driver(store));
    return store->ops->sql_exec(store, sql, params, nparams, affected, err);
}
