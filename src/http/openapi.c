/*
 * openapi.c — GET /openapi.json: the service describes itself (OpenAPI 3.1),
 * generated from the route table as it is when the request comes: every
 * mounted collection with its model's schema, filters and an example body,
 * the built-in parts, and a program's own routes.
 */
#include <string.h>

#include "http/internal.h"

static const char *const method_keys[HTTP_NMETHODS] = {"get", "post", "put", "patch", "delete"};

static json_t *ref(const char *what, const char *name)
{
    char path[200]; /* "#/components/" + what + name (a model name, or it + ".patch") */
    snprintf(path, sizeof path, "#/components/%s/%s", what, name);
    return json_pack("{s:s}", "$ref", path);
}

static json_t *json_content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

/* A problem+json answer with the status's meaning. */
static json_t *problem(const char *description)
{
    return json_pack("{s:s, s:{s:{s:o}}}", "description", description, "content",
                     "application/problem+json", "schema", ref("schemas", "Problem"));
}

static json_t *key_schema(const kura_model *m)
{
    switch (m->key) {
    case KURA_KEY_UUID:
        return json_pack("{s:s, s:s}", "type", "string", "format", "uuid");
    case KURA_KEY_OBJECTID:
        return json_pack("{s:s, s:s}", "type", "string", "pattern", "^[0-9a-f]{24}$");
    case KURA_KEY_STRING:
        return json_pack("{s:s, s:i}", "type", "string", "maxLength", KURA_KEY_BYTES - 1);
    default:
        return json_pack("{s:s, s:s, s:i}", "type", "integer", "format", "int64", "minimum", 1);
    }
}

/* The model as its rows read (`whole`: key and stamps, read-only, and the
 * required fields) or as a PATCH body (fields only, none required). */
static json_t *model_schema(const kura_model *m, bool whole)
{
    json_t *props = json_object();
    json_t *required = json_array();
    if (whole) {
        json_t *k = key_schema(m);
        json_object_set_new(k, "readOnly", json_true());
        json_object_set_new(props, kura_key_name(m), k);
        for (int i = 0; kura_model_has_timestamps(m) && i < 2; i++)
            json_object_set_new(props, i ? "updated_at" : "created_at",
                                json_pack("{s:s, s:s, s:b}", "type", "string", "format",
                                          "date-time", "readOnly", 1));
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        json_object_set_new(props, f->name, kura_field_json_schema(f));
        if (whole && f->required)
            json_array_append_new(required, json_string(f->name));
    }
    json_t *s = json_pack("{s:s, s:o}", "type", "object", "properties", props);
    if (json_array_size(required))
        json_object_set_new(s, "required", required);
    else
        json_decref(required);
    return s;
}

/* A body POST accepts: an example value for every field. */
static json_t *example_body(const kura_model *m)
{
    json_t *o = json_object();
    for (size_t i = 0; i < m->nfields; i++)
        json_object_set_new(o, m->fields[i].name, kura_field_example(&m->fields[i]));
    return o;
}

static json_t *query_param(const char *name, const char *description, json_t *schema)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "name", name, "in", "query", "description",
                     description, "schema", schema);
}

static json_t *list_op(const kura_model *m, const char *name)
{
    json_t *params = json_array();
    json_array_append_new(params,
                          query_param("limit",
                                      "rows per page (default and cap: the "
                                      "server's; past the cap it is the cap)",
                                      json_pack("{s:s, s:i}", "type", "integer", "minimum", 0)));
    json_array_append_new(params,
                          query_param("offset", "rows to skip",
                                      json_pack("{s:s, s:i}", "type", "integer", "minimum", 0)));
    json_array_append_new(params, query_param("order",
                                              "fields to sort by, comma-separated, '-' "
                                              "first for descending",
                                              json_pack("{s:s}", "type", "string")));
    json_array_append_new(params, query_param(kura_key_name(m), "equal to", key_schema(m)));
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        if (kura_type_takes(f->type, KURA_EQ))
            json_array_append_new(params,
                                  query_param(f->name, "equal to", kura_field_json_schema(f)));
        if (kura_type_takes(f->type, KURA_PREFIX)) {
            char prefix[96];
            snprintf(prefix, sizeof prefix, "%s_prefix", f->name);
            json_array_append_new(
                params, query_param(prefix, "starts with", json_pack("{s:s}", "type", "string")));
        }
    }
    bool refers = false;
    for (size_t i = 0; i < m->nfields; i++)
        refers = refers || m->fields[i].references;
    if (refers)
        json_array_append_new(params, query_param("include",
                                                  "fields that reference a model this server "
                                                  "serves, comma-separated: the rows they name "
                                                  "come in \"included\", by field",
                                                  json_pack("{s:s}", "type", "string")));
    json_t *page = json_pack(
        "{s:s, s:{s:{s:s, s:o}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}, s:[s, s, s, s]}", "type",
        "object", "properties", "items", "type", "array", "items", ref("schemas", name), "total",
        "type", "integer", "limit", "type", "integer", "offset", "type", "integer", "misfits",
        "type", "array", "required", "items", "total", "limit", "offset");
    if (refers && page)
        json_object_set_new(
            json_object_get(page, "properties"), "included",
            json_pack("{s:s, s:{s:s}}", "type", "object", "additionalProperties", "type", "array"));
    return json_pack("{s:s, s:o, s:{s:{s:s, s:o}, s:o}}", "summary", "List, filter, order, page",
                     "parameters", params, "responses", "200", "description", "a page of rows",
                     "content", json_content(page), "400",
                     problem("an unknown or ill-typed query parameter"));
}

