/*
 * sql_ddl.c — schema text (shared with migrations) and kura_create / kura_drop.
 */
#include "sql/sql_store_private.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "model/model_private.h"

void kura_sql_column_def(kura_buf *b, const kura_sql_dialect *d, const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    kura_buf_ident(b, f->name);
    kura_buf_add(b, " ");
    kura__sql_type(b, d->id, f);
    if (f->required)
        kura_buf_add(b, " NOT NULL");
    if (f->has_default && ti->ddl_default)
        ti->ddl_default(b, f);
    if (f->references)
        kura_sql_references_ddl(b, f);
}

void kura_sql_references_ddl(kura_buf *b, const kura_field *f)
{
    kura_buf_add(b, " REFERENCES ");
    kura_buf_ident(b, f->references->name);
    kura_buf_add(b, " (");
    kura_buf_ident(b, kura_key_name(f->references));
    kura_buf_addf(b, ") ON DELETE %s", kura__on_delete_sql(f->on_delete));
}

static void table_body(kura_buf *b, const kura_sql_dialect *d, const kura_model *m);

void kura_sql_table_ddl(kura_buf *b, const kura_sql_dialect *d, const kura_model *m)
{
    kura_buf_add(b, "CREATE TABLE IF NOT EXISTS ");
    kura_buf_ident(b, m->name);
    table_body(b, d, m);
}

void kura_sql_table_ddl_as(kura_buf *b, const kura_sql_dialect *d, const kura_model *m,
                           const char *name)
{
    kura_buf_add(b, "CREATE TABLE ");
    kura_buf_ident(b, name);
    table_body(b, d, m);
}

static void table_body(kura_buf *b, const kura_sql_dialect *d, const kura_model *m)
{
    kura_buf_add(b, " (\n\t");
    kura_buf_ident(b, kura_key_name(m));
    kura_buf_addf(b, " %s NOT NULL", m->key == KURA_KEY_INT64 ? d->id_type : d->key_types[m->key]);
    for (size_t i = 0; i < m->nfields; i++) {
        kura_buf_add(b, ",\n\t");
        kura_sql_column_def(b, d, &m->fields[i]);
    }
    for (int i = 0; i < kura__stamp_count(m); i++) {
        kura_buf_add(b, ",\n\t");
        kura_buf_ident(b, kura_column_name(m, kura__stamp_column(i)));
        kura_buf_addf(b, " %s", kura__type(KURA_TYPE_DATETIME)->sql[d->id]);
    }
    kura_buf_add(b, ",\n\tPRIMARY KEY (");
    kura_buf_ident(b, kura_key_name(m));
    kura_buf_add(b, ")");
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].unique && !m->fields[i].index) {
            kura_buf_add(b, ",\n\tUNIQUE (");
            kura_buf_ident(b, m->fields[i].name);
            kura_buf_add(b, ")");
        }
    kura_buf_add(b, "\n)");
}

/* Flask-SQLAlchemy's names: ix_<table>_<column>, unique when the column is. */
void kura_sql_index_ddl(kura_buf *b, const kura_sql_dialect *d, const kura_model *m,
                        const kura_field *f)
{
    /* Quoted as every identifier is: a table name may hold a '"'. */
    char name[64];
    kura__index_name(m->name, f->name, name);
    kura_buf_addf(b, "CREATE %sINDEX IF NOT EXISTS ", f->unique ? "UNIQUE " : "");
    kura_buf_ident(b, name);
    kura_buf_add(b, " ON ");
    kura_buf_ident(b, m->name);
    kura_buf_add(b, " (");
    kura_buf_ident(b, f->name);
    kura_buf_add(b, d->nulls_high && !f->required ? " NULLS FIRST)" : ")");
}

bool kura_sql_unique_with_ddl(kura_buf *b, const kura_model *m, const kura_field *f)
{
    if (!f->unique_with)
        return false;
    char name[64];
    kura__unique_with_name(m, f, name);
    kura_buf_add(b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
    kura_buf_ident(b, name);
    kura_buf_add(b, " ON ");
    kura_buf_ident(b, m->name);
    kura_buf_add(b, " (");
    kura_buf_ident(b, f->name);
    for (size_t i = 0; f->unique_with[i]; i++) {
        kura_buf_add(b, ", ");
        kura_buf_ident(b, f->unique_with[i]);
    }
    kura_buf_add(b, ")");
    return true;
}

bool kura_sql_unique_with_failed(const kura_model *m, const kura_field *f, kura_error *err)
{
    if (!err || err->code != KURA_CONSTRAINT)
        return false;
    char name[64], fields[256], said[sizeof err->message];
    kura__unique_with_name(m, f, name);
    int n = snprintf(fields, sizeof fields, "%s", f->name);
    for (size_t i = 0; f->unique_with[i] && n > 0 && (size_t)n < sizeof fields; i++)
        n += snprintf(fields + n, sizeof fields - (size_t)n, ", %s", f->unique_with[i]);
    memcpy(said, err->message, sizeof said);
    return kura_fail(err, KURA_CONSTRAINT, f->name,
                     "%.64s: stored rows repeat a combination of %.120s, so the unique index "
                     "%s cannot be made; remove the repeats (%s)",
                     m->name, fields, name, said);
}

bool kura__sql_create(kura_store *store, const kura_model *m, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    char stack[2048];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_sql_table_ddl(&b, s->dia, m);
    bool ok = !b.oom && kura__sql_exec_plain(s, b.data, err);
    for (size_t i = 0; ok && i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (!f->index)
            continue;
        b.len = 0;
        kura_sql_index_ddl(&b, s->dia, m, f);
        ok = !b.oom && kura__sql_exec_plain(s, b.data, err);
    }
    for (size_t i = 0; ok && i < m->nfields; i++) {
        b.len = 0;
        if (kura_sql_unique_with_ddl(&b, m, &m->fields[i]))
            ok = !b.oom && (kura__sql_exec_plain(s, b.data, err) ||
                            kura_sql_unique_with_failed(m, &m->fields[i], err));
    }
    if (b.oom)
        ok = kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    kura_buf_free(&b);
    return ok;
}

bool kura__sql_drop(kura_store *store, const kura_model *m, kura_error *err)
{
    sql_store *s = (sql_store *)store;
    char stack[256];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "DROP TABLE IF EXISTS ");
    kura_buf_ident(&b, m->name);
    bool ok = !b.oom && kura__sql_exec_plain(s, b.data, err);
    kura_buf_free(&b);
    return ok;
}
