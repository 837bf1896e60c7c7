/*
 * resource.c — one model in one store served as a JSON collection:
 *
 *   GET    /users              list: field=value filters, field_prefix=text,
 *                              order=[-]field[,...], limit, offset, and
 *                              include=field[,...] (include.c); answers
 *                              {"items":[...],"total":N,"limit":L,"offset":O},
 *                              plus "misfits":[{"id":..,"field":..,"reason":..}]
 *                              when stored documents did not fit the model
 *                              (they are left out of items: kura_find) or a
 *                              row holds what JSON cannot carry (misfit_of)
 *   POST   /users              create from a JSON object (201, Location); the
 *                              key may be in it unless it is an int64 key (a
 *                              string key must be)
 *   GET    /users/{id}         read: {id} is read by the model's key kind
 *                              (kura_key_parse): malformed 400, missing 404
 *   PATCH  /users/{id}         change the named fields ({"sex":"M"} is change_sex)
 *   DELETE /users/{id}         delete (204)
 *
 * Nothing here knows the model or the store kind: the same code serves the
 * SQL store at /users and the document store at /me_users. Every write is one
 * store call after every check has passed, so a refused request writes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/internal.h"

static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* The {id} path parameter, read by the model's key kind into key (canonical
 * text) and *id (int64 keys); false answered 400. */
static bool path_key(http_req *r, char key[KURA_KEY_BYTES], int64_t *id, enum MHD_Result *ret)
{
    const http_collection *c = r->ctx;
    kura_error err = {0};
    if (c->model->key == KURA_KEY_INT64) {
        if (parse_int(r->params[0], 1, INT64_MAX, id)) {
            snprintf(key, KURA_KEY_BYTES, "%lld", (long long)*id);
            return true;
        }
        *ret = http_problem(r, 400, "the id must be a positive integer");
        return false;
    }
    *id = 0;
    if (kura_key_parse(c->model, r->params[0], NULL, key, &err))
        return true;
    *ret = http_problem(r, 400, "%s", err.message);
    return false;
}

/* --- bodies ------------------------------------------------------------------ */

/*
 * Applies the JSON object in the body to *obj and validates the result,
 * gathering every failing field (decoding stops at none of them). On false a
 * response was queued (400 or 422) into *ret. The JSON (whose keys the error
 * list borrows) is released before returning.
 */
static bool decode_body(http_req *r, const kura_model *model, void *obj, bool key_allowed,
                        enum MHD_Result *ret)
{
    if (!r->body || r->body_len == 0) {
        *ret = http_problem(r, 400, "the body is empty; expected a JSON object");
        return false;
    }
    json_error_t jerr;
    json_t *json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        *ret = http_problem(r, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
        return false;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        *ret = http_problem(r, 400, "the body must be a JSON object");
        return false;
    }
    http_field_errors *e = calloc(1, sizeof *e);
    if (!e) {
        json_decref(json);
        *ret = http_problem(r, 500, "out of memory");
        return false;
    }
    http_decode_fields(model, json, obj, key_allowed, e);
    bool ok = e->n == 0;
    if (!ok)
        *ret = http_problem_fields(r, e->list, e->n);
    free(e);
    json_decref(json);
    return ok;
}

/* --- store calls, counted ---------------------------------------------------- */

/* Passes `ok` through after counting the operation: counted(r, op, kura_get(...), &err). */
static bool counted(http_req *r, http_store_op op, bool ok, const kura_error *err)
{
    const http_collection *c = r->ctx;
    http_metrics_store(&r->srv->metrics, c->kind, op, ok ? NULL : err);
    return ok;
}
#define counted(r, op, call, err) counted((r), (op), (call), (err))

/* --- handlers ------------------------------------------------------------------ */

/* Objects are written straight to text (kura_to_json_string writes what
 * jansson would, without building its tree: most of an answer's cost). */
/* text: kura_to_json_string's (taken); NULL, it could not be written. */
static enum MHD_Result respond_text(http_req *r, unsigned status, char *text)
{
    if (!text)
        return http_problem(r, 500, "the object cannot be written as JSON");
    return http_respond(r, status, "application/json", text, strlen(text));
}

