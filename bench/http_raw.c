/*
 * http_raw.c — the baseline for http_get_user and http_query_age on
 * libmicrohttpd: the least a hand-written C service needs to answer the same
 * requests as `kura serve`. libmicrohttpd configured as kura serve configures
 * it (internal polling thread, a pool of one thread per CPU); the handler
 * (http_raw_db.c) is the one bench/http_raw_h2o.c runs on h2o.
 *
 *   bench_http_raw serve DB PORT        serve GET /users/{id} and GET /users?age=N
 *   bench_http_raw seed DB N            insert the WORKLOAD.md users into sa_user
 *                                       (the table kura serve creates)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http_raw_db.h"

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, char *text)
{
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *mc, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)cls, (void)version, (void)upload, (void)upload_size;
    if (!*state) { /* answer on the second call, as kura serve does (keeps the connection) */
        *state = (void *)1;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return send_text(mc, 500, strdup("{}"));
    unsigned status;
    char *text =
        raw_db_answer(url, MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "age"), &status);
    return text ? send_text(mc, status, text) : send_text(mc, 500, strdup("{}"));
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "seed") != 0)) {
        fprintf(stderr, "usage: %s serve DB PORT | seed DB N\n", argv[0]);
        return 2;
    }
    raw_db_set_path(argv[2]);
    if (strcmp(argv[1], "seed") == 0)
        return raw_db_seed(atoi(argv[3]));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)atoi(argv[3]), NULL, NULL, handle,
        NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cpus > 0 ? cpus : 1),
        MHD_OPTION_CONNECTION_TIMEOUT, 15u, MHD_OPTION_END);
    if (!d) {
        perror("MHD_start_daemon");
        return 1;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    return 0;
}
