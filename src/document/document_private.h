/* document_private.h — the document drivers behind kura_document_store_open. */
#ifndef KURA_DOCUMENT_PRIVATE_H
#define KURA_DOCUMENT_PRIVATE_H

#include <kura/document.h>

#include "store/store_private.h"

/* Documents in a SQL store's tables (SQLite JSON1, PostgreSQL JSONB). Takes
 * ownership of `sql` (a store from kura_sqlite_store_open / kura_pg_store_open),
 * also on failure. */
kura_store *kura_sqljson_store_new(kura_store *sql, kura_error *err);
bool kura_sqljson_is(const kura_store *store);
/* Opens a SQLite or PostgreSQL database by URL as a JSON document store. */
kura_store *kura_sqljson_sqlite_open(const char *url, kura_error *err);
kura_store *kura_sqljson_pg_open(const char *url, kura_error *err);

/* MongoDB through libmongoc. */
kura_store *kura_mongo_store_open(const char *url, kura_error *err);
bool kura_mongo_is(const kura_store *store);

/* True when every character of name is [A-Za-z0-9_] and it does not start with
 * a digit: such a name can be written inside a JSON path or a key literally.
 * Field names come from descriptors (C member names), so this only refuses a
 * hand-written descriptor with an odd name instead of quoting it. */
bool kura_doc_plain_name(const char *name);

#endif
