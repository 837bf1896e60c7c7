/*
 * sql_private.h — what a SQL driver provides, and the SQL model store built on it.
 *
 * The model-store logic for SQL databases (statement text from descriptors,
 * binding, decoding, pooling, statement caching, transactions, savepoints)
 * is written once, in the sql_*.c files (sql_store_private.h lists them). A
 * SQL driver (sqlite.c, postgres.c) only provides connections and statements
 * through kura_sql_driver; its dialect (dialect_sqlite.c, dialect_postgres.c)
 * says what differs in the SQL it is sent.
 */
#ifndef KURA_SQL_PRIVATE_H
#define KURA_SQL_PRIVATE_H

#include <kura/store.h>
#include <pthread.h>

#include "base/buf.h"
#include "model/types.h"
#include "query/to_sql.h"
#include "store/store_private.h"

typedef struct kura_sql_conn kura_sql_conn; /* the driver's connection */

/* A result value's kind (kura_sql_driver.column_kind). */
enum {
    KURA_SQL_KIND_NULL,
    KURA_SQL_KIND_INT,   /* an integer (or boolean), a whole real too: column_int reads it */
    KURA_SQL_KIND_REAL,  /* another number: column_double reads it */
    KURA_SQL_KIND_OTHER, /* text, bytes: no number */
};
typedef struct kura_sql_stmt kura_sql_stmt; /* the driver's prepared statement */

/*
 * What a document store built on a SQL database (src/document/sqljson*.c)
 * writes differently per database. A collection has declared fields as
 * columns and the other keys in one JSON column (the columns layout), or, made
 * before, is ("_id" key, "doc" JSON) with a field an expression on "doc" (the
 * JSON layout). Field names reach these functions checked as plain
 * identifiers, so they go into the SQL literally (an expression index is only
 * used by a query with the same expression).
 */
/* A columns-layout collection's column of the keys no field declares (a JSON
 * object, or NULL for none): what marks a table as a collection. */
#define KURA_DOC_EXTRA "_extra"

typedef struct kura_sql_json {
    const char *driver; /* the document store's kura_store_driver() */
    /* --- the columns layout */
    const char *extra_type; /* the column of the undeclared keys, after its name */
    /* Written around 'a', "a", 'b', "b", ...: the text of a JSON object of
     * those columns' values ({"a": <a>, ...}). */
    const char *object_open, *object_close;
    /* The undeclared keys' column selected as JSON text. */
    const char *extra_text;
    /* Appends column `column`, of live type `type` (as columns_sql reads it),
     * as the value object_open takes for it: a boolean as JSON true/false and
     * a datetime as the documents' ISO 8601 text, as kura writes them, where
     * the database would give its own forms. (A column of another model of
     * the collection, read through one that does not declare it.) */
    void (*key_value)(kura_buf *b, const char *column, const char *type);
    /* --- upgrading a JSON-layout collection into columns (sqljson_upgrade.c) */
    /* Appends `expr`, a field's value as the JSON layout reads it (as_value,
     * as_json), as the value its column holds: `column_type` is the column's
     * type, ti the field's type. */
    void (*to_column)(kura_buf *b, const char *expr, const kura_type_info *ti,
                      const char *column_type);
    /* Appends JSON column `doc` without the top-level keys names[0..n), NULL
     * when nothing is left: the undeclared keys. */
    void (*strip)(kura_buf *b, const char *doc, const char *const *names, size_t n);
    /* Appends a query of one row, one integer that makes the next id of
     * table's int64 key column `key` follow the largest, and what the
     * counter of `old`'s key column `old_key` would have given next (an id
     * given once, to a document deleted since, is not given again); NULL:
     * the database numbers from the largest anyway, in both tables. */
    void (*reseed)(kura_buf *b, const char *table, const char *key, const char *old,
                   const char *old_key);
    /* Appends a statement that goes through table's documents in key order,
     * storing values[i] (to_column's expression) in a value of types[i], and
     * fails at the first its type refuses, with a message naming the
     * document's key, the field names[i], the value as stored and why.
     * Run when the rewrite was refused; NULL: a column takes any value. */
    void (*refused)(kura_buf *b, const char *table, size_t n, const char *const *names,
                    const char *const *values, const char *const *types);
    /* --- the JSON layout */
    unsigned form;        /* KURA_FORM_*: the stored form of a field read from a document */
    const char *id_type;  /* the "_id" column for int64 keys; text keys as key_types */
    const char *doc_type; /* the "doc" column's definition after its name */
    /* Written around a bound JSON text to make it a document value. */
    const char *doc_open, *doc_close;
    /* The whole "doc" column selected as JSON text. */
    const char *doc_text;
    /* The key `field` of JSON column `doc` ("doc", or "_extra" of the
     * columns layout) as JSON text, as written; SQL NULL for JSON null and
     * for a missing key. */
    void (*as_json)(kura_buf *b, const char *doc, const char *field);
    /* The same key as a SQL value that compares and sorts as its type `ti` does. */
    void (*as_value)(kura_buf *b, const char *doc, const char *field, const kura_type_info *ti);
    /* Appends the new document for an update: the stored "doc" with the
     * top-level keys of `patch` (taken) replaced as they are and every other
     * key kept; parameters are added to p. m is the documents' model. */
    bool (*patch)(kura_buf *b, kura_sql_params *p, const kura_model *m, json_t *patch,
                  kura_error *err);
} kura_sql_json;

