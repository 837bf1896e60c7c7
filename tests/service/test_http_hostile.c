/*
 * test_http_hostile.c — kura_http against a hostile client, over raw sockets:
 * slow clients (a deadline for the whole request, a limit per address),
 * request framing (two Content-Lengths, Content-Length with Transfer-Encoding,
 * malformed lengths: 400 and the connection closed), requests over the header
 * limits (always an answer, with the documented status), NUL bytes in the path
 * and the query, log lines that stay JSON whatever the path holds, and HEAD.
 *
 * Every server is a real kura_http in this process over an in-memory SQLite
 * app; the client is a socket, so nothing between them repairs a request.
 * Loopback is all of 127/8: attackers bind 127.0.0.2 and up, the honest client
 * stays on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <kura/http.h>
#include <kura/kura.h>

#include "unit/t_user.h"

/* --- a server ------------------------------------------------------------------- */

typedef struct server {
    kura_app *app;
    kura_http *srv;
    uint16_t port;
    FILE *log; /* the server's log lines */
} server;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static kura_app *open_app(void)
{
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", NULL);
    kura_error err = {0};
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    assert_true(kura_app_register(app, &t_user_model, KURA_IN_SQL, &err));
    assert_true(kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err));
    return app;
}

static kura_http_opts test_opts(void)
{
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = 2;
    o.log_level = KURA_LOG_INFO; /* access lines too: they must stay JSON */
    return o;
}

/* GET /q: 200 "ok" (a route that accepts any query), the method seen in X-Method. */
static void q_handler(kura_http_req *req, void *ctx)
{
    (void)ctx;
    kura_http_add_header(req, "X-Method", kura_http_method(req));
    kura_http_respond(req, 200, "text/plain", "ok", 2);
}

/* POST /echo (any body): the body's length. */
static void echo_len(kura_http_req *req, void *ctx)
{
    (void)ctx;
    size_t len = 0;
    kura_http_body(req, &len);
    char text[32];
    int n = snprintf(text, sizeof text, "%zu", len);
    kura_http_respond(req, 200, "text/plain", text, (size_t)n);
}

/* /users (t_user), /health, GET /q and POST /echo, listening on a free port. */
static void start(server *s, const kura_http_opts *opts)
{
    s->app = open_app();
    s->log = tmpfile();
    assert_non_null(s->log);
    kura_http_opts o = *opts;
    o.log_fd = fileno(s->log);
    kura_error err = {0};
    s->srv = kura_http_new(s->app, &o, &err);
    if (!s->srv)
        fail_msg("kura_http_new: %s", err.message);
    assert_true(kura_http_mount(s->srv, "/users", "t_user", &err));
    assert_true(kura_http_mount_health(s->srv, NULL, &err));
    assert_true(kura_http_handle(s->srv, "GET", "/q", q_handler, NULL, KURA_HTTP_OPEN, &err));
    assert_true(kura_http_handle(s->srv, "POST", "/echo", echo_len, NULL,
                                 KURA_HTTP_OPEN | KURA_HTTP_ANY_BODY, &err));
    if (!kura_http_listen(s->srv, &err))
        fail_msg("listen: %s", err.message);
    s->port = kura_http_port(s->srv);
}

/* Stops the server, then checks that every log line it wrote is a JSON object
 * (KURA_TEST_SHOWLOG=1 in the environment prints them). */
static void stop(server *s)
{
    kura_http_stop(s->srv);
    kura_app_close(s->app);
    rewind(s->log);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    while ((n = getline(&line, &cap, s->log)) > 0) {
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)n, 0, &jerr);
        if (!j || !json_is_object(j))
            fail_msg("log line %d is not a JSON object (%s): %.200s", lines + 1, jerr.text, line);
        if (getenv("KURA_TEST_SHOWLOG"))
            fputs(line, stderr);
        json_decref(j);
        lines++;
    }
    free(line);
    fclose(s->log);
}

/* --- a raw client ---------------------------------------------------------------- */

