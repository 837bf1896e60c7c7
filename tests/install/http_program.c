/*
 * http_program.c — built by check.sh against an installed kura with nothing
 * but `pkg-config kura-http`: a model of its own, registered, mounted, one
 * handler of its own, served on a free port, asked over a socket, stopped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kura/http.h>
#include <kura/kura.h>

typedef struct note {
    kura_base base;
    char text[KURA_STRING_BYTES(64)];
} note;

static const kura_model note_model = KURA_MODEL(note, "note", KURA_STRING(note, text, 64));

static void hello(kura_http_req *req, void *ctx)
{
    (void)ctx;
    kura_http_respond_json(req, 200, json_pack("{s:s}", "hello", kura_http_param(req, 0)));
}

/* GET path over a plain socket; the whole answer into out. */
static int get(unsigned port, const char *path, char *out, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    char req[256];
    int n =
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n)
        return -1;
    size_t len = 0;
    ssize_t k;
    while (len + 1 < size && (k = read(fd, out + len, size - len - 1)) > 0)
        len += (size_t)k;
    out[len] = '\0';
    close(fd);
    return 0;
}

int main(void)
{
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    kura_config_set(cfg, "database_url", "sqlite://:memory:", &err);
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = 1;
    o.log_level = KURA_LOG_OFF;
    kura_http *srv = NULL;
    char answer[4096];
    bool ok = app && kura_app_register(app, &note_model, KURA_IN_SQL, &err) &&
              kura_app_migrate(app, 0, NULL, NULL, NULL, NULL, &err) &&
              (srv = kura_http_new(app, &o, &err)) &&
              kura_http_mount(srv, "/notes", "note", &err) &&
              kura_http_handle(srv, "GET", "/hello/{who}", hello, NULL, 0, &err) &&
              kura_http_listen(srv, &err);
    if (!ok) {
        fprintf(stderr, "http_program: %s\n", err.message);
        return 1;
    }
    unsigned port = kura_http_port(srv);
    ok = get(port, "/hello/install", answer, sizeof answer) == 0 &&
         strstr(answer, "{\"hello\":\"install\"}") &&
         get(port, "/notes", answer, sizeof answer) == 0 && strstr(answer, "\"total\":0");
    kura_http_stop(srv);
    kura_app_close(app);
    if (!ok) {
        fprintf(stderr, "http_program: unexpected answer: %s\n", answer);
        return 1;
    }
    return 0;
}
