/*
 * include.c — GET /posts?include=author_id[,...]: the rows a page's references
 * name, answered beside the items as "included": {"author_id": [rows]}, read
 * with kura_find_referenced (a query per 64 keys, not one per row) from the
 * store the referenced model is served from.
 *
 * Only a model this server serves as a collection can be included: include
 * never shows a row the service would not show at its own path.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/internal.h"

static enum MHD_Result count_include(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind, (void)value;
    *(int *)cls += strcmp(key, "include") == 0;
    return MHD_YES;
}

bool http_includes_read(http_req *r, const kura_model *model, http_includes *inc, char *problem,
                        size_t cap)
{
    inc->n = 0;
    const char *value = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "include");
    if (!value)
        return true;
    int given = 0;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, count_include, &given);
    if (given > 1) { /* not one list silently dropped: say how to ask for both */
        snprintf(problem, cap, "include is given %d times: name the fields once, ','-separated",
                 given);
        return false;
    }
    for (const char *p = value;;) {
        size_t len = strcspn(p, ",");
        char name[128];
        if (len == 0 || len >= sizeof name) {
            snprintf(problem, cap, "include must be field names, ','-separated: '%.64s'", value);
            return false;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        const kura_field *f = kura_field_named(model, name);
        const http_collection *target =
            f && f->references ? http_collection_of(r->srv, f->references) : NULL;
        if (!target) {
            snprintf(problem, cap,
                     "include: '%.64s' is no field of %.64s that references a model served here",
                     name, model->name);
            return false;
        }
        for (size_t i = 0; i < inc->n; i++)
            if (inc->fields[i] == f) {
                snprintf(problem, cap, "include names '%.64s' twice", name);
                return false;
            }
        if (inc->n == HTTP_MAX_INCLUDES) {
            snprintf(problem, cap, "include names more than %d fields", HTTP_MAX_INCLUDES);
            return false;
        }
        inc->fields[inc->n] = f;
        inc->targets[inc->n++] = target;
        if (!p[len])
            return true;
        p += len + 1;
    }
}

bool http_includes_write(http_metrics *m, const http_includes *inc, const kura_rows *rows,
                         kura_buf *b, kura_error *err)
{
    if (inc->n == 0)
        return true;
    kura_buf_add(b, ",\"included\":{");
    for (size_t i = 0; i < inc->n; i++) {
        kura_rows found = {0};
        bool ok =
            kura_find_referenced(inc->targets[i]->store, rows, inc->fields[i]->name, &found, err);
        /* The included model's store, which may be another kind than the list's. */
        http_metrics_store(m, inc->targets[i]->kind, HTTP_OP_FIND, ok ? NULL : err);
        if (!ok)
            return false;
        kura_buf_addf(b, "%s\"%s\":[", i ? "," : "", inc->fields[i]->name);
        bool first = true;
        for (size_t j = 0; j < found.count; j++) {
            char *one = kura_to_json_string(found.model, kura_row(&found, j));
            if (!one) /* a row JSON cannot carry: its own path answers why */
                continue;
            if (!first)
                kura_buf_addn(b, ",", 1);
            kura_buf_add(b, one);
            first = false;
            free(one);
        }
        kura_buf_addn(b, "]", 1);
        kura_rows_free(&found);
    }
    kura_buf_addn(b, "}", 1);
    return true;
}
