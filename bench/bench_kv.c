/*
 * bench_kv.c — WORKLOAD.md's session_save and session_get (10000 keys
 * `session:%d`, 64-byte values) through kura and through raw hiredis, side
 * by side in one run, one command per round trip and pipelined (batches of
 * 1000), in interleaved pairs (common.h: the median ratio, its spread and the
 * instruction ratio); then the embedded driver's figures. The ratios are what
 * to compare, not the absolute numbers.
 *
 *   bench_kv [REDIS_URL] [--quick] [--pairs P] [--no-ir] [--csv F]
 *   (default $KURA_TEST_REDIS_URL, else redis://127.0.0.1:6379/0)
 *
 * Redis should run on loopback with persistence off.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define N     10000
#define VALUE 64
#define BATCH 1000

static char keys[N][32];
static char value[VALUE];

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_kv: %s: %s\n", what, why);
    exit(1);
}

/* ---- raw hiredis ---------------------------------------------------------------- */

static redisContext *raw;

static void raw_command(int argc, const char **argv, const size_t *len)
{
    redisReply *r = redisCommandArgv(raw, argc, argv, len);
    if (!r || r->type == REDIS_REPLY_ERROR)
        die("hiredis", r ? r->str : raw->errstr);
    freeReplyObject(r);
}

static void raw_save(int from, int to)
{
    for (int i = from; i < to; i++) {
        const char *argv[3] = {"SET", keys[i], value};
        size_t len[3] = {3, strlen(keys[i]), VALUE};
        raw_command(3, argv, len);
    }
}

static void raw_get(int from, int to)
{
    for (int i = from; i < to; i++) {
        const char *argv[2] = {"GET", keys[i]};
        size_t len[2] = {3, strlen(keys[i])};
        redisReply *r = redisCommandArgv(raw, 2, argv, len);
        if (!r || r->type != REDIS_REPLY_STRING || r->len != VALUE)
            die("hiredis get", r ? "wrong reply" : raw->errstr);
        freeReplyObject(r);
    }
}

static void raw_pipelined(bool save, int from, int to)
{
    for (int base = from; base < to; base += BATCH) {
        for (int i = base; i < base + BATCH; i++) {
            const char *argv[3] = {save ? "SET" : "GET", keys[i], value};
            size_t len[3] = {3, strlen(keys[i]), VALUE};
            redisAppendCommandArgv(raw, save ? 3 : 2, argv, len);
        }
        for (int i = base; i < base + BATCH; i++) {
            void *r;
            if (redisGetReply(raw, &r) != REDIS_OK)
                die("hiredis pipeline", raw->errstr);
            freeReplyObject(r);
        }
    }
}

static void raw_save_pipelined(int from, int to)
{
    raw_pipelined(true, from, to);
}

static void raw_get_pipelined(int from, int to)
{
    raw_pipelined(false, from, to);
}

/* ---- kura ---------------------------------------------------------------------- */

static kura_kv *kv;

static void k_save(int from, int to)
{
    kura_error err;
    for (int i = from; i < to; i++)
        if (!kura_kv_set(kv, keys[i], value, VALUE, 0, &err))
            die("kura set", err.message);
}

static void k_get(int from, int to)
{
    kura_error err;
    for (int i = from; i < to; i++) {
        kura_bytes v;
        if (!kura_kv_get(kv, keys[i], &v, &err) || v.len != VALUE)
            die("kura get", err.message);
        kura_bytes_free(&v);
    }
}

static void kura_pipelined(bool save, int from, int to)
{
    kura_error err;
    kura_kv_batch *b = kura_kv_batch_new(kv, &err);
    if (!b)
        die("kura batch", err.message);
    for (int base = from; base < to; base += BATCH) {
        for (int i = base; i < base + BATCH; i++)
            if (save)
                kura_kv_batch_set(b, keys[i], value, VALUE, 0);
            else
                kura_kv_batch_get(b, keys[i]);
        if (!kura_kv_batch_run(b, &err))
            die("kura batch", err.message);
    }
    kura_kv_batch_free(b);
}

static void kura_save_pipelined(int from, int to)
{
    kura_pipelined(true, from, to);
}

static void kura_get_pipelined(int from, int to)
{
    kura_pipelined(false, from, to);
}

/* ---- running ---------------------------------------------------------------------- */

typedef struct kv_op {
    const char *name;
    void (*raw)(int from, int to);
    void (*kura)(int from, int to);
} kv_op;

static double timed(void (*fn)(int, int), int n)
{
    double t = bench_now();
    fn(0, n);
    return bench_now() - t;
}