static enum MHD_Result respond_obj(http_req *r, const kura_model *model, const void *obj,
                                   unsigned status)
{
    return respond_text(r, status, kura_to_json_string(model, obj));
}

/*
 * Why a stored row cannot be written as JSON (text or a key that is not UTF-8,
 * a json field that is not JSON: what another program wrote), into *err as a misfit,
 * as a document that does not fit the model is; false when nothing in it is
 * wrong (the writer ran out of memory).
 */
static bool misfit_of(const kura_model *model, const void *obj, kura_error *err)
{
    const kura_base *b = obj;
    if (model->key != KURA_KEY_INT64 &&
        kura_utf8_chars(b->key, strnlen(b->key, sizeof b->key)) < 0) {
        kura_fail(err, KURA_MISFIT, "id", "id: the stored key is not UTF-8");
        return true;
    }
    kura_error why = {0};
    if (kura_validate(model, obj, &why))
        return false;
    kura_fail(err, KURA_MISFIT, why.field, "%s", why.message);
    return true;
}

static enum MHD_Result create(http_req *r)
{
    const http_collection *c = r->ctx;
    enum MHD_Result ret;
    void *obj = malloc(c->model->size);
    if (!obj)
        return http_problem(r, 500, "out of memory");
    kura_init(c->model, obj);
    /* A reference the body leaves out is no reference: NULL, which always
     * passes. Left at kura_init's "" or 0, it named a row that cannot exist
     * and the foreign key refused the whole row (409). */
    for (size_t i = 0; i < c->model->nfields; i++) {
        const kura_field *f = &c->model->fields[i];
        if (f->references && !f->has_default)
            kura_set_null(c->model, obj, f, true);
    }
    kura_error err = {0};
    if (!decode_body(r, c->model, obj, c->model->key != KURA_KEY_INT64, &ret)) {
        /* answered */
    } else if (c->model->key != KURA_KEY_INT64 && strchr(((kura_base *)obj)->key, '/')) {
        /* libmicrohttpd decodes %2F before routing: /project/a%2Fb is no row's
         * path, so such a row could be neither read, changed nor deleted here. */
        kura_field_error fe = {.field = "id"};
        kura_copy_string(fe.reason, sizeof fe.reason,
                         "a key served over HTTP cannot contain '/': no path could name its row");
        ret = http_problem_fields(r, &fe, 1);
    } else if (!counted(r, HTTP_OP_INSERT, kura_insert(c->store, c->model, obj, &err), &err)) {
        ret = http_problem_error(r, &err);
    } else {
        /* A caller's string key may hold anything but '/' ("a b", "%41", "?"):
         * percent-encoded, the Location names this row and no other. */
        char stack[HTTP_PARAM_BYTES + 64 + 3 * KURA_KEY_BYTES];
        char key[KURA_KEY_BYTES];
        kura_key_text(c->model, obj, key);
        kura_buf location;
        kura_buf_init(&location, stack, sizeof stack);
        kura_buf_add(&location, r->url);
        kura_buf_add(&location, "/");
        html_url_part(&location, key);
        if (location.oom) {
            ret = http_problem(r, 500, "out of memory");
        } else {
            http_add_header(r, MHD_HTTP_HEADER_LOCATION, location.data);
            ret = respond_obj(r, c->model, obj, 201);
        }
        kura_buf_free(&location);
    }
    kura_clear(c->model, obj);
    free(obj);
    return ret;
}

/* kura_get for int64 keys (no second parse on the hot path), kura_get_key otherwise. */
static bool get_by_key(const http_collection *c, int64_t id, const char *key, void *obj,
                       kura_error *err)
{
    if (c->model->key == KURA_KEY_INT64)
        return kura_get(c->store, c->model, id, obj, err);
    return kura_get_key(c->store, c->model, key, obj, err);
}

