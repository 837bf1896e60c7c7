/*
 * admin_row.c — one row: its page, the forms that create and edit it, and
 * its deletion behind a confirmation page.
 *
 * Writes go through the library as any program's do (kura_insert,
 * kura_update, kura_delete_key), so the store validates and stamps them; the
 * form is read by the collections' rules first (admin_form.c), so a refused
 * form shows every failing field beside its input, with what was typed kept.
 * kura_update merges into a stored document, so the keys of a document the
 * model does not declare survive an edit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <kura/document.h>
#include <kura/json.h>

#include "http/admin.h"

/* The row a page is about: the model, its store and the key from the path. */
typedef struct row_ctx {
    http_req *r;
    const admin_session *s;
    const kura_model *m;
    kura_store *store;
    http_store_kind kind;
    char key[KURA_KEY_BYTES];
    void *obj;        /* model->size bytes, owned */
    char misfit[300]; /* why the stored document does not fit the model, or "" */
    /* The row as loaded, as a hash of its JSON: the edit form carries it back, so
     * that a save over someone else's change since the form was opened is seen
     * (VERSION_FIELD). form_version: what the form being drawn carries. */
    char version[2 * 16 + 1];
    const char *form_version;
} row_ctx;

#define VERSION_FIELD "kura_version"

/* Hex of a 16-byte BLAKE2b of the row's JSON (declared fields, key, stamps). */
static void row_version(row_ctx *c)
{
    char *json = kura_to_json_string(c->m, c->obj);
    unsigned char h[16];
    if (!json) { /* out of memory: a version no form carries, so a save is refused */
        snprintf(c->version, sizeof c->version, "%s", "-");
        return;
    }
    crypto_generichash(h, sizeof h, (const unsigned char *)json, strlen(json), NULL, 0);
    free(json);
    sodium_bin2hex(c->version, sizeof c->version, h, sizeof h);
}

static void row_free(row_ctx *c)
{
    if (c->obj) {
        kura_clear(c->m, c->obj);
        free(c->obj);
    }
}

/* Finds the model and, when `load`, the row. A document that does not fit the
 * model is an error page, unless `misfit_ok` (the delete page): then c->misfit
 * says why and c->obj holds nothing. False: a page went out into *ret. */
static bool row_open(row_ctx *c, http_req *r, const admin_session *s, bool load, bool misfit_ok,
                     enum MHD_Result *ret)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->s = s;
    if (!(c->m = admin_model(r, s, &c->store, ret)))
        return false;
    c->kind = kura_store_is_document(c->store) ? HTTP_STORE_DOCUMENT : HTTP_STORE_SQL;
    c->obj = calloc(1, c->m->size);
    if (!c->obj) {
        *ret = admin_message(r, s, 500, "Out of memory", "The page could not be made.");
        return false;
    }
    if (!load) {
        kura_init(c->m, c->obj);
        return true;
    }
    kura_error err = {0};
    int64_t id;
    if (!kura_key_parse(c->m, r->params[1], &id, c->key, &err)) {
        *ret = admin_message(r, s, 404, "Not found", err.message);
        row_free(c);
        return false;
    }
    if (c->m->key == KURA_KEY_INT64)
        snprintf(c->key, sizeof c->key, "%lld", (long long)id);
    bool ok = kura_get_key(c->store, c->m, c->key, c->obj, &err);
    http_metrics_store(&r->srv->metrics, c->kind, HTTP_OP_GET, ok ? NULL : &err);
    if (!ok && err.code == KURA_MISFIT && misfit_ok) {
        snprintf(c->misfit, sizeof c->misfit, "%s", err.message);
        memset(c->obj, 0, c->m->size);
        return true;
    }
    if (ok) {
        row_version(c);
        c->form_version = c->version;
    }
    if (!ok) {
        if (err.code == KURA_NOT_FOUND)
            *ret = admin_message(r, s, 404, "Not found", err.message);
        else if (err.code == KURA_MISFIT || err.code == KURA_INVALID)
            *ret = admin_message(r, s, 409, "This row does not fit the model", err.message);
        else {
            http_log(r->srv, KURA_LOG_ERROR, "admin: reading %s %s: %s: %s", c->m->name, c->key,
                     kura_code_name(err.code), err.message);
            *ret = admin_message(r, s, 503, "Try again", "The store did not answer.");
        }
        row_free(c);
        return false;
    }
    return true;
}

