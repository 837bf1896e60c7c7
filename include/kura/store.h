/*
 * kura/store.h — the model store: saving, reading and querying models.
 *
 * A kura_store is one configured database (SQLite, PostgreSQL, or a document
 * store) behind one API. Every driver keeps the same contract, checked by one
 * conformance suite (tests/conformance):
 *
 *  - Writes validate first (kura_validate); when validation fails nothing is
 *    written and err names the field.
 *  - insert stamps created_at and updated_at; every other write path (update,
 *    save, update_where) stamps updated_at. Stamps are UTC with microseconds.
 *    A model declared KURA_MODEL_NO_TIMESTAMPS (kura/model.h) has neither:
 *    nothing is stamped and base.created_at / base.updated_at stay 0.
 *  - Every value is a bound parameter; identifiers come from descriptors only.
 *  - A kura_store is safe to share between threads. Each operation borrows a
 *    connection from the store's bounded pool and returns it; a transaction
 *    pins one connection to the calling thread until it ends. Say how many
 *    with the URL's `pool` option (SQLite: `?pool=8`, the default; an
 *    in-memory database always uses one connection).
 *  - Errors: KURA_NOT_FOUND for a missing id, KURA_CONSTRAINT for a unique
 *    violation, KURA_VALIDATION for bad values, KURA_UNAVAILABLE when the
 *    server cannot be reached, KURA_TIMEOUT when no connection came free in
 *    time, KURA_STORE for anything else the database refused.
 *
 * Ownership: the store never keeps pointers to caller objects after a call
 * returns. Rows it returns (kura_rows, kura_get's *out) are the caller's; free
 * TEXT members with kura_clear and row arrays with kura_rows_free.
 */
#ifndef KURA_STORE_H
#define KURA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "query.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kura_store kura_store;
typedef struct kura_cursor kura_cursor;

/*
 * A stored row or document that does not fit the model (a field of the wrong
 * type, a string too long for its member, an `_id` of a type the key kind
 * does not read): kura_find skips it and records it here, so one document
 * another program wrote never turns a whole listing into an error.
 */
typedef struct kura_misfit {
    char id[KURA_KEY_BYTES]; /* the row's key as text (kura_key_text), "" if unreadable */
    char field[64];          /* the field at fault ("id" for the key) */
    char reason[192];        /* readable */
} kura_misfit;

/* An array of model structs, all of `model`. Zero-initialise before use. */
typedef struct kura_rows {
    const kura_model *model;
    void *items; /* count structs of model->size bytes, malloc'd */
    size_t count;
    size_t capacity;
    kura_misfit *misfits; /* rows kura_find skipped (malloc'd, freed by kura_rows_free) */
    size_t nmisfits;
} kura_rows;

/* Row i of rows (no bounds check beyond an assert-free NULL for i >= count). */
void *kura_row(const kura_rows *rows, size_t i);

/* Frees every row's TEXT members and the array; leaves *rows zeroed. */
void kura_rows_free(kura_rows *rows);

