/* mongo_bson.c — models to BSON documents and back; queries to filter documents. */
#include "document/mongo_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"
#include "model/types.h"

int64_t kura_mongo_ms_floor(kura_time t)
{
    return kura__time_ms_floor(t);
}

static bool whole_ms(kura_time t)
{
    return t % 1000 == 0;
}

const char *kura_mongo_key(const kura_model *m, int column)
{
    return column == KURA_COL_ID ? "_id" : kura_column_name(m, column);
}

/* ---- values ---------------------------------------------------------------------- */

/* Appends a query or assignment value as the BSON type the field is stored as:
 * the type's own conversion when it has one (a UUID string becomes binary),
 * else by the value's kind. */
static bool append_value(bson_t *b, const char *key, kura_type type, const kura_value *v)
{
    const kura_type_info *ti = kura__type(type);
    if (v->kind != KURA_VALUE_NULL && ti->value_bson)
        return ti->value_bson(b, key, v);
    /* An int for a double or bool field becomes one, as the query builder does. */
    kura_value fitted = *v;
    if (fitted.kind == KURA_VALUE_INT)
        ti->fit(NULL, &fitted);
    v = &fitted;
    switch (v->kind) {
    case KURA_VALUE_NULL:
        return bson_append_null(b, key, -1);
    case KURA_VALUE_INT:
        return bson_append_int64(b, key, -1, v->as.i);
    case KURA_VALUE_DOUBLE:
        return bson_append_double(b, key, -1, v->as.d);
    case KURA_VALUE_BOOL:
        return bson_append_bool(b, key, -1, v->as.b);
    case KURA_VALUE_STRING:
        return bson_append_utf8(b, key, -1, v->as.s, -1);
    case KURA_VALUE_TIME:
        if (v->as.t == 0)
            return bson_append_null(b, key, -1);
        return bson_append_date_time(b, key, -1, kura_mongo_ms_floor(v->as.t));
    }
    return false;
}

static bool append_time(bson_t *b, const char *key, kura_time t)
{
    if (t == 0) /* 0 is "unset", as JSON null */
        return bson_append_null(b, key, -1);
    return bson_append_date_time(b, key, -1, kura_mongo_ms_floor(t));
}

static bool append_field(bson_t *b, const kura_model *m, const void *obj, const kura_field *f,
                         kura_error *err)
{
    if (kura_is_null(m, obj, f))
        return bson_append_null(b, f->name, -1);
    return kura__type(f->type)->to_bson(b, f->name, f, (const char *)obj + f->offset, err);
}

bool kura_mongo_from_model(const kura_model *m, const void *obj, bool for_update, bson_t *doc,
                           kura_error *err)
{
    const kura_base *base = obj;
    if (!for_update) {
        kura_keyref k = {base->id, m->key == KURA_KEY_INT64 ? NULL : base->key};
        kura_mongo_append_key(m, &k, doc, "_id");
    }
    for (size_t i = 0; i < m->nfields; i++)
        if (!append_field(doc, m, obj, &m->fields[i], err)) {
            if (!err || err->code == KURA_OK)
                kura_fail(err, KURA_NOMEM, m->fields[i].name, "cannot encode %s",
                          m->fields[i].name);
            return false;
        }
    /* The stamps, if the model has them; an update never writes created_at. */
    for (int i = for_update ? 1 : 0; i < kura__stamp_count(m); i++) {
        int column = kura__stamp_column(i);
        append_time(doc, kura_column_name(m, column), kura__stamp_value(base, column));
    }
    return true;
}

bool kura_mongo_from_assign(const kura_model *m, const kura_assign *set, size_t n, kura_time now,
                            bson_t *doc, kura_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const kura_field *f = kura_field_named(m, set[i].field);
        if (!f)
            return kura_fail(err, KURA_INVALID, set[i].field, "unknown field %s", set[i].field);
        if (set[i].value.kind == KURA_VALUE_STRING &&
            !bson_utf8_validate(set[i].value.as.s, strlen(set[i].value.as.s), false))
            return kura_fail(err, KURA_VALIDATION, f->name, "%s is not valid UTF-8", f->name);
        if (!append_value(doc, f->name, f->type, &set[i].value))
            return kura_fail(err, KURA_NOMEM, f->name, "cannot encode %s", f->name);
    }
    for (int i = 1; i < kura__stamp_count(m); i++) /* updated_at, if the model has it */
        append_time(doc, kura_column_name(m, kura__stamp_column(i)), now);
    return true;
}