/* A TCP connection from `from` (an IPv4 literal) to 127.0.0.1:port; -1 on failure. */
static int dial(const char *from, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct reply {
    char *data; /* NUL-terminated */
    size_t len;
    bool closed; /* the server ended the connection */
} reply;

/* Sends `len` bytes of `req` (errors ignored: the server may close before it
 * has all of it) and reads until the server closes or wait_ms pass. */
static reply roundtrip_from(const char *from, uint16_t port, const char *req, size_t len,
                            int wait_ms)
{
    reply r = {.data = malloc(1 << 20)};
    assert_non_null(r.data);
    int fd = dial(from, port);
    if (fd < 0)
        return r; /* no answer: the caller sees status 0 */
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    uint64_t deadline = now_ms() + (uint64_t)wait_ms;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now)) <= 0)
            break;
        ssize_t n = recv(fd, r.data + r.len, (1 << 20) - 1 - r.len, 0);
        if (n <= 0) {
            r.closed = true;
            break;
        }
        r.len += (size_t)n;
    }
    r.data[r.len] = '\0';
    close(fd);
    return r;
}

static reply roundtrip(uint16_t port, const char *req, int wait_ms)
{
    return roundtrip_from("127.0.0.1", port, req, strlen(req), wait_ms);
}

/* How many whole responses the bytes hold, read one after the other by their
 * Content-Length (no HEAD answers among them), and in *rest how many bytes
 * are left after the last. An answer whose head block came twice is one
 * response followed by bytes that should not be there. */
static int responses(const reply *r, size_t *rest)
{
    int n = 0;
    size_t off = 0;
    while (off < r->len && strncmp(r->data + off, "HTTP/1.1 ", 9) == 0) {
        const char *m = r->data + off;
        const char *end = strstr(m, "\r\n\r\n");
        if (!end)
            break;
        const char *cl = strstr(m, "\r\nContent-Length: ");
        size_t body = cl && cl < end ? (size_t)atol(cl + 18) : 0;
        size_t next = (size_t)(end + 4 - r->data) + body;
        if (next > r->len)
            break;
        n++;
        off = next;
    }
    *rest = r->len - off;
    return n;
}

static int status_of(const reply *r)
{
    int status = 0;
    if (sscanf(r->data, "HTTP/1.1 %d", &status) != 1)
        return 0;
    return status;
}

/* The bytes are one whole response with that status, and nothing after it. */
static void expect_one(const reply *r, int status)
{
    if (status_of(r) != status)
        fail_msg("expected %d, got: %.300s", status, r->len ? r->data : "(no answer)");
    size_t rest;
    int n = responses(r, &rest);
    if (n != 1 || rest)
        fail_msg("expected one response, got %d and %zu bytes more: %.600s", n, rest, r->data);
}

static void free_reply(reply *r)
{
    free(r->data);
}

/* POST /users with a user named `name`; its id. */
static long add_user(const server *s, const char *name)
{
    char body[128], req[512];
    int n =
        snprintf(body, sizeof body, "{\"name\":\"%s\",\"email\":\"%s@example.com\"}", name, name);
    snprintf(req, sizeof req,
             "POST /users HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
             n, body);
    reply r = roundtrip(s->port, req, 5000);
    expect_one(&r, 201);
    const char *id = strstr(r.data, "\"id\":");
    assert_non_null(id);
    long v = atol(id + 5);
    free_reply(&r);
    return v;
}

static int get_status(const server *s, const char *path)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    reply r = roundtrip(s->port, req, 5000);
    int status = status_of(&r);
    free_reply(&r);
    return status;
}

/* --- 2. framing -------------------------------------------------------------------- */

/* The probe's smuggle: two Content-Lengths, the second covering a DELETE. */
static void two_content_lengths(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    long id = 0;
    for (int i = 0; i < 7; i++)
        id = add_user(&s, "victim");
    char del[64], req[512];
    int n = snprintf(del, sizeof del, "DELETE /users/%ld HTTP/1.1\r\nHost: t\r\n\r\n", id);
    snprintf(req, sizeof req,
             "GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: %d\r\n\r\n%s",
             n, del);
    reply r = roundtrip(s.port, req, 5000);
    expect_one(&r, 400);
    assert_true(r.closed);
    assert_non_null(strstr(r.data, "Content-Length"));
    free_reply(&r);
    char path[32];
    snprintf(path, sizeof path, "/users/%ld", id);
    assert_int_equal(get_status(&s, path), 200); /* not deleted */
    /* The other order, and two equal values: still two fields, still refused. */
    snprintf(req, sizeof req,
             "GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\nContent-Length: 0\r\n\r\n%s",
             n, del);
    r = roundtrip(s.port, req, 5000);
    expect_one(&r, 400);
    assert_true(r.closed);
    free_reply(&r);
    r = roundtrip(
        s.port,
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 5000);
    expect_one(&r, 400);
    assert_true(r.closed);
    free_reply(&r);
    assert_int_equal(get_status(&s, path), 200);
    stop(&s);
}