/*
 * A SQL dialect: everything that differs between databases, as data and small
 * functions in the dialect's own file (dialect_sqlite.c, dialect_postgres.c).
 * Code above the dialect asks it what to write; none asks which database it is.
 */
typedef struct kura_sql_dialect {
    /* Which column of the field-type table (model/types.h) holds this dialect's
     * column types, and which stored form its columns are. */
    kura_sql_id id;

    /* ---- statements */
    bool dollar_params;  /* placeholders $1, $2 ... instead of ? */
    bool returning_id;   /* INSERT ... RETURNING id, read as the statement's row */
    bool nulls_high;     /* NULL sorts above every value (kura_sql_order_limit) */
    const char *id_type; /* the int64 key column: "INTEGER" (SQLite), "SERIAL" */
    /* The key column's type by kura_key_kind, for the kinds other than int64. */
    const char *key_types[KURA_KEY_STRING + 1];
    /* Most parameters one multi-row INSERT ... RETURNING may carry, for a batch
     * of rows in one round trip; 0: a batch goes row by row (an embedded
     * database has no round trip to save, and one cached statement is faster). */
    int batch_params;

    /* ---- transactions */
    const char *begin; /* the statement that opens a transaction */

    /* ---- migrations (src/sql/migrate.c) */
    /* Run first inside a migration's transaction, so that two migrations of
     * one database run one after the other; NULL: `begin` already does it. */
    const char *migrate_lock;
    /* The live columns of the table bound as parameter 1: "name", "type" and,
     * where the catalogue keeps a length apart from the type, "len". */
    const char *columns_sql;
    /* The names ("name") of the live indexes of the table bound as parameter 1. */
    const char *indexes_sql;
    /* The live foreign keys of the table bound as parameter 1: the column
     * ("name") and the table it references ("type"). */
    const char *references_sql;
    /* Whether a foreign key can be added to a column that exists
     * (ALTER TABLE ... ADD FOREIGN KEY). */
    bool add_reference;
    /* Else the table is rebuilt (migrate.c, plan_rebuild) when these are set:
     * the CREATE text of the table's indexes made by a statement and of its
     * triggers ("name", "cols"), table bound as parameter 1; one integer, whether this
     * connection enforces foreign keys; the statements that stop and restart
     * that, run outside a transaction (dropping a referenced table with it on
     * would run the ON DELETE actions of the tables that reference it); the
     * rows of the table bound as parameter 1 that break one of its foreign
     * keys: the column ("name"), the table it references ("type"), the row's
     * rowid ("len"). */
    const char *rebuild_indexes_sql;
    const char *fk_enforced_sql;
    const char *fk_off, *fk_on;
    const char *fk_violations_sql;
    /* A live column's type (as columns_sql reads it) spelled as
     * kura__sql_catalog_type spells a field's, before lower-casing. */
    void (*live_type)(const char *type, int64_t len, char *out, size_t cap);
    /* Appends the statement that changes f's column of m to f's type in place,
     * keeping its values; NULL: the database cannot. */
    void (*alter_type)(kura_buf *b, const kura_model *m, const kura_field *f);
    /* Whether a column that has an index can be dropped (else the index goes first). */
    bool drop_indexed_column;

    /* ---- read replicas (sql_replica.c); NULL: the database has none */
    /* One row, one integer: the primary's WAL position in bytes now, read
     * after a write (read-your-writes) and at each check (a replica's lag). */
    const char *wal_position_sql;
    /* One row, one integer on a replica: the WAL position it has replayed. */
    const char *replica_state_sql;

    /* ---- JSON documents */
    kura_sql_json json;
} kura_sql_dialect;