/* ---- reading documents ------------------------------------------------------------ */

static bool iter_time(const char *name, const bson_iter_t *it, kura_time *out, kura_error *err)
{
    if (BSON_ITER_HOLDS_NULL(it)) {
        *out = 0;
        return true;
    }
    if (!BSON_ITER_HOLDS_DATE_TIME(it))
        return kura__bson_wrong_type(err, name, it);
    /* kura's instants span years 0000..9999 (see kura_time_format); another program's
     * date may lie anywhere in ±292 million years, and times 1000 would overflow. */
    int64_t ms = bson_iter_date_time(it);
    if (ms < KURA_MONGO_MIN_MS || ms > KURA_MONGO_MAX_MS)
        return kura_fail(err, KURA_STORE, name,
                         "%s: stored date %lld ms is outside years 0000..9999", name,
                         (long long)ms);
    *out = ms * 1000;
    return true;
}

static bool read_field(const kura_model *m, const kura_field *f, const bson_iter_t *it, void *out,
                       kura_error *err)
{
    if (BSON_ITER_HOLDS_NULL(it))
        return true; /* stays NULL: the caller marked every field NULL first */
    if (!kura__type(f->type)->from_bson(f, it, (char *)out + f->offset, err))
        return false;
    kura_set_null(m, out, f, false);
    return true;
}

/*
 * `_id` into base->id (int64 keys) or base->key (the others). Every kind
 * first writes the text of what is there into base->key, so that a document
 * that does not fit still names its key (kura_misfit.id).
 */
static bool read_key(const kura_model *m, const bson_iter_t *it, kura_base *base, kura_error *err)
{
    int64_t iv;
    bool is_int = kura__bson_int(it, &iv) && bson_iter_type(it) != BSON_TYPE_DOUBLE;
    bool ok = true;
    if (BSON_ITER_HOLDS_OID(it)) {
        bson_oid_to_string(bson_iter_oid(it), base->key);
    } else if (is_int) {
        snprintf(base->key, sizeof base->key, "%lld", (long long)iv);
    } else if (BSON_ITER_HOLDS_UTF8(it)) {
        uint32_t len;
        const char *s = bson_iter_utf8(it, &len);
        ok = len > 0 && len < sizeof base->key && !memchr(s, '\0', len);
        if (ok) {
            memcpy(base->key, s, len);
            base->key[len] = '\0';
        } else {
            base->key[0] = '\0';
        }
    } else {
        ok = false;
        base->key[0] = '\0';
    }
    if (m->key == KURA_KEY_INT64) {
        if (is_int && iv != 0) {
            base->id = iv;
            base->key[0] = '\0';
            return true;
        }
        return kura_fail(err, KURA_MISFIT, "id",
                         "_id is not an integer (BSON type 0x%02x): declare the model's key "
                         "KURA_KEY_OBJECTID or KURA_KEY_STRING to read it",
                         (unsigned)bson_iter_type(it));
    }
    if (!ok)
        return kura_fail(err, KURA_MISFIT, "id",
                         "_id (BSON type 0x%02x) is not an ObjectId, an integer or a string of "
                         "1 to %d bytes",
                         (unsigned)bson_iter_type(it), KURA_KEY_BYTES - 1);
    return true;
}

bool kura_mongo_to_model(const kura_model *m, const bson_t *doc, void *out, kura_error *err)
{
    kura_base *base = out;
    /* A declared field the document lacks reads as NULL, as JSON documents do. */
    for (size_t i = 0; i < m->nfields; i++)
        kura_set_null(m, out, &m->fields[i], true);
    bson_iter_t it;
    /* The key first, wherever it is: a misfit is reported by its key. */
    if (bson_iter_init_find(&it, doc, "_id") && !read_key(m, &it, base, err))
        return false;
    if (!bson_iter_init(&it, doc))
        return kura_fail(err, KURA_STORE, NULL, "corrupt BSON document");
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        const kura_field *f = kura_field_named(m, key);
        if (f) {
            if (!read_field(m, f, &it, out, err))
                return false;
        } else if (strcmp(key, "_id") == 0) {
            /* read above */
        } else {
            int column = kura_column_named(m, key); /* a stamp, if the model has them */
            if ((column == KURA_COL_CREATED_AT || column == KURA_COL_UPDATED_AT) &&
                !iter_time(key, &it, kura__stamp_member(base, column), err))
                return false;
        } /* other keys: another program's; kept in the store, ignored here */
    }
    return true;
}

