/*
 * kura/document.h — the same models, stored as documents.
 *
 * A document store is a kura_store: every function of store.h works on it
 * with the same contract (validation, stamps, errors, ownership, threads),
 * checked by the same conformance suite. A model is stored as one document
 * per object in a collection named like the model:
 *
 *   - the key is the document's `_id`, by the model's key kind (model.h):
 *       int64     an integer assigned by the store on insert (embedded and
 *                 JSONB: the table's INTEGER/BIGSERIAL key "_id"; MongoDB: a
 *                 counter in the `kura_counters` collection, taken with
 *                 findAndModify $inc, several ids in one round trip for
 *                 insert_many);
 *       uuid      a string (JSONB: a UUID column), made by kura;
 *       objectid  a BSON ObjectId in MongoDB (text in the JSON tables), made by
 *                 kura with bson_oid_init as the drivers do;
 *       string    a string the caller supplies;
 *   - the user fields are keys named like the fields; created_at and
 *     updated_at are dates: ISO 8601 UTC text with microseconds in JSON
 *     ("2024-05-01T12:00:00.000001Z"), BSON dates in MongoDB; a model
 *     declared KURA_MODEL_NO_TIMESTAMPS writes neither key and leaves keys of
 *     those names that another program wrote as they are;
 *   - a NULL field reads back from JSON null or from a missing key;
 *   - keys the model does not declare (written by another program) are
 *     ignored when reading and KEPT when saving: kura_update and
 *     kura_update_where write the model's keys only (columns, json_patch /
 *     jsonb || on JSON collections, $set), they never replace the document;
 *
 * Documents other programs wrote (pymongo, MongoEngine, a SQL INSERT):
 *   - `_id`s. A model keyed objectid or string reads an `_id` of any of the
 *     three types programs write: an ObjectId as its 24 hex digits, a string
 *     as itself (1..63 bytes), an integer as its decimal text. Such a document
 *     is read, updated and deleted by that text (kura_get_key, kura_update,
 *     kura_delete_key, a query on the key, HTTP /things/{id}): kura matches
 *     `_id` against every type the text may stand for (the ObjectId when it
 *     is 24 hex digits, the string, the integer when it is an integer's
 *     text). A uuid model reads string `_id`s only. An int64 model reads
 *     integer `_id`s only: declare the model KURA_KEY_OBJECTID to share a
 *     collection with MongoEngine or pymongo, whose keys are ObjectIds.
 *   - Misfits. A document that does not fit the model (a field of the wrong
 *     type, a string longer than its member, an `_id` the key kind does not
 *     read) never fails a listing: kura_find skips it and appends a
 *     kura_misfit (its key as text, the field, the reason) to the rows'
 *     misfits, and the HTTP list answers them as "misfits": [{"id", "field",
 *     "reason"}] beside "items"; a cursor returns KURA_MISFIT for it and
 *     goes on. Reading it alone (kura_get_key) is KURA_MISFIT naming the
 *     field (HTTP 409); deleting it by key works. On a PostgreSQL JSON
 *     collection (the layout of before, below) a
 *     number or boolean field holding text of another type still fails the
 *     query (its ::integer cast is SQL's), not yet a misfit.
 *   - indexed and unique fields become real indexes (column indexes, SQL
 *     expression indexes on JSON collections, MongoDB createIndexes), made by kura_create or on a
 * model's first use by the store, never on every write.
 *
 * URLs (KURA_DOCUMENT_URL):
 *   sqlite:///path/app.db, sqlite://:memory:   embedded, SQLite; the options
 *        of kura_store_open apply.
 *   postgresql://...      PostgreSQL (when built with the PostgreSQL driver).
 *        In both, a collection kura makes is a table with a column per
 *        declared field, typed as the relational store types it, and
 *        "_extra": a JSON object (SQLite JSON1 text, JSONB) of the keys no
 *        field declares, NULL when there are none. The key column is "id"
 *        ("_id" beside a field named id). Declared fields cost what a
 *        table's columns cost (reads, queries, plain indexes, updates of
 *        only their columns); no migration is ever needed: a model used on
 *        a collection gets the columns it lacks added (nullable) on its
 *        first use, the values documents already hold under such a field's
 *        name in "_extra" moved into it (when PostgreSQL refuses one of them,
 *        none moves, and a warning is logged), columns no field declares
 *        stay, and kura_update keeps them and "_extra" as they are. Columns carry no NOT NULL,
 * bounds or choices (kura checks those): two models may share a collection. Unlike a JSON document,
 * a column holds its SQL type: PostgreSQL refuses a longer string or another type outright (no
 * misfit can be stored); SQLite takes it, and kura reads it as a misfit (text in a number field
 * too, never as 0). Collections made by kura before this layout, tables ("_id" key, "doc" JSON
 * holding the whole document), are used as they are, each field an expression on "doc" (expression
 * indexes); a table of the model's name that is neither is KURA_CONFIG. mongodb://...,
 * mongodb+srv://...   MongoDB through libmongoc: whatever the URI configures (replica set, TLS,
 * auth, pool size via maxPoolSize, ...). The database is the URI's path, default "kura".
 *
 * What differs between drivers (documented, and tested as such):
 *   - kura_sql_query / kura_sql_exec: KURA_UNSUPPORTED on every document store.
 *   - MongoDB: kura_begin/commit/rollback return KURA_UNSUPPORTED (MongoDB
 *     transactions need a replica set and sessions; kura does not pretend).
 *     kura_insert_many is still all or nothing: when the batch fails part way
 *     the documents it wrote are deleted again before the call returns (other
 *     readers may see them briefly). Dates are BSON dates, which hold
 *     milliseconds: datetime fields read back truncated to the millisecond,
 *     and the stamps created_at/updated_at are rounded UP to the next
 *     millisecond, the store waiting (< 1 ms) until that instant has passed,
 *     so a stamp is never earlier than the call nor later than its return;
 *     the rounded stamps are written back into the caller's struct.
 */
