/*
 * inspect_docs.c — the fields of a JSON document collection, inferred by sampling.
 *
 * A collection has no column types to read, so its documents say what the
 * fields are: each key seen (in order of first appearance) gets the one kura
 * type all its sampled non-null values agree on, and a key whose values agree
 * on none (objects, mixed kinds) is a json field, which holds any JSON value.
 * Strings are uuid, objectid or date only when every sampled value is that
 * type's canonical text. The same sample gives the key kind of a collection
 * keyed by text. A sample cannot prove a field required, bounded or unique,
 * so none is inferred; the model carries a warning that says how many
 * documents were read.
 */
#include "sql/inspect_private.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"

typedef struct cat_doc {
    kura_base base;
    char *k; /* the "_id" column as text */
    char *doc;
} cat_doc;
static const kura_model cat_doc_model =
    KURA_MODEL(cat_doc, "kura_cat_doc", KURA_TEXT(cat_doc, k), KURA_TEXT(cat_doc, doc));

/* What the sampled values of one key have been so far. */
enum {
    SEEN_INT32 = 1 << 0,
    SEEN_INT64 = 1 << 1, /* an integer outside int32 */
    SEEN_REAL = 1 << 2,
    SEEN_BOOL = 1 << 3,
    SEEN_TIME = 1 << 4,  /* a string kura reads as a datetime */
    SEEN_EMAIL = 1 << 5, /* a string that is a valid e-mail address */
    SEEN_TEXT = 1 << 6,  /* any other string */
    SEEN_TAGS = 1 << 7,  /* an array of strings that fits kura_tags */
    SEEN_OTHER = 1 << 8, /* an object, another array */
    SEEN_UUID = 1 << 9,  /* a string that is a canonical UUID */
    SEEN_OID = 1 << 10,  /* a string that is a canonical ObjectId */
    SEEN_DATE = 1 << 11, /* a string that is a canonical date */
    SEEN_STRINGS = SEEN_TIME | SEEN_EMAIL | SEEN_TEXT | SEEN_UUID | SEEN_OID | SEEN_DATE,
};

typedef struct key_seen {
    char *name;
    unsigned seen;
    long max_chars; /* longest string value, in characters */
} key_seen;

static unsigned classify(const json_t *v, long *chars)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return i >= INT32_MIN && i <= INT32_MAX ? SEEN_INT32 : SEEN_INT64;
    }
    case JSON_REAL:
        return SEEN_REAL;
    case JSON_TRUE:
    case JSON_FALSE:
        return SEEN_BOOL;
    case JSON_STRING: {
        const char *s = json_string_value(v);
        kura_time t;
        *chars = kura_utf8_chars(s, json_string_length(v));
        if (kura__inspect_canonical(KURA_TYPE_UUID, s))
            return SEEN_UUID;
        if (kura__inspect_canonical(KURA_TYPE_OBJECTID, s))
            return SEEN_OID;
        if (kura__inspect_canonical(KURA_TYPE_DATE, s))
            return SEEN_DATE;
        if (kura_time_parse(s, &t))
            return SEEN_TIME;
        return *s && kura_email_valid(s) ? SEEN_EMAIL : SEEN_TEXT;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) > KURA_TAGS_MAX)
            return SEEN_OTHER;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item) || json_string_length(item) == 0 ||
                kura_utf8_chars(json_string_value(item), json_string_length(item)) > KURA_TAG_CHARS)
                return SEEN_OTHER;
        }
        return SEEN_TAGS;
    }
    default:
        return SEEN_OTHER;
    }
}

/* The one type every seen kind fits (json when none does), or false when no
 * value was seen. */