/*
 * Opens a store from a URL:
 *   sqlite:///relative/app.db    sqlite:////absolute/app.db    sqlite://:memory:
 * (sqlite:// and sqlite:/// with no path are in memory too, as SQLAlchemy
 * reads them: nothing is written to a file, and the data goes with the store)
 * with options after '?': journal_mode (wal, the default, or delete, truncate,
 * memory, off), synchronous (off, normal, full: the default), busy_timeout
 * (milliseconds, default 5000), pool (connections, default 8),
 * foreign_keys (on, the default, or off), mmap_size_mb (memory-mapped reads
 * per connection, shared with the OS page cache; default an eighth of RAM, at
 * most 256; 0 turns it off) and cache_size_mb (the private page cache of each
 * connection; default a sixteenth of RAM shared by the pool, at most 1024 in
 * all, at least 2 each).
 * PostgreSQL: postgresql://user:pass@host:port/db or postgresql:///db?host=/socket/dir
 * (also postgres://), with kura's options pool (default 8), pool_timeout (ms
 * waiting for a free connection, default 5000), statement_timeout (ms, a
 * slower statement fails with KURA_TIMEOUT), connect_timeout (s, default
 * 10), timeout (ms kura waits without hearing from the server before it
 * gives the connection up, default 10000, or statement_timeout + 1000 when
 * that is longer; 0: forever) and stall (ms, default 1000; 0 turns it off):
 * while one call waits, another that hears nothing for `stall` ms (nor does
 * any other) stops waiting, so a hung server holds up one caller for
 * `timeout` and the rest for `stall` at most; once a wait gave up, calls fail
 * at once with KURA_UNAVAILABLE (nothing sent) while one call at a time tries
 * the server, waiting at most `stall` ms. A server that is only slow turns no
 * call away: a statement that runs long is cut by `timeout` alone. A
 * migration (kura_migrate) and a document upgrade wait as long as their
 * statements take (an index build, a lock another transaction holds). A write
 * whose wait gave up fails with KURA_OUTCOME_UNKNOWN (the server may still
 * apply it); every other option is libpq's (sslmode, application_name, ...).
 * lazy=1 opens the store without connecting: its operations fail with
 * KURA_UNAVAILABLE until the server answers (`kura serve` opens so when the
 * server is down at start, and migrates once it is back). Otherwise
 * it fails with KURA_UNAVAILABLE when the server cannot be reached, KURA_AUTH
 * for a wrong password and KURA_CONFIG for an unknown database or option. A
 * server restart needs no reopening: operations fail with KURA_UNAVAILABLE
 * while it is down and succeed again once it is back.
 * Returns NULL and fills err on a malformed URL (KURA_CONFIG; an option given
 * twice is one), an unknown scheme (KURA_CONFIG) or a database that cannot be
 * opened (KURA_IO).
 * The caller owns the store: kura_store_close.
 */
kura_store *kura_store_open(const char *url, kura_error *err);

/* Closes every connection and frees the store. NULL is a no-op. */
void kura_store_close(kura_store *store);

/* The driver's name: "sqlite", "postgresql", ... Static storage. NULL for a NULL store. */
const char *kura_store_driver(const kura_store *store);

/* Checks that the store answers (a round trip). */
bool kura_store_ping(kura_store *store, kura_error *err);

/*
 * One database server behind a store with read replicas (KURA_DATABASE_REPLICA_URLS,
 * setting database_replica_urls): the primary, or a replica.
 */
typedef struct kura_store_node {
    char name[128];    /* "primary", or the replica's URL without its password */
    bool primary;      /* the node writes (and reads in transactions) go to */
    bool up;           /* answered its last check (the primary: its last position read) */
    bool in_use;       /* reads outside transactions may go to it now (a replica that is up
                          and within the lag bounds; the primary always) */
    int64_t lag_bytes; /* WAL it had not replayed at its last check; -1 unknown */
    int64_t lag_ms;    /* at its last check, how long ago the primary was first seen past
                          the position it had replayed (0: it had all; to within a check
                          interval); -1 unknown */
    uint64_t reads;    /* reads outside transactions sent to it since the store opened */
    uint64_t failures; /* reads that failed on it and went to the primary instead */
    char why[96];      /* why it is not in use ("" when it is): the last error, or the lag */
} kura_store_node;

/*
 * Fills out[0 .. cap) with the store's nodes, the primary first, and returns how many
 * it has: 0 for a store without replicas (nothing is written then). Reads the state of
 * the last check, and checks again first when one is due (a round trip per node), so it
 * may wait as long as a replica's connect_timeout. out may be NULL when cap is 0.
 */
size_t kura_store_nodes(kura_store *store, kura_store_node *out, size_t cap);

/*
 * A write hook hears of every kura_update (and kura_save of an existing row),
 * kura_delete, kura_update_where and kura_delete_where on the store that
 * reached the driver, after the driver returned, also when it failed (a write
 * that failed may have been applied: KURA_OUTCOME_UNKNOWN) unless it found no
 * such row (KURA_NOT_FOUND): `id` is the row's id (int64 keys) and
 * `key` the row's key as text for the other key kinds (NULL for int64 keys);
 * id 0 and key NULL when the write may have touched many rows. It runs on the writing thread.
 * Writes made inside a transaction are reported once, when its outermost level commits or rolls
 * back, with model NULL and id 0 ("anything may have changed"), so a hook never runs while the
 * transaction holds its locks. Caches use it to invalidate (kura/cache.h). Inserts are not
 * reported: they make no existing row stale. Raw SQL (kura_sql_exec) is not seen.
 * A delete also changes, inside the database, the rows that reference the deleted
 * ones with ON DELETE CASCADE or SET NULL (kura/model.h, "References"): it is
 * heard too as a write to many rows (id 0, key NULL) of each such referencing
 * model read or written through this store since its first hook was added (every model, model NULL,
 * past 16 of them).
 */