static enum MHD_Result read_one(http_req *r)
{
    const http_collection *c = r->ctx;
    enum MHD_Result ret;
    int64_t id;
    char key[KURA_KEY_BYTES];
    if (!path_key(r, key, &id, &ret))
        return ret;
    kura_error err = {0};
    http_hot *hot = r->srv->hot;
    const char *text_key = c->model->key == KURA_KEY_INT64 ? NULL : key;
    uint64_t gen = 0;
    if (hot) {
        char *body;
        size_t len;
        if (http_hot_get(hot, c->model, id, text_key, &body, &len))
            return http_respond(r, 200, "application/json", body, len);
        gen = http_hot_gen(hot, c->model, id, text_key);
    }
    /* Models are small fixed-size structs: a stack buffer saves a malloc per read. */
    _Alignas(max_align_t) unsigned char stack[4096];
    void *obj = c->model->size <= sizeof stack ? stack : malloc(c->model->size);
    if (!obj)
        return http_problem(r, 500, "out of memory");
    memset(obj, 0, c->model->size);
    if (!counted(r, HTTP_OP_GET, get_by_key(c, id, key, obj, &err), &err)) {
        ret = http_problem_error(r, &err);
    } else {
        char *text = kura_to_json_string(c->model, obj);
        if (text && hot)
            http_hot_put(hot, c->model, id, text_key, gen, text, strlen(text));
        ret = text || !misfit_of(c->model, obj, &err) ? respond_text(r, 200, text)
                                                      : http_problem_error(r, &err);
    }
    kura_clear(c->model, obj);
    if (obj != stack)
        free(obj);
    return ret;
}

/*
 * PATCH writes only the fields the body names (one UPDATE ... WHERE id = ?),
 * so two PATCHes of different fields of one row never undo each other. The
 * body is first applied to the stored row and the whole result validated, as
 * a save would; a body naming a tag list falls back to writing the row.
 */
static enum MHD_Result patch(http_req *r)
{
    const http_collection *c = r->ctx;
    enum MHD_Result ret;
    int64_t id;
    char id_text[KURA_KEY_BYTES];
    if (!path_key(r, id_text, &id, &ret))
        return ret;
    void *obj = calloc(1, c->model->size);
    if (!obj)
        return http_problem(r, 500, "out of memory");
    kura_error err = {0};
    kura_assign set[KURA_MAX_FIELDS];
    size_t n = 0;
    bool whole = false;
    if (!counted(r, HTTP_OP_GET, get_by_key(c, id, id_text, obj, &err), &err)) {
        ret = http_problem_error(r, &err);
        goto out;
    }
    if (!decode_body(r, c->model, obj, false, &ret))
        goto out;                                             /* answered */
    json_t *body = json_loadb(r->body, r->body_len, 0, NULL); /* decode_body parsed it */
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        const kura_field *f = kura_field_named(c->model, key);
        if (!f || n == KURA_MAX_FIELDS)
            continue;
        if (f->type == KURA_TYPE_TAGS) /* an assignment cannot carry a tag list */
            whole = true;
        else
            set[n++] = (kura_assign){f->name, kura_value_of(c->model, obj, f)};
    }
    bool ok;
    if (whole) {
        ok = counted(r, HTTP_OP_UPDATE, kura_update(c->store, c->model, obj, &err), &err);
    } else if (n == 0) {
        ok = true; /* nothing named: the row as it is */
    } else {
        kura_query q = kura_query_for(c->model);
        if (c->model->key == KURA_KEY_INT64)
            kura_where_int(&q, kura_key_name(c->model), KURA_EQ, id);
        else
            kura_where_str(&q, kura_key_name(c->model), KURA_EQ, id_text);
        int64_t affected = 0;
        ok = counted(r, HTTP_OP_UPDATE, kura_update_where(c->store, &q, set, n, &affected, &err),
                     &err);
        if (ok && affected == 0)
            ok = kura_fail(&err, KURA_NOT_FOUND, NULL, "%s %s not found", c->model->name, id_text);
        /* Answer with the row as stored now, other writers' fields included. */
        kura_clear(c->model, obj);
        memset(obj, 0, c->model->size);
        ok = ok && counted(r, HTTP_OP_GET, get_by_key(c, id, id_text, obj, &err), &err);
    }
    json_decref(body);
    ret = ok ? respond_obj(r, c->model, obj, 200) : http_problem_error(r, &err);