/* ---- keys ------------------------------------------------------------------------- */

static bool all_hex24(const char *s)
{
    size_t n = strlen(s);
    if (n != 24)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

void kura_mongo_append_key(const kura_model *m, const kura_keyref *k, bson_t *doc, const char *name)
{
    if (!k->text) {
        bson_append_int64(doc, name, -1, k->id);
    } else if (m->key == KURA_KEY_OBJECTID && all_hex24(k->text)) {
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, k->text);
        bson_append_oid(doc, name, -1, &oid);
    } else {
        bson_append_utf8(doc, name, -1, k->text, -1);
    }
}

/* Appends to array arr, from index *n on, every BSON value a key read as
 * `text` may be stored as (see kura_mongo_key_filter). */
static void key_candidates(const kura_model *m, const char *text, bson_t *arr, uint32_t *n)
{
    char idx[16];
    const char *ikey;
    kura_keyref k = {0, text};
    bson_uint32_to_string((*n)++, &ikey, idx, sizeof idx);
    kura_mongo_append_key(m, &k, arr, ikey); /* the kind's own type first */
    if (m->key == KURA_KEY_UUID)
        return; /* UUIDs are strings, written by kura or not */
    if (m->key == KURA_KEY_OBJECTID && all_hex24(text)) {
        bson_uint32_to_string((*n)++, &ikey, idx, sizeof idx);
        bson_append_utf8(arr, ikey, -1, text, -1);
    } else if (m->key == KURA_KEY_STRING && all_hex24(text)) {
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, text);
        bson_uint32_to_string((*n)++, &ikey, idx, sizeof idx);
        bson_append_oid(arr, ikey, -1, &oid);
    }
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*text >= '0' && *text <= '9' && !*end && !errno) {
        char back[32];
        snprintf(back, sizeof back, "%lld", v);
        if (strcmp(back, text) == 0) { /* "007" is no integer's text */
            bson_uint32_to_string((*n)++, &ikey, idx, sizeof idx);
            bson_append_int64(arr, ikey, -1, v);
        }
    }
}

void kura_mongo_key_filter(const kura_model *m, const kura_keyref *k, bson_t *filter)
{
    if (!k->text) {
        bson_append_int64(filter, "_id", -1, k->id);
        return;
    }
    bson_t cond, arr;
    uint32_t n = 0;
    bson_append_document_begin(filter, "_id", -1, &cond);
    bson_append_array_begin(&cond, "$in", -1, &arr);
    key_candidates(m, k->text, &arr, &n);
    bson_append_array_end(&cond, &arr);
    bson_append_document_end(filter, &cond);
}

/* ---- queries --------------------------------------------------------------------- */

typedef struct walk {
    const kura_query *q;
    size_t pos;
    kura_error *err;
    char pattern_stack[256];
} walk;

/* {"_id": {"$in": []}}: matches no document (an empty OR, an empty IN). */
static void append_nothing(bson_t *d)
{
    bson_t in, arr;
    bson_append_document_begin(d, "_id", -1, &in);
    bson_append_array_begin(&in, "$in", -1, &arr);
    bson_append_array_end(&in, &arr);
    bson_append_document_end(d, &in);
}

static void regex_literal(kura_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\^$.|?*+()[]{}/", s[i]) && s[i])
            kura_buf_addn(b, "\\", 1);
        kura_buf_addn(b, &s[i], 1);
    }
}

/* PREFIX: ^literal. LIKE: % is .*, _ is ., a backslash makes the next character
 * literal; anchored at both ends, and "s" so that . also matches a newline, as
 * LIKE's _ and % do. */
static bool append_regex(walk *w, bson_t *cond, const char *value, bool like)
{
    kura_buf b;
    kura_buf_init(&b, w->pattern_stack, sizeof w->pattern_stack);
    kura_buf_addn(&b, "^", 1);
    if (!like) {
        regex_literal(&b, value, strlen(value));
    } else {
        for (const char *c = value; *c; c++) {
            if (*c == '\\' && c[1]) {
                c++;
                regex_literal(&b, c, 1);
            } else if (*c == '%') {
                kura_buf_add(&b, ".*");
            } else if (*c == '_') {
                kura_buf_addn(&b, ".", 1);
            } else {
                regex_literal(&b, c, 1);
            }
        }
        kura_buf_addn(&b, "$", 1);
    }
    bool ok = !b.oom;
    if (ok)
        bson_append_regex(cond, "$regex", -1, b.data, like ? "s" : "");
    kura_buf_free(&b);
    if (!ok)
        return kura_fail(w->err, KURA_NOMEM, NULL, "out of memory building a filter");
    return true;
}