static void title_of(const row_ctx *c, char *out, size_t size, const char *verb)
{
    snprintf(out, size, "%s%s %s", verb, c->m->name, c->key);
}

/* The row's fields as a definition list. */
static void field_list(admin_page *p, const row_ctx *c)
{
    kura_buf *b = &p->b;
    const kura_model *m = c->m;
    kura_buf_add(b, "<dl class=\"fields\"><dt>");
    html_text(b, kura_key_name(m));
    kura_buf_add(b, "</dt><dd class=\"key\">");
    html_text(b, c->key);
    kura_buf_add(b, "</dd>");
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        kura_buf_add(b, "<dt>");
        html_text(b, f->name);
        kura_buf_add(b, "</dt>");
        if (kura_is_null(m, c->obj, f)) {
            kura_buf_add(b, "<dd class=\"null\">—</dd>");
            continue;
        }
        char stack[256];
        kura_buf t;
        kura_buf_init(&t, stack, sizeof stack);
        bool block = f->type == KURA_TYPE_JSON || f->type == KURA_TYPE_TEXT;
        admin_field_text(&t, m, c->obj, f, f->type == KURA_TYPE_JSON);
        kura_buf_add(b, block ? "<dd><pre>" : "<dd>");
        if (block)
            html_text(b, t.data);
        else
            admin_value_html(p, f, t.data, SIZE_MAX);
        kura_buf_add(b, block ? "</pre></dd>" : "</dd>");
        kura_buf_free(&t);
    }
    if (kura_model_has_timestamps(m)) {
        const kura_base *base = c->obj;
        char text[KURA_TIME_TEXT];
        kura_time_format(base->created_at, text);
        kura_buf_add(b, "<dt>created_at</dt><dd class=\"stamp\">");
        kura_buf_add(b, text);
        kura_time_format(base->updated_at, text);
        kura_buf_add(b, " UTC</dd><dt>updated_at</dt><dd class=\"stamp\">");
        kura_buf_add(b, text);
        kura_buf_add(b, " UTC</dd>");
    }
    kura_buf_add(b, "</dl>");
}

/* Whether a document's key `k` is one the model knows (a field, the key, a stamp). */
static bool declared(const kura_model *m, const char *k)
{
    return kura_field_named(m, k) || strcmp(k, kura_key_name(m)) == 0 || strcmp(k, "_id") == 0 ||
           (kura_model_has_timestamps(m) &&
            (strcmp(k, "created_at") == 0 || strcmp(k, "updated_at") == 0));
}

/* The keys of a stored document that its model does not declare (another
 * program's), read-only: kura keeps them when it saves the document. */
static void undeclared(admin_page *p, const row_ctx *c)
{
    if (!kura_store_is_document(c->store))
        return;
    json_t *doc = NULL;
    kura_error err = {0};
    bool ok = kura_document_get_json(c->store, c->m, c->key, &doc, &err);
    http_metrics_store(&c->r->srv->metrics, c->kind, HTTP_OP_GET, ok ? NULL : &err);
    if (!ok) {
        http_log(c->r->srv, KURA_LOG_WARN, "admin: reading %s %s as stored: %s", c->m->name, c->key,
                 err.message);
        return;
    }
    kura_buf *b = &p->b;
    const char *k;
    json_t *v;
    bool any = false;
    json_object_foreach(doc, k, v)
    {
        if (declared(c->m, k))
            continue;
        if (!any)
            kura_buf_add(b, "<h2>Not in the model</h2><p class=\"muted\">Keys of the stored "
                            "document that the model does not declare, written by another "
                            "program: shown read-only, and kept when kura saves the document."
                            "</p><dl class=\"fields extra\">");
        any = true;
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        kura_buf_add(b, "<dt>");
        html_text(b, k);
        kura_buf_add(b, "</dt><dd><code>");
        html_text(b, text ? text : "");
        kura_buf_add(b, "</code></dd>");
        free(text);
    }
    if (any)
        kura_buf_add(b, "</dl>");
    json_decref(doc);
}

