/*
 * eager.c — the rows on either side of a reference, read with a query per batch
 * of keys instead of one per row (kura/store.h, "references").
 *
 * Both directions sort what they return in C, by byte and integer order, and
 * search it by binary search: the database's own order of text (a collation)
 * need not agree with the one the lookups use.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_private.h"

/* A key or a field's value as one: text (s) or an integer (s NULL). */
typedef struct keyval {
    int64_t i;
    const char *s;
} keyval;

static int keyval_cmp(const keyval *a, const keyval *b)
{
    if (a->s || b->s)
        return strcmp(a->s ? a->s : "", b->s ? b->s : "");
    return (a->i > b->i) - (a->i < b->i);
}

static int keyval_qcmp(const void *a, const void *b)
{
    return keyval_cmp(a, b);
}

/* The key of a struct of m. */
static keyval key_of(const kura_model *m, const void *row)
{
    const kura_base *b = row;
    return m->key == KURA_KEY_INT64 ? (keyval){b->id, NULL} : (keyval){0, b->key};
}

/* Field f of row as a key; false when it is NULL (it references nothing). */
static bool field_key(const kura_model *m, const void *row, const kura_field *f, keyval *out)
{
    kura_value v = kura_value_of(m, row, f);
    if (v.kind == KURA_VALUE_INT)
        *out = (keyval){v.as.i, NULL};
    else if (v.kind == KURA_VALUE_STRING)
        *out = (keyval){0, v.as.s};
    else
        return false;
    return true;
}

/* How a row sorts: by its field (NULL first) when there is one, then by key. */
typedef struct sort_entry {
    keyval field, key;
    bool has_field;
    size_t index;
} sort_entry;

static int sort_entry_cmp(const void *pa, const void *pb)
{
    const sort_entry *a = pa, *b = pb;
    if (a->has_field != b->has_field)
        return a->has_field ? 1 : -1;
    int c = a->has_field ? keyval_cmp(&a->field, &b->field) : 0;
    return c ? c : keyval_cmp(&a->key, &b->key);
}

/* Reorders rows by field f (NULL: by key alone), then key. */
static bool sort_rows(kura_rows *rows, const kura_field *f, kura_error *err)
{
    if (rows->count < 2)
        return true;
    const kura_model *m = rows->model;
    sort_entry *e = malloc(rows->count * sizeof *e);
    char *items = malloc(rows->count * m->size);
    if (!e || !items) {
        free(e);
        free(items);
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory sorting rows");
    }
    for (size_t i = 0; i < rows->count; i++) {
        const void *row = kura_row(rows, i);
        e[i] = (sort_entry){.key = key_of(m, row), .index = i};
        e[i].has_field = f && field_key(m, row, f, &e[i].field);
    }
    qsort(e, rows->count, sizeof *e, sort_entry_cmp);
    for (size_t i = 0; i < rows->count; i++) /* moved bytewise: what a row owns moves with it */
        memcpy(items + i * m->size, kura_row(rows, e[i].index), m->size);
    free(e);
    free(rows->items);
    rows->items = items;
    rows->capacity = rows->count;
    return true;
}

/* The index of the first row of sorted rows whose field f (NULL: key) is not
 * below want. */
static size_t lower_bound(const kura_rows *rows, const kura_field *f, const keyval *want)
{
    size_t lo = 0, hi = rows->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const void *row = kura_row(rows, mid);
        keyval k;
        bool below = f ? !field_key(rows->model, row, f, &k) || keyval_cmp(&k, want) < 0
                       : (k = key_of(rows->model, row), keyval_cmp(&k, want) < 0);
        if (below)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether sorted rows hold a row whose field f (NULL: key) equals want. */
static bool holds(const kura_rows *rows, const kura_field *f, const keyval *want, size_t at)
{
    if (at >= rows->count)
        return false;
    const void *row = kura_row(rows, at);
    keyval k;
    if (f ? !field_key(rows->model, row, f, &k) : (k = key_of(rows->model, row), false))
        return false;
    return keyval_cmp(&k, want) == 0;
}

/* Sorts keys and drops repeats, and the ones `have` (sorted by key, or NULL)
 * holds already; returns how many are left. */
static size_t distinct(keyval *keys, size_t n, const kura_rows *have)
{
    qsort(keys, n, sizeof *keys, keyval_qcmp);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && keyval_cmp(&keys[out - 1], &keys[i]) == 0)
            continue;
        if (have && holds(have, NULL, &keys[i], lower_bound(have, NULL, &keys[i])))
            continue;
        keys[out++] = keys[i];
    }
    return out;
}

/* Copies the text of keys into *block (the caller frees it) and points them
 * there: they point into rows, and those may be the rows being added to (a
 * model that references itself), which reading moves. */
static bool own_keys(keyval *keys, size_t n, char **block, kura_error *err)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += keys[i].s ? strlen(keys[i].s) + 1 : 0;
    *block = bytes ? malloc(bytes) : NULL;
    if (bytes && !*block)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory collecting keys");
    char *at = *block;
    for (size_t i = 0; i < n; i++)
        if (keys[i].s) {
            size_t len = strlen(keys[i].s) + 1;
            memcpy(at, keys[i].s, len);
            keys[i].s = at;
            at += len;
        }
    return true;
}