int main(int argc, char **argv)
{
    bench_opts o;
    const char *url;
    bench_parse_args(argc, argv, &o, &url);
    if (!url)
        url = getenv("KURA_TEST_REDIS_URL");
    if (!url || !*url)
        url = "redis://127.0.0.1:6379/0";
    int n = o.quick ? 2000 : N;
    char host[128] = "127.0.0.1";
    int port = 6379, db = 0;
    if (sscanf(url, "redis://%127[^:/]:%d/%d", host, &port, &db) < 2)
        die("url", "expected redis://host:port[/db]");
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof keys[i], "session:%d", i);
    for (int i = 0; i < VALUE; i++)
        value[i] = (char)('a' + i % 26);

    kura_error err;
    if (!(kv = kura_kv_open(url, &err)) || !kura_kv_ping(kv, &err)) {
        printf("skipped: no Redis at %s (%s)\n", url, err.message);
        return 0;
    }
    struct timeval tv = {5, 0};
    raw = redisConnectWithTimeout(host, port, tv);
    if (!raw || raw->err)
        die("hiredis connect", raw ? raw->errstr : "out of memory");
    if (db) {
        char sel[32];
        snprintf(sel, sizeof sel, "%d", db);
        const char *a[2] = {"SELECT", sel};
        size_t l[2] = {6, strlen(sel)};
        raw_command(2, a, l);
    }

    static const kv_op ops[] = {
        {"session_save", raw_save, k_save},
        {"session_get", raw_get, k_get},
        {"session_save pipelined", raw_save_pipelined, kura_save_pipelined},
        {"session_get pipelined", raw_get_pipelined, kura_get_pipelined},
    };
    enum { NOPS = sizeof ops / sizeof ops[0] };
    bench_figure f[NOPS];
    for (int i = 0; i < NOPS; i++)
        bench_figure_init(&f[i], ops[i].name, "op", n);
    if (!o.ir_child)
        printf("bench_kv: Redis %s, %d keys, %d-byte values, pipelines of %d; %d interleaved "
               "pairs per operation\n",
               url, n, VALUE, BATCH, o.pairs);
    bench_ir_collect(&o, argc, argv);
    raw_save(0, n); /* warm up both connections and the keys */
    k_save(0, n);
    for (int pair = 0; pair < o.pairs; pair++)
        for (int i = 0; i < NOPS; i++) {
            double sec[2];
            bool kura_first = bench_kura_first(pair, i);
            for (int turn = 0; turn < 2; turn++) {
                bool kura = (turn == 0) == kura_first;
                char label[96];
                snprintf(label, sizeof label, "redis/%s/%s", ops[i].name, kura ? "kura" : "base");
                bench_ir_begin();
                sec[kura] = timed(kura ? ops[i].kura : ops[i].raw, n);
                bench_ir_end(label);
            }
            bench_figure_add(&f[i], sec[0], sec[1]);
        }
    for (int i = 0; i < NOPS; i++)
        bench_ir_fill(&f[i], "redis");
    bench_print(&o, "kv", "redis", n, "Redis (loopback, persistence off): kura vs raw hiredis",
                "hiredis", f, NOPS, 0.95);
    redisFree(raw);
    kura_kv_close(kv);
    if (o.ir_child)
        return 0;

    /* The embedded driver: a fresh file, WAL, synchronous=normal (its default); no
     * baseline, so its median rate over the same number of runs. */
    char file[1100], kv_url[1200];
    snprintf(file, sizeof file, "%s", bench_fresh_db(&o, "bench_kv"));
    snprintf(kv_url, sizeof kv_url, "embedded:///%s", file);
    if (!(kv = kura_kv_open(kv_url, &err)))
        die(kv_url, err.message);
    printf("\nEmbedded key-value store (WAL, synchronous=normal): median of %d runs\n", o.pairs);
    printf("| %-24s | %14s |\n|--------------------------|---------------:|\n", "operation",
           "kura ops/s");
    for (int i = 0; i < NOPS; i++) {
        bench_figure e;
        bench_figure_init(&e, ops[i].name, "op", n);
        for (int r = 0; r < o.pairs; r++) {
            double t = timed(ops[i].kura, n);
            bench_figure_add(&e, t, t);
        }
        bench_stats st = bench_figure_stats(&e);
        printf("| %-24s | %14.0f |\n", ops[i].name, st.kura_us > 0 ? 1e6 / st.kura_us : 0);
        bench_csv_row(&o, "kv", "embedded", n, ops[i].name, "op", &st);
    }
    kura_kv_close(kv);
    bench_remove_db(file);
    return 0;
}
