/*
 * to_sql.h — a kura_query as SQL text with its bound parameters.
 *
 * Used by every SQL-backed store (relational and JSON documents): the column
 * reference is written by a callback, so a document store can render a field
 * as a JSON path expression while a table renders a quoted column name.
 */
#ifndef KURA_TO_SQL_H
#define KURA_TO_SQL_H

#include <kura/query.h>

#include "base/buf.h"

#define KURA_SQL_MAX_PARAMS (KURA_QUERY_MAX_VALUES + KURA_MAX_FIELDS + 8)

typedef struct kura_sql_params {
    kura_value values[KURA_SQL_MAX_PARAMS];
    size_t count;
    char *owned[KURA_SQL_MAX_PARAMS]; /* strings the params own (PREFIX patterns, copies) */
    size_t nowned;
    bool dollar;   /* $1 placeholders instead of ? */
    unsigned form; /* KURA_FORM_* the values are stored in (0: not checked); kura_sql_where
                    * refuses comparisons and sorts that form cannot answer */
} kura_sql_params;

/* Writes a reference to `column` of q->model (e.g. "age" or json_extract(...)). */
typedef void (*kura_sql_column_fn)(kura_buf *out, const kura_model *model, int column, void *ctx);

void kura_sql_params_init(kura_sql_params *p, bool dollar);
void kura_sql_params_free(kura_sql_params *p);

/* Appends a placeholder for v and records v. False when the list is full. */
bool kura_sql_param(kura_buf *out, kura_sql_params *p, kura_value v);
/* The same for a malloc'd string the parameters take (freed with them); false,
 * and text freed, when text is NULL (out of memory) or the list is full. */
bool kura_sql_param_owned(kura_buf *out, kura_sql_params *p, char *text);

/* The default column writer: the quoted column name. */
void kura_sql_column_plain(kura_buf *out, const kura_model *model, int column, void *ctx);

/* Appends " WHERE ..." (nothing for a query without terms). Also checks the
 * query's sort keys against p->form, so call it before kura_sql_order_limit. */
bool kura_sql_where(kura_buf *out, const kura_query *q, kura_sql_params *p,
                    kura_sql_column_fn column, void *ctx, kura_error *err);

/* Appends " ORDER BY ... LIMIT ... OFFSET ..."; id breaks ties. NULL sorts
 * below every value, as in SQLite and MongoDB: nulls_high says the database
 * sorts it above (PostgreSQL), so a column that may hold NULL gets NULLS
 * FIRST ascending and NULLS LAST descending. */
void kura_sql_order_limit(kura_buf *out, const kura_query *q, bool nulls_high,
                          kura_sql_column_fn column, void *ctx);

#endif