out:
    kura_clear(c->model, obj);
    free(obj);
    return ret;
}

static enum MHD_Result delete_one(http_req *r)
{
    const http_collection *c = r->ctx;
    enum MHD_Result ret;
    int64_t id;
    char key[KURA_KEY_BYTES];
    if (!path_key(r, key, &id, &ret))
        return ret;
    kura_error err = {0};
    if (!counted(r, HTTP_OP_DELETE, kura_delete_key(c->store, c->model, key, &err), &err))
        return http_problem_error(r, &err);
    return http_respond(r, 204, NULL, NULL, 0);
}

/* --- list ------------------------------------------------------------------------ */

/* Adds row i, which cannot be written as JSON, to the page's misfits; false
 * when it is not a misfit (out of memory). */
static bool note_misfit(kura_rows *rows, size_t i)
{
    const void *row = kura_row(rows, i);
    kura_error why = {0};
    kura_misfit *more = realloc(rows->misfits, (rows->nmisfits + 1) * sizeof *more);
    if (!more)
        return false;
    rows->misfits = more;
    if (!misfit_of(rows->model, row, &why))
        return false;
    kura_misfit *mf = &rows->misfits[rows->nmisfits++];
    memset(mf, 0, sizeof *mf);
    kura_key_text(rows->model, row, mf->id);
    kura_copy_string(mf->field, sizeof mf->field, why.field);
    kura_copy_string(mf->reason, sizeof mf->reason, why.message);
    return true;
}

/* ,"misfits":[{"id", "field", "reason"}], the documents kura_find skipped and
 * the rows that could not be written. */