typedef void (*kura_write_hook)(void *ctx, const kura_model *model, int64_t id, const char *key);

/* The most write hooks one store holds at once. */
#define KURA_WRITE_HOOKS 8

/*
 * Adds hook (called with ctx) to the store's write hooks: each write calls
 * every one of them, in the order they were added. Every cache adds its own
 * and takes it off when it goes (kura_store_remove_write_hook), in any order:
 * the others keep theirs. Add and remove before the store is shared between
 * threads, or once no other thread writes through it. False with
 * KURA_INVALID when hook is NULL or the store holds KURA_WRITE_HOOKS already.
 */
bool kura_store_add_write_hook(kura_store *store, kura_write_hook hook, void *ctx, kura_error *err);

/* Takes off the hook added with this hook and ctx (nothing when there is
 * none); after it returns, the store never calls it again. */
void kura_store_remove_write_hook(kura_store *store, kura_write_hook hook, void *ctx);

/* --- schema -------------------------------------------------------------- */

/* Creates the model's table and its indexes when they do not exist
 * (idempotent). A field's reference to a model whose key it cannot hold is
 * KURA_INVALID (kura/model.h, "References"). */
bool kura_create(kura_store *store, const kura_model *model, kura_error *err);
/* kura_create for each model, a referenced model's table before the tables
 * that reference it, whatever the order of models[]; stops at the first error. */
bool kura_create_all(kura_store *store, const kura_model *const *models, size_t n, kura_error *err);

/* Drops the model's table and its indexes when they exist. */
bool kura_drop(kura_store *store, const kura_model *model, kura_error *err);
/* kura_drop for each model, a referencing table before the one it references. */
bool kura_drop_all(kura_store *store, const kura_model *const *models, size_t n, kura_error *err);

/* --- one object ---------------------------------------------------------- */

/*
 * Validates, stamps created_at/updated_at and inserts *obj. The key:
 *   int64     the store assigns it into obj->base.id;
 *   uuid, objectid   kura generates it into obj->base.key when that is "",
 *             else checks (and lowercases) the one the caller put there;
 *   string    the caller must put it in obj->base.key (KURA_VALIDATION
 *             naming "id" when it is missing or malformed).
 * A key already stored is KURA_CONSTRAINT. On failure a generated key is
 * taken back (base.key is "" again).
 */
bool kura_insert(kura_store *store, const kura_model *model, void *obj, kura_error *err);

/* Inserts n structs from the array objs in one transaction: all or none.
 * Every object is validated; one that fails (KURA_VALIDATION, the message
 * names the row) leaves nothing written. Sets each id and stamp; on failure
 * every id is 0 (the stamps may have been set). */
bool kura_insert_many(kura_store *store, const kura_model *model, void *objs, size_t n,
                      kura_error *err);

/* Reads the row with `id` into *out (which must own nothing: it is overwritten).
 * KURA_NOT_FOUND when there is none. For KURA_KEY_INT64 models only (others:
 * KURA_INVALID; use kura_get_key). KURA_MISFIT when the stored document does
 * not fit the model (err names the field). */
bool kura_get(kura_store *store, const kura_model *model, int64_t id, void *out, kura_error *err);

/* kura_get by the key as text, for every key kind (kura_key_parse reads it: a
 * malformed key is KURA_INVALID naming "id", a well-formed one that is not
 * stored KURA_NOT_FOUND). */
bool kura_get_key(kura_store *store, const kura_model *model, const char *key, void *out,
                  kura_error *err);

/* Validates, stamps updated_at and writes every field of *obj to the row with
 * obj's key (base.id or base.key). KURA_NOT_FOUND when that row is gone.
 * created_at is kept. */