static bool infer(const key_seen *k, kura_type *type, int *max_chars)
{
    unsigned s = k->seen;
    *max_chars = 0;
    if (s && !(s & ~(unsigned)SEEN_INT32))
        *type = KURA_TYPE_INT32;
    else if (s && !(s & ~(unsigned)(SEEN_INT32 | SEEN_INT64)))
        *type = KURA_TYPE_INT64;
    else if (s & SEEN_REAL && !(s & ~(unsigned)(SEEN_INT32 | SEEN_INT64 | SEEN_REAL)))
        *type = KURA_TYPE_DOUBLE;
    else if (s == SEEN_BOOL)
        *type = KURA_TYPE_BOOL;
    else if (s == SEEN_TIME)
        *type = KURA_TYPE_DATETIME;
    else if (s == SEEN_UUID)
        *type = KURA_TYPE_UUID;
    else if (s == SEEN_OID)
        *type = KURA_TYPE_OBJECTID;
    else if (s == SEEN_DATE)
        *type = KURA_TYPE_DATE;
    else if (s == SEEN_TAGS)
        *type = KURA_TYPE_TAGS;
    else if (s == SEEN_EMAIL && k->max_chars <= 254) {
        *type = KURA_TYPE_EMAIL; /* 254: the longest address SMTP carries */
        *max_chars = 254;
    } else if (s && !(s & ~(unsigned)SEEN_STRINGS))
        *type = KURA_TYPE_TEXT;
    else if (s)
        *type = KURA_TYPE_JSON; /* objects, lists that are not tags, mixed kinds */
    else
        return false;
    return true;
}

typedef struct keys {
    key_seen *items;
    size_t count, cap;
} keys;

static key_seen *key_for(keys *ks, const char *name)
{
    for (size_t i = 0; i < ks->count; i++)
        if (strcmp(ks->items[i].name, name) == 0)
            return &ks->items[i];
    if (ks->count == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        key_seen *n = realloc(ks->items, cap * sizeof *n);
        if (!n)
            return NULL;
        ks->items = n;
        ks->cap = cap;
    }
    key_seen *k = &ks->items[ks->count];
    if (!(k->name = strdup(name)))
        return NULL;
    k->seen = 0;
    k->max_chars = 0;
    ks->count++;
    return k;
}

static void keys_free(keys *ks)
{
    for (size_t i = 0; i < ks->count; i++)
        free(ks->items[i].name);
    free(ks->items);
}

/* Adds doc's keys to ks; false on out of memory. A document that is not an
 * object is counted in *bad. */
static bool sample_one(keys *ks, const char *text, size_t *bad)
{
    json_t *o = text ? kura__json_load_object(text) : NULL;
    if (!o) {
        (*bad)++;
        return true;
    }
    const char *name;
    json_t *v;
    bool ok = true;
    json_object_foreach(o, name, v)
    {
        if (!strcmp(name, "_id")) /* the table's key column, never in the document */
            continue;
        key_seen *k = key_for(ks, name);
        if (!k) {
            ok = false;
            break;
        }
        long chars = 0;
        if (!json_is_null(v))
            k->seen |= classify(v, &chars);
        if (chars > k->max_chars)
            k->max_chars = chars;
    }
    json_decref(o);
    return ok;
}

static bool add_fields(kura__smodel *m, const keys *ks, const char *table,
                       const char *const *index_names, const bool *index_unique)
{
    for (size_t i = 0; i < ks->count; i++) {
        const key_seen *k = &ks->items[i];
        kura_type type;
        int chars;
        int column = kura_column_named(&m->model, k->name);
        if (column != KURA_COL_NONE && column < 0)
            continue; /* the key, and the stamps of a model that has them */
        if (!kura__schema_ident(k->name) || !strcmp(k->name, "base")) {
            if (!kura__strs_addf(&m->warnings,
                                 "key %s.\"%s\": not a name a field can have: left out", table,
                                 k->name))
                return false;
            continue;
        }
        if (!infer(k, &type, &chars)) {
            if (!kura__strs_addf(&m->warnings,
                                 "key %s.%s is null in every sampled document: left out", table,
                                 k->name))
                return false;
            continue;
        }
        if (type == KURA_TYPE_JSON && (k->seen & ~(unsigned)(SEEN_OTHER | SEEN_TAGS)) &&
            !kura__strs_addf(&m->warnings,
                             "key %s.%s holds values of several kinds (not one kura type): a "
                             "json field, which takes any JSON value",
                             table, k->name))
            return false;
        if (m->model.nfields >= KURA_MAX_FIELDS) {
            if (!kura__strs_addf(&m->warnings,
                                 "key %s.%s: past the %d fields a model can have: left out", table,
                                 k->name, KURA_MAX_FIELDS))
                return false;
            continue;
        }
        kura_field *f = kura__smodel_add_field(m, k->name, type);
        if (!f)
            return false;
        f->max_chars = chars;
        char want[160], cut[64]; /* MongoDB keeps a long name whole, SQL cuts it */
        snprintf(want, sizeof want, "ix_%s_%s", table, k->name);
        kura__index_name(table, k->name, cut);
        for (size_t j = 0; index_names && index_names[j]; j++)
            if (strcmp(index_names[j], want) == 0 || strcmp(index_names[j], cut) == 0) {
                f->index = true;
                f->unique = index_unique[j];
            }
    }
    return true;
}

