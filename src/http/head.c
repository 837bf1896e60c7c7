/*
 * head.c — what the head of a request (its target and header fields) may
 * hold, decided when kura first sees the request, before any of its body is
 * read:
 *
 *   - framing (RFC 9112 6): at most one Content-Length, of digits only and
 *     within 64 bits; Transfer-Encoding only in HTTP/1.1, never beside a
 *     Content-Length, ending in chunked applied once (another coding before
 *     it is 501). libmicrohttpd reads the first Content-Length and lets
 *     Transfer-Encoding win, so a front server reading these another way
 *     would see other requests than kura: such a request is 400 and its
 *     connection closed (whatever follows it on the connection is dropped);
 *   - field names are tokens ("Content-Length : 5" is another field to
 *     libmicrohttpd, and a length to a lenient front server); HTTP/1.1 has
 *     exactly one Host;
 *   - no percent-encoded NUL in the path or a query parameter: C strings end
 *     there, so "/users/1%00" would read as "/users/1";
 *   - the limits: max_header bytes of request line and header fields (431, or
 *     414 when the target alone is longer), max_params query parameters (414),
 *     max_fields header fields and cookies together (431).
 *
 * The target is looked at raw (http_head_target, from libmicrohttpd's URI log
 * callback, before it is decoded and split), the header fields as
 * libmicrohttpd parsed them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

void http_head_target(http_target *t, const char *uri)
{
    memset(t, 0, sizeof *t);
    t->len = strlen(uri);
    const char *query = strchr(uri, '?');
    size_t path_len = query ? (size_t)(query - uri) : t->len;
    /* %00 is the only way to a decoded NUL (libmicrohttpd decodes %XX with two
     * hex digits; '+' becomes a space). */
    for (const char *p = uri; (p = strstr(p, "%00")) != NULL; p += 3) {
        if ((size_t)(p - uri) < path_len)
            t->nul_path = true;
        else
            t->nul_query = true;
    }
    if (query && query[1]) {
        t->params = 1;
        for (const char *p = query + 1; *p; p++)
            t->params += *p == '&';
    }
}

static void problem(http_head_problem *p, unsigned status, bool close, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(http_head_problem *p, unsigned status, bool close, const char *fmt, ...)
{
    p->status = status;
    p->close = close;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof p->detail, fmt, ap);
    va_end(ap);
}

/* RFC 9110 5.6.2 tchar. */
static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c && strchr("!#$%&'*+-.^_`|~", c))))
            return false;
    }
    return true;
}

/* What the header fields say, gathered in one pass. */
typedef struct fields {
    unsigned n;            /* header fields */
    unsigned lengths;      /* Content-Length fields */
    bool length_malformed; /* one is not 1*DIGIT */
    bool length_range;     /* one does not fit 64 bits */
    unsigned encodings;    /* Transfer-Encoding fields */
    char coding[256];      /* their values, joined with ", " (cut when longer) */
    bool coding_cut;
    unsigned hosts;
    bool bad_name;
} fields;

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    fields *f = cls;
    f->n++;
    if (!is_token(key, key_size))
        f->bad_name = true;
    if (!value)
        value = "", value_size = 0;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->lengths++;
        if (value_size == 0 || strspn(value, "0123456789") != value_size) {
            f->length_malformed = true;
        } else {
            errno = 0;
            (void)strtoull(value, NULL, 10);
            if (errno == ERANGE)
                f->length_range = true;
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        size_t used = strlen(f->coding);
        int w =
            snprintf(f->coding + used, sizeof f->coding - used, "%s%s", used ? ", " : "", value);
        if (w < 0 || (size_t)w >= sizeof f->coding - used)
            f->coding_cut = true;
        f->encodings++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        f->hosts++;
    }
    return MHD_YES;
}

