/*
 * sqljson_private.h — what the files of the SQL document store share.
 *
 * A collection is one of two layouts, told apart by its columns when a model
 * is first used (sqljson.c):
 *
 *   columns  (what kura makes) the model's table as the relational store
 *            would make it, one column per declared field, plus "_extra": the
 *            JSON object of the keys no field declares. Declared fields cost
 *            what a table's columns cost; sqljson.c hands them to the SQL store.
 *   json     (collections made before) "_id" and "doc", the whole document in
 *            one JSON column, a field an expression on it (sqljson_json.c).
 *            Kept working as it is; kura_document_upgrade rewrites it
 *            into columns (sqljson_upgrade.c).
 *
 * Nothing outside src/document/sqljson*.c includes this header.
 */
#ifndef KURA_SQLJSON_PRIVATE_H
#define KURA_SQLJSON_PRIVATE_H

#include <pthread.h>

#include "document/document_private.h"
#include "sql/sql_private.h"

typedef enum doc_layout {
    DOC_LAYOUT_UNKNOWN, /* not looked at yet (or dropped since) */
    DOC_LAYOUT_COLUMNS,
    DOC_LAYOUT_JSON,
} doc_layout;

typedef struct doc_model {
    const kura_model *model;
    /* The JSON layout's statements, built when a collection turns out to be one. */
    char *select; /* SELECT "_id", <field exprs>[, <created>, <updated>] FROM "t" */
    char *get;    /* select WHERE "_id" = ? */
    char *insert; /* INSERT ... [RETURNING "_id" where the dialect reads ids so] */
    char *remove;
    int layout; /* doc_layout, read and written atomically once known */
    struct doc_model *next;
} doc_model;

typedef struct doc_store {
    kura_store base;
    kura_store *sql;           /* owned */
    const kura_sql_dialect *d; /* the SQL store's: how documents are written */
    pthread_mutex_t lock;
    doc_model *models;
} doc_store;

/* --- the columns layout (sqljson.c) -------------------------------------------- */

/* m's entry (made on first call); NULL with err filled for a model whose names
 * cannot be a collection's, or out of memory. */
doc_model *kura__doc_model(doc_store *s, const kura_model *m, kura_error *err);
/* The collection `name` was created, dropped or rewritten: its models look again. */
void kura__doc_forget(doc_store *s, const char *name);
/* The live columns ("name") of `table`: none when it does not exist. */
bool kura__doc_columns(doc_store *s, const char *table, kura_rows *out, kura_error *err);
bool kura__doc_has_column(const kura_rows *cols, const char *name);
/* Whether the columns are the JSON layout's: exactly "_id" and "doc". */
bool kura__doc_json_layout(const kura_rows *cols);
/* CREATE TABLE of m's collection in the columns layout, named `table`. */
void kura__doc_table_ddl(kura_buf *b, const doc_store *s, const kura_model *m, const char *table);
/* m's indexes on its collection (columns layout), IF NOT EXISTS. */
bool kura__doc_indexes(doc_store *s, const kura_model *m, kura_error *err);

/* Rewrites m's JSON-layout collection into columns (kura_document_upgrade). */
bool kura__sqljson_upgrade(kura_store *store, const kura_model *m, bool dry_run, char **sql,
                           kura_error *err);

/* --- the JSON layout (sqljson_json.c) ------------------------------------------ */

/* Appends the value column `column` of m (a field or a stamp) takes from the
 * key of its name in JSON column `doc` ("doc", "_extra"), in the column's
 * form, to value; the column's type to type. */
void kura__docj_value(kura_buf *value, kura_buf *type, const doc_store *s, const kura_model *m,
                      int column, const char *doc);
/* Builds dm's statements (false: out of memory). */
bool kura__docj_prepare(doc_store *s, doc_model *dm);
void kura__docj_free(doc_model *dm);
/* Makes sure a JSON-layout collection has its expression indexes (IF NOT
 * EXISTS), when a model first uses one. */
bool kura__docj_create(doc_store *s, const kura_model *m, kura_error *err);
bool kura__docj_insert(doc_store *s, const doc_model *dm, void *objs, size_t n, kura_error *err);
bool kura__docj_get(doc_store *s, const doc_model *dm, const kura_keyref *key, void *out,
                    kura_error *err);
bool kura__docj_get_json(doc_store *s, const kura_model *m, const kura_keyref *key, json_t **out,
                         kura_error *err);
bool kura__docj_update(doc_store *s, const kura_model *m, const void *obj, kura_error *err);
bool kura__docj_remove(doc_store *s, const doc_model *dm, const kura_keyref *key, kura_error *err);
kura_cursor *kura__docj_query(doc_store *s, const doc_model *dm, const kura_query *q, bool stream,
                              kura_error *err);
bool kura__docj_count(doc_store *s, const kura_query *q, int64_t *count, kura_error *err);
/* set NULL: delete the matching documents; else update them. */
bool kura__docj_write_where(doc_store *s, const kura_query *q, const kura_assign *set, size_t n,
                            kura_time now, int64_t *affected, kura_error *err);

#endif