static json_t *create_op(const kura_model *m, const char *name)
{
    json_t *content = json_content(ref("schemas", name));
    json_object_set_new(json_object_get(content, "application/json"), "example", example_body(m));
    return json_pack("{s:s, s:{s:b, s:o}, s:{s:{s:s, s:o}, s:o, s:o, s:o, s:o}}", "summary",
                     "Create", "requestBody", "required", 1, "content", content, "responses", "201",
                     "description", "created (Location: the new row's path)", "content",
                     json_content(ref("schemas", name)), "400", problem("malformed JSON"), "401",
                     problem("the API token is missing or wrong"), "409",
                     problem("a unique value is taken"), "422",
                     problem("invalid fields, each named in errors"));
}

static json_t *item_ops(const kura_model *m, const char *name)
{
    char patch_name[140];
    snprintf(patch_name, sizeof patch_name, "%s.patch", name);
    json_t *id = json_pack("[{s:s, s:s, s:b, s:o}]", "name", "id", "in", "path", "required", 1,
                           "schema", key_schema(m));
    return json_pack(
        "{s:o, s:{s:s, s:{s:{s:s, s:o}, s:o}}, s:{s:s, s:{s:b, s:o}, s:{s:{s:s, s:o}, s:o, s:o}},"
        " s:{s:s, s:{s:{s:s}, s:o}}}",
        "parameters", id, "get", "summary", "Read", "responses", "200", "description", "the row",
        "content", json_content(ref("schemas", name)), "404", problem("no such row"), "patch",
        "summary", "Change the named fields", "requestBody", "required", 1, "content",
        json_content(ref("schemas", patch_name)), "responses", "200", "description",
        "the changed row", "content", json_content(ref("schemas", name)), "404",
        problem("no such row"), "422", problem("invalid fields, each named in errors"), "delete",
        "summary", "Delete", "responses", "204", "description", "deleted", "404",
        problem("no such row"));
}

/* "/things/{id}" -> its path parameters, as strings. */
static json_t *path_params(const char *pattern)
{
    json_t *list = json_array();
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        size_t n = strcspn(p + 1, "}");
        json_array_append_new(list, json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", p + 1, n, "in",
                                              "path", "required", 1, "schema", "type", "string"));
    }
    return list;
}

static json_t *other_ops(const http_route *route)
{
    json_t *item = json_object();
    json_t *params = path_params(route->pattern);
    if (json_array_size(params))
        json_object_set_new(item, "parameters", params);
    else
        json_decref(params);
    for (int m = 0; m < HTTP_NMETHODS; m++) {
        if (!route->methods[m])
            continue;
        const char *summary = route->summary ? route->summary : "A handler of the program's own";
        json_object_set_new(item, method_keys[m],
                            json_pack("{s:s, s:{s:{s:s}, s:o}}", "summary", summary, "responses",
                                      "200", "description", "success", "default",
                                      problem("an error")));
    }
    return item;
}

static json_t *document(const kura_http *srv)
{
    json_t *paths = json_object();
    json_t *schemas = json_pack("{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}",
                                "Problem", "type", "object", "properties", "type", "type", "string",
                                "title", "type", "string", "status", "type", "integer", "detail",
                                "type", "string", "errors", "type", "array");
    for (size_t i = 0; i < srv->nroutes; i++) {
        const http_route *route = &srv->routes[i];
        const kura_model *m = route->model;
        if (route->hidden)
            continue;
        if (!m) {
            json_object_set_new(paths, route->pattern, other_ops(route));
            continue;
        }
        /* Two mounts of one model share its schemas. */
        if (!json_object_get(schemas, m->name)) {
            char patch_name[140];
            snprintf(patch_name, sizeof patch_name, "%s.patch", m->name);
            json_object_set_new(schemas, m->name, model_schema(m, true));
            json_object_set_new(schemas, patch_name, model_schema(m, false));
        }
        json_object_set_new(paths, route->pattern,
                            route->item ? item_ops(m, m->name)
                                        : json_pack("{s:o, s:o}", "get", list_op(m, m->name),
                                                    "post", create_op(m, m->name)));
    }
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.1.0", "info", "title",
                  "kura service", "version", "1", "paths", paths, "components", "schemas", schemas);
    if (doc && srv->api_token) {
        json_object_set_new(
            json_object_get(doc, "components"), "securitySchemes",
            json_pack("{s:{s:s, s:s}}", "token", "type", "http", "scheme", "bearer"));
        json_object_set_new(json_object_get(doc, "info"), "description",
                            json_string("Writes on the model and ranking routes need the token "
                                        "(Authorization: Bearer)."));
    }
    return doc;
}

static enum MHD_Result get_openapi(http_req *r)
{
    json_t *doc = document(r->srv);
    if (!doc)
        return http_problem(r, 500, "out of memory");
    return http_respond_json(r, 200, doc);
}

bool kura_http_mount_openapi(kura_http *srv, const char *path, kura_error *err)
{
    return http_add_get(srv, path, "/openapi.json", get_openapi,
                        "This document: the service described in OpenAPI 3.1", err);
}