/* The transfer codings of the joined Transfer-Encoding values: 0 when they
 * are "chunked" alone, 501 when other codings come before a final chunked,
 * 400 when chunked is not last or comes twice (RFC 9112 6.1, 7). */
static unsigned coding_status(const fields *f)
{
    if (f->coding_cut)
        return 400;
    unsigned chunked = 0, others = 0;
    bool last_chunked = false;
    for (const char *p = f->coding; *p;) {
        /* one list member: OWS coding [; parameters] OWS; empty members are allowed */
        size_t n = strcspn(p, ",");
        const char *m = p;
        size_t len = n;
        p += n + (p[n] == ',');
        while (len && (*m == ' ' || *m == '\t'))
            m++, len--;
        while (len && (m[len - 1] == ' ' || m[len - 1] == '\t'))
            len--;
        if (!len)
            continue;
        last_chunked = len == 7 && strncasecmp(m, "chunked", 7) == 0; /* it takes no parameters */
        if (last_chunked)
            chunked++;
        else
            others++;
    }
    if (!last_chunked || chunked != 1)
        return 400;
    return others ? 501 : 0;
}

static enum MHD_Result count_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind, (void)key, (void)value;
    (*(unsigned *)cls)++;
    return MHD_YES;
}

bool http_head_check(const kura_http *srv, struct MHD_Connection *mc, const http_target *t,
                     const char *version, http_head_problem *p)
{
    const kura_http_opts *o = &srv->opts;
    if (t && t->nul_path) {
        problem(p, 400, false, "NUL byte in the path");
        return false;
    }
    if (t && t->nul_query) {
        problem(p, 400, false, "NUL byte in a query parameter");
        return false;
    }

    fields f = {0};
    MHD_get_connection_values_n(mc, MHD_HEADER_KIND, on_field, &f);
    /* Framing first: these decide that the connection must close. */
    if (f.bad_name) {
        problem(p, 400, true, "a header field name is not a token");
        return false;
    }
    if (f.lengths > 1) {
        problem(p, 400, true, "Content-Length appears more than once");
        return false;
    }
    if (f.length_malformed) {
        problem(p, 400, true, "Content-Length is not a number of bytes (digits only)");
        return false;
    }
    if (f.length_range) {
        problem(p, 400, true, "Content-Length is out of range");
        return false;
    }
    bool http10 = version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
    if (f.encodings) {
        if (f.lengths) {
            problem(p, 400, true, "Transfer-Encoding and Content-Length together");
            return false;
        }
        if (http10) {
            problem(p, 400, true, "Transfer-Encoding in an HTTP/1.0 request");
            return false;
        }
        unsigned status = coding_status(&f);
        if (status == 501) {
            problem(p, 501, true, "only the chunked transfer coding is supported");
            return false;
        }
        if (status) {
            problem(p, 400, true, "Transfer-Encoding must end with chunked, applied once");
            return false;
        }
    }
    if (f.hosts > 1) {
        problem(p, 400, true, "Host appears more than once");
        return false;
    }
    if (f.hosts == 0 && version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0) {
        problem(p, 400, false, "an HTTP/1.1 request needs a Host");
        return false;
    }

    /* The limits. */
    if (t && t->params > o->max_params) {
        problem(p, 414, false, "the query has more than %u parameters", o->max_params);
        return false;
    }
    if (t && t->len > o->max_header) {
        problem(p, 414, false, "the request target is longer than %zu bytes", o->max_header);
        return false;
    }
    const union MHD_ConnectionInfo *size =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (size && size->header_size > o->max_header) {
        problem(p, 431, false, "the request line and header fields are larger than %zu bytes",
                o->max_header);
        return false;
    }
    unsigned cookies = 0;
    MHD_get_connection_values(mc, MHD_COOKIE_KIND, count_one, &cookies);
    if (f.n + cookies > o->max_fields) {
        problem(p, 431, false, "more than %u header fields and cookies", o->max_fields);
        return false;
    }
    return true;
}