bool kura_update(kura_store *store, const kura_model *model, void *obj, kura_error *err);

/*
 * Insert or update, by the key kind:
 *   int64, uuid, objectid   kura_insert when *obj has no key yet (base.id 0,
 *             base.key ""), kura_update otherwise;
 *   string    the caller always supplies the key, so: kura_update, and
 *             kura_insert when no row has that key (two concurrent first saves
 *             of one key: one inserts, the other gets KURA_CONSTRAINT).
 */
bool kura_save(kura_store *store, const kura_model *model, void *obj, kura_error *err);

/* Deletes the row with `id`. KURA_NOT_FOUND when there is none. KURA_KEY_INT64
 * models only, as kura_get. */
bool kura_delete(kura_store *store, const kura_model *model, int64_t id, kura_error *err);

/* kura_delete by the key as text, for every key kind (as kura_get_key). */
bool kura_delete_key(kura_store *store, const kura_model *model, const char *key, kura_error *err);

/* --- queries ------------------------------------------------------------- */

/* Appends every matching row to *out (zero-initialised or from an earlier call
 * with the same model). On failure *out keeps the rows it had before. A row
 * that does not fit the model (kura_misfit) is skipped and appended to
 * out->misfits instead: the call still succeeds. */
bool kura_find(kura_store *store, const kura_query *q, kura_rows *out, kura_error *err);

/* The first matching row (in the query's order) into *out; *found says whether
 * there was one. */
bool kura_first(kura_store *store, const kura_query *q, void *out, bool *found, kura_error *err);

/* Number of matching rows, ignoring order, limit and offset. */
bool kura_count(kura_store *store, const kura_query *q, int64_t *count, kura_error *err);

/* Whether any row matches. */
bool kura_exists(kura_store *store, const kura_query *q, bool *exists, kura_error *err);

/* One assignment of a bulk update. */
typedef struct kura_assign {
    const char *field;
    kura_value value; /* KURA_VNULL sets NULL (refused for required fields) */
} kura_assign;

/*
 * Sets the assigned fields on every matching row (order, limit and offset are
 * ignored) and stamps updated_at on each. Every assigned value is validated
 * against its field first (type, length, e-mail, choices, range); a bad one
 * writes nothing. *affected (may be NULL) gets the number of rows changed.
 */
bool kura_update_where(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                       int64_t *affected, kura_error *err);

/* Deletes every matching row; *affected (may be NULL) gets how many. */
bool kura_delete_where(kura_store *store, const kura_query *q, int64_t *affected, kura_error *err);

/* --- references: the rows on either side, without a query per row ------ */

/*
 * Eager loading, as SQLAlchemy's selectinload: instead of one kura_get per row
 * (the "N+1 queries"), one query per KURA_REFERENCE_BATCH distinct keys.
 *
 *     kura_rows books = {0}, authors = {0};
 *     kura_find(db, &q, &books, &err);                      // books
 *     kura_find_referenced(db, &books, "author_id", &authors, &err);
 *     for (size_t i = 0; i < books.count; i++) {
 *         const author *a = kura_referenced(&authors, &book_model, kura_row(&books, i),
 *                                           "author_id");
 *         ...                                               // NULL: no author
 *     }
 *
 * `store` is the store of the model the rows are read from (the referenced
 * model for kura_find_referenced, `model` for kura_find_referencing): a
 * document's field may reference a SQL model. The field must reference a model
 * (kura_field.references), else KURA_INVALID; a field of a row that is NULL
 * references nothing. A value no row has any more (a document store enforces
 * no reference) is simply not found. On failure *out keeps the rows it had
 * (in the order described below) and nothing else. For a model that
 * references itself, the rows read from and *out may be the same kura_rows.
 */
#define KURA_REFERENCE_BATCH 64

/*
 * Appends to *out every row that field `field` of the rows in `rows`
 * references, each once: *out is zero-initialised or holds rows of the
 * referenced model from earlier calls (those are not read again). *out is
 * left sorted by key (integers by value, text keys by byte), for
 * kura_referenced. Misfits are recorded in out->misfits as kura_find does.
 */
bool kura_find_referenced(kura_store *store, const kura_rows *rows, const char *field,
                          kura_rows *out, kura_error *err);