static bool add_misfits(kura_buf *b, const kura_rows *rows)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < rows->nmisfits; i++) {
        const kura_misfit *mf = &rows->misfits[i];
        /* Stored text may not be UTF-8 (the key is checked, the reason quotes
         * a value): cut as kura_copy_string does, and skip what JSON refuses. */
        json_t *one =
            json_pack("{s:s, s:s, s:s}", "id", mf->id, "field", mf->field, "reason", mf->reason);
        if (!one)
            one = json_pack("{s:s, s:s, s:s}", "id", "", "field", mf->field, "reason",
                            "the document does not fit the model");
        if (!one || json_array_append_new(list, one) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    char *text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    if (!text)
        return false;
    kura_buf_add(b, ",\"misfits\":");
    kura_buf_add(b, text);
    free(text);
    return true;
}

/* What this store cannot do with a list's query (an order by decimal on
 * SQLite) is the client's query to change, as an unknown field is: 400. */
static enum MHD_Result list_failed(http_req *r, const kura_error *err)
{
    if (err->code == KURA_UNSUPPORTED)
        return http_problem(r, 400, "%s", err->message);
    return http_problem_error(r, err);
}

static enum MHD_Result list(http_req *r)
{
    const http_collection *c = r->ctx;
    const kura_http_opts *o = &r->srv->opts;
    /* a kura_query is several KiB: not on a worker's stack */
    http_list_query *a = malloc(sizeof *a);
    if (!a)
        return http_problem(r, 500, "out of memory");
    enum MHD_Result ret;
    http_includes inc;
    if (!http_list_query_read(r, c->model, "include", 0, a) ||
        !http_includes_read(r, c->model, &inc, a->problem, sizeof a->problem)) {
        ret = http_problem(r, 400, "%s", a->problem);
        free(a);
        return ret;
    }
    if (a->limit < 0)
        a->limit = o->default_limit;
    if (a->limit > o->max_limit) /* a cap, not an error: clients learn it from "limit" */
        a->limit = o->max_limit;
    if (a->q.norder == 0) /* pages must be stable: rows in key order unless asked otherwise */
        kura_order_by(&a->q, kura_key_name(c->model), false);
    kura_error err = {0};
    int64_t total = 0;
    kura_rows rows = {0};
    kura_limit(&a->q, a->limit);
    kura_offset(&a->q, a->offset);
    if (a->limit > 0) {
        /* Room for a full page up front: growing the array row by row would copy
         * it several times per request. */
        size_t room = a->limit < 256 ? (size_t)a->limit : 256;
        rows.model = c->model;
        rows.items = malloc(room * c->model->size);
        rows.capacity = rows.items ? room : 0;
        if (!counted(r, HTTP_OP_FIND, kura_find(c->store, &a->q, &rows, &err), &err)) {
            ret = list_failed(r, &err);
            goto done;
        }
    }
    /* A page that is neither full nor past the end tells the total by itself. */
    /* Misfits were on the page too (kura_count counts them): they are rows read. */
    size_t seen = rows.count + rows.nmisfits;
    if (a->limit > 0 && seen < (size_t)a->limit && (seen > 0 || a->offset == 0)) {
        total = a->offset + (int64_t)seen;
    } else if (!counted(r, HTTP_OP_COUNT, kura_count(c->store, &a->q, &total, &err), &err)) {
        ret = list_failed(r, &err);
        goto done;
    }
    /* {"items":[...],"total":..,"limit":..,"offset":..[,"misfits":[...]]} */
    char stack[8192];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "{\"items\":[");
    bool ok = true;
    bool first = true;
    for (size_t i = 0; ok && i < rows.count; i++) {
        char *one = kura_to_json_string(c->model, kura_row(&rows, i));
        if (!one) {
            ok = note_misfit(&rows, i); /* left out of the items, named in "misfits" */
            continue;
        }
        if (!first)
            kura_buf_addn(&b, ",", 1);
        kura_buf_add(&b, one);
        first = false;
        free(one);
    }
    kura_buf_add(&b, "],\"total\":");
    kura_buf_add_i64(&b, total);
    kura_buf_add(&b, ",\"limit\":");
    kura_buf_add_i64(&b, a->limit);
    kura_buf_add(&b, ",\"offset\":");
    kura_buf_add_i64(&b, a->offset);
    if (ok && !http_includes_write(&r->srv->metrics, &inc, &rows, &b, &err)) {
        kura_buf_free(&b);
        ret = http_problem_error(r, &err);
        goto done;
    }
    ok = ok && (rows.nmisfits == 0 || add_misfits(&b, &rows));
    kura_buf_addn(&b, "}", 1);
    if (!ok || b.oom) {
        kura_buf_free(&b);
        ret = http_problem(r, 500, "the result cannot be written as JSON");
        goto done;
    }
    size_t len = b.len;
    char *text = kura_buf_take(&b);
    ret = text ? http_respond(r, 200, "application/json", text, len)
               : http_problem(r, 500, "out of memory");
done:
    kura_rows_free(&rows);
    free(a);
    return ret;
}

const http_collection *http_collection_of(const kura_http *srv, const kura_model *model)
{
    for (size_t i = 0; i < srv->nroutes; i++) {
        const http_route *rt = &srv->routes[i];
        if (rt->methods[HTTP_GET] == list && rt->model &&
            (rt->model == model || strcmp(rt->model->name, model->name) == 0))
            return rt->ctx;
    }
    return NULL;
}

bool http_add_collection(kura_http *srv, const char *prefix, const http_collection *c,
                         kura_error *err)
{
    http_collection *own = malloc(sizeof *own);
    if (!http_own(srv, own, err))
        return false;
    *own = *c;
    if (srv->hot && !http_hot_watch(srv->hot, c->store, err))
        return false;
    const char *list_path = http_own_path(srv, prefix, "", err);
    const char *item_path = list_path ? http_own_path(srv, prefix, "/{id}", err) : NULL;
    if (!item_path)
        return false;
    http_route items = {.pattern = list_path,
                        .methods = {[HTTP_GET] = list, [HTTP_POST] = create},
                        .open_query = 1u << HTTP_GET,
                        .model = c->model,
                        .ctx = own,
                        .protect = true,
                        .body = true};
    http_route item = {
        .pattern = item_path,
        .methods = {[HTTP_GET] = read_one, [HTTP_PATCH] = patch, [HTTP_DELETE] = delete_one},
        .model = c->model,
        .item = true,
        .ctx = own,
        .protect = true,
        .body = true};
    return http_route_add(srv, &items, err) && http_route_add(srv, &item, err);
}
