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

/* Stops the server, then checks that every log line it wrote is a JSON object. */
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

/* How many responses the bytes hold (status lines). */
static int responses(const reply *r)
{
    int n = 0;
    for (const char *p = r->data; (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
        n++;
    return n;
}

static int status_of(const reply *r)
{
    int status = 0;
    if (sscanf(r->data, "HTTP/1.1 %d", &status) != 1)
        return 0;
    return status;
}

/* The response is one whole message: one status line, a body of exactly its
 * Content-Length, and nothing after it. */
static void expect_one(const reply *r, int status)
{
    if (status_of(r) != status)
        fail_msg("expected %d, got: %.300s", status, r->len ? r->data : "(no answer)");
    if (responses(r) != 1)
        fail_msg("expected one response, got %d: %.600s", responses(r), r->data);
    const char *end = strstr(r->data, "\r\n\r\n");
    assert_non_null(end);
    const char *cl = strstr(r->data, "Content-Length: ");
    assert_true(cl && cl < end);
    size_t body = r->len - (size_t)(end + 4 - r->data);
    if ((size_t)atol(cl + 16) != body)
        fail_msg("Content-Length %ld but %zu bytes follow: %.600s", atol(cl + 16), body, r->data);
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

/* --- 4. log lines that stay JSON ---------------------------------------------------- */

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
    assert_int_equal(responses(&r), 2);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_is_get_without_body),
        cmocka_unit_test(log_lines_are_json),
    };
    return cmocka_run_group_tests_name("http hostile clients", tests, NULL, NULL);
}
