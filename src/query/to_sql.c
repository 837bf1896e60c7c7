/* to_sql.c — translating a query into SQL with bound parameters. */
#include "query/to_sql.h"

#include <stdlib.h>
#include <string.h>

#include "model/types.h"

void kura_sql_params_init(kura_sql_params *p, bool dollar)
{
    p->count = 0;
    p->nowned = 0;
    p->dollar = dollar;
    p->form = 0;
}

void kura_sql_params_free(kura_sql_params *p)
{
    for (size_t i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    p->nowned = 0;
    p->count = 0;
}

bool kura_sql_param(kura_buf *out, kura_sql_params *p, kura_value v)
{
    if (p->count == KURA_SQL_MAX_PARAMS)
        return false;
    p->values[p->count++] = v;
    if (p->dollar)
        kura_buf_addf(out, "$%zu", p->count);
    else
        kura_buf_addn(out, "?", 1);
    return true;
}

bool kura_sql_param_owned(kura_buf *out, kura_sql_params *p, char *text)
{
    if (!text || p->nowned == KURA_SQL_MAX_PARAMS) {
        free(text);
        return false;
    }
    p->owned[p->nowned++] = text;
    return kura_sql_param(out, p, KURA_VSTR(text));
}

void kura_sql_column_plain(kura_buf *out, const kura_model *model, int column, void *ctx)
{
    (void)ctx;
    kura_buf_ident(out, kura_column_name(model, column));
}

static const char *const op_sql[] = {" = ", " <> ", " < ", " <= ", " > ", " >= "};

/* A LIKE pattern matching strings that start with s literally. */
static char *prefix_pattern(const char *s)
{
    size_t n = strlen(s);
    char *pat = malloc(n * 2 + 2);
    if (!pat)
        return NULL;
    char *o = pat;
    for (const char *c = s; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '%';
    *o = '\0';
    return pat;
}

typedef struct walk {
    kura_buf *out;
    const kura_query *q;
    kura_sql_params *p;
    kura_sql_column_fn column;
    void *ctx;
    kura_error *err;
    size_t pos;
} walk;

static bool too_many(walk *w)
{
    return kura_fail(w->err, KURA_INVALID, NULL, "query has too many parameters");
}

static bool term(walk *w);

/* Writes the terms up to the matching END (or the end of the query) joined by sep. */
static bool group(walk *w, const char *sep, const char *empty)
{
    bool first = true;
    kura_buf_addn(w->out, "(", 1);
    while (w->pos < w->q->nterms && w->q->terms[w->pos].kind != KURA_TERM_END) {
        if (!first)
            kura_buf_add(w->out, sep);
        first = false;
        if (!term(w))
            return false;
    }
    if (first)
        kura_buf_add(w->out, empty);
    kura_buf_addn(w->out, ")", 1);
    if (w->pos < w->q->nterms)
        w->pos++; /* the END */
    return true;
}

static bool term(walk *w)
{
    const kura_term *t = &w->q->terms[w->pos++];
    const kura_value *v = &w->q->values[t->first];
    switch ((kura_term_kind)t->kind) {
    case KURA_TERM_ALL:
        return group(w, " AND ", "1 = 1");
    case KURA_TERM_ANY:
        return group(w, " OR ", "1 = 0");
    case KURA_TERM_NOT:
        /* Every row the group does not match, those it is unknown for (a NULL
         * field) included, as MongoDB's $nor has it: NOT alone left them out. */
        kura_buf_add(w->out, "(");
        if (!group(w, " AND ", "1 = 1"))
            return false;
        kura_buf_add(w->out, " IS NOT TRUE)");
        return true;
    case KURA_TERM_END:
        return true;
    case KURA_TERM_NULL:
    case KURA_TERM_NOTNULL:
        w->column(w->out, w->q->model, t->column, w->ctx);
        kura_buf_add(w->out, t->kind == KURA_TERM_NULL ? " IS NULL" : " IS NOT NULL");
        return true;
    case KURA_TERM_IN:
        if (t->count == 0) {
            kura_buf_add(w->out, "1 = 0");
            return true;
        }
        w->column(w->out, w->q->model, t->column, w->ctx);
        kura_buf_add(w->out, " IN (");
        for (unsigned i = 0; i < t->count; i++) {
            if (i)
                kura_buf_addn(w->out, ", ", 2);
            if (!kura_sql_param(w->out, w->p, v[i]))
                return too_many(w);
        }
        kura_buf_addn(w->out, ")", 1);
        return true;
    case KURA_TERM_CMP:
        break;
    }
    w->column(w->out, w->q->model, t->column, w->ctx);
    kura_value val = *v;
    if (t->op == KURA_PREFIX || t->op == KURA_LIKE) {
        if (t->op == KURA_PREFIX) {
            if (w->p->nowned == KURA_QUERY_MAX_VALUES)
                return too_many(w);
            char *pat = prefix_pattern(val.as.s);
            if (!pat)
                return kura_fail(w->err, KURA_NOMEM, NULL, "out of memory");
            w->p->owned[w->p->nowned++] = pat;
            val = KURA_VSTR(pat);
        }
        kura_buf_add(w->out, " LIKE ");
        if (!kura_sql_param(w->out, w->p, val))
            return too_many(w);
        kura_buf_add(w->out, " ESCAPE '\\'");
        return true;
    }
    kura_buf_add(w->out, op_sql[t->op]);
    if (!kura_sql_param(w->out, w->p, val))
        return too_many(w);
    return true;
}

bool kura_sql_where(kura_buf *out, const kura_query *q, kura_sql_params *p,
                    kura_sql_column_fn column, void *ctx, kura_error *err)
{
    const kura_error *qe = kura_query_error(q);
    if (qe) {
        if (err)
            *err = *qe;
        return false;
    }
    if (p->form && !kura__query_fits_form(q, p->form, err))
        return false;
    if (q->nterms == 0)
        return true;
    walk w = {out, q, p, column ? column : kura_sql_column_plain, ctx, err, 0};
    kura_buf_add(out, " WHERE ");
    while (w.pos < q->nterms) {
        if (w.pos > 0)
            kura_buf_add(out, " AND ");
        if (!term(&w))
            return false;
    }
    if (out->oom)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory building a query");
    return true;
}

/* Whether a sort column may hold NULL: the key never does, a required field
 * is NOT NULL; the stamps may, in rows another program wrote. */
static bool nullable(const kura_model *m, int column)
{
    if (column == KURA_COL_ID)
        return false;
    return column < 0 || !m->fields[column].required;
}

void kura_sql_order_limit(kura_buf *out, const kura_query *q, bool nulls_high,
                          kura_sql_column_fn column, void *ctx)
{
    if (!column)
        column = kura_sql_column_plain;
    bool has_id = false;
    kura_buf_add(out, " ORDER BY ");
    for (unsigned i = 0; i < q->norder; i++) {
        column(out, q->model, q->order[i].column, ctx);
        kura_buf_add(out, q->order[i].desc ? " DESC" : " ASC");
        if (nulls_high && nullable(q->model, q->order[i].column))
            kura_buf_add(out, q->order[i].desc ? " NULLS LAST" : " NULLS FIRST");
        kura_buf_add(out, ", ");
        has_id = has_id || q->order[i].column == KURA_COL_ID;
    }
    if (has_id)
        out->len -= 2, out->data[out->len] = '\0';
    else {
        column(out, q->model, KURA_COL_ID, ctx);
        kura_buf_add(out, " ASC");
    }
    /* Limits are integers from the API, never text from input: safe as literals,
     * and a literal keeps one statement shape per page size. */
    if (q->limit >= 0 || q->offset > 0)
        kura_buf_addf(out, " LIMIT %lld", (long long)(q->limit >= 0 ? q->limit : INT64_MAX));
    if (q->offset > 0)
        kura_buf_addf(out, " OFFSET %lld", (long long)q->offset);
}
