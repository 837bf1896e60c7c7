/*
 * health.c — /health (each store the service uses answers a round trip) and
 * /metrics. The stores are those the registered models live in, and the
 * key-value store (sessions and rankings).
 */
#include <stdio.h>
#include <stdlib.h>

#include "http/internal.h"

/* A node's name in /health and /metrics: "primary", "replica1", ... in the order of
 * database_replica_urls (its address goes to /metrics only: /health is public). */
void http_node_label(const kura_store_node *n, size_t i, char *out, size_t cap)
{
    if (n->primary)
        snprintf(out, cap, "primary");
    else
        snprintf(out, cap, "replica%zu", i);
}

static const char *node_status(const kura_store_node *n)
{
    return n->in_use ? "ok" : n->up ? "lagging" : "unavailable";
}

/*
 * The primary and each read replica with its lag. A replica out of use does not make
 * the store unavailable (its reads go to the primary): it is logged, and shown.
 */
static json_t *store_nodes(kura_http *srv, kura_store *store)
{
    kura_store_node nodes[HTTP_MAX_NODES];
    size_t n = kura_store_nodes(store, nodes, HTTP_MAX_NODES);
    if (n == 0)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < HTTP_MAX_NODES; i++) {
        char label[32];
        http_node_label(&nodes[i], i, label, sizeof label);
        if (!nodes[i].in_use)
            http_log(srv, KURA_LOG_WARN, "health: %s (%s) not in use: %s", label, nodes[i].name,
                     nodes[i].why);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", label, "role",
                                              nodes[i].primary ? "primary" : "replica", "status",
                                              node_status(&nodes[i]), "lag_bytes",
                                              (json_int_t)nodes[i].lag_bytes, "lag_ms",
                                              (json_int_t)nodes[i].lag_ms));
    }
    return list;
}

/* One entry per store the app has; more stores add a line here. */
static json_t *check_store(kura_http *srv, kura_store *store, http_store_kind kind, bool *ok)
{
    kura_error err = {0};
    uint64_t t0 = http_now_us();
    bool up = kura_store_ping(store, &err);
    http_metrics_store(&srv->metrics, kind, HTTP_OP_PING, up ? NULL : &err);
    if (!up) {
        *ok = false;
        http_log(srv, KURA_LOG_WARN, "health: %s store: %s", kura_store_driver(store), err.message);
    }
    /* The store's own message stays in the log: /health is public. */
    json_t *o = json_pack("{s:s, s:s, s:I}", "status", up ? "ok" : "unavailable", "driver",
                          kura_store_driver(store), "latency_us", (json_int_t)(http_now_us() - t0));
    json_t *nodes = kind == HTTP_STORE_SQL ? store_nodes(srv, store) : NULL;
    if (nodes)
        json_object_set_new(o, "nodes", nodes);
    return o;
}

static json_t *check_kv(kura_http *srv, kura_kv *kv, bool *ok)
{
    kura_error err = {0};
    uint64_t t0 = http_now_us();
    bool up = kura_kv_ping(kv, &err);
    http_metrics_store(&srv->metrics, HTTP_STORE_KV, HTTP_OP_PING, up ? NULL : &err);
    if (!up) {
        *ok = false;
        http_log(srv, KURA_LOG_WARN, "health: %s key-value store: %s", kura_kv_driver(kv),
                 err.message);
    }
    return json_pack("{s:s, s:s, s:I}", "status", up ? "ok" : "unavailable", "driver",
                     kura_kv_driver(kv), "latency_us", (json_int_t)(http_now_us() - t0));
}

json_t *http_health(kura_http *srv, bool *ok)
{
    *ok = true;
    kura_app *app = srv->app;
    bool sql = false, documents = false;
    for (size_t i = 0; i < kura_app_model_count(app); i++) {
        kura_model_home home;
        kura_app_model_at(app, i, &home);
        sql |= home == KURA_IN_SQL;
        documents |= home == KURA_IN_DOCUMENTS;
    }
    json_t *stores = json_object();
    if (sql)
        json_object_set_new(stores, "sql", check_store(srv, kura_app_db(app), HTTP_STORE_SQL, ok));
    kura_store *docs = kura_app_documents(app);
    if (documents && docs)
        json_object_set_new(stores, "documents", check_store(srv, docs, HTTP_STORE_DOCUMENT, ok));
    kura_kv *kv = kura_app_kv(app);
    if (kv)
        json_object_set_new(stores, "kv", check_kv(srv, kv, ok));
    return json_pack("{s:s, s:o}", "status", *ok ? "ok" : "unavailable", "stores", stores);
}

static enum MHD_Result get_health(http_req *r)
{
    bool ok;
    json_t *body = http_health(r->srv, &ok);
    return http_respond_json(r, ok ? 200 : 503, body);
}

static enum MHD_Result get_metrics(http_req *r)
{
    size_t len = 0;
    char *text = http_metrics_text(r->srv, &len);
    if (!text)
        return http_problem(r, 500, "out of memory");
    return http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

bool kura_http_mount_health(kura_http *srv, const char *path, kura_error *err)
{
    return http_add_get(
        srv, path, "/health", get_health,
        "Whether every store the app uses answers: 200, or 503 naming the one that does not", err);
}

bool kura_http_mount_metrics(kura_http *srv, const char *path, kura_error *err)
{
    return http_add_get(srv, path, "/metrics", get_metrics,
                        "Requests, latencies and store operations in the Prometheus text format",
                        err);
}
