/*
 * kura/schema.h — models declared at run time from a schema file, and the
 * reverse: a schema read from an existing database (inspect).
 *
 * A schema file is JSON (the format is docs/schema-file.md):
 *
 *     {"models": [{"name": "sa_user", "store": "sql", "path": "/users",
 *                  "fields": [{"name": "name", "type": "string", "max_chars": 128},
 *                             {"name": "age", "type": "int32", "index": true}]},
 *                 {"name": "invoice", "key": "uuid",
 *                  "fields": [{"name": "total", "type": "decimal", "precision": 10,
 *                              "scale": 2}]}]}
 *
 * Every field type of kura/model.h can be declared, and every key kind
 * ("key": "int64", the default, "uuid", "objectid" or "string").
 * Loading it gives a kura_schema that owns one kura_model per entry. kura lays
 * each model out exactly as the C compiler lays out the equivalent struct
 * (`kura_base base;` first, then the fields in file order, each aligned for its
 * C type, as the type table says it: strings as char[KURA_STRING_BYTES(n)], a
 * decimal as char[KURA_DECIMAL_BYTES(p)] ...), so a runtime model works with
 * every function that takes a kura_model (kura_create, kura_insert, kura_find,
 * kura_to_json, kura_validate ...) and reads and writes the same rows as the C
 * declaration would. Objects of a runtime model are plain memory of
 * model->size bytes (malloc or calloc them, then kura_init).
 *
 * Ownership: the schema owns every model, field, name and string it hands
 * out; they stay valid until kura_schema_free. Stores remember the models
 * they have seen by address, so free a schema only after closing every store
 * that used its models.
 *
 * Errors: KURA_CONFIG with a message naming the model, the field and what is
 * wrong ("model sa_user, field age: unknown type 'int'", "... a decimal field
 * needs precision", "... default is longer than 2 characters"), or the line and
 * column of broken JSON; KURA_IO for a file that cannot be read; KURA_NOMEM.
 * err->field holds the field's name when one is at fault.
 */
#ifndef KURA_SCHEMA_H
#define KURA_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "model.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kura_schema kura_schema;

/* The kind of store a model lives in ("store" in the file). */
typedef enum kura_schema_store {
    KURA_SCHEMA_SQL,       /* "sql", the default: a table in the SQL store */
    KURA_SCHEMA_DOCUMENTS, /* "documents": a collection in the document store */
} kura_schema_store;

/* --- loading ---------------------------------------------------------------- */

/* Reads and loads the schema file at `path`. The caller owns the result
 * (kura_schema_free); NULL with err filled on failure. */
kura_schema *kura_schema_load_file(const char *path, kura_error *err);

/* The same from a NUL-terminated JSON text. */
kura_schema *kura_schema_load_string(const char *text, kura_error *err);

/* Frees the schema and every model it owns. NULL is a no-op. */
void kura_schema_free(kura_schema *schema);

/* --- reading a schema ---------------------------------------------------------- */

/* Number of models, in file order. */
size_t kura_schema_count(const kura_schema *schema);

/* Model i (i < kura_schema_count), owned by the schema; NULL when out of range. */
const kura_model *kura_schema_model(const kura_schema *schema, size_t i);

/* The model named `name`, or NULL. */
const kura_model *kura_schema_find(const kura_schema *schema, const char *name);

/* The store kind of model i (KURA_SCHEMA_SQL when out of range). */
kura_schema_store kura_schema_store_of(const kura_schema *schema, size_t i);

/* The HTTP path of model i ("/<name>" unless the file gave one); NULL when out of range. */
const char *kura_schema_path(const kura_schema *schema, size_t i);

/*
 * Warnings: what inspect found and could not put in a model (a table without
 * an `id` key, a column of a type kura cannot map, a multi-column index ...),
 * each a complete sentence naming the table and column. A schema file carries
 * them as "warnings" (top level, and per model), which the loader keeps and
 * never acts on. model_index is the model's index, or (size_t)-1 for the
 * schema's own (top-level) warnings.
 */
size_t kura_schema_warning_count(const kura_schema *schema, size_t model_index);
const char *kura_schema_warning(const kura_schema *schema, size_t model_index, size_t i);

/* --- writing ------------------------------------------------------------------------ */

/* One model to write, with the store and path the file should give it (NULL: "/<name>"). */
typedef struct kura_schema_entry {
    const kura_model *model;
    kura_schema_store store;
    const char *path;
} kura_schema_entry;

