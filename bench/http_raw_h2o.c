/*
 * http_raw_h2o.c — the baseline for http_get_user and http_query_age on h2o
 * (libh2o-evloop): the handler of bench/http_raw.c (http_raw_db.c, the same
 * statements and the same response bytes) on the other server library
 * WORKLOAD.md names, so that kura serve is held to the faster of the two.
 * One h2o event loop per CPU, each on its own thread with its own listening
 * socket on the port (SO_REUSEPORT: the kernel spreads the connections) and
 * its own SQLite connection.
 *
 *   bench_http_raw_h2o serve DB PORT     serve GET /users/{id} and GET /users?age=N
 */
#define H2O_USE_LIBUV 0 /* libh2o-evloop: h2o's own event loop */

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

#include "http_raw_db.h"

static h2o_globalconf_t config;

typedef struct loop {
    int fd; /* this loop's listening socket */
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
} loop;

static const char *reason(unsigned status)
{
    return status == 200 ? "OK" : status == 404 ? "Not Found" : "Internal Server Error";
}

/* The value of query parameter `name` in req's target, copied into out (not
 * percent-decoded: the benchmark's values are digits). NULL when absent. */
static const char *query_param(h2o_req_t *req, const char *name, char *out, size_t size)
{
    if (req->query_at == SIZE_MAX)
        return NULL;
    const char *p = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    size_t nl = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t n = (size_t)(stop - p) - nl - 1;
            if (n >= size)
                n = size - 1;
            memcpy(out, p + nl + 1, n);
            out[n] = '\0';
            return out;
        }
        p = stop + 1;
    }
    return NULL;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    unsigned status = 500;
    char *text = NULL;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        char path[256], age[32];
        size_t n =
            req->path_normalized.len < sizeof path ? req->path_normalized.len : sizeof path - 1;
        memcpy(path, req->path_normalized.base, n);
        path[n] = '\0';
        text = raw_db_answer(path, query_param(req, "age", age, sizeof age), &status);
    }
    if (!text) {
        status = 500;
        text = strdup("{}");
    }
    req->res.status = (int)status;
    req->res.reason = reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    size_t len = strlen(text);
    req->res.content_length = len;   /* as the other servers send it, not chunked */
    h2o_send_inline(req, text, len); /* copies it into the request's pool */
    free(text);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err)
        return;
    loop *l = listener->data;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(&l->accept, sock);
}

static void *run(void *arg)
{
    loop *l = arg;
    h2o_context_init(&l->ctx, h2o_evloop_create(), &config);
    l->accept.ctx = &l->ctx;
    l->accept.hosts = config.hosts;
    h2o_socket_t *sock = h2o_evloop_socket_create(l->ctx.loop, l->fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = l;
    h2o_socket_read_start(sock, on_accept);
    while (h2o_evloop_run(l->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

static int listen_on(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, SOMAXCONN) != 0) {
        perror("listen");
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "serve") != 0) {
        fprintf(stderr, "usage: %s serve DB PORT\n", argv[0]);
        return 2;
    }
    raw_db_set_path(argv[2]);
    signal(SIGPIPE, SIG_IGN);
    h2o_config_init(&config);
    config.server_name = h2o_iovec_init(H2O_STRLIT("")); /* no Server field, as the others */
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_handler_t *h = h2o_create_handler(h2o_config_register_path(host, "/", 0), sizeof *h);
    h->on_req = on_req;

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus > 0 ? (size_t)cpus : 1;
    loop *loops = calloc(n, sizeof *loops);
    if (!loops)
        return 1;
    /* Every listener before the first loop runs: a port in use fails here, whole. */
    for (size_t i = 0; i < n; i++)
        if ((loops[i].fd = listen_on((uint16_t)atoi(argv[3]))) < 0)
            return 1;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, NULL); /* the loops' threads inherit the mask */
    for (size_t i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, run, &loops[i]) != 0)
            return 1;
        pthread_detach(t);
    }
    int sig;
    sigwait(&stop, &sig);
    return 0; /* the loops end with the process */
}