static const char *const cmp_ops[] = {"$eq", "$ne", "$lt", "$lte", "$gt", "$gte"};

/* A datetime bound in milliseconds that keeps the comparison exact. */
static int64_t time_bound(kura_op op, kura_time t)
{
    int64_t ms = kura_mongo_ms_floor(t);
    if ((op == KURA_GE || op == KURA_LT) && !whole_ms(t))
        ms++;
    return ms;
}

/* A text key compared for (in)equality: against every type it may be stored as. */
static bool append_key_cmp(walk *w, bson_t *d, kura_op op, const kura_value *v, unsigned count)
{
    const kura_model *m = w->q->model;
    bson_t cond, arr;
    uint32_t n = 0;
    bson_append_document_begin(d, "_id", -1, &cond);
    bson_append_array_begin(&cond, op == KURA_NE ? "$nin" : "$in", -1, &arr);
    for (unsigned i = 0; i < count; i++)
        key_candidates(m, v[i].as.s, &arr, &n);
    bson_append_array_end(&cond, &arr);
    bson_append_document_end(d, &cond);
    return true;
}

static bool append_cmp(walk *w, bson_t *d, const kura_term *t, const kura_value *v)
{
    const kura_model *m = w->q->model;
    const char *key = kura_mongo_key(m, t->column);
    kura_type type = kura_column_type(m, t->column);
    bson_t cond, arr;
    kura_op op = (kura_op)t->op;
    if (t->column == KURA_COL_ID && m->key != KURA_KEY_INT64 && (op == KURA_EQ || op == KURA_NE))
        return append_key_cmp(w, d, op, v, 1);
    if (v->kind == KURA_VALUE_TIME && !whole_ms(v->as.t) && (op == KURA_EQ || op == KURA_NE)) {
        /* No millisecond date equals it: EQ matches nothing, NE every non-null. */
        if (op == KURA_EQ) {
            append_nothing(d);
            return true;
        }
        bson_append_document_begin(d, key, -1, &cond);
        bson_append_null(&cond, "$ne", -1);
        bson_append_document_end(d, &cond);
        return true;
    }
    bson_append_document_begin(d, key, -1, &cond);
    bool ok = true;
    if (op == KURA_PREFIX || op == KURA_LIKE) {
        ok = append_regex(w, &cond, v->as.s, op == KURA_LIKE);
    } else if (op == KURA_NE) {
        /* SQL's <> never matches NULL; $ne alone would. */
        bson_append_array_begin(&cond, "$nin", -1, &arr);
        append_value(&arr, "0", type, v);
        bson_append_null(&arr, "1", -1);
        bson_append_array_end(&cond, &arr);
    } else if (v->kind == KURA_VALUE_TIME) {
        bson_append_date_time(&cond, cmp_ops[op], -1, time_bound(op, v->as.t));
    } else {
        append_value(&cond, cmp_ops[op], type, v);
    }
    bson_append_document_end(d, &cond);
    return ok;
}

static bool append_in(walk *w, bson_t *d, const kura_term *t, const kura_value *v)
{
    const kura_model *m = w->q->model;
    if (t->column == KURA_COL_ID && m->key != KURA_KEY_INT64)
        return append_key_cmp(w, d, KURA_EQ, v, t->count);
    const char *key = kura_mongo_key(m, t->column);
    kura_type type = kura_column_type(m, t->column);
    bson_t cond, arr;
    bson_append_document_begin(d, key, -1, &cond);
    bson_append_array_begin(&cond, "$in", -1, &arr);
    uint32_t k = 0;
    for (unsigned i = 0; i < t->count; i++) {
        if (v[i].kind == KURA_VALUE_TIME && !whole_ms(v[i].as.t))
            continue; /* equals no stored date */
        char idx[16];
        const char *ikey;
        bson_uint32_to_string(k++, &ikey, idx, sizeof idx);
        append_value(&arr, ikey, type, &v[i]);
    }
    bson_append_array_end(&cond, &arr);
    bson_append_document_end(d, &cond);
    return true;
}