/* Reads the rows of model whose column `column` is one of keys, a query per
 * KURA_REFERENCE_BATCH, into out, and sorts out by f (NULL: by key); on
 * failure out holds the rows it had. */
static bool find_in(kura_store *store, const kura_model *model, const char *column,
                    const keyval *keys, size_t n, const kura_field *f, kura_rows *out,
                    kura_error *err)
{
    size_t before = out->count, misfits_before = out->nmisfits;
    bool ok = true;
    for (size_t at = 0; at < n && ok; at += KURA_REFERENCE_BATCH) {
        size_t k = n - at < KURA_REFERENCE_BATCH ? n - at : KURA_REFERENCE_BATCH;
        kura_value values[KURA_REFERENCE_BATCH];
        for (size_t i = 0; i < k; i++)
            values[i] = keys[at + i].s ? KURA_VSTR(keys[at + i].s) : KURA_VINT(keys[at + i].i);
        kura_query q = kura_query_for(model);
        kura_where_in(&q, column, values, k);
        ok = kura_find(store, &q, out, err);
    }
    if (ok && sort_rows(out, f, err)) /* fails before it moves anything */
        return true;
    while (out->count > before)
        kura_rows_pop(out);
    out->nmisfits = misfits_before;
    return false;
}

/* Field `name` of model, which must reference a model. */
static const kura_field *reference_named(const kura_model *model, const char *name, kura_error *err)
{
    const kura_field *f = kura_field_named(model, name);
    if (!f) {
        kura_fail(err, KURA_INVALID, name, "%.64s has no field '%.64s'", model->name,
                  name ? name : "(null)");
        return NULL;
    }
    if (!f->references) {
        kura_fail(err, KURA_INVALID, name, "%.64s.%.64s references no model", model->name, name);
        return NULL;
    }
    return f;
}

bool kura_find_referenced(kura_store *store, const kura_rows *rows, const char *field,
                          kura_rows *out, kura_error *err)
{
    if (!store || !rows || !out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store or rows");
    if (!rows->model) /* never filled: nothing references anything */
        return true;
    const kura_field *f = reference_named(rows->model, field, err);
    if (!f)
        return false;
    const kura_model *target = f->references;
    if (out->model && out->model != target)
        return kura_fail(err, KURA_INVALID, NULL, "rows hold %.64s, %.64s.%.64s references %.64s",
                         out->model->name, rows->model->name, field, target->name);
    if (!sort_rows(out, NULL, err))
        return false;
    keyval *keys = malloc((rows->count ? rows->count : 1) * sizeof *keys);
    if (!keys)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory collecting keys");
    size_t n = 0;
    for (size_t i = 0; i < rows->count; i++)
        if (field_key(rows->model, kura_row(rows, i), f, &keys[n]))
            n++;
    n = distinct(keys, n, out);
    char *text = NULL;
    bool ok = own_keys(keys, n, &text, err) &&
              find_in(store, target, kura_key_name(target), keys, n, NULL, out, err);
    free(text);
    free(keys);
    return ok;
}

const void *kura_referenced(const kura_rows *targets, const kura_model *model, const void *row,
                            const char *field)
{
    if (!targets || !targets->model || !model || !row)
        return NULL;
    const kura_field *f = kura_field_named(model, field);
    keyval want;
    if (!f || f->references != targets->model || !field_key(model, row, f, &want))
        return NULL;
    size_t at = lower_bound(targets, NULL, &want);
    return holds(targets, NULL, &want, at) ? kura_row(targets, at) : NULL;
}

bool kura_find_referencing(kura_store *store, const kura_rows *parents, const kura_model *model,
                           const char *field, kura_rows *out, kura_error *err)
{
    if (!store || !parents || !model || !out)
        return kura_fail(err, KURA_INVALID, NULL, "NULL store, rows or model");
    const kura_field *f = reference_named(model, field, err);
    if (!f)
        return false;
    if (parents->model && parents->model != f->references)
        return kura_fail(err, KURA_INVALID, field, "%.64s.%.64s references %.64s, not %.64s",
                         model->name, field, f->references->name, parents->model->name);
    if (out->model && out->model != model)
        return kura_fail(err, KURA_INVALID, NULL, "rows hold %.64s, not %.64s", out->model->name,
                         model->name);
    keyval *keys = malloc((parents->count ? parents->count : 1) * sizeof *keys);
    if (!keys)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory collecting keys");
    size_t n = 0;
    for (size_t i = 0; i < parents->count; i++) {
        keys[n] = key_of(parents->model, kura_row(parents, i));
        if (keys[n].s ? keys[n].s[0] != '\0' : keys[n].i != 0) /* a row never stored has none */
            n++;
    }
    n = distinct(keys, n, NULL);
    char *text = NULL;
    bool ok = own_keys(keys, n, &text, err) && find_in(store, model, field, keys, n, f, out, err);
    free(text);
    free(keys);
    return ok;
}

size_t kura_referencing(const kura_rows *children, const char *field, const void *parent,
                        size_t *first)
{
    if (!children || !children->model || !parent || !first)
        return 0;
    const kura_field *f = kura_field_named(children->model, field);
    if (!f || !f->references)
        return 0;
    keyval want = key_of(f->references, parent);
    size_t at = lower_bound(children, f, &want), end = at;
    while (holds(children, f, &want, end))
        end++;
    *first = at;
    return end - at;
}
