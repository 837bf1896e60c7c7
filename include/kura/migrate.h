/*
 * kura/migrate.h — bringing a SQL store's schema up to its models.
 *
 * kura_migrate compares each model with the live table (SQLite: PRAGMA
 * table_info / index_list; PostgreSQL: information_schema.columns and
 * pg_indexes, in the current schema) and adds what is missing:
 *
 *   - a table that does not exist (created as kura_create does, with its indexes);
 *   - a column the model has and the table lacks (ALTER TABLE ... ADD COLUMN;
 *     a required column without a default gets its type's zero value as the
 *     default — 0, false, '' or 1970-01-01 — so that existing rows satisfy
 *     NOT NULL), created_at and updated_at included (NULL in existing rows).
 *     A KURA_MODEL_NO_TIMESTAMPS model neither gets nor expects them: should
 *     its table have them, they are columns the model does not have (below);
 *   - an index the model asks for (ix_<table>_<column>, cut to 63 bytes with a
 *     hash when longer) that is missing;
 *   - the foreign key a field declares (kura/model.h, "References") on a
 *     column that exists without it (KURA_CHANGE_REFERENCE). PostgreSQL:
 *     ALTER TABLE ... ADD FOREIGN KEY. SQLite cannot add one to a table, so
 *     the table is rebuilt as SQLite documents it ("Making Other Kinds Of
 *     Table Schema Changes"): made anew from the model under the name
 *     <table>__kura_rebuild, every row copied with its key, the old table
 *     dropped, the new one renamed to its name, its indexes and triggers made
 *     again (kura's from the model, others from their own CREATE text). It
 *     runs after the table's other changes, with foreign keys off on the
 *     migration's connection (set before its transaction, restored after:
 *     dropping the old table with them on would run the ON DELETE actions of
 *     the tables that reference it, deleting or nulling their rows); before
 *     commit, a row of a migrated table that breaks one of its foreign keys
 *     refuses the migration (KURA_CONSTRAINT, naming the column and the row's
 *     rowid). The rebuilt table has the model's NOT NULL and UNIQUE: a row
 *     that breaks them refuses it too. Foreign keys cannot be turned off
 *     inside a transaction: a rebuild inside the caller's is KURA_INVALID. A
 *     view on the table makes SQLite refuse the rename, and so the migration. A column the table
 * has and the model lacks is a DROP_COLUMN before the rebuild (below): refused without force, so no
 * data is lost with the old table.
 *
 * These changes are additive: running kura_migrate again finds nothing to do.
 *
 * Destructive differences are listed and refused unless KURA_MIGRATE_FORCE:
 *   - a column in the table that the model no longer has (forced: DROP COLUMN);
 *   - a column whose type differs from the model's (forced, PostgreSQL:
 *     ALTER COLUMN ... TYPE ... USING column::type; SQLite cannot change a type
 *     in place, and kura does not rebuild a table for it: that change stays
 *     refused even when forced).
 * Not compared: NOT NULL, defaults and uniqueness of existing columns.
 *
 * Every change is applied in one transaction: all or nothing (both databases
 * have transactional DDL).
 *
 * Migrations of one database run one at a time, from any number of processes:
 * a migration (not a dry run) locks the schema before it reads it (SQLite:
 * the write lock of BEGIN IMMEDIATE, waiting up to the URL's busy_timeout;
 * PostgreSQL: a transaction-scoped advisory lock) and holds the lock until it
 * has committed. A second migration started meanwhile waits, then plans
 * against the schema the first one made: it finds nothing left to do and
 * reports 0 changes.
 */
#ifndef KURA_MIGRATE_H
#define KURA_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "model.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    KURA_MIGRATE_DRY_RUN = 1 << 0, /* plan and report only; change nothing */
    KURA_MIGRATE_FORCE = 1 << 1,   /* also make destructive changes */
    /* kura_app_migrate: also rewrite document collections of the JSON layout
     * kura made before into columns (kura_document_upgrade). kura migrate sets
     * it; serve's start-up migration does not (a rewrite reads every document):
     * there such a collection is used as it is, and a warning says so. */
    KURA_MIGRATE_UPGRADE_DOCUMENTS = 1 << 2,
};

typedef enum kura_change_kind {
    KURA_CHANGE_CREATE_TABLE,
    KURA_CHANGE_ADD_COLUMN,
    KURA_CHANGE_ADD_INDEX,
    KURA_CHANGE_DROP_COLUMN, /* destructive */
    KURA_CHANGE_ALTER_TYPE,  /* destructive */
    /* kura_app_migrate: a document collection rewritten from the JSON layout
     * into columns (kura_document_upgrade); column NULL */
    KURA_CHANGE_UPGRADE_COLLECTION,
    /* a column that exists gains the reference its field declares (kura/model.h,
     * "References"); PostgreSQL adds the foreign key, SQLite rebuilds the table
     * (above): the table's first such change carries the statements, the
     * others have sql "" */
    KURA_CHANGE_REFERENCE,
} kura_change_kind;

/* One planned change. Every pointer is valid only during the plan callback. */
typedef struct kura_change {
    kura_change_kind kind;
    const char *table;
    const char *column; /* NULL for CREATE_TABLE */
    const char *detail; /* e.g. "integer -> character varying(10)", or "" */
    /* the statement(s), ';'-separated; NULL when none can do it; "" when
     * another change's statements make it (a SQLite rebuild) */
    const char *sql;
    bool destructive;
    bool refused; /* destructive without KURA_MIGRATE_FORCE, or impossible (sql NULL) */
} kura_change;

/* Called once per change, in the order they would run. */
typedef void (*kura_migrate_plan_fn)(const kura_change *change, void *ctx);

/*
 * Migrates the tables of models[0..n) on a SQL store (sqlite, postgresql).
 *
 * flags: KURA_MIGRATE_DRY_RUN, KURA_MIGRATE_FORCE (or 0).
 * plan (may be NULL) sees every change, refused ones included.
 * script (may be NULL) receives a malloc'd text (the caller frees it) of the
 * statements that run — or, in a dry run, would run — one per line ending in
 * ";", with refused changes as "-- refused: ..." comment lines; "" when there
 * is nothing to do. It is set on success and on KURA_CONFLICT, else NULL.
 * *changes (may be NULL) gets the number of statements run (dry run: that
 * would run).
 *
 * Tables are created in the order their references need (a referenced table
 * first), whatever the order of models[]. A reference to a model whose key
 * the field cannot hold is KURA_INVALID before anything is planned.
 *
 * Errors: KURA_CONFLICT when a destructive or impossible change is refused
 * (nothing is changed; err->message names the first table and column), KURA_UNSUPPORTED
 * on a store that is not SQL, KURA_CONSTRAINT when rows break a foreign key,
 * unique index or NOT NULL the migration adds, the store's own errors
 * (nothing is changed: the transaction is rolled back), KURA_NOMEM.
 */
bool kura_migrate(kura_store *store, const kura_model *const *models, size_t n, unsigned flags,
                  kura_migrate_plan_fn plan, void *ctx, char **script, size_t *changes,
                  kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
