/*
 * fuzz_http.c — whole HTTP requests into the service: bytes are sent over a socket to
 * a kura_http server (in this process, started once) that serves a model with every
 * field type from SQL and from documents, sessions, rankings, health and metrics. The
 * request line, headers, query strings (filters, order, limit) and JSON bodies all
 * come from the input. The server must answer or close, never crash or hang.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <kura/http.h>

#include "fuzz.h"
#include "fuzz_model.h"

static uint16_t port;
/* Kept for the process's life, and reachable (not a leak to LeakSanitizer). */
static kura_app *app;
static kura_http *srv;

static void start_once(void)
{
    if (port)
        return;
    static kura_model doc_model;
    doc_model = fz_thing_model;
    doc_model.name = "fz_doc";
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = 2;
    o.log_level = KURA_LOG_OFF;
    /* One client, a connection per input, some left unfinished: with a limit per
     * address most inputs would be refused at accept instead of parsed. */
    o.max_conns_per_ip = 0;
    o.timeout_s = 2;
    if (!cfg || !kura_config_set(cfg, "database_url", "sqlite://:memory:", &err) ||
        !(app = kura_app_open(cfg, &err)) ||
        !kura_app_register(app, &fz_thing_model, KURA_IN_SQL, &err) ||
        !kura_app_register(app, &doc_model, KURA_IN_DOCUMENTS, &err) ||
        !kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err) ||
        !(srv = kura_http_new(app, &o, &err)) || /* defaults: the models too */
        !kura_http_mount_defaults(srv, &err) || !kura_http_listen(srv, &err))
        abort();
    kura_config_free(cfg);
    port = kura_http_port(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    start_once();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    /* libmicrohttpd does not notice a half-close before the header block is complete
     * (it waits out the idle timeout): an answer that has not begun in 300 ms is taken
     * as none, so that incomplete inputs do not cost seconds each. */
    struct timeval tv = {.tv_usec = 300 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        size_t sent = 0;
        while (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        shutdown(fd, SHUT_WR); /* the request ends here: the server answers or closes */
        /* A kept-alive connection stays open after its answer: once the answer has
         * begun, a short silence ends the read (the first byte may take longer). */
        char buf[4096];
        while (recv(fd, buf, sizeof buf, 0) > 0) {
            struct timeval quiet = {.tv_usec = 20 * 1000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof quiet);
        }
    }
    close(fd);
    return 0;
}