/*
 * The schema file (JSON text, pretty-printed, ending in a newline) for
 * entries[0..n), as kura_schema_load_string reads it back: one field per line,
 * each with the options it uses (others left out); store and path always
 * written. The caller frees the text.
 * Options a field's type does not take (choices on an int32, a range on a
 * string) and a default that is no value of its type are left out, so the
 * text always loads. NULL with err filled: KURA_INVALID for a field whose type
 * is no kura_type, KURA_NOMEM.
 */
char *kura_schema_write(const kura_schema_entry *entries, size_t n, kura_error *err);

/* The schema file for a loaded or inspected schema, warnings included. */
char *kura_schema_to_string(const kura_schema *schema, kura_error *err);

/*
 * C declarations for the schema's models: per model a struct whose first member
 * is `kura_base base`, and `const kura_model <name>_model = KURA_MODEL(...)`
 * (KURA_MODEL_KEYED for a key other than int64, KURA_MODEL_EX for a model
 * without timestamps), in
 * one translation unit that includes <kura/kura.h>. Compiled, each struct has
 * the layout of the runtime model. Warnings become comments. The caller frees
 * the text. KURA_UNSUPPORTED naming the model or field whose name is not a
 * usable C identifier (a C keyword); KURA_NOMEM.
 */
char *kura_schema_to_c(const kura_schema *schema, kura_error *err);

/* --- inspect: the schema of an existing database ----------------------------------- */

/*
 * Reads the catalogue of the SQL database at `database_url` (as
 * kura_store_open takes it: sqlite:///..., postgresql://...) and returns one
 * model per table kura can serve, in name order:
 *   - columns map to fields (INTEGER -> int32, BIGINT -> int64, VARCHAR(n) and
 *     CHAR(n) -> string n, TEXT -> text, REAL/DOUBLE/FLOAT -> double, BOOLEAN ->
 *     bool, DATETIME/TIMESTAMP [WITHOUT TIME ZONE] -> datetime, DATE -> date,
 *     UUID -> uuid, NUMERIC(p,s)/DECIMAL(p,s) -> decimal, JSON/JSONB -> json;
 *     a string column of 36 or 24 characters whose sampled values are all
 *     canonical UUIDs or ObjectIds -> uuid or objectid); NOT NULL -> required;
 *     a literal default the field's type takes -> default; a single-column
 *     index -> index (and unique), a UNIQUE constraint -> unique;
 *   - the primary key column `id` is the key: an integer column an int64 key
 *     (SQLite: INTEGER PRIMARY KEY), a UUID column a uuid key, a text column a
 *     uuid, objectid or string key by its sampled values (uuid or objectid only
 *     when every sampled key is that type's canonical text);
 *   - id, created_at and updated_at are kura_base, not fields; a table with
 *     neither stamp is a model without timestamps (KURA_MODEL_NO_TIMESTAMPS,
 *     "timestamps": false in the file), and a table with one of the two is
 *     one too, that column an ordinary datetime field, with a warning;
 *   - a column whose type kura cannot map (BLOB, a NUMERIC without precision
 *     or of more than 34 digits, timestamp WITH time zone ...) is left out,
 *     with a warning naming it; so are defaults that are not literals, and
 *     multi-column, partial and expression indexes;
 *   - a table without a one-column primary key `id` of those types is not a
 *     model: a top-level warning names it;
 *   - a JSON document collection of kura's (a table "_id", "doc": embedded
 *     SQLite JSON or JSONB) becomes a "documents" model whose key kind comes
 *     from "_id" as for tables and whose fields are inferred from up to 100
 *     documents (in key order of first appearance; JSONB stores keys shortest
 *     first): strings are uuid, objectid or date only when every sampled value
 *     is that type's canonical text, and objects or values of mixed kinds are
 *     json; ix_<table>_<field> indexes mark fields indexed/unique; nothing is
 *     inferred required or bounded; sampled documents with neither created_at
 *     nor updated_at (or only one) make a model without timestamps, as for
 *     tables;
 *   - SQLite tables of kura's embedded key-value store (kura_kv, kura_kv_zset,
 *     kura_kv_hash) are skipped.
 * See docs/schema-file.md.
 * The caller owns the result (kura_schema_free). NULL with err filled:
 * KURA_NOT_FOUND for a SQLite file that does not exist (it is not made), the
 * errors of kura_store_open, KURA_UNSUPPORTED for a document or other store,
 * the store's errors from reading the catalogue or the samples.
 */
kura_schema *kura_inspect(const char *database_url, kura_error *err);

/* The same over an open SQL store (which stays the caller's). */
kura_schema *kura_inspect_store(kura_store *store, kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
