/*
 * request.c — what a program's own handler sees of a request (kura/http.h):
 * accessors over libmicrohttpd's connection, and the answers, which are the
 * service's own (problem.c) behind a check that a request is answered once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

const char *kura_http_method(const kura_http_req *req)
{
    return req->method_name;
}

const char *kura_http_path(const kura_http_req *req)
{
    return req->url;
}

const char *kura_http_param(const kura_http_req *req, size_t i)
{
    return i < req->nparams ? req->params[i] : NULL;
}

const char *kura_http_query(const kura_http_req *req, const char *name)
{
    const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
    if (v)
        return v;
    /* A bare "?name" is present with no value: MHD reports it as NULL too. */
    return MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), NULL,
                                         NULL) == MHD_YES
               ? ""
               : NULL;
}

const char *kura_http_header(const kura_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *kura_http_body(const kura_http_req *req, size_t *len)
{
    if (len)
        *len = req->body ? req->body_len : 0;
    return req->body;
}

kura_app *kura_http_app(const kura_http_req *req)
{
    return req->srv->app;
}

json_t *kura_http_body_json(kura_http_req *req)
{
    if (req->answered)
        return NULL;
    if (!req->body || req->body_len == 0) {
        http_problem(req, 400, "the body is empty; expected a JSON object");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        http_problem(req, 400, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_problem(req, 400, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

bool kura_http_add_header(kura_http_req *req, const char *name, const char *value)
{
    return name && value && http_add_header(req, name, value);
}

bool kura_http_respond(kura_http_req *req, unsigned status, const char *content_type,
                       const void *body, size_t len)
{
    if (req->answered || status < 100 || status > 999)
        return false;
    char *copy = NULL;
    if (body) {
        if (!(copy = malloc(len ? len : 1)))
            return false;
        memcpy(copy, body, len);
    }
    return http_respond(req, status, content_type, copy, len) == MHD_YES;
}

bool kura_http_respond_json(kura_http_req *req, unsigned status, json_t *json)
{
    if (req->answered) {
        json_decref(json);
        return false;
    }
    return http_respond_json(req, status, json) == MHD_YES;
}

bool kura_http_problem(kura_http_req *req, unsigned status, const char *fmt, ...)
{
    if (req->answered)
        return false;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return http_problem(req, status, "%s", detail) == MHD_YES;
}

bool kura_http_problem_error(kura_http_req *req, const kura_error *err)
{
    if (req->answered || !err)
        return false;
    return http_problem_error(req, err) == MHD_YES;
}
