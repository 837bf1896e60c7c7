/*
 * list_query.c — the one rule for listing a collection: the query parameters
 * of GET /users (field=value filters read as the field's type, field_prefix,
 * order, limit, offset) made into a kura_query. The JSON collections
 * (resource.c) and the admin's lists (admin_list.c) both read them here, so a
 * filter means the same in both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

typedef struct list_scan {
    http_req *r;
    const kura_model *model;
    http_list_query *lq;
    const char *skip;
    unsigned flags;
} list_scan;

static enum MHD_Result bad_arg(http_list_query *lq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum MHD_Result bad_arg(http_list_query *lq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lq->problem, sizeof lq->problem, fmt, ap);
    va_end(ap);
    return MHD_NO; /* stops the iteration */
}

static bool parse_offset(const char *s, int64_t *out)
{
    if (!s || !*s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return false;
    *out = v;
    return true;
}

static bool add_order(http_list_query *lq, const kura_model *model, const char *value)
{
    char buf[256];
    if (!*value || strlen(value) >= sizeof buf)
        return false;
    strcpy(buf, value);
    /* Split by hand: strtok would skip empty items ("age,,") that should be refused. */
    for (char *tok = buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        bool desc = *tok == '-';
        const char *name = desc ? tok + 1 : tok;
        if (kura_column_named(model, name) == KURA_COL_NONE)
            return false;
        kura_order_by(&lq->q, name, desc);
    }
    return kura_query_error(&lq->q) == NULL;
}

/* field=value: equality, the value read as the field's type (f NULL: the id).
 * Canonicalised text (a UUID in capitals, a decimal "1.5") is kept in the
 * scratch space, which lives as long as the query. On false lq->problem says
 * whether the value or the query (too many terms) failed. */
static bool add_filter(http_list_query *lq, const char *name, const kura_field *f,
                       const char *value)
{
    kura_value v;
    char *scratch = lq->scratch + lq->scratch_used;
    if (!kura_value_parse(f, value, &v, scratch, sizeof lq->scratch - lq->scratch_used)) {
        bad_arg(lq, "'%.64s' has a value of the wrong type", name);
        return false;
    }
    if (v.kind == KURA_VALUE_STRING && v.as.s == scratch)
        lq->scratch_used += strlen(scratch) + 1;
    kura_where(&lq->q, name, KURA_EQ, v); /* strings: MHD keeps value for the request */
    const kura_error *qe = kura_query_error(&lq->q);
    if (qe) {
        bad_arg(lq, "%s", qe->message);
        return false;
    }
    return true;
}

/* The stamps filter like datetime fields (models without them refuse them in kura_where). */
static const kura_field stamp_field = {.name = "created_at", .type = KURA_TYPE_DATETIME};

/* Whether `name` is one of the space-separated names in `list`. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        p += *p == ' ';
    }
    return false;
}

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    (void)kind;
    list_scan *s = cls;
    http_list_query *lq = s->lq;
    const kura_model *model = s->model;
    if (!value)
        value = "";
    if (listed(s->skip, key) || (!*value && (s->flags & HTTP_LIST_SKIP_EMPTY)))
        return MHD_YES;
    if (strcmp(key, "limit") == 0) {
        if (http_limit_param(value, 0, s->r->srv->opts.max_limit, &lq->limit) < 0)
            return bad_arg(lq, "limit must be a whole number >= 0");
        return MHD_YES;
    }
    if (strcmp(key, "offset") == 0) {
        if (!parse_offset(value, &lq->offset))
            return bad_arg(lq, "offset must be a whole number >= 0");
        return MHD_YES;
    }
    if (strcmp(key, "order") == 0) {
        if (!add_order(lq, model, value))
            return bad_arg(lq, "order must be a field name, '-' first for descending: '%.64s'",
                           value);
        return MHD_YES;
    }
    const kura_field *f = kura_field_named(model, key);
    if (!f && strcmp(key, kura_key_name(model)) == 0 && model->key != KURA_KEY_INT64) {
        kura_error err = {0};
        if (!kura_key_parse(model, value, NULL, NULL, &err))
            return bad_arg(lq, "%s", err.message);
        /* value is MHD's for the request; a UUID's case is its own (the store
         * compares the canonical lowercase text only for UUID columns) */
        kura_where_str(&lq->q, key, KURA_EQ, value);
        return MHD_YES;
    }
    if (f || strcmp(key, kura_key_name(model)) == 0)
        return add_filter(lq, key, f, value) ? MHD_YES : MHD_NO;
    if (strcmp(key, "created_at") == 0 || strcmp(key, "updated_at") == 0)
        return add_filter(lq, key, &stamp_field, value) ? MHD_YES : MHD_NO;
    size_t len = strlen(key);
    static const char suffix[] = "_prefix";
    if (len > sizeof suffix - 1 && strcmp(key + len - (sizeof suffix - 1), suffix) == 0) {
        char name[128];
        size_t n = len - (sizeof suffix - 1);
        if (n < sizeof name) {
            memcpy(name, key, n);
            name[n] = '\0';
            f = kura_field_named(model, name);
            if (f && kura_type_takes(f->type, KURA_PREFIX)) {
                kura_where_str(&lq->q, f->name, KURA_PREFIX, value);
                if (kura_query_error(&lq->q))
                    return bad_arg(lq, "too many conditions (at '%.64s')", key);
                return MHD_YES;
            }
        }
    }
    return bad_arg(lq, "unknown query parameter '%.64s'", key);
}

bool http_list_query_read(http_req *r, const kura_model *model, const char *skip, unsigned flags,
                          http_list_query *lq)
{
    lq->q = kura_query_for(model);
    lq->limit = -1;
    lq->offset = 0;
    lq->problem[0] = '\0';
    lq->scratch_used = 0;
    list_scan s = {.r = r, .model = model, .lq = lq, .skip = skip, .flags = flags};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, on_arg, &s);
    return lq->problem[0] == '\0';
}