/* Begins the page of a row (or of a new one) under its model's crumb. */
static void row_page_begin(admin_page *p, const row_ctx *c, const char *title)
{
    admin_page_begin(p, c->r, c->s, title);
    kura_buf_add(&p->b, "<p class=\"crumbs\"><a href=\"");
    admin_model_path(&p->b, p->a, c->m, "");
    kura_buf_add(&p->b, "\">");
    html_text(&p->b, c->m->name);
    kura_buf_add(&p->b, "</a> /</p>");
}

enum MHD_Result admin_detail(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    row_ctx c;
    enum MHD_Result ret;
    if (!row_open(&c, r, s, true, false, &ret))
        return ret;
    char title[200];
    title_of(&c, title, sizeof title, "");
    admin_page p;
    row_page_begin(&p, &c, title);
    kura_buf *b = &p.b;
    kura_buf_add(b, "<div class=\"head\"><h1>");
    html_text(b, title);
    kura_buf_add(b, "</h1><div class=\"actions\"><a class=\"button\" href=\"");
    admin_row_path(b, p.a, c.m, c.key, "/edit");
    kura_buf_add(b, "\">Edit</a><a class=\"button danger\" href=\"");
    admin_row_path(b, p.a, c.m, c.key, "/delete");
    kura_buf_add(b, "\">Delete</a></div></div>");
    const char *done = kura_http_query(r, "done");
    if (done && (strcmp(done, "created") == 0 || strcmp(done, "saved") == 0))
        kura_buf_add(b, strcmp(done, "created") == 0
                            ? "<p class=\"banner ok\" role=\"status\">Created.</p>"
                            : "<p class=\"banner ok\" role=\"status\">Saved.</p>");
    field_list(&p, &c);
    undeclared(&p, &c);
    row_free(&c);
    return admin_page_send(&p, 200);
}

/* The create or edit form; `typed` and `e` after a refused submit, `problem`
 * a message for the whole form. */
