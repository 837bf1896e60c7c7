/*
 * mhd_quirks.c — ways around two defects of libmicrohttpd 0.9.75 (Debian 12's)
 * that a client can trigger, and that would otherwise cost it a broken
 * answer, or none.
 *
 * 1. An error libmicrohttpd finds in the header fields once they are all in
 *    (a Content-Length that is not digits or does not fit 64 bits, cookies
 *    that do not fit the connection's memory) is answered with its header
 *    block twice: the state machine overwrites the state the error response
 *    set and builds that response's head a second time into the same buffer,
 *    so the client reads the second head as the body. (Fixed upstream in
 *    1.0.0 by commit f1bfbe71, "fixed handling of various errors automatically
 *    detected by MHD code".) kura's handler is never called for such a
 *    request; the one thing kura sees is the log line libmicrohttpd writes as
 *    it starts its error answer ("Error processing request (HTTP response
 *    code is %u ..."), on the connection's own thread. At that moment exactly
 *    one connection of that thread has its head parsed, no answer queued and
 *    kura not called (http_conns_parsing finds it). kura answers it there:
 *    its own problem (the head checks of head.c name what is wrong) written
 *    on the socket, whose sending side it then shuts, so that the doubled
 *    answer libmicrohttpd builds next fails to send (EPIPE) and it closes the
 *    connection. Only with libmicrohttpd before 1.0.
 *
 * 2. Query parameters beyond what the connection's memory holds make
 *    libmicrohttpd fail while it splits the request line, after which it goes
 *    on with the buffers it has just released: no answer at all (the client
 *    waits out its timeout), and writes into released memory. Its URI log
 *    callback sees the target before the query is split; a target with more
 *    than max_params parameters has its query cut right after the '?' there,
 *    so that none is split (kura answers the request 414 and needs none).
 *    The memory is sized (server.c) for max_params parameters and max_fields
 *    fields, so within the limits this never happens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "http/internal.h"

bool http_quirks_needed(void)
{
    const char *v = MHD_get_version();
    return v && strncmp(v, "0.", 2) == 0;
}

void http_quirk_drop_query(const char *uri)
{
    /* The target lives in libmicrohttpd's read buffer, which it is about to
     * cut at the '?' itself; strchr gives the writable pointer back. */
    char *q = strchr(uri, '?');
    if (q && q[1])
        q[1] = '\0';
}

/* An IMF-fixdate (RFC 9110 5.6.7), without the locale's names. */
static void http_date(char out[80])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, 80, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Writes the whole answer on c's socket and shuts its sending side. */
static void answer(kura_http *srv, http_conn *c, const http_head_problem *p)
{
    char *body = http_problem_body(p->status, p->detail);
    size_t blen = body ? strlen(body) : 0;
    char date[80], head[512];
    http_date(date);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                        "Content-Type: application/problem+json\r\nContent-Length: %zu\r\n\r\n",
                        p->status, http_status_title(p->status), date, blen);
    /* The socket is fresh from a request: its send buffer has room for this
     * small answer. Without room, what does not fit is lost with the rest. */
    struct iovec iov[2] = {{head, (size_t)hlen}, {body, blen}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = body ? 2 : 1};
    ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    shutdown(c->fd, SHUT_WR);
    free(body);
    http_conn_arrived(c);
    http_metrics_request(&srv->metrics, srv->nroutes, HTTP_ROUTE_NONE, p->status, 0);
    http_log(srv, KURA_LOG_INFO, "answered %u before routing: %s", p->status, p->detail);
}

bool http_quirk_error_log(kura_http *srv, const char *fmt, va_list ap)
{
    static const char error[] = "Error processing request (HTTP response code is %u";
    if (!srv->quirks || strncmp(fmt, error, sizeof error - 1) != 0)
        return false;
    http_conn *c = http_conns_parsing(srv);
    if (!c)
        return false; /* an error found elsewhere: libmicrohttpd answers it well */
    va_list copy;
    va_copy(copy, ap);
    unsigned status = va_arg(copy, unsigned);
    va_end(copy);
    http_head_problem p;
    if (http_head_check(srv, c->mc, &c->target, NULL, &p)) {
        /* Nothing kura's checks name: libmicrohttpd's status, said plainly. */
        p.status = status >= 400 && status < 600 ? status : 400;
        snprintf(p.detail, sizeof p.detail, "%s",
                 p.status == 431   ? "the header fields do not fit in the connection's memory"
                 : p.status == 413 ? "Content-Length is out of range"
                                   : "the request is malformed");
    }
    answer(srv, c, &p);
    return true;
}
