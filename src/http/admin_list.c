/*
 * admin_list.c — the admin's front page (every registered model and its row
 * count) and a model's rows: a text search, filters, order by any column and
 * pages with a total.
 *
 * The list's query string is the JSON collection's own (list_query.c):
 * field=value filters read as the field's type, field_prefix, order=[-]field,
 * limit and offset, so /admin/models/sa_user?age=30&order=-name shows what
 * GET /users?age=30&order=-name answers. Two names are the admin's: `q`, the
 * search — rows where any string field CONTAINS the text (SQL LIKE
 * '%text%', with % and _ taken literally; case-sensitive on PostgreSQL and
 * MongoDB, ASCII case-insensitive on SQLite, whose LIKE is) — and `done`, the
 * note after a delete. The filter boxes are those of the indexed and unique
 * fields and of the fields with choices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/admin.h"

#define PAGE_ROWS  20 /* rows per page unless `limit` says otherwise */
#define CELL_CHARS 60

void admin_model_path(kura_buf *b, const admin *a, const kura_model *m, const char *suffix)
{
    kura_buf_add(b, a->path);
    kura_buf_add(b, "/models/");
    html_url_part(b, m->name);
    kura_buf_add(b, suffix);
}

void admin_row_path(kura_buf *b, const admin *a, const kura_model *m, const char *key,
                    const char *suffix)
{
    admin_model_path(b, a, m, "/rows/");
    html_url_part(b, key);
    kura_buf_add(b, suffix);
}

void admin_value_html(admin_page *p, const kura_field *f, const char *text, size_t cut)
{
    const kura_model *target =
        f->references ? kura_app_model(p->r->srv->app, f->references->name) : NULL;
    if (target) {
        kura_buf_add(&p->b, "<a class=\"ref\" href=\"");
        admin_row_path(&p->b, p->a, target, text, "");
        kura_buf_add(&p->b, "\">");
    }
    html_text_cut(&p->b, text, cut);
    if (target)
        kura_buf_add(&p->b, "</a>");
}

const kura_model *admin_model(http_req *r, const admin_session *s, kura_store **store,
                              enum MHD_Result *ret)
{
    kura_app *app = r->srv->app;
    const kura_model *m = kura_app_model(app, r->params[0]);
    *store = m ? kura_app_model_store(app, m) : NULL;
    if (!m || !*store) {
        *ret = admin_message(r, s, 404, "Not found", "No model of that name is registered.");
        return NULL;
    }
    return m;
}

/* "SQL table" or "documents", and the store's driver. */
static void where_it_lives(kura_buf *b, kura_app *app, const kura_model *m, kura_store *store)
{
    kura_model_home home = KURA_IN_SQL;
    for (size_t i = 0; i < kura_app_model_count(app); i++)
        if (kura_app_model_at(app, i, &home) == m)
            break;
    kura_buf_add(b, home == KURA_IN_SQL ? "SQL table" : "documents");
    kura_buf_add(b, " · ");
    html_text(b, kura_store_driver(store));
}

/* --- the front page ------------------------------------------------------------ */

enum MHD_Result admin_index(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    kura_app *app = r->srv->app;
    admin_page p;
    admin_page_begin(&p, r, s, "Admin");
    kura_buf *b = &p.b;
    kura_buf_add(b, "<h1>Models</h1><div class=\"cards\">");
    for (size_t i = 0; i < kura_app_model_count(app); i++) {
        const kura_model *m = kura_app_model_at(app, i, NULL);
        kura_store *store = kura_app_model_store(app, m);
        if (!store)
            continue;
        kura_query q = kura_query_for(m);
        int64_t n = 0;
        kura_error err = {0};
        bool counted = kura_count(store, &q, &n, &err);
        http_metrics_store(&r->srv->metrics,
                           kura_store_is_document(store) ? HTTP_STORE_DOCUMENT : HTTP_STORE_SQL,
                           HTTP_OP_COUNT, counted ? NULL : &err);
        kura_buf_add(b, "<a class=\"card\" href=\"");
        admin_model_path(b, p.a, m, "");
        kura_buf_add(b, "\"><strong>");
        html_text(b, m->name);
        kura_buf_add(b, "</strong><span class=\"muted\">");
        where_it_lives(b, app, m, store);
        kura_buf_add(b, "</span><span class=\"count\">");
        if (counted)
            kura_buf_addf(b, "%lld row%s", (long long)n, n == 1 ? "" : "s");
        else
            kura_buf_add(b, "not counted: the store did not answer");
        kura_buf_add(b, "</span></a>");
    }
    kura_buf_add(b, "</div><h2>Key-value</h2><div class=\"cards\"><a class=\"card\" href=\"");
    html_text(b, p.a->path);
    kura_buf_add(b, "/rankings\"><strong>Rankings</strong><span class=\"muted\">the top of a "
                    "board, a member's rank</span></a><a class=\"card\" href=\"");
    html_text(b, p.a->path);
    kura_buf_add(b, "/status\"><strong>Status</strong><span class=\"muted\">stores, requests "
                    "and store operations</span></a></div>");
    return admin_page_send(&p, 200);
}

