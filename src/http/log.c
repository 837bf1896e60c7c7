/*
 * log.c — structured log lines (one JSON object per line) on the service's
 * log stream. Each line is formatted whole and written with one write(2), so
 * lines from concurrent requests never interleave.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "http/internal.h"

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

bool kura_log_level_parse(const char *s, kura_log_level *out)
{
    for (int i = 0; i <= KURA_LOG_OFF; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (kura_log_level)i;
            return true;
        }
    return false;
}

uint64_t http_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Length of the well-formed UTF-8 character at p (2 to 4 bytes), or 0 when
 * the bytes there are not one (kura_utf8_chars is the strict judge). */
static size_t utf8_char_len(const char *p)
{
    for (size_t n = 2; n <= 4; n++) {
        if (strnlen(p, n) < n) /* the string ends inside */
            return 0;
        if (kura_utf8_chars(p, n) == 1)
            return n;
    }
    return 0;
}

/* Appends s as a JSON string: quotes, backslashes and control characters
 * escaped, UTF-8 characters as they are, and every byte that is not part of a
 * well-formed one as \u00XX, so that a line stays JSON (RFC 8259 text is
 * UTF-8) whatever bytes a client put in its path. */
static void add_json_string(kura_buf *b, const char *s)
{
    kura_buf_add(b, "\"");
    for (const char *p = s; *p;) {
        /* A run of printable ASCII (a path's usual bytes) goes in one append. */
        const char *run = p;
        while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            kura_buf_addn(b, run, (size_t)(p - run));
        if (!*p)
            break;
        unsigned char c = (unsigned char)*p;
        size_t n;
        if (c == '"' || c == '\\') {
            char esc[3] = {'\\', (char)c, 0};
            kura_buf_add(b, esc);
            n = 1;
        } else if (c >= 0x80 && (n = utf8_char_len(p)) > 0) {
            kura_buf_addn(b, p, n);
        } else { /* a control character, or a byte of no well-formed character */
            kura_buf_addf(b, "\\u%04x", c);
            n = 1;
        }
        p += n;
    }
    kura_buf_add(b, "\"");
}

static void begin_line(kura_buf *b, kura_log_level level)
{
    char iso[28];
    kura_time_format_iso(kura_now(), iso);
    kura_buf_add(b, "{\"ts\":\"");
    kura_buf_add(b, iso);
    kura_buf_add(b, "\",\"level\":\"");
    kura_buf_add(b, level_names[level]);
    kura_buf_add(b, "\"");
}

static void end_line(const kura_http *srv, kura_buf *b)
{
    kura_buf_add(b, "}\n");
    if (b->oom)
        return;
    /* A log stream that fails (closed pipe, full disk) must not stop the service. */
    ssize_t w = write(srv->opts.log_fd, b->data, b->len);
    (void)w;
}

void http_log(const kura_http *srv, kura_log_level level, const char *fmt, ...)
{
    if (level < srv->opts.log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    begin_line(&b, level);
    kura_buf_add(&b, ",\"msg\":");
    add_json_string(&b, msg);
    end_line(srv, &b);
    kura_buf_free(&b);
}

void http_log_access(const kura_http *srv, const http_req *r, uint64_t micros)
{
    if (KURA_LOG_INFO < srv->opts.log_level)
        return;
    char remote[64] = "-";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, remote,
                      sizeof remote);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, remote,
                      sizeof remote);
    }
    char stack[1024];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    begin_line(&b, KURA_LOG_INFO);
    kura_buf_add(&b, ",\"msg\":\"request\",\"method\":");
    add_json_string(&b, r->method_name ? r->method_name : "-");
    kura_buf_add(&b, ",\"path\":");
    add_json_string(&b, r->url ? r->url : "-");
    kura_buf_add(&b, ",\"route\":");
    add_json_string(&b, r->route >= 0 ? srv->routes[r->route].pattern : "-");
    /* Every request writes one: appended piece by piece, not through printf. */
    kura_buf_add(&b, ",\"status\":");
    kura_buf_add_i64(&b, r->status);
    kura_buf_add(&b, ",\"bytes\":");
    kura_buf_add_i64(&b, (int64_t)r->resp_bytes);
    kura_buf_add(&b, ",\"duration_us\":");
    kura_buf_add_i64(&b, (int64_t)micros);
    kura_buf_add(&b, ",\"remote\":\"");
    kura_buf_add(&b, remote);
    kura_buf_add(&b, "\"");
    end_line(srv, &b);
    kura_buf_free(&b);
}

static void library_line(kura_log_level level, const char *source, const char *message, void *ctx)
{
    http_log(ctx, level, "%s: %s", source, message);
}

void http_log_take_libraries(kura_http *srv)
{
    kura_log_get_handler(&srv->prev_log, &srv->prev_log_ctx);
    kura_log_set_handler(library_line, srv);
}

void http_log_release_libraries(kura_http *srv)
{
    kura_log_fn fn;
    void *ctx;
    kura_log_get_handler(&fn, &ctx);
    if (fn == library_line && ctx == srv) /* a later server's, or the program's: leave it */
        kura_log_set_handler(srv->prev_log, srv->prev_log_ctx);
}