/* The dialects (dialect_sqlite.c, dialect_postgres.c). */
extern const kura_sql_dialect kura__sqlite_dialect;
extern const kura_sql_dialect kura__pg_dialect;

/* Appends parameter n's placeholder (1-based). */
static inline void kura_sql_placeholder(kura_buf *b, const kura_sql_dialect *d, int n)
{
    if (d->dollar_params)
        kura_buf_addf(b, "$%d", n);
    else
        kura_buf_addn(b, "?", 1);
}

typedef struct kura_sql_driver {
    const char *name;
    const kura_sql_dialect *dialect;

    /* Opens one connection with the driver's parsed configuration (`config`). */
    kura_sql_conn *(*connect)(const void *config, kura_error *err);
    void (*disconnect)(kura_sql_conn *conn);
    /* Whether the connection is still usable (after an error: lost server?). */
    bool (*alive)(kura_sql_conn *conn);

    /* Runs statements without parameters or rows (DDL, BEGIN, SAVEPOINT ...). */
    bool (*exec)(kura_sql_conn *conn, const char *sql, kura_error *err);

    kura_sql_stmt *(*prepare)(kura_sql_conn *conn, const char *sql, kura_error *err);
    void (*finalize)(kura_sql_stmt *stmt);
    /* Binds parameter i (0-based). Strings are BORROWED until the statement is
     * reset (callers keep them alive: sqlite binds them without a copy); the
     * driver formats times and numbers into storage of its own. */
    bool (*bind)(kura_sql_stmt *stmt, int i, const kura_value *value, kura_error *err);
    /* Hint before the first step: rows will be streamed (a cursor). May be NULL. */
    void (*stream)(kura_sql_stmt *stmt);
    /* Runs / advances: 1 a row is ready, 0 done, -1 error (err filled with
     * KURA_CONSTRAINT for unique violations, KURA_UNAVAILABLE for a lost
     * connection, KURA_STORE otherwise). */
    int (*step)(kura_sql_stmt *stmt, kura_error *err);
    /* Makes the statement ready to bind and run again (drops unread rows). */
    void (*reset)(kura_sql_stmt *stmt);

    int (*column_count)(kura_sql_stmt *stmt);
    const char *(*column_name)(kura_sql_stmt *stmt, int i);
    bool (*column_null)(kura_sql_stmt *stmt, int i);
    /* What the value is (KURA_SQL_KIND_*): what a number field may read, where
     * the database keeps what it was given (SQLite's text in an INTEGER
     * column, a column of another model's type), which column_int and
     * column_double would read as 0 without a word. */
    int (*column_kind)(kura_sql_stmt *stmt, int i);
    int64_t (*column_int)(kura_sql_stmt *stmt, int i); /* integers and booleans */
    double (*column_double)(kura_sql_stmt *stmt, int i);
    /* Text valid until the next step/reset; *len (len may be NULL) its length
     * in bytes. NULL
     * exactly when the value is SQL NULL, so text columns need no column_null. */
    const char *(*column_text)(kura_sql_stmt *stmt, int i, size_t *len);

    /* Rows changed by the statement that last ran to completion. */
    int64_t (*changes)(kura_sql_stmt *stmt);
    /* The id the last INSERT assigned (dialects without RETURNING). */
    int64_t (*last_insert_id)(kura_sql_conn *conn);

    void (*free_config)(void *config);
} kura_sql_driver;

