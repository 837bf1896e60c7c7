/*
 * metrics.c — request counters, a latency histogram and store operation
 * counters, kept with relaxed atomics (each counter is independent; a scrape
 * needs no consistent snapshot) and exposed in the Prometheus text format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/internal.h"

static const unsigned statuses[HTTP_NSTATUS - 3] = {200, 201, 204, 400, 401, 404, 405, 409, 413,
                                                    414, 415, 422, 431, 500, 501, 503, 304};
/* The last three slots: any other 2xx/3xx, 4xx, 5xx. */

static size_t status_slot(unsigned status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i] == status)
            return i;
    if (status < 400)
        return HTTP_NSTATUS - 3;
    return status < 500 ? HTTP_NSTATUS - 2 : HTTP_NSTATUS - 1;
}

static const char *const other_status[3] = {"other_2xx_3xx", "other_4xx", "other_5xx"};

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bounds_us[HTTP_NBUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

static const char *const store_names[HTTP_NSTORES] = {"sql", "document", "kv"};
static const char *const op_names[HTTP_NOPS] = {"get",  "insert", "update", "delete",
                                                "find", "count",  "ping",   "other"};

bool http_metrics_init(kura_http *srv, kura_error *err)
{
    srv->metrics.routes = calloc(srv->nroutes + 1, sizeof *srv->metrics.routes);
    if (!srv->metrics.routes)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    return true;
}

void http_metrics_free(http_metrics *m)
{
    free(m->routes);
    m->routes = NULL;
}

void http_metrics_request(http_metrics *m, size_t nroutes, int route, unsigned status,
                          uint64_t micros)
{
    size_t b = 0;
    while (b < HTTP_NBUCKETS - 1 && micros > bounds_us[b])
        b++;
    http_route_stats *st = &m->routes[route < 0 ? nroutes : (size_t)route];
    atomic_fetch_add_explicit(&st->requests[status_slot(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->latency_sum_us, micros, memory_order_relaxed);
}

void http_metrics_store(http_metrics *m, http_store_kind store, http_store_op op,
                        const kura_error *err)
{
    atomic_fetch_add_explicit(&m->store_ops[store][op], 1, memory_order_relaxed);
    /* An answer the caller asked for (absent row, bad value, duplicate) is not a
     * store error: errors count what an operator has to look at. */
    if (err && err->code != KURA_NOT_FOUND && err->code != KURA_VALIDATION &&
        err->code != KURA_CONSTRAINT && err->code != KURA_INVALID)
        atomic_fetch_add_explicit(&m->store_errors[store][op], 1, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* The database's primary and read replicas (none without replicas): whether each
 * answers, whether reads go to it, its lag and the reads it served. */
static void node_metrics(kura_buf *b, const kura_http *srv)
{
    kura_store_node nodes[HTTP_MAX_NODES];
    size_t n = kura_store_nodes(kura_app_db(srv->app), nodes, HTTP_MAX_NODES);
    if (n > HTTP_MAX_NODES)
        n = HTTP_MAX_NODES;
    static const struct {
        const char *name, *type, *help;
    } series[] = {
        {"kura_sql_node_up", "gauge", "Whether the database node answered its last check."},
        {"kura_sql_node_in_use", "gauge",
         "Whether reads outside transactions may go to the node (up, within the lag bounds)."},
        {"kura_sql_node_lag_bytes", "gauge",
         "WAL the node had not replayed at its last check (-1: unknown)."},
        {"kura_sql_node_lag_seconds", "gauge",
         "How far the node's replay was behind at its last check (-1: unknown)."},
        {"kura_sql_node_reads_total", "counter", "Reads outside transactions sent to the node."},
        {"kura_sql_node_read_failures_total", "counter",
         "Reads that failed on a replica and were run on the primary instead."},
    };
    for (size_t k = 0; n && k < sizeof series / sizeof series[0]; k++) {
        kura_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", series[k].name, series[k].help,
                      series[k].name, series[k].type);
        for (size_t i = 0; i < n; i++) {
            const kura_store_node *nd = &nodes[i];
            char label[32], address[sizeof nd->name];
            http_node_label(nd, i, label, sizeof label);
            /* A label value may not hold a quote, a backslash or a newline. */
            size_t j = 0;
            for (; nd->name[j]; j++)
                address[j] = strchr("\"\\\n", nd->name[j]) ? '_' : nd->name[j];
            address[j] = '\0';
            double v[] = {nd->up,
                          nd->in_use,
                          (double)nd->lag_bytes,
                          nd->lag_ms < 0 ? -1 : (double)nd->lag_ms / 1000,
                          (double)nd->reads,
                          (double)nd->failures};
            kura_buf_addf(b, "%s{node=\"%s\",address=\"%s\"} %.15g\n", series[k].name, label,
                          address, v[k]);
        }
    }
}

char *http_metrics_text(const kura_http *srv, size_t *len)
{
    /* Only loads: the cast drops const because C11 atomic_load takes a
     * non-const pointer before C17's relaxation. */
    http_metrics *m = (http_metrics *)&srv->metrics;
    kura_buf b;
    char first[256];
    kura_buf_init(&b, first, sizeof first);

    kura_buf_add(&b, "# HELP kura_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE kura_http_requests_total counter\n");
    for (size_t r = 0; r <= srv->nroutes; r++) {
        const char *name = r < srv->nroutes ? srv->routes[r].pattern : "unmatched";
        for (size_t s = 0; s < HTTP_NSTATUS; s++) {
            uint64_t n = load(&m->routes[r].requests[s]);
            if (!n)
                continue;
            if (s < HTTP_NSTATUS - 3)
                kura_buf_addf(&b, "kura_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                              name, statuses[s], (unsigned long long)n);
            else
                kura_buf_addf(&b, "kura_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                              name, other_status[s - (HTTP_NSTATUS - 3)], (unsigned long long)n);
        }
    }

    kura_buf_add(&b, "# HELP kura_http_request_duration_seconds Time from the first byte of a "
                     "request to its completion.\n"
                     "# TYPE kura_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= srv->nroutes; r++) {
        const char *name = r < srv->nroutes ? srv->routes[r].pattern : "unmatched";
        uint64_t cum = 0;
        for (size_t i = 0; i < HTTP_NBUCKETS; i++) {
            cum += load(&m->routes[r].latency[i]);
            if (i < HTTP_NBUCKETS - 1)
                kura_buf_addf(&b,
                              "kura_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                              "%llu\n",
                              name, (double)bounds_us[i] / 1e6, (unsigned long long)cum);
            else
                kura_buf_addf(&b,
                              "kura_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                              "%llu\n",
                              name, (unsigned long long)cum);
        }
        kura_buf_addf(&b, "kura_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                      (double)load(&m->routes[r].latency_sum_us) / 1e6);
        kura_buf_addf(&b, "kura_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
                      (unsigned long long)cum);
    }

    kura_buf_add(&b, "# HELP kura_store_operations_total Store operations made by the service.\n"
                     "# TYPE kura_store_operations_total counter\n");
    for (size_t s = 0; s < HTTP_NSTORES; s++)
        for (size_t o = 0; o < HTTP_NOPS; o++)
            if (load(&m->store_ops[s][o]))
                kura_buf_addf(&b, "kura_store_operations_total{store=\"%s\",op=\"%s\"} %llu\n",
                              store_names[s], op_names[o],
                              (unsigned long long)load(&m->store_ops[s][o]));
    kura_buf_add(&b, "# HELP kura_store_errors_total Store operations that failed in the store "
                     "(unavailable, timed out, refused), not answers like not-found.\n"
                     "# TYPE kura_store_errors_total counter\n");
    for (size_t s = 0; s < HTTP_NSTORES; s++)
        for (size_t o = 0; o < HTTP_NOPS; o++)
            kura_buf_addf(&b, "kura_store_errors_total{store=\"%s\",op=\"%s\"} %llu\n",
                          store_names[s], op_names[o],
                          (unsigned long long)load(&m->store_errors[s][o]));
    kura_buf_addf(&b,
                  "# HELP kura_http_request_timeouts_total Connections closed because their "
                  "request had not all arrived within request_timeout.\n"
                  "# TYPE kura_http_request_timeouts_total counter\n"
                  "kura_http_request_timeouts_total %llu\n"
                  "# HELP kura_http_connections_refused_total Connections closed on accept, over "
                  "max_conns_per_ip or max_conns.\n"
                  "# TYPE kura_http_connections_refused_total counter\n"
                  "kura_http_connections_refused_total %llu\n"
                  "# HELP kura_http_pressure_closed_total Connections closed because their "
                  "request had not all arrived within 2 s while over 3/4 of max_conns were "
                  "open.\n"
                  "# TYPE kura_http_pressure_closed_total counter\n"
                  "kura_http_pressure_closed_total %llu\n",
                  (unsigned long long)load(&m->deadline_closed),
                  (unsigned long long)load(&m->refused),
                  (unsigned long long)load(&m->pressure_closed));
    if (srv->hot) {
        uint64_t hits, misses;
        http_hot_counts(srv->hot, &hits, &misses);
        kura_buf_addf(&b,
                      "# HELP kura_http_cache_hits_total GET by key answered from memory "
                      "(cache_ttl_ms).\n"
                      "# TYPE kura_http_cache_hits_total counter\n"
                      "kura_http_cache_hits_total %llu\n"
                      "# HELP kura_http_cache_misses_total GET by key that read the store.\n"
                      "# TYPE kura_http_cache_misses_total counter\n"
                      "kura_http_cache_misses_total %llu\n",
                      (unsigned long long)hits, (unsigned long long)misses);
    }
    kura_buf_addf(&b,
                  "# HELP kura_http_requests_in_flight Requests being served.\n"
                  "# TYPE kura_http_requests_in_flight gauge\n"
                  "kura_http_requests_in_flight %lld\n",
                  (long long)atomic_load_explicit(&m->in_flight, memory_order_relaxed));
    node_metrics(&b, srv);

    if (b.oom) {
        kura_buf_free(&b);
        return NULL;
    }
    char *out;
    if (b.heap) {
        out = b.data; /* hand the heap buffer over */
    } else {
        out = malloc(b.len + 1);
        if (out)
            memcpy(out, b.data, b.len + 1);
    }
    *len = b.len;
    return out;
}