static bool items(walk *w, bson_t *arr, uint32_t *n);

/* Appends the document for the term at w->pos (and, for a group, its members)
 * to arr under the next index. */
static bool one_term(walk *w, bson_t *arr, uint32_t *n)
{
    const kura_term *t = &w->q->terms[w->pos++];
    const kura_value *v = &w->q->values[t->first];
    char idx[16];
    const char *key;
    bson_uint32_to_string((*n)++, &key, idx, sizeof idx);
    bson_t d;
    bson_append_document_begin(arr, key, -1, &d);
    bool ok = true;
    switch ((kura_term_kind)t->kind) {
    case KURA_TERM_CMP:
        ok = append_cmp(w, &d, t, v);
        break;
    case KURA_TERM_IN:
        ok = append_in(w, &d, t, v);
        break;
    case KURA_TERM_NULL:
    case KURA_TERM_NOTNULL: {
        bson_t cond;
        bson_append_document_begin(&d, kura_mongo_key(w->q->model, t->column), -1, &cond);
        bson_append_null(&cond, t->kind == KURA_TERM_NULL ? "$eq" : "$ne", -1);
        bson_append_document_end(&d, &cond);
        break;
    }
    case KURA_TERM_ALL:
    case KURA_TERM_ANY:
    case KURA_TERM_NOT: {
        bson_t members = BSON_INITIALIZER;
        uint32_t count = 0;
        ok = items(w, &members, &count);
        if (ok && count == 0) {
            if (t->kind != KURA_TERM_ALL) /* empty ANY is false; NOT of empty ALL too */
                append_nothing(&d);
        } else if (ok && t->kind == KURA_TERM_NOT) {
            bson_t nor, inner;
            bson_append_array_begin(&d, "$nor", -1, &nor);
            bson_append_document_begin(&nor, "0", -1, &inner);
            bson_append_array(&inner, "$and", -1, &members);
            bson_append_document_end(&nor, &inner);
            bson_append_array_end(&d, &nor);
        } else if (ok) {
            bson_append_array(&d, t->kind == KURA_TERM_ALL ? "$and" : "$or", -1, &members);
        }
        bson_destroy(&members);
        break;
    }
    case KURA_TERM_END:
        break;
    }
    bson_append_document_end(arr, &d);
    return ok;
}

/* The terms up to the matching END (consumed) or the end of the query. */
static bool items(walk *w, bson_t *arr, uint32_t *n)
{
    while (w->pos < w->q->nterms && w->q->terms[w->pos].kind != KURA_TERM_END)
        if (!one_term(w, arr, n))
            return false;
    if (w->pos < w->q->nterms)
        w->pos++;
    return true;
}

bool kura_mongo_filter(const kura_query *q, bson_t *filter, kura_error *err)
{
    const kura_error *qe = kura_query_error(q);
    if (qe) {
        if (err)
            *err = *qe;
        return false;
    }
    if (!kura__query_fits_form(q, KURA_FORM_BSON, err))
        return false;
    walk w = {.q = q, .pos = 0, .err = err};
    bson_t all = BSON_INITIALIZER;
    uint32_t n = 0;
    bool ok = true;
    while (ok && w.pos < q->nterms)
        ok = items(&w, &all, &n);
    if (ok && n == 1) { /* one term: its document is the filter, without an $and */
        bson_iter_t it;
        if (bson_iter_init(&it, &all) && bson_iter_next(&it) && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            uint32_t len;
            const uint8_t *data;
            bson_iter_document(&it, &len, &data);
            bson_t one;
            if (bson_init_static(&one, data, len))
                bson_concat(filter, &one);
        }
    } else if (ok && n > 1) {
        bson_append_array(filter, "$and", -1, &all);
    }
    bson_destroy(&all);
    return ok;
}

void kura_mongo_sort(const kura_query *q, bson_t *sort)
{
    bool has_id = false;
    for (unsigned i = 0; i < q->norder; i++) {
        bson_append_int32(sort, kura_mongo_key(q->model, q->order[i].column), -1,
                          q->order[i].desc ? -1 : 1);
        has_id = has_id || q->order[i].column == KURA_COL_ID;
    }
    if (!has_id)
        bson_append_int32(sort, "_id", -1, 1);
}