/* Pool settings common to every SQL driver. */
typedef struct kura_sql_pool_opts {
    int size;             /* most connections open at once (>= 1) */
    long wait_ms;         /* how long an operation waits for a free connection */
    const char *init_sql; /* run on every new connection (PRAGMAs), may be NULL */
    bool lazy;            /* no connection at opening (a replica may be down then) */
} kura_sql_pool_opts;

/* When reads leave a replica for the primary (kura_sql_store_add_replicas). */
typedef struct kura_sql_replica_opts {
    long max_lag_ms;       /* a replica whose replay is further behind is skipped; 0: no bound */
    int64_t max_lag_bytes; /* ... or whose WAL position is further behind; 0: no bound */
    long check_ms;         /* each replica's state is read again this often */
    bool per_thread;       /* read-your-writes for the writing thread only, not the store */
} kura_sql_replica_opts;

/*
 * Makes `primary` (a store from kura_sql_store_new) send reads made outside a
 * transaction to the n `replicas` (stores of the same driver, opened lazy:
 * the replica list takes them, also on failure) that are up and within the
 * lag bounds; everything else stays on the primary. `names` label the nodes
 * in kura_store_nodes (copied). KURA_CONFIG when the dialect has no replicas.
 */
bool kura_sql_store_add_replicas(kura_store *primary, kura_store **replicas,
                                 const char *const *names, size_t n,
                                 const kura_sql_replica_opts *opts, kura_error *err);

/* Builds a SQL model store over `driver`. Takes ownership of `config` (freed
 * with driver->free_config, also on failure). Opens one connection at once so
 * that a bad URL, a missing server or a bad password fails here. */
kura_store *kura_sql_store_new(const kura_sql_driver *driver, void *config,
                               const kura_sql_pool_opts *opts, kura_error *err);

/* The dialect of a store built by kura_sql_store_new; NULL for any other store. */
const kura_sql_dialect *kura_sql_store_dialect(const kura_store *store);

/* Schema text, shared by kura_create and migrations (src/sql/migrate.c). */
/* `"name" TYPE[(n)] [NOT NULL] [DEFAULT v]`: one column's definition. */
/* Marks the calling thread as in a long operation (on) or not (off): a
 * migration or a document upgrade, whose statements (an index build, a
 * rewrite, a lock held elsewhere) may rightly stay silent longer than a
 * request's answer timeout. PostgreSQL's waits then end only when the
 * connection breaks (pg_wait.c); other drivers ignore it. Returns what it
 * was, to be restored. */
bool kura__sql_patient(bool on);

/* Opens a transaction as kura_begin does, on a connection that first runs
 * `before` outside any transaction (a setting such as SQLite's
 * PRAGMA foreign_keys, which cannot change inside one); the connection runs
 * `on_release` when the transaction ends, before it goes back to the pool,
 * and is closed instead when that fails. KURA_INVALID inside a transaction. */
bool kura__sql_tx_begin_with(kura_store *store, const char *before, const char *on_release,
                             kura_error *err);