/* Whether a key named `name` was seen in the sample. */
static bool seen_key(const keys *ks, const char *name)
{
    for (size_t i = 0; i < ks->count; i++)
        if (strcmp(ks->items[i].name, name) == 0)
            return true;
    return false;
}

/*
 * The stamps, as for tables: documents with both keys (kura's) make a model
 * with timestamps, documents with neither (another program's) one without,
 * and a key alone is an ordinary field of a model without them. An empty
 * sample says nothing: kura's default, timestamps.
 */
static bool decide_stamps(kura__smodel *m, const keys *ks, size_t sampled, const char *table)
{
    bool created = seen_key(ks, "created_at"), updated = seen_key(ks, "updated_at");
    if (sampled == 0 || (created && updated))
        return true;
    m->model.flags |= KURA_MODEL_NO_TIMESTAMPS;
    if (!created && !updated)
        return true;
    return kura__strs_addf(&m->warnings,
                           "collection %s: documents have %s but no %s: the model has no "
                           "timestamps, and %s is an ordinary field kura does not maintain",
                           table, created ? "created_at" : "updated_at",
                           created ? "updated_at" : "created_at",
                           created ? "created_at" : "updated_at");
}

/* The sampled documents' keys as text, into m's key kind. */
static bool decide_key(kura__smodel *m, kura_key_kind declared, const kura_rows *docs,
                       const char *table)
{
    const char **texts = calloc(docs->count + 1, sizeof *texts);
    if (!texts)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < docs->count; i++) {
        const cat_doc *d = kura_row(docs, i);
        if (d->k)
            texts[n++] = d->k;
    }
    char what[160];
    snprintf(what, sizeof what, "collection %s", table);
    bool ok = kura__inspect_key(m, declared, texts, n, what);
    free(texts);
    return ok;
}

bool kura__inspect_collection(kura_store *store, kura_schema *s, const char *table,
                              const char *doc_expr, kura_key_kind key,
                              const char *const *index_names, const bool *index_unique,
                              kura_error *err)
{
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_addf(&b, "SELECT CAST(\"_id\" AS TEXT) AS k, %s AS doc FROM ", doc_expr);
    kura_buf_ident(&b, table);
    kura_buf_addf(&b, " ORDER BY \"_id\" LIMIT %d", KURA__INSPECT_SAMPLE);
    kura_rows docs = {0};
    keys ks = {0};
    size_t bad = 0;
    bool oom = b.oom;
    bool ok = !oom && kura_sql_query(store, &cat_doc_model, b.data, NULL, 0, &docs, err);
    kura_buf_free(&b);
    for (size_t i = 0; ok && i < docs.count; i++)
        oom = !(ok = sample_one(&ks, ((const cat_doc *)kura_row(&docs, i))->doc, &bad));
    kura__smodel *m = NULL;
    if (ok) {
        m = kura__schema_add_model(s, table);
        oom = !(ok = m != NULL);
    }
    if (ok) {
        m->store = KURA_SCHEMA_DOCUMENTS;
        ok = kura__strs_addf(&m->warnings,
                             "collection %s: fields inferred from %zu sampled document%s (of at "
                             "most %d); none is marked required or bounded, and strings are "
                             "text (e-mail addresses email; uuid, objectid or date when every "
                             "value is one in canonical form): check them",
                             table, docs.count, docs.count == 1 ? "" : "s", KURA__INSPECT_SAMPLE) &&
             (!bad || kura__strs_addf(&m->warnings,
                                      "collection %s: %zu sampled document%s not a JSON object",
                                      table, bad, bad == 1 ? " is" : "s are")) &&
             decide_key(m, key, &docs, table) && decide_stamps(m, &ks, docs.count - bad, table) &&
             add_fields(m, &ks, table, index_names, index_unique);
        oom = !ok;
        ok = ok && kura__smodel_layout(m, err);
    }
    if (oom)
        kura_fail(err, KURA_NOMEM, NULL, "out of memory inspecting collection %s", table);
    keys_free(&ks);
    kura_rows_free(&docs);
    return ok;
}
