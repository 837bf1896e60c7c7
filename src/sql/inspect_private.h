/* inspect_private.h — what inspect.c and inspect_docs.c share; not installed. */
#ifndef KURA_INSPECT_PRIVATE_H
#define KURA_INSPECT_PRIVATE_H

#include <kura/schema.h>

#include "model/schema_private.h"

/* Documents read from a collection to infer its fields. */
#define KURA__INSPECT_SAMPLE 100

/*
 * Adds a "documents" model for the JSON document collection `table` (a table
 * of kura's embedded or JSONB document store: "_id", "doc"), its fields
 * inferred from up to KURA__INSPECT_SAMPLE documents in _id order; `doc_expr`
 * selects the document as text ("doc" or "doc::text"). `index_names` lists
 * the table's index names (NULL-terminated, may be NULL): ix_<table>_<field>
 * marks a field indexed, and unique when the matching `index_unique` is true.
 * What cannot be inferred becomes a warning on the model. False with err filled
 * on a store error or out of memory.
 */
bool kura__inspect_collection(kura_store *store, kura_schema *s, const char *table,
                              const char *doc_expr, const char *const *index_names,
                              const bool *index_unique, kura_error *err);

#endif