/* --- a model's rows ----------------------------------------------------------------- */

typedef struct list_view {
    admin_page p;
    http_req *r;
    const kura_model *m;
    kura_store *store;
    http_list_query lq;
    const char *search;
    char pattern[520]; /* the search as a LIKE pattern, borrowed by lq.q */
    kura_rows rows;
    int64_t total, limit, offset;
    const char *order; /* the order parameter as given, or NULL */
} list_view;

/* Whether the filter bar offers field f. */
static bool filterable(const kura_field *f)
{
    return (f->index || f->unique || f->choices) && kura_type_takes(f->type, KURA_EQ) &&
           f->type != KURA_TYPE_DATETIME;
}

static bool searchable(const kura_model *m)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (kura_type_takes(m->fields[i].type, KURA_LIKE))
            return true;
    return false;
}

typedef struct link_args {
    kura_buf *b;
    bool first;
} link_args;

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    link_args *l = cls;
    if (!value || !*value || strcmp(key, "order") == 0 || strcmp(key, "offset") == 0 ||
        strcmp(key, "done") == 0)
        return MHD_YES;
    kura_buf_add(l->b, l->first ? "?" : "&amp;");
    l->first = false;
    html_url_part(l->b, key);
    kura_buf_add(l->b, "=");
    html_url_part(l->b, value);
    return MHD_YES;
}

/* A link to this list with the same search, filters and page size, and the
 * given order (NULL: none) and offset. Written escaped, for an href. */
static void list_link(list_view *v, const char *order, int64_t offset)
{
    kura_buf *b = &v->p.b;
    admin_model_path(b, v->p.a, v->m, "");
    link_args l = {b, true};
    MHD_get_connection_values(v->r->conn, MHD_GET_ARGUMENT_KIND, copy_arg, &l);
    if (order) {
        kura_buf_add(b, l.first ? "?order=" : "&amp;order=");
        l.first = false;
        html_url_part(b, order);
    }
    if (offset > 0)
        kura_buf_addf(b, "%soffset=%lld", l.first ? "?" : "&amp;", (long long)offset);
}

