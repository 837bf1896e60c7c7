/*
 * problem.c — queuing responses, and errors as RFC 9457 problem details
 * (application/problem+json): {"type","title","status","detail"} plus, for
 * 422, "errors": [{"field","reason"}] naming every failing field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

const char *http_status_title(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

bool http_add_header(http_req *r, const char *name, const char *value)
{
    if (r->nheaders >= sizeof r->headers / sizeof r->headers[0] ||
        strlen(name) >= sizeof r->headers[0].name || strlen(value) >= sizeof r->headers[0].value)
        return false;
    snprintf(r->headers[r->nheaders].name, sizeof r->headers[0].name, "%s", name);
    snprintf(r->headers[r->nheaders].value, sizeof r->headers[0].value, "%s", value);
    r->nheaders++;
    return true;
}

enum MHD_Result http_respond(http_req *r, unsigned status, const char *content_type, char *body,
                             size_t len)
{
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO; /* MHD closes the connection: the only answer left without memory */
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    /* While draining, clients are told to go: keep-alive would hold the stop. */
    if (atomic_load_explicit(&r->srv->draining, memory_order_relaxed))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    r->result = ret;
    r->status = status;
    r->resp_bytes = r->head ? 0 : len; /* the body MHD sends: none for HEAD */
    return ret;
}

enum MHD_Result http_respond_json(http_req *r, unsigned status, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (!text)
        return http_respond(r, 500, NULL, NULL, 0);
    return http_respond(r, status, "application/json", text, strlen(text));
}

static enum MHD_Result respond_problem(http_req *r, unsigned status, json_t *p)
{
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text)
        return http_respond(r, 500, NULL, NULL, 0);
    return http_respond(r, status, "application/problem+json", text, strlen(text));
}

static json_t *problem_new(unsigned status, const char *detail)
{
    return json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
                     http_status_title(status), "status", (int)status, "detail", detail);
}

char *http_problem_body(unsigned status, const char *detail)
{
    json_t *p = problem_new(status, detail);
    if (!p)
        p = problem_new(status, http_status_title(status));
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return text;
}

enum MHD_Result http_problem(http_req *r, unsigned status, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    /* Details quote request text (a key, a parameter): jansson refuses a string
     * that is not UTF-8, so fall back to the bare title rather than to nothing. */
    json_t *p = problem_new(status, detail);
    if (!p)
        p = problem_new(status, http_status_title(status));
    return respond_problem(r, status, p);
}

enum MHD_Result http_problem_fields(http_req *r, const kura_field_error *errors, size_t n)
{
    json_t *p = problem_new(422, n == 1 ? "1 field is invalid" : "fields are invalid");
    json_t *list = json_array();
    for (size_t i = 0; p && list && i < n; i++) {
        json_t *e = json_pack("{s:s, s:s}", "field", errors[i].field, "reason", errors[i].reason);
        if (!e)
            e = json_pack("{s:s, s:s}", "field", "?", "reason", errors[i].reason);
        json_array_append_new(list, e);
    }
    if (p && list)
        json_object_set_new(p, "errors", list);
    else
        json_decref(list);
    return respond_problem(r, 422, p);
}

enum MHD_Result http_problem_error(http_req *r, const kura_error *err)
{
    switch (err->code) {
    case KURA_NOT_FOUND:
        return http_problem(r, 404, "%s", err->message);
    case KURA_CONSTRAINT:
        return http_problem(r, 409, "%s", err->message);
    case KURA_VALIDATION: {
        kura_field_error fe = {.field = err->field[0] ? err->field : "?"};
        kura_copy_string(fe.reason, sizeof fe.reason, err->message);
        return http_problem_fields(r, &fe, 1);
    }
    case KURA_INVALID:
        return http_problem(r, 400, "%s", err->message);
    case KURA_MISFIT: /* the stored document, not the request: it can still be deleted */
        return http_problem(r, 409, "the stored document does not fit the model: %s", err->message);
    case KURA_OUTCOME_UNKNOWN: /* the write may have been applied: say so, never retry it */
        http_log(r->srv, KURA_LOG_WARN, "store lost during a write: %s", err->message);
        return http_problem(r, 503,
                            "the store was lost before it confirmed the write: it may or may "
                            "not have been applied; read it back before trying again");
    case KURA_UNAVAILABLE:
    case KURA_TIMEOUT:
        http_log(r->srv, KURA_LOG_WARN, "store unavailable: %s", err->message);
        return http_problem(r, 503, "the store is unavailable; try again");
    default:
        /* The store's message may name tables or SQL: it goes to the log, not the client. */
        http_log(r->srv, KURA_LOG_ERROR, "%s %s: %s: %s", r->method_name, r->url,
                 kura_code_name(err->code), err->message);
        return http_problem(r, 500, "the request could not be completed");
    }
}