#ifndef KURA_DOCUMENT_H
#define KURA_DOCUMENT_H

#include <jansson.h>

#include "error.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Opens a document store from a URL (see above). Fails with KURA_CONFIG for a
 * malformed URL or an unknown scheme, KURA_UNAVAILABLE when a server does not
 * answer, KURA_IO for a file that cannot be opened. The caller owns the store:
 * kura_store_close.
 */
kura_store *kura_document_store_open(const char *url, kura_error *err);

/* Whether `store` is a document store (opened by kura_document_store_open). */
bool kura_store_is_document(const kura_store *store);

/*
 * The stored document of `model` under `key` (the key as text, read as
 * kura_get_key reads it) as it is in the store: a new JSON object (the
 * caller owns it: json_decref) holding every key of the document, those the
 * model does not declare too, but `_id`. Nothing is decoded into the model,
 * so a document that does not fit it is read as well. Values are as JSON
 * says them; on MongoDB as relaxed Extended JSON ({"$oid": ...}, {"$date":
 * ...}). A number jansson cannot hold as an integer (beyond int64; PostgreSQL
 * writes a double such as 1e20 as its digits) reads as the nearest real, and
 * so do the integers of that document beyond 2^53; none is dropped.
 * KURA_NOT_FOUND when there is none, KURA_INVALID for a malformed key,
 * KURA_UNSUPPORTED when `store` is not a document store.
 */
bool kura_document_get_json(kura_store *store, const kura_model *model, const char *key,
                            json_t **out, kura_error *err);

/*
 * Rewrites `model`'s collection from the layout kura used before ("_id",
 * "doc": each document whole in one JSON column) into the columns layout
 * (above), in one transaction: each document's declared keys go into their
 * columns (a datetime in the column's form), its other keys into "_extra";
 * keys, and the next int64 key (PostgreSQL: never one given before, to a
 * document deleted since), stay as they were; the indexes are made again
 * on the columns. Nothing is lost: a value its column cannot hold fails the
 * whole rewrite (PostgreSQL refuses text in an integer column, a string
 * longer than its VARCHAR, a decimal its NUMERIC(p,s) would round and, in a
 * date or datetime column, text kura does not read as one; the error names the first such document
 * in key order, its field and its value; SQLite keeps it, and kura reads that document as a
 * misfit), and nothing is changed. A value PostgreSQL's casts turn into the column's type ("12"
 * into 12, "yes" into true) is stored as the JSON layout already read it. Other keys a document has
 * that a field of ANOTHER model of the collection declares land in "_extra" too, and move into
 * their columns when that model is first used.
 *
 * dry_run: change nothing, only say what would run. *sql (required) receives
 * a malloc'd text (the caller frees it) of the statements, one per line
 * ending in ";": "" when there is nothing to do — a columns collection, a
 * missing one, a MongoDB store. kura migrate runs this (kura_app_migrate with
 * KURA_MIGRATE_UPGRADE_DOCUMENTS)
 * for every document model. Two at once (two `kura migrate` processes) take
 * turns (the migrations' lock): the second finds the collection rewritten
 * and has nothing to do (*sql is ""). The rewrite reads and writes every document:
 * on a large collection, run it when the application is stopped.
 *
 * Errors: KURA_INVALID for a missing argument, the store's own errors (the
 * transaction is rolled back), KURA_NOMEM.
 */
bool kura_document_upgrade(kura_store *store, const kura_model *model, bool dry_run, char **sql,
                           kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
