/*
 * mongo_private.h — kura models and queries as BSON (the MongoDB driver's
 * translations, kept apart from the connection code so that tests can compare
 * them with expected canonical extended JSON without a server).
 */
#ifndef KURA_MONGO_PRIVATE_H
#define KURA_MONGO_PRIVATE_H

#include <bson/bson.h>

#include <kura/query.h>
#include <kura/store.h>

#include "store/store_private.h"

/* The BSON dates (milliseconds since 1970) a kura_time can hold: years 0000..9999. */
/* The collection of int64 key counters (mongo.c), beside the models' own. */
#define KURA_MONGO_COUNTERS "kura_counters"

#define KURA_MONGO_MIN_MS INT64_C(-62167219200000)
#define KURA_MONGO_MAX_MS INT64_C(253402300799999)

/* kura_time (microseconds) to a BSON date (milliseconds), rounding down. */
int64_t kura_mongo_ms_floor(kura_time t);

/*
 * Appends the document for *obj to `doc` (initialised, empty): `_id` (the
 * int64 id) unless for_update, every user field by name (NULL as BSON null,
 * INT32 as int32, INT64 as int64, DATETIME as a date), and, when the model has
 * timestamps, created_at unless for_update and updated_at. With for_update it
 * is the body of a $set.
 * False (err filled) only for a string that is not valid UTF-8.
 */
bool kura_mongo_from_model(const kura_model *m, const void *obj, bool for_update, bson_t *doc,
                           kura_error *err);

/*
 * Reads a stored document into *out (zeroed by the caller, owning nothing).
 * Declared fields missing from the document read as NULL; keys the model does
 * not declare are ignored. A value of the wrong BSON type is KURA_MISFIT naming
 * the field (base.id / base.key already hold the document's key); on failure
 * *out may own TEXT members (kura_clear).
 */
bool kura_mongo_to_model(const kura_model *m, const bson_t *doc, void *out, kura_error *err);

/* The $set body of a bulk update: the assignments and (models with
 * timestamps) updated_at = now. */
bool kura_mongo_from_assign(const kura_model *m, const kura_assign *set, size_t n, kura_time now,
                            bson_t *doc, kura_error *err);

/*
 * The filter document for q's terms (q well formed). Comparisons follow SQL:
 * a NULL or missing field matches no comparison, not even NE ($nin [v, null]);
 * PREFIX is an anchored regex of the escaped literal, LIKE a translated one;
 * datetimes compare exactly against millisecond dates (GT/LE round the bound
 * down, GE/LT up; EQ/IN with a sub-millisecond value match nothing).
 */
bool kura_mongo_filter(const kura_query *q, bson_t *filter, kura_error *err);

/* The sort document: q's keys, then _id ascending unless already a key. */
void kura_mongo_sort(const kura_query *q, bson_t *sort);

/*
 * `_id`s. kura writes a key as its kind's BSON type: int64, ObjectId
 * (objectid), string (uuid, string). Reading, the text kinds accept what
 * other programs write: an ObjectId reads as its 24 hex digits, an integer as
 * its decimal text, a string as itself. So a key given as text matches
 * `_id` in {the kind's type, the string, the ObjectId when it is 24 hex
 * digits, the integer when it is an integer's decimal text} (uuid keys:
 * the string only).
 */
void kura_mongo_append_key(const kura_model *m, const kura_keyref *k, bson_t *doc,
                           const char *name);
/* Appends {"_id": <k, or {$in: [every type it may be stored as]}>} to filter. */
void kura_mongo_key_filter(const kura_model *m, const kura_keyref *k, bson_t *filter);

/* The key a column is stored under: "_id", a field name, created_at, updated_at. */
const char *kura_mongo_key(const kura_model *m, int column);

#endif