static enum MHD_Result form_page(row_ctx *c, bool create, const admin_form *typed,
                                 const http_field_errors *e, const char *problem, unsigned status)
{
    char title[200];
    if (create)
        snprintf(title, sizeof title, "New %s", c->m->name);
    else
        title_of(c, title, sizeof title, "Edit ");
    admin_page p;
    row_page_begin(&p, c, title);
    kura_buf *b = &p.b;
    kura_buf_add(b, "<h1>");
    html_text(b, title);
    kura_buf_add(b, "</h1>");
    size_t unplaced = 0; /* errors that belong to no input: shown at the top */
    for (size_t i = 0; e && i < e->n; i++)
        unplaced += !kura_field_named(c->m, e->list[i].field);
    if (problem || (e && e->n)) {
        kura_buf_add(b, "<div class=\"banner error\" role=\"alert\"><p>");
        if (problem)
            html_text(b, problem);
        else
            kura_buf_addf(b, "%zu field%s need%s a change.", e->n, e->n == 1 ? "" : "s",
                          e->n == 1 ? "s" : "");
        kura_buf_add(b, "</p>");
        if (unplaced) {
            kura_buf_add(b, "<ul>");
            for (size_t i = 0; i < e->n; i++) {
                if (kura_field_named(c->m, e->list[i].field))
                    continue;
                kura_buf_add(b, "<li><strong>");
                html_text(b, e->list[i].field);
                kura_buf_add(b, "</strong>: ");
                html_text(b, e->list[i].reason);
                kura_buf_add(b, "</li>");
            }
            kura_buf_add(b, "</ul>");
        }
        kura_buf_add(b, "</div>");
    }
    kura_buf_add(b, "<form class=\"edit\" method=\"post\" novalidate action=\"");
    if (create)
        admin_model_path(b, p.a, c->m, "/new");
    else
        admin_row_path(b, p.a, c->m, c->key, "/edit");
    kura_buf_add(b, "\">");
    html_csrf_input(&p);
    if (!create && c->form_version) {
        kura_buf_add(b, "<input type=\"hidden\" name=\"" VERSION_FIELD "\" value=\"");
        html_text(b, c->form_version);
        kura_buf_add(b, "\">");
    }
    if (create && c->m->key != KURA_KEY_INT64) {
        const char *name = kura_key_name(c->m);
        const char *typed_key = typed ? admin_form_get(typed, name) : NULL;
        const char *error = e ? http_field_error_of(e, name) : NULL;
        kura_buf_add(b, error ? "<div class=\"field has-error\">" : "<div class=\"field\">");
        kura_buf_add(b, "<label for=\"f-key\">");
        html_text(b, name);
        kura_buf_add(b, c->m->key == KURA_KEY_STRING ? " <span class=\"req\">required</span>" : "");
        kura_buf_add(b, "</label><input type=\"text\" id=\"f-key\" name=\"");
        html_text(b, name);
        kura_buf_add(b, "\" value=\"");
        html_text(b, typed_key ? typed_key : "");
        kura_buf_add(b, "\">");
        if (error) {
            kura_buf_add(b, "<p class=\"error\">");
            html_text(b, error);
            kura_buf_add(b, "</p>");
        }
        kura_buf_add(b, "<p class=\"hint\">");
        kura_buf_add(b, c->m->key == KURA_KEY_STRING ? "the key, up to 63 bytes"
                                                     : "leave empty and kura makes one");
        kura_buf_add(b, "</p></div>");
    }
    for (size_t i = 0; i < c->m->nfields; i++)
        admin_field_input(&p, c->m, &c->m->fields[i], c->obj, typed, e);
    kura_buf_add(b, "<div class=\"actions\"><button type=\"submit\" class=\"primary\">");
    kura_buf_add(b, create ? "Create" : "Save");
    kura_buf_add(b, "</button><a href=\"");
    if (create)
        admin_model_path(b, p.a, c->m, "");
    else
        admin_row_path(b, p.a, c->m, c->key, "");
    kura_buf_add(b, "\">Cancel</a></div></form>");
    if (!create)
        undeclared(&p, c);
    return admin_page_send(&p, status);
}

/* What a refused write says on the form: the field it names beside its
 * input, else a line at the top. Store failures get a page of their own. */
static enum MHD_Result write_refused(row_ctx *c, bool create, const admin_form *form,
                                     http_field_errors *e, const kura_error *err)
{
    switch (err->code) {
    case KURA_VALIDATION:
        http_field_error_add(e, err->field[0] ? err->field : "?", "%s", err->message);
        return form_page(c, create, form, e, NULL, 422);
    case KURA_CONSTRAINT:
        return form_page(c, create, form, e, err->message, 409);
    case KURA_NOT_FOUND:
        return admin_message(c->r, c->s, 404, "Not found", err->message);
    default:
        http_log(c->r->srv, KURA_LOG_ERROR, "admin: writing %s: %s: %s", c->m->name,
                 kura_code_name(err->code), err->message);
        return admin_message(c->r, c->s, 503, "Try again",
                             "The store did not take the write; nothing was changed.");
    }
}

