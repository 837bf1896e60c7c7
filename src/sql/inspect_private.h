/* inspect_private.h — what inspect.c and inspect_docs.c share; not installed. */
#ifndef KURA_INSPECT_PRIVATE_H
#define KURA_INSPECT_PRIVATE_H

#include <kura/schema.h>

#include "model/schema_private.h"

/* Documents read from a collection to infer its fields. */
#define KURA__INSPECT_SAMPLE 100

/*
 * Adds a "documents" model for the JSON document collection `table` (a table
 * of the JSON layout kura's SQL document stores made before: "_id", "doc"; a
 * collection of the columns layout is inspected as a table, inspect.c), its fields
 * inferred from up to KURA__INSPECT_SAMPLE documents in _id order; `doc_expr`
 * selects the document as text ("doc" or "doc::text"). `key` is what the
 * "_id" column's type says (as for kura__inspect_key). `index_names` lists
 * the table's index names (NULL-terminated, may be NULL): ix_<table>_<field>
 * marks a field indexed, and unique when the matching `index_unique` is true.
 * What cannot be inferred becomes a warning on the model. False with err filled
 * on a store error or out of memory.
 */
bool kura__inspect_collection(kura_store *store, kura_schema *s, const char *table,
                              const char *doc_expr, kura_key_kind key,
                              const char *const *index_names, const bool *index_unique,
                              kura_error *err);

/*
 * Whether s is exactly the canonical text of `type` (one of the text-valued
 * types: uuid, objectid, date): what kura itself writes, and so the evidence
 * inspect takes for that type (inspect_sample.c).
 */
bool kura__inspect_canonical(kura_type type, const char *s);

/*
 * The key kind sampled text keys keys[0..n) say: uuid when every one is a
 * canonical UUID, objectid when every one is a canonical ObjectId, string
 * otherwise (and for no keys at all: a string key asks nothing of its values).
 */
kura_key_kind kura__inspect_text_key(const char *const *keys, size_t n);

/*
 * Sets m's key kind for a key column whose type says `declared`: KURA_KEY_INT64
 * (an integer), KURA_KEY_UUID (a uuid column), or KURA_KEY_STRING (text, whose
 * kind the sampled keys keys[0..n) decide: kura__inspect_text_key). Warns on
 * the model, naming `what` ("table t", "collection t"), when text keys could
 * not be sampled or one is longer than a key can be. False on out of memory.
 */
bool kura__inspect_key(kura__smodel *m, kura_key_kind declared, const char *const *keys, size_t n,
                       const char *what);

#endif