/* Adds the search as (f1 LIKE %q% OR f2 LIKE %q% ...) over the string fields. */
static bool add_search(list_view *v)
{
    char *o = v->pattern;
    char *end = v->pattern + sizeof v->pattern - 2;
    *o++ = '%';
    for (const char *c = v->search; *c; c++) {
        if (o + 2 >= end)
            return false;
        if (*c == '%' || *c == '_' || *c == '\\')
            *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '%';
    *o = '\0';
    kura_any_begin(&v->lq.q);
    for (size_t i = 0; i < v->m->nfields; i++)
        if (kura_type_takes(v->m->fields[i].type, KURA_LIKE))
            kura_where_str(&v->lq.q, v->m->fields[i].name, KURA_LIKE, v->pattern);
    kura_group_end(&v->lq.q);
    return kura_query_error(&v->lq.q) == NULL;
}

static void filter_bar(list_view *v)
{
    kura_buf *b = &v->p.b;
    const kura_model *m = v->m;
    kura_buf_add(b, "<form class=\"filters\" method=\"get\" action=\"");
    admin_model_path(b, v->p.a, m, "");
    kura_buf_add(b, "\">");
    if (searchable(m)) {
        kura_buf_add(b, "<div class=\"field search\"><label for=\"q\">Search</label>"
                        "<input type=\"search\" id=\"q\" name=\"q\" value=\"");
        html_text(b, v->search ? v->search : "");
        kura_buf_add(b, "\" placeholder=\"contains, in ");
        bool first = true;
        for (size_t i = 0; i < m->nfields; i++)
            if (kura_type_takes(m->fields[i].type, KURA_LIKE)) {
                kura_buf_add(b, first ? "" : ", ");
                html_text(b, m->fields[i].name);
                first = false;
            }
        kura_buf_add(b, "\"></div>");
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (!filterable(f))
            continue;
        const char *value = kura_http_query(v->r, f->name);
        if (!value)
            value = "";
        kura_buf_add(b, "<div class=\"field\"><label for=\"filter-");
        html_text(b, f->name);
        kura_buf_add(b, "\">");
        html_text(b, f->name);
        kura_buf_add(b, "</label>");
        if (f->choices || f->type == KURA_TYPE_BOOL) {
            static const char *const bools[] = {"true", "false", NULL};
            const char *const *choices = f->choices ? f->choices : bools;
            kura_buf_add(b, "<select id=\"filter-");
            html_text(b, f->name);
            kura_buf_add(b, "\" name=\"");
            html_text(b, f->name);
            kura_buf_add(b, "\"><option value=\"\">any</option>");
            for (const char *const *c = choices; *c; c++) {
                kura_buf_add(b, strcmp(*c, value) == 0 ? "<option selected value=\""
                                                       : "<option value=\"");
                html_text(b, *c);
                kura_buf_add(b, "\">");
                html_text(b, *c);
                kura_buf_add(b, "</option>");
            }
            kura_buf_add(b, "</select>");
        } else {
            bool number = f->type == KURA_TYPE_INT32 || f->type == KURA_TYPE_INT64 ||
                          f->type == KURA_TYPE_DOUBLE;
            kura_buf_add(b, number                      ? "<input type=\"number\" step=\"any\""
                            : f->type == KURA_TYPE_DATE ? "<input type=\"date\""
                                                        : "<input type=\"text\"");
            kura_buf_add(b, " id=\"filter-");
            html_text(b, f->name);
            kura_buf_add(b, "\" name=\"");
            html_text(b, f->name);
            kura_buf_add(b, "\" value=\"");
            html_text(b, value);
            kura_buf_add(b, "\">");
        }
        kura_buf_add(b, "</div>");
    }
    if (v->order) {
        kura_buf_add(b, "<input type=\"hidden\" name=\"order\" value=\"");
        html_text(b, v->order);
        kura_buf_add(b, "\">");
    }
    kura_buf_add(b, "<div class=\"actions\"><button type=\"submit\">Apply</button><a href=\"");
    admin_model_path(b, v->p.a, m, "");
    kura_buf_add(b, "\">Clear</a></div></form>");
}

/* One column's header: a link ordering by it, ascending first, then the other way. */
static void header_cell(list_view *v, const char *name, bool numeric)
{
    kura_buf *b = &v->p.b;
    bool asc = v->order && strcmp(v->order, name) == 0;
    bool desc = v->order && v->order[0] == '-' && strcmp(v->order + 1, name) == 0;
    char next[140];
    snprintf(next, sizeof next, "%s%s", asc ? "-" : "", name);
    kura_buf_add(b, numeric ? "<th class=\"num\"" : "<th");
    kura_buf_add(b, asc ? " aria-sort=\"ascending\">" : desc ? " aria-sort=\"descending\">" : ">");
    kura_buf_add(b, "<a href=\"");
    list_link(v, next, 0);
    kura_buf_add(b, "\">");
    html_text(b, name);
    kura_buf_add(b, asc    ? "<span class=\"dir\" aria-hidden=\"true\">▲</span>"
                    : desc ? "<span class=\"dir\" aria-hidden=\"true\">▼</span>"
                           : "");
    kura_buf_add(b, "</a></th>");
}

static bool numeric(const kura_field *f)
{
    return f->type == KURA_TYPE_INT32 || f->type == KURA_TYPE_INT64 ||
           f->type == KURA_TYPE_DOUBLE || f->type == KURA_TYPE_DECIMAL;
}

static void value_cell(list_view *v, const void *row, const kura_field *f)
{
    kura_buf *b = &v->p.b;
    if (kura_is_null(v->m, row, f)) {
        kura_buf_add(b, "<td class=\"null\">—</td>");
        return;
    }
    char stack[256];
    kura_buf t;
    kura_buf_init(&t, stack, sizeof stack);
    admin_field_text(&t, v->m, row, f, false);
    kura_buf_add(b, numeric(f) ? "<td class=\"num\">" : "<td>");
    if (f->type == KURA_TYPE_BOOL)
        kura_buf_add(b, strcmp(t.data, "true") == 0 ? "<span class=\"yes\">true</span>"
                                                    : "<span class=\"no\">false</span>");
    else
        admin_value_html(&v->p, f, t.data, CELL_CHARS);
    kura_buf_add(b, "</td>");
    kura_buf_free(&t);
}

static void stamp_cell(kura_buf *b, kura_time t)
{
    char text[KURA_TIME_TEXT];
    kura_time_format(t, text);
    kura_buf_add(b, "<td class=\"stamp\">");
    kura_buf_addn(b, text, 19);
    kura_buf_add(b, "</td>");
}

static void table(list_view *v)
{
    kura_buf *b = &v->p.b;
    const kura_model *m = v->m;
    bool stamps = kura_model_has_timestamps(m);
    kura_buf_add(b, "<div class=\"table-wrap\"><table class=\"rows\"><thead><tr>");
    header_cell(v, kura_key_name(m), false);
    for (size_t i = 0; i < m->nfields; i++) {
        if (kura_type_takes(m->fields[i].type, KURA_EQ))
            header_cell(v, m->fields[i].name, numeric(&m->fields[i]));
        else /* tags and JSON cannot be ordered by */
            kura_buf_add(b, "<th>"), html_text(b, m->fields[i].name), kura_buf_add(b, "</th>");
    }
    if (stamps)
        header_cell(v, "updated_at", false);
    kura_buf_add(b, "</tr></thead><tbody>");
    for (size_t i = 0; i < v->rows.count; i++) {
        const void *row = kura_row(&v->rows, i);
        char key[KURA_KEY_BYTES];
        kura_key_text(m, row, key);
        kura_buf_add(b, "<tr><td class=\"key\"><a href=\"");
        admin_row_path(b, v->p.a, m, key, "");
        kura_buf_add(b, "\">");
        html_text_cut(b, key, 24);
        kura_buf_add(b, "</a></td>");
        for (size_t f = 0; f < m->nfields; f++)
            value_cell(v, row, &m->fields[f]);
        if (stamps)
            stamp_cell(b, ((const kura_base *)row)->updated_at);
        kura_buf_add(b, "</tr>");
    }
    kura_buf_add(b, "</tbody></table></div>");
}

static void pages(list_view *v)
{
    kura_buf *b = &v->p.b;
    if (v->limit <= 0)
        return;
    int64_t page = v->offset / v->limit + 1;
    int64_t npages = v->total ? (v->total + v->limit - 1) / v->limit : 1;
    kura_buf_add(b, "<nav class=\"pages\" aria-label=\"pages\">");
    if (v->offset > 0) {
        kura_buf_add(b, "<a rel=\"prev\" href=\"");
        list_link(v, v->order, v->offset > v->limit ? v->offset - v->limit : 0);
        kura_buf_add(b, "\">← Previous</a>");
    } else {
        kura_buf_add(b, "<span class=\"off\">← Previous</span>");
    }
    kura_buf_addf(b, "<span class=\"where\">page %lld of %lld</span>", (long long)page,
                  (long long)npages);
    if (v->offset + v->limit < v->total) {
        kura_buf_add(b, "<a rel=\"next\" href=\"");
        list_link(v, v->order, v->offset + v->limit);
        kura_buf_add(b, "\">Next →</a>");
    } else {
        kura_buf_add(b, "<span class=\"off\">Next →</span>");
    }
    kura_buf_add(b, "</nav>");
}

/* Runs the query: false with a message for the page (and its status) when it cannot. */
static bool fetch(list_view *v, const char **problem, unsigned *status)
{
    const kura_http_opts *o = &v->r->srv->opts;
    if (!http_list_query_read(v->r, v->m, "q done", HTTP_LIST_SKIP_EMPTY, &v->lq)) {
        *problem = v->lq.problem;
        *status = 400;
        return false;
    }
    if (v->search && *v->search) {
        if (!searchable(v->m) || !add_search(v)) {
            *problem = searchable(v->m) ? "The search is too long."
                                        : "This model has no text field to search in.";
            *status = 400;
            return false;
        }
    }
    v->limit = v->lq.limit < 0 ? PAGE_ROWS : v->lq.limit;
    if (v->limit > o->max_limit)
        v->limit = o->max_limit;
    v->offset = v->lq.offset;
    if (v->lq.q.norder == 0)
        kura_order_by(&v->lq.q, kura_key_name(v->m), false);
    kura_limit(&v->lq.q, v->limit);
    kura_offset(&v->lq.q, v->offset);
    kura_error err = {0};
    http_store_kind kind = kura_store_is_document(v->store) ? HTTP_STORE_DOCUMENT : HTTP_STORE_SQL;
    bool ok = kura_find(v->store, &v->lq.q, &v->rows, &err);
    http_metrics_store(&v->r->srv->metrics, kind, HTTP_OP_FIND, ok ? NULL : &err);
    if (ok) {
        ok = kura_count(v->store, &v->lq.q, &v->total, &err);
        http_metrics_store(&v->r->srv->metrics, kind, HTTP_OP_COUNT, ok ? NULL : &err);
    }
    if (!ok) {
        if (err.code == KURA_INVALID || err.code == KURA_UNSUPPORTED) {
            snprintf(v->lq.problem, sizeof v->lq.problem, "%s", err.message);
            *problem = v->lq.problem;
            *status = 400;
        } else {
            http_log(v->r->srv, KURA_LOG_ERROR, "admin: listing %s: %s: %s", v->m->name,
                     kura_code_name(err.code), err.message);
            *problem = "The store did not answer; try again.";
            *status = 503;
        }
        return false;
    }
    return true;
}

static void misfits(list_view *v)
{
    kura_buf *b = &v->p.b;
    if (v->rows.nmisfits == 0)
        return;
    kura_buf_addf(b,
                  "<div class=\"banner warn\"><p>%zu stored document%s on this page do%s not fit "
                  "the model and %s not shown:</p><ul>",
                  v->rows.nmisfits, v->rows.nmisfits == 1 ? "" : "s",
                  v->rows.nmisfits == 1 ? "es" : "", v->rows.nmisfits == 1 ? "is" : "are");
    for (size_t i = 0; i < v->rows.nmisfits; i++) {
        const kura_misfit *mf = &v->rows.misfits[i];
        kura_buf_add(b, "<li><a href=\"");
        admin_row_path(b, v->p.a, v->m, mf->id, "/delete");
        kura_buf_add(b, "\">");
        html_text(b, mf->id);
        kura_buf_add(b, "</a>: ");
        html_text(b, mf->field);
        kura_buf_add(b, " ");
        html_text(b, mf->reason);
        kura_buf_add(b, "</li>");
    }
    kura_buf_add(b, "</ul></div>");
}

enum MHD_Result admin_list(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    enum MHD_Result ret;
    kura_store *store;
    const kura_model *m = admin_model(r, s, &store, &ret);
    if (!m)
        return ret;
    list_view *v = calloc(1, sizeof *v); /* a kura_query is several KiB: not on the stack */
    if (!v)
        return admin_message(r, s, 500, "Out of memory", "The list could not be made.");
    v->r = r;
    v->m = m;
    v->store = store;
    v->search = kura_http_query(r, "q");
    v->order = kura_http_query(r, "order");
    if (v->order && !*v->order)
        v->order = NULL;
    v->rows.model = m;
    const char *problem = NULL;
    unsigned status = 200;
    bool ok = fetch(v, &problem, &status);

    admin_page_begin(&v->p, r, s, m->name);
    kura_buf *b = &v->p.b;
    kura_buf_add(b, "<div class=\"head\"><div><h1>");
    html_text(b, m->name);
    kura_buf_add(b, "</h1><p class=\"muted\">");
    where_it_lives(b, r->srv->app, m, store);
    kura_buf_add(b, "</p></div><a class=\"button primary\" href=\"");
    admin_model_path(b, v->p.a, m, "/new");
    kura_buf_add(b, "\">New ");
    html_text(b, m->name);
    kura_buf_add(b, "</a></div>");
    const char *done = kura_http_query(r, "done");
    if (done && strcmp(done, "deleted") == 0)
        kura_buf_add(b, "<p class=\"banner ok\" role=\"status\">Deleted.</p>");
    filter_bar(v);
    if (!ok) {
        kura_buf_add(b, "<p class=\"banner error\" role=\"alert\">");
        html_text(b, problem);
        kura_buf_add(b, "</p>");
    } else {
        int64_t last = v->offset + (int64_t)v->rows.count;
        if (v->total == 0)
            kura_buf_add(b, "<p class=\"summary\">No rows match.</p>");
        else
            kura_buf_addf(
                b, "<p class=\"summary\"><strong>%lld</strong> row%s · showing %lld–%lld</p>",
                (long long)v->total, v->total == 1 ? "" : "s",
                (long long)(v->rows.count ? v->offset + 1 : v->offset), (long long)last);
        misfits(v);
        if (v->rows.count)
            table(v);
        pages(v);
    }
    ret = admin_page_send(&v->p, status);
    kura_rows_free(&v->rows);
    free(v);
    return ret;
}