/* The row of `targets` (sorted by key, as kura_find_referenced leaves it) that
 * field `field` of `row` (a struct of `model`) references; NULL when the field
 * is NULL, names no field of model, or its row is not in targets. Borrowed
 * from targets. A binary search: no query. */
const void *kura_referenced(const kura_rows *targets, const kura_model *model, const void *row,
                            const char *field);

/*
 * The other side (one-to-many, an author's books): appends to *out every row
 * of `model` whose field `field`, which references parents->model, holds the
 * key of a row in `parents`. *out is zero-initialised or holds rows of `model`
 * (they are kept; rows already in it may then come twice) and is left sorted
 * by that field, then by key, for kura_referencing.
 */
bool kura_find_referencing(kura_store *store, const kura_rows *parents, const kura_model *model,
                           const char *field, kura_rows *out, kura_error *err);

/* The rows of `children` (sorted, as kura_find_referencing leaves it) whose
 * field `field` references `parent` (a struct of the model the field
 * references): returns how many, the rows children[*first] onward; 0 for
 * none, a field that references no model, or a NULL argument. A binary
 * search: no query. */
size_t kura_referencing(const kura_rows *children, const char *field, const void *parent,
                        size_t *first);

/* --- cursors: large results without loading them all ------------------- */

/* Opens a cursor over the matching rows. The caller owns it: kura_cursor_close.
 * It holds one pooled connection until closed. */
kura_cursor *kura_cursor_open(kura_store *store, const kura_query *q, kura_error *err);

/* Reads the next row into *out (overwritten; it must own nothing).
 * Returns 1 for a row, 0 at the end, -1 on error (err filled). With
 * KURA_MISFIT the row did not fit the model: err names the field, out's
 * base holds its key (kura_key_text) and owns nothing, and the cursor is
 * still usable: call kura_cursor_next again for the next row. */
int kura_cursor_next(kura_cursor *cursor, void *out, kura_error *err);

/* Ends the cursor and returns its connection. NULL is a no-op. */
void kura_cursor_close(kura_cursor *cursor);

/* --- transactions --------------------------------------------------------- */

/*
 * Begins a transaction on the calling thread's pinned connection; inside one,
 * begins a nested one (a savepoint). Every begin is ended by one commit or
 * rollback on the same thread. A statement that fails inside a transaction
 * dooms it: later statements still run, but the outermost commit then rolls
 * everything back and returns KURA_STORE, so the database is as it was before
 * the transaction. (PostgreSQL refuses the later statements themselves, with
 * KURA_STORE, until the transaction or the failed savepoint is rolled back.)
 * Rolling back a nested level undoes it and clears the doom it caused. Validation failures write
 * nothing and do not doom.
 */
/* A cursor opened inside a transaction uses the transaction's connection:
 * close it before the outermost commit or rollback, which otherwise fail with
 * KURA_INVALID and leave the transaction open. */
bool kura_begin(kura_store *store, kura_error *err);
bool kura_commit(kura_store *store, kura_error *err);
bool kura_rollback(kura_store *store, kura_error *err);

/* Depth of the calling thread's transaction on this store (0: none, and for a NULL store).
 * kura_begin, kura_commit and kura_rollback fail with KURA_INVALID for a NULL store. */
int kura_transaction_depth(kura_store *store);

/* --- raw SQL: the escape hatch (SQL stores only) ------------------------ */

/*
 * Runs `sql` with `params` bound in order (placeholders are the driver's own:
 * ? for SQLite, $1 for PostgreSQL) and appends the rows to *out, mapping
 * result columns to model fields by name (the key, "created_at" and
 * "updated_at" when the model has them, and the user fields: kura_column_named);
 * other columns are ignored, missing fields stay zero.
 * KURA_UNSUPPORTED on a document store.
 */
bool kura_sql_query(kura_store *store, const kura_model *model, const char *sql,
                    const kura_value *params, size_t nparams, kura_rows *out, kura_error *err);

/* Runs a statement that returns no rows; *affected (may be NULL) gets the
 * number of rows it changed. */
bool kura_sql_exec(kura_store *store, const char *sql, const kura_value *params, size_t nparams,
                   int64_t *affected, kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