/* Reads the form into c->obj by the collections' rules; false: errors in e. */
static bool read_form(row_ctx *c, const admin_form *form, const void *stored, bool key_allowed,
                      http_field_errors *e)
{
    json_t *json = admin_form_json(c->m, form, stored, key_allowed, e);
    if (!json) {
        http_field_error_add(e, "?", "%s", "out of memory");
        return false;
    }
    http_decode_fields(c->m, json, c->obj, key_allowed, e);
    /* e borrows json's keys: they are the model's own names or the key's,
     * which live in the descriptor; re-point them before json goes. */
    for (size_t i = 0; i < e->n; i++) {
        const kura_field *f = kura_field_named(c->m, e->list[i].field);
        e->list[i].field = f ? f->name
                           : strcmp(e->list[i].field, kura_key_name(c->m)) == 0
                               ? kura_key_name(c->m)
                               : "?";
    }
    json_decref(json);
    return e->n == 0;
}

/* The empty create form, or the edit form of the stored row (`existing`). */
static enum MHD_Result blank_form(http_req *r, const admin_session *s, bool existing)
{
    row_ctx c;
    enum MHD_Result ret;
    if (!row_open(&c, r, s, existing, false, &ret))
        return ret;
    ret = form_page(&c, !existing, NULL, NULL, NULL, 200);
    row_free(&c);
    return ret;
}

enum MHD_Result admin_new_get(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    return blank_form(r, s, false);
}

enum MHD_Result admin_new_post(http_req *r, const admin_session *s, const admin_form *form)
{
    row_ctx c;
    enum MHD_Result ret;
    if (!row_open(&c, r, s, false, false, &ret))
        return ret;
    http_field_errors *e = calloc(1, sizeof *e);
    if (!e) {
        row_free(&c);
        return admin_message(r, s, 500, "Out of memory", "The form could not be read.");
    }
    bool key_allowed = c.m->key != KURA_KEY_INT64;
    kura_error err = {0};
    if (!read_form(&c, form, NULL, key_allowed, e)) {
        ret = form_page(&c, true, form, e, NULL, 422);
    } else if (!kura_insert(c.store, c.m, c.obj, &err)) {
        http_metrics_store(&r->srv->metrics, c.kind, HTTP_OP_INSERT, &err);
        ret = write_refused(&c, true, form, e, &err);
    } else {
        http_metrics_store(&r->srv->metrics, c.kind, HTTP_OP_INSERT, NULL);
        kura_key_text(c.m, c.obj, c.key);
        char stack[256];
        kura_buf to;
        kura_buf_init(&to, stack, sizeof stack);
        admin_row_path(&to, admin_of(r), c.m, c.key, "?done=created");
        ret = admin_redirect(r, to.data);
        kura_buf_free(&to);
    }
    free(e);
    row_free(&c);
    return ret;
}

enum MHD_Result admin_edit_get(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    return blank_form(r, s, true);
}

enum MHD_Result admin_edit_post(http_req *r, const admin_session *s, const admin_form *form)
{
    row_ctx c;
    enum MHD_Result ret;
    if (!row_open(&c, r, s, true, false, &ret))
        return ret;
    http_field_errors *e = calloc(1, sizeof *e);
    void *stored = malloc(c.m->size);
    kura_error err = {0};
    if (!e || !stored || !kura_copy(c.m, memset(stored, 0, c.m->size), c.obj, &err)) {
        free(e);
        free(stored);
        row_free(&c);
        return admin_message(r, s, 500, "Out of memory", "The form could not be read.");
    }
    /* The version the form was drawn from; a form without one (an older page, a
     * script) saves as before. Checked here, not in the store's update: a change
     * in the milliseconds between this read and the write is still overwritten. */
    const char *sent = admin_form_get(form, VERSION_FIELD);
    if (sent && strcmp(sent, c.version) != 0) {
        /* Drawn again with the stored version: a second Save is a choice. */
        ret = form_page(&c, false, form, NULL,
                        "Someone changed this row after you opened this form. Your values are "
                        "below and nothing was saved; the row's page shows what is stored now. "
                        "Save again to replace it with yours.",
                        409);
    } else if (!read_form(&c, form, stored, false, e)) {
        c.form_version = sent ? sent : c.version; /* still the one the user started from */
        ret = form_page(&c, false, form, e, NULL, 422);
    } else if (!kura_update(c.store, c.m, c.obj, &err)) {
        http_metrics_store(&r->srv->metrics, c.kind, HTTP_OP_UPDATE, &err);
        ret = write_refused(&c, false, form, e, &err);
    } else {
        http_metrics_store(&r->srv->metrics, c.kind, HTTP_OP_UPDATE, NULL);
        char stack[256];
        kura_buf to;
        kura_buf_init(&to, stack, sizeof stack);
        admin_row_path(&to, admin_of(r), c.m, c.key, "?done=saved");
        ret = admin_redirect(r, to.data);
        kura_buf_free(&to);
    }
    kura_clear(c.m, stored);
    free(stored);
    free(e);
    row_free(&c);
    return ret;
}