void kura_sql_column_def(kura_buf *b, const kura_sql_dialect *d, const kura_field *f);
/* " REFERENCES <model> (<key>) ON DELETE <action>" for a field that has a reference. */
void kura_sql_references_ddl(kura_buf *b, const kura_field *f);
/* CREATE TABLE IF NOT EXISTS for m (without its indexes). */
void kura_sql_table_ddl(kura_buf *b, const kura_sql_dialect *d, const kura_model *m);
/* CREATE TABLE `name` with m's columns (no IF NOT EXISTS): a table rebuilt
 * under another name (migrate.c). */
void kura_sql_table_ddl_as(kura_buf *b, const kura_sql_dialect *d, const kura_model *m,
                           const char *name);
/* CREATE [UNIQUE] INDEX IF NOT EXISTS "ix_<table>_<column>" for field f of m;
 * on a dialect where NULL sorts high, a field that may be NULL is indexed
 * NULLS FIRST, the order kura sorts in (kura_sql_order_limit), so that the
 * index still serves an ORDER BY on it. */
void kura_sql_index_ddl(kura_buf *b, const kura_sql_dialect *d, const kura_model *m,
                        const kura_field *f);
/* CREATE UNIQUE INDEX IF NOT EXISTS "uq_..." over field f and its unique_with
 * fields; false (nothing written) when f has none. */
bool kura_sql_unique_with_ddl(kura_buf *b, const kura_model *m, const kura_field *f);
/* After the statement making f's unique index failed: when the rows already
 * repeat a combination (KURA_CONSTRAINT), err says so naming the index and its
 * fields, the database's words after; a document store makes the index on a
 * collection's first use, where its bare "UNIQUE constraint failed" answered
 * even a read. Returns false. */
bool kura_sql_unique_with_failed(const kura_model *m, const kura_field *f, kura_error *err);

/*
 * For stores built on a SQL store (the JSON document stores): run SELECTs and
 * scalars through its pool, statement cache and pinned transactions.
 * kura_sql_cursor_sql decodes each row positionally: id, then every user field
 * in declaration order, then created_at and updated_at when the model has them
 * (kura_model_has_timestamps); `stream` as for a
 * cursor (true) or a find that reads every row (false). kura_sql_scalar runs
 * sql and reads column 0 of its first row as an integer (no row: KURA_STORE).
 */
kura_cursor *kura_sql_cursor_sql(kura_store *store, const kura_model *model, const char *sql,
                                 const kura_value *params, size_t nparams, bool stream,
                                 kura_error *err);
bool kura_sql_scalar(kura_store *store, const char *sql, const kura_value *params, size_t nparams,
                     int64_t *out, kura_error *err);
/* Reads the first row of sql (params bound) into out, decoded as
 * kura_sql_cursor_sql decodes rows, without a cursor: 1 read, 0 no row, -1
 * error (err set; out holds nothing then). For one-row reads by key. */
int kura_sql_row(kura_store *store, const kura_model *model, const char *sql,
                 const kura_value *params, size_t nparams, void *out, kura_error *err);
/* Runs an INSERT of one row with params bound and reads the int64 key the
 * database gave it, as a table's insert does: where the dialect has
 * returning_id the statement must end in RETURNING of the key, else it must
 * not (the connection's last insert id is read; RETURNING costs SQLite an
 * ephemeral table per row). */
bool kura_sql_insert_id(kura_store *store, const char *sql, const kura_value *params,
                        size_t nparams, int64_t *id, kura_error *err);

/* Driver entry points, found by URL scheme (src/app/drivers.c). */
kura_store *kura_sqlite_store_open(const char *url, kura_error *err);
kura_store *kura_pg_store_open(const char *url, kura_error *err);
/* The primary at url with read replicas at the URLs in `replicas` (separated
 * by white space or commas; a comma inside one multi-host URL stays in it). */
kura_store *kura_pg_store_open_replicated(const char *url, const char *replicas,
                                          const kura_sql_replica_opts *opts, kura_error *err);

#endif