/* Content-Length values that are not one decimal number: 400, one response, closed. */
static void malformed_lengths(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    static const char *const values[] = {
        "-1",
        "+5",
        " 5 5",
        "0x5",
        "5, 5",
        "5 5",
        "1e3",
        "5;",
        "99999999999999999999999",
        "18446744073709551616", /* 2^64 */
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char req[256];
        snprintf(req, sizeof req,
                 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %s\r\n\r\nhello", values[i]);
        reply r = roundtrip(s.port, req, 5000);
        print_message("Content-Length: %s -> %.40s\n", values[i], r.data);
        expect_one(&r, 400);
        assert_true(r.closed);
        assert_non_null(strstr(r.data, "application/problem+json"));
        free_reply(&r);
    }
    /* A valid length still works, and keeps the connection for the next request. */
    reply r = roundtrip(s.port,
                        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                        "GET /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                        5000);
    assert_int_equal(status_of(&r), 200);
    size_t rest;
    assert_int_equal(responses(&r, &rest), 2);
    assert_int_equal(rest, 0);
    free_reply(&r);
    stop(&s);
}

/* Transfer-Encoding beside Content-Length, codings other than chunked, and
 * field names a front server could read another way. */
static void transfer_encodings(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    static const struct {
        const char *head; /* header fields after Host */
        const char *body;
        int status;
    } cases[] = {
        /* chunked says 0 bytes, Content-Length 4: the GET after must not run */
        {"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400},
        {"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "0\r\n\r\n", 400},
        {"Transfer-Encoding: gzip\r\n", "abc", 400},
        {"Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n", 400},
        {"Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n", 400},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400},
        {"Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n", 501},
        {"Content-Length : 5\r\n", "hello", 400},
        {"Content-Length\t: 5\r\n", "hello", 400},
        {"Host: u\r\n", "", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[512];
        snprintf(req, sizeof req,
                 "POST /echo HTTP/1.1\r\nHost: t\r\n%s\r\n%sGET /q HTTP/1.1\r\nHost: t\r\n\r\n",
                 cases[i].head, cases[i].body);
        reply r = roundtrip(s.port, req, 5000);
        print_message("%s -> %.40s\n", cases[i].head, r.data);
        expect_one(&r, cases[i].status);
        assert_true(r.closed);
        free_reply(&r);
    }
    /* Transfer-Encoding in HTTP/1.0, and HTTP/1.1 without Host. */
    reply r = roundtrip(
        s.port, "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        5000);
    expect_one(&r, 400);
    assert_true(r.closed);
    free_reply(&r);
    r = roundtrip(s.port, "GET /q HTTP/1.1\r\n\r\n", 5000);
    expect_one(&r, 400);
    free_reply(&r);
    /* chunked alone is read as it should be. */
    r = roundtrip(s.port,
                  "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                  "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                  5000);
    expect_one(&r, 200);
    assert_non_null(strstr(r.data, "\r\n\r\n5"));
    free_reply(&r);
    stop(&s);
}

/* --- 3. limits: every request gets an answer ----------------------------------------- */

/* A request of exactly `size` bytes up to and including the blank line: the
 * request line `line` (without CRLF), Host, `fields` (each ending in CRLF),
 * and last a field that begins with `pad` ("X-Pad: ") and is filled out to
 * the size with 'p'; then `body`. */
static char *sized_request(const char *line, const char *fields, const char *pad, size_t size,
                           const char *body)
{
    size_t fixed = strlen(line) + 2 + strlen("Host: t\r\n") + strlen(fields) + strlen(pad) + 2 + 2;
    assert_true(size >= fixed);
    size_t fill = size - fixed, blen = body ? strlen(body) : 0;
    char *req = malloc(size + blen + 1);
    assert_non_null(req);
    int n = sprintf(req, "%s\r\nHost: t\r\n%s%s", line, fields, pad);
    memset(req + n, 'p', fill);
    memcpy(req + n + fill, "\r\n\r\n", 4);
    assert_int_equal((size_t)n + fill + 4, size);
    if (body)
        memcpy(req + size, body, blen);
    req[size + blen] = '\0';
    return req;
}

/* "GET /q?p&p&...&p HTTP/1.1": n parameters. */
static char *query_line(const char *method, const char *path, size_t n)
{
    char *line = malloc(32 + strlen(path) + 2 * n);
    assert_non_null(line);
    char *p = line + sprintf(line, "%s %s", method, path);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%cp", i ? '&' : '?');
    strcpy(p, " HTTP/1.1");
    return line;
}

static void sized(const server *s, const char *line, const char *fields, const char *pad,
                  size_t size, const char *body, int status)
{
    char *req = sized_request(line, fields, pad, size, body);
    reply r = roundtrip_from("127.0.0.1", s->port, req, strlen(req), 5000);
    if (status_of(&r) != status)
        fail_msg("%zu bytes (%.40s...): expected %d, got %.200s", size, line, status,
                 r.len ? r.data : "no answer");
    expect_one(&r, status);
    free_reply(&r);
    free(req);
}

static void header_limits(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    const size_t max = o.max_header;
    assert_int_equal(max, 16 * 1024); /* the documented defaults */
    assert_int_equal(o.max_params, 128);
    assert_int_equal(o.max_fields, 128);

    /* The probe: 500 parameters, a 3.4 KB URL. */
    char *line = malloc(8192), *p = line + sprintf(line, "GET /users?");
    for (int i = 0; i < 500; i++)
        p += sprintf(p, "%sa%d=%d", i ? "&" : "", i, i);
    strcpy(p, " HTTP/1.1\r\nHost: t\r\n\r\n");
    reply r = roundtrip(s.port, line, 5000);
    expect_one(&r, 414);
    free_reply(&r);
    free(line);

    /* At the byte limit, with the most parameters: answered; one byte more: 431. */
    line = query_line("GET", "/q", o.max_params);
    sized(&s, line, "Connection: close\r\n", "X-Pad: ", max, NULL, 200);
    sized(&s, line, "Connection: close\r\n", "X-Pad: ", max + 1, NULL, 431);
    free(line);
    line = query_line("GET", "/users", 3);
    sized(&s, line, "Connection: close\r\n", "X-Pad: ", max, NULL, 400); /* unknown parameter p */
    free(line);
    /* One parameter too many: 414, however short. */
    line = query_line("GET", "/q", o.max_params + 1);
    sized(&s, line, "Connection: close\r\n", "X-Pad: ", strlen(line) + 64, NULL, 414);
    free(line);

    /* The worst request within the limits: the most parameters; the most
     * fields and cookies; the most bytes, most of them in one cookie (which
     * libmicrohttpd copies to split); and the largest body, in the same write. */
    char *body = malloc(o.max_body + 1);
    memset(body, 'b', o.max_body);
    body[o.max_body] = '\0';
    char *fields = malloc(16384), *cookie = malloc(16384);
    char *f = fields + sprintf(fields, "Connection: close\r\nContent-Length: %zu\r\n", o.max_body);
    size_t nfields = 4, ncookies = 1; /* Host, Connection, Content-Length, Cookie; its pad */
    for (; nfields + ncookies < o.max_fields / 2; nfields++)
        f += sprintf(f, "a%zu:\r\n", nfields);
    char *c = cookie + sprintf(cookie, "Cookie: ");
    for (; nfields + ncookies < o.max_fields; ncookies++)
        c += sprintf(c, "c%zu=1; ", ncookies);
    strcpy(c, "pad=");
    line = query_line("POST", "/echo", o.max_params);
    char *worst = sized_request(line, fields, cookie, max, body);
    r = roundtrip_from("127.0.0.1", s.port, worst, strlen(worst), 5000);
    expect_one(&r, 200);
    char expected[32];
    snprintf(expected, sizeof expected, "\r\n\r\n%zu", o.max_body);
    assert_non_null(strstr(r.data, expected));
    free_reply(&r);
    free(worst);
    /* One field more: 431. */
    strcat(fields, "z:\r\n");
    sized(&s, line, fields, cookie, max, body, 431);
    free(line);
    free(fields);
    free(cookie);
    free(body);

    /* Far over: the answer still comes, once, with its status. */
    static const struct {
        const char *what;
        size_t size;
        int status;
    } floods[] = {{"cookies", 12000, 431},
                  {"fields", 8000, 431},
                  {"url", 200000, 414},
                  {"field", 200000, 431}};
    for (size_t i = 0; i < sizeof floods / sizeof floods[0]; i++) {
        char *req = malloc(floods[i].size + 256);
        char *q = req;
        if (strcmp(floods[i].what, "url") == 0) {
            q += sprintf(q, "GET /q/");
            memset(q, 'u', floods[i].size);
            q += floods[i].size;
            q += sprintf(q, " HTTP/1.1\r\nHost: t\r\n\r\n");
        } else {
            q += sprintf(q, "GET /q HTTP/1.1\r\nHost: t\r\n");
            if (strcmp(floods[i].what, "cookies") == 0) {
                q += sprintf(q, "Cookie: c=1");
                while ((size_t)(q - req) < floods[i].size)
                    q += sprintf(q, ";c=1");
                q += sprintf(q, "\r\n");
            } else if (strcmp(floods[i].what, "fields") == 0) {
                while ((size_t)(q - req) < floods[i].size)
                    q += sprintf(q, "a:\r\n");
            } else {
                q += sprintf(q, "X-Big: ");
                memset(q, 'b', floods[i].size);
                q += floods[i].size;
                q += sprintf(q, "\r\n");
            }
            q += sprintf(q, "\r\n");
        }
        r = roundtrip_from("127.0.0.1", s.port, req, (size_t)(q - req), 5000);
        print_message("%s flood -> %.60s\n", floods[i].what, r.data);
        expect_one(&r, floods[i].status);
        free_reply(&r);
        free(req);
    }
    stop(&s);
}

/* --- 4. NUL bytes, and log lines that stay JSON ------------------------------------- */

static void nul_bytes(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    add_user(&s, "a");
    static const struct {
        const char *path;
        const char *detail;
    } cases[] = {
        {"/users/1%00", "NUL byte in the path"},
        {"/users/%00", "NUL byte in the path"},
        {"/users?name=a%00b", "NUL byte in a query parameter"},
        {"/users?na%00me=a", "NUL byte in a query parameter"},
        {"/q?x=%00", "NUL byte in a query parameter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                 cases[i].path);
        reply r = roundtrip(s.port, req, 5000);
        expect_one(&r, 400);
        if (!strstr(r.data, cases[i].detail))
            fail_msg("%s: expected \"%s\": %s", cases[i].path, cases[i].detail, r.data);
        free_reply(&r);
    }
    /* %01 and a plain 0 are no NUL. */
    assert_int_equal(get_status(&s, "/users/1"), 200);
    assert_int_equal(get_status(&s, "/q?x=%01"), 200);
    stop(&s);
}

/* Paths that are not UTF-8 are logged escaped: every line parses as JSON (stop
 * checks), and UTF-8 paths keep their characters. */
static void log_lines_are_json(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    static const char *const paths[] = {
        "/users/%ff%fe",       "/users/%c3%28",   "/users/%ed%a0%80", /* a surrogate */
        "/users/%f4%90%80%80", "/users/%c0%af",                       /* above U+10FFFF, overlong */
        "/users/caf%c3%a9",    "/users/\xff\xfe", "/users/%e2%82",    "/nowhere%ff",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                 paths[i]);
        reply r = roundtrip(s.port, req, 5000);
        assert_true(status_of(&r) >= 400);
        free_reply(&r);
    }
    /* The access line is written when the request completes: poll for the last one. */
    bool found = false;
    for (uint64_t end = now_ms() + 5000; !found && now_ms() < end; usleep(10 * 1000)) {
        fflush(s.log);
        rewind(s.log);
        char line[2048];
        while (fgets(line, sizeof line, s.log))
            if (strstr(line, "\"path\":\"/users/caf\xc3\xa9\""))
                found = true;
    }
    assert_true(found);
    stop(&s); /* every line is JSON */
}

/* --- 5. HEAD -------------------------------------------------------------------------- */

static void head_is_get_without_body(void **state)
{
    (void)state;
    server s;
    kura_http_opts o = test_opts();
    start(&s, &o);
    add_user(&s, "h");
    reply get =
        roundtrip(s.port, "GET /users/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 5000);
    expect_one(&get, 200);
    /* HEAD then GET on one connection: the HEAD answer has GET's headers and no
     * body, so the GET answer right after it is read whole. */
    reply r = roundtrip(s.port,
                        "HEAD /users/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                        5000);
    assert_int_equal(status_of(&r), 200);
    const char *cl_get = strstr(get.data, "Content-Length: ");
    const char *cl_head = strstr(r.data, "Content-Length: ");
    assert_non_null(cl_head);
    assert_int_equal(atol(cl_head + 16), atol(cl_get + 16));
    const char *second = strstr(r.data + 1, "HTTP/1.1 ");
    const char *end = strstr(r.data, "\r\n\r\n");
    assert_ptr_equal(end + 4, second); /* no body between the two */
    assert_non_null(strstr(second, "X-Method: GET"));
    free_reply(&r);
    free_reply(&get);

    /* A handler sees HEAD as the method; HEAD needs no token. */
    r = roundtrip(s.port, "HEAD /q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 5000);
    assert_int_equal(status_of(&r), 200);
    assert_non_null(strstr(r.data, "X-Method: HEAD"));
    assert_null(strstr(r.data, "\r\n\r\nok"));
    free_reply(&r);
    assert_int_equal(get_status(&s, "/health"), 200);
    r = roundtrip(s.port, "HEAD /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 5000);
    assert_int_equal(status_of(&r), 200);
    free_reply(&r);
    /* Where GET is not allowed, neither is HEAD; Allow names HEAD beside GET. */
    r = roundtrip(s.port, "HEAD /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 5000);
    assert_int_equal(status_of(&r), 405);
    assert_non_null(strstr(r.data, "Allow: POST\r\n"));
    free_reply(&r);
    r = roundtrip(s.port, "DELETE /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 5000);
    expect_one(&r, 405);
    assert_non_null(strstr(r.data, "Allow: GET, HEAD\r\n"));
    free_reply(&r);
    stop(&s);
}

/* --- 1. slow clients ------------------------------------------------------------------- */

typedef struct honest {
    uint16_t port;
    atomic_bool stop;
    int requests, failures;
    uint64_t worst_ms, total_ms;
} honest;

/* GET /health from 127.0.0.1 every 100 ms until told to stop. */
static void *honest_client(void *arg)
{
    honest *h = arg;
    while (!atomic_load(&h->stop)) {
        uint64_t t0 = now_ms();
        reply r = roundtrip(h->port, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                            10000);
        uint64_t ms = now_ms() - t0;
        h->requests++;
        h->total_ms += ms;
        if (ms > h->worst_ms)
            h->worst_ms = ms;
        if (status_of(&r) != 200)
            h->failures++;
        free_reply(&r);
        usleep(100 * 1000); /* pacing, not synchronisation */
    }
    return NULL;
}

/* Enough descriptors for the attack and the server's side of it. */
static bool raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return false;
    if (rl.rlim_cur >= want)
        return true;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want;
}

#define ATTACKERS      1500
#define ATTACK_ADDRS   6
#define BODY_TRICKLERS 20

/*
 * 1,500 connections from 127.0.0.2..7 each send a request head one byte per
 * second (the last 20 send whole headers and then trickle a body): every byte
 * resets the idle timeout, so only the request deadline ends them. /health from
 * 127.0.0.1 must keep answering quickly all along.
 */
static void slow_clients(void **state)
{
    (void)state;
    if (!raise_nofile(8192)) {
        print_message("skipped: RLIMIT_NOFILE cannot be raised to 8192\n");
        skip();
    }
    server s;
    kura_http_opts o = test_opts();
    o.request_timeout_s = 3; /* short, so that the test sees it pass */
    o.timeout_s = 15;        /* idle: never reached by a trickle */
    start(&s, &o);
    const unsigned per_ip = o.max_conns_per_ip;
    assert_int_equal(per_ip, 64); /* the documented default */

    honest h = {.port = s.port};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, honest_client, &h), 0);

    int *fds = malloc(ATTACKERS * sizeof *fds);
    int64_t *opened_at = malloc(ATTACKERS * sizeof *opened_at);
    int64_t *closed_at = malloc(ATTACKERS * sizeof *closed_at);
    uint64_t start_ms = now_ms();
    for (int i = 0; i < ATTACKERS; i++) {
        char from[16];
        snprintf(from, sizeof from, "127.0.0.%d", 2 + i % ATTACK_ADDRS);
        fds[i] = dial(from, s.port);
        assert_true(fds[i] >= 0);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        opened_at[i] = (int64_t)(now_ms() - start_ms);
        closed_at[i] = -1;
        const char *head = i < ATTACKERS - BODY_TRICKLERS
                               ? "GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: "
                               : "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n";
        send(fds[i], head, strlen(head), MSG_NOSIGNAL);
    }
    uint64_t dialled_ms = now_ms() - start_ms;

    /* One byte a second on each connection, in ten slices; note when each ends. */
    struct pollfd *p = malloc(ATTACKERS * sizeof *p);
    const uint64_t limit_ms = (uint64_t)o.request_timeout_s * 1000 + 6000;
    int open = ATTACKERS;
    for (unsigned tick = 0; open > 0 && now_ms() - start_ms < limit_ms; tick++) {
        for (int i = 0; i < ATTACKERS; i++) {
            p[i] = (struct pollfd){.fd = closed_at[i] < 0 ? fds[i] : -1, .events = POLLIN};
            if (closed_at[i] < 0 && (unsigned)i % 10 == tick % 10)
                send(fds[i], "a", 1, MSG_NOSIGNAL);
        }
        poll(p, ATTACKERS, 100);
        for (int i = 0; i < ATTACKERS; i++) {
            if (closed_at[i] >= 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[512];
            ssize_t n = recv(fds[i], buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                closed_at[i] = (int64_t)(now_ms() - start_ms);
                open--;
            }
        }
    }
    atomic_store(&h.stop, true);
    pthread_join(th, NULL);

    int held = 0, refused = 0, still_open = 0;
    int64_t longest = 0, shortest_held = INT64_MAX;
    for (int i = 0; i < ATTACKERS; i++) {
        if (closed_at[i] < 0) {
            still_open++;
            close(fds[i]);
            continue;
        }
        int64_t life = closed_at[i] - opened_at[i];
        if (life >= 1000) {
            held++;
            if (life < shortest_held)
                shortest_held = life;
        } else {
            refused++;
        }
        if (life > longest)
            longest = life;
        close(fds[i]);
    }
    print_message("%d slow connections dialled in %llu ms: %d refused at once, %d held until "
                  "the deadline (closed after %lld to %lld ms), %d still open after %llu ms; "
                  "/health: %d requests, %d failed, worst %llu ms, mean %llu ms\n",
                  ATTACKERS, (unsigned long long)dialled_ms, refused, held,
                  (long long)(held ? shortest_held : 0), (long long)longest, still_open,
                  (unsigned long long)limit_ms, h.requests, h.failures,
                  (unsigned long long)h.worst_ms,
                  (unsigned long long)(h.requests ? h.total_ms / (uint64_t)h.requests : 0));
    /* Each address holds at most its share; the deadline ends them although
     * every one kept sending. */
    assert_int_equal(still_open, 0);
    assert_true(held <= ATTACK_ADDRS * (int)per_ip);
    assert_true(held >= ATTACK_ADDRS * (int)per_ip / 2);
    assert_true(shortest_held >= (int64_t)o.request_timeout_s * 1000 - 500);
    assert_true(longest <= (int64_t)o.request_timeout_s * 1000 + 2000);
    /* The honest client was answered throughout, and quickly. */
    assert_true(h.requests >= 10);
    assert_int_equal(h.failures, 0);
    assert_true(h.worst_ms < 2000);
    free(p);
    free(fds);
    free(opened_at);
    free(closed_at);
    stop(&s);
}

/*
 * Many addresses: 24 addresses of 4 slow connections each fill 96 of max_conns
 * 128 without reaching any per-address limit. Past three quarters of the table
 * a request has 2 s to arrive, not request_timeout (30 s here): slow ones are
 * closed after about 2 s until the table is below three quarters again (those
 * left keep the normal deadline), and /health keeps answering.
 */
static void many_addresses(void **state)
{
    (void)state;
    enum { ADDRS = 24, EACH = 4, N = ADDRS * EACH };
    server s;
    kura_http_opts o = test_opts();
    o.max_conns = 128;
    o.request_timeout_s = 30;
    start(&s, &o);
    honest h = {.port = s.port};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, honest_client, &h), 0);
    int fds[N];
    uint64_t t0 = now_ms();
    for (int i = 0; i < N; i++) {
        char from[16];
        snprintf(from, sizeof from, "127.0.1.%d", 1 + i % ADDRS);
        fds[i] = dial(from, s.port);
        assert_true(fds[i] >= 0);
        const char *head = "GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ";
        send(fds[i], head, strlen(head), MSG_NOSIGNAL);
    }
    int open = N;
    uint64_t first_close = 0;
    while (open >= N && now_ms() - t0 < 10000) {
        struct pollfd p[N];
        for (int i = 0; i < N; i++) {
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
            if (fds[i] >= 0)
                send(fds[i], "a", 1, MSG_NOSIGNAL); /* a byte every 100 ms: never idle */
        }
        poll(p, N, 100);
        for (int i = 0; i < N; i++) {
            char buf[256];
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                close(fds[i]);
                fds[i] = -1;
                open--;
                if (!first_close)
                    first_close = now_ms() - t0;
            }
        }
    }
    atomic_store(&h.stop, true);
    pthread_join(th, NULL);
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    print_message("%d slow connections from %d addresses: the first closed after %llu ms, "
                  "%d still open then; /health: %d requests, %d failed, worst %llu ms\n",
                  N, ADDRS, (unsigned long long)first_close, open, h.requests, h.failures,
                  (unsigned long long)h.worst_ms);
    assert_true(open < N);
    assert_true(first_close >= 1500 && first_close < 5000); /* 2 s and a tick, not 30 s */
    assert_int_equal(h.failures, 0);
    stop(&s);
}

/* The limits are app settings too (config file, environment, serve's flags). */
static void limits_from_config(void **state)
{
    (void)state;
    kura_config *cfg = kura_config_new();
    kura_error err = {0};
    assert_true(kura_config_set(cfg, "request_timeout", "7", &err));
    assert_true(kura_config_set(cfg, "max_conns_per_ip", "0", &err));
    kura_http_opts o;
    kura_http_opts_default(&o);
    assert_true(kura_http_opts_from_config(&o, cfg, &err));
    assert_int_equal(o.request_timeout_s, 7);
    assert_int_equal(o.max_conns_per_ip, 0);
    static const char *const bad[] = {"-1", "x", "1.5", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_true(kura_config_set(cfg, "request_timeout", bad[i], &err));
        assert_false(kura_http_opts_from_config(&o, cfg, &err));
        assert_int_equal(err.code, KURA_CONFIG);
        assert_non_null(strstr(err.message, "request_timeout"));
    }
    kura_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_is_get_without_body),
        cmocka_unit_test(two_content_lengths),
        cmocka_unit_test(malformed_lengths),
        cmocka_unit_test(transfer_encodings),
        cmocka_unit_test(nul_bytes),
        cmocka_unit_test(log_lines_are_json),
        cmocka_unit_test(header_limits),
        cmocka_unit_test(slow_clients),
        cmocka_unit_test(many_addresses),
        cmocka_unit_test(limits_from_config),
    };
    return cmocka_run_group_tests_name("http hostile clients", tests, NULL, NULL);
}