enum MHD_Result admin_delete_get(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    row_ctx c;
    enum MHD_Result ret;
    if (!row_open(&c, r, s, true, true, &ret))
        return ret;
    char title[200];
    title_of(&c, title, sizeof title, "Delete ");
    admin_page p;
    row_page_begin(&p, &c, title);
    kura_buf *b = &p.b;
    kura_buf_add(b, "<h1>");
    html_text(b, title);
    kura_buf_add(b, "?</h1><p class=\"banner warn\">This row will be deleted from the store. "
                    "It cannot be undone.</p>");
    if (c.misfit[0]) {
        kura_buf_add(b, "<p class=\"banner error\">The stored document does not fit the model: ");
        html_text(b, c.misfit);
        kura_buf_add(b, "</p>");
    } else {
        field_list(&p, &c);
    }
    kura_buf_add(b, "<form class=\"confirm\" method=\"post\" action=\"");
    admin_row_path(b, p.a, c.m, c.key, "/delete");
    kura_buf_add(b, "\">");
    html_csrf_input(&p);
    kura_buf_add(b, "<div class=\"actions\"><button type=\"submit\" class=\"danger\">Delete"
                    "</button><a href=\"");
    admin_row_path(b, p.a, c.m, c.key, "");
    kura_buf_add(b, "\">Cancel</a></div></form>");
    row_free(&c);
    return admin_page_send(&p, 200);
}

enum MHD_Result admin_delete_post(http_req *r, const admin_session *s, const admin_form *form)
{
    (void)form;
    row_ctx c;
    enum MHD_Result ret;
    /* Not loaded first: a document that does not fit the model can still go. */
    if (!row_open(&c, r, s, false, false, &ret))
        return ret;
    kura_error err = {0};
    int64_t id;
    bool ok = kura_key_parse(c.m, r->params[1], &id, c.key, &err);
    if (ok && c.m->key == KURA_KEY_INT64)
        snprintf(c.key, sizeof c.key, "%lld", (long long)id);
    if (ok) {
        ok = kura_delete_key(c.store, c.m, c.key, &err);
        http_metrics_store(&r->srv->metrics, c.kind, HTTP_OP_DELETE, ok ? NULL : &err);
    }
    if (!ok && (err.code == KURA_NOT_FOUND || err.code == KURA_INVALID)) {
        ret = admin_message(r, s, 404, "Not found", err.message);
    } else if (!ok && err.code == KURA_CONSTRAINT) { /* a row that others refer to */
        ret = admin_message(r, s, 409, "Not deleted", err.message);
    } else if (!ok) {
        http_log(r->srv, KURA_LOG_ERROR, "admin: deleting %s %s: %s: %s", c.m->name, c.key,
                 kura_code_name(err.code), err.message);
        ret = admin_message(r, s, 503, "Try again", "The store did not take the delete.");
    } else {
        http_log(r->srv, KURA_LOG_INFO, "admin: deleted %s %s", c.m->name, c.key);
        char stack[256];
        kura_buf to;
        kura_buf_init(&to, stack, sizeof stack);
        admin_model_path(&to, admin_of(r), c.m, "?done=deleted");
        ret = admin_redirect(r, to.data);
        kura_buf_free(&to);
    }
    row_free(&c);
    return ret;
}
