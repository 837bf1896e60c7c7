/*
 * bench_kv.c — WORKLOAD.md's session_save and session_get (10000 keys
 * `session:%d`, 64-byte values) through kura and through raw hiredis, side
 * by side in one run, one command per round trip and pipelined (batches of
 * 1000), taking turns every 1000 keys; then the embedded driver's figures. Best of 3 for every
 * figure; the ratios are what to compare, not the absolute numbers.
 *
 *   bench_kv [REDIS_URL]     (default $KURA_TEST_REDIS_URL, else redis://127.0.0.1:6379/0)
 *
 * Redis should run on loopback with persistence off.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kura/kura.h>

#define N      10000
#define VALUE  64
#define BATCH  1000
#define ROUNDS 3

static char keys[N][32];
static char value[VALUE];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

typedef struct figure {
    const char *name;
    void (*raw)(int from, int to);
    void (*kura)(int from, int to);
    double raw_best, kura_best; /* ops/s */
} figure;

static double ops(void (*fn)(int, int))
{
    double t = now_s();
    fn(0, N);
    return N / (now_s() - t);
}

/* One round of one figure: raw and kura take turns every CHUNK keys, so both
 * meet the same machine (these machines are noisy); *raw_ops and *kura_ops
 * get each side's rate over the whole N. */
#define CHUNK 1000
static void side_by_side(const figure *f, int round, double *raw_ops, double *kura_ops)
{
    double t_raw = 0, t_kura = 0;
    for (int base = 0; base < N; base += CHUNK) {
        for (int side = 0; side < 2; side++) {
            bool kura_turn = (side + round + base / CHUNK) % 2 == 1;
            double t = now_s();
            (kura_turn ? f->kura : f->raw)(base, base + CHUNK);
            *(kura_turn ? &t_kura : &t_raw) += now_s() - t;
        }
    }
    *raw_ops = N / t_raw;
    *kura_ops = N / t_kura;
}

int main(int argc, char **argv)
{
    /* A URL argument, else the environment; other arguments (bench/run passes
     * its own, such as --runs) are not this program's. */
    const char *url = argc > 1 && strstr(argv[1], "://") ? argv[1] : getenv("KURA_TEST_REDIS_URL");
    if (!url || !*url)
        url = "redis://127.0.0.1:6379/0";
    char host[128] = "127.0.0.1";
    int port = 6379, db = 0;
    if (sscanf(url, "redis://%127[^:/]:%d/%d", host, &port, &db) < 2)
        die("url", "expected redis://host:port[/db]");
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof keys[i], "session:%d", i);
    for (int i = 0; i < VALUE; i++)
        value[i] = (char)('a' + i % 26);

    kura_error err;
    if (!(kv = kura_kv_open(url, &err)) || !kura_kv_ping(kv, &err))
        die(url, err.message);
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

    figure figs[] = {
        {"session_save", raw_save, k_save, 0, 0},
        {"session_get", raw_get, k_get, 0, 0},
        {"session_save pipelined", raw_save_pipelined, kura_save_pipelined, 0, 0},
        {"session_get pipelined", raw_get_pipelined, kura_get_pipelined, 0, 0},
    };
    size_t nfigs = sizeof figs / sizeof figs[0];
    raw_save(0, N); /* warm up both connections and the keys */
    k_save(0, N);
    for (int round = 0; round < ROUNDS; round++)
        for (size_t f = 0; f < nfigs; f++) {
            double a, b;
            side_by_side(&figs[f], round, &a, &b);
            if (a > figs[f].raw_best)
                figs[f].raw_best = a;
            if (b > figs[f].kura_best)
                figs[f].kura_best = b;
        }
    printf("Redis %s, N = %d, %d-byte values, best of %d (pipelines of %d)\n", url, N, VALUE,
           ROUNDS, BATCH);
    printf("%-24s %14s %14s %8s\n", "operation", "hiredis ops/s", "kura ops/s", "kura/raw");
    for (size_t f = 0; f < nfigs; f++)
        printf("%-24s %14.0f %14.0f %8.3f\n", figs[f].name, figs[f].raw_best, figs[f].kura_best,
               figs[f].kura_best / figs[f].raw_best);
    redisFree(raw);
    kura_kv_close(kv);

    /* The embedded driver: a fresh file, WAL, synchronous=normal (its default). */
    char file[64], kv_url[96];
    snprintf(file, sizeof file, "/tmp/bench_kv_%ld.db", (long)getpid());
    snprintf(kv_url, sizeof kv_url, "embedded:///%s", file);
    if (!(kv = kura_kv_open(kv_url, &err)))
        die(kv_url, err.message);
    figure emb[] = {
        {"session_save", NULL, k_save, 0, 0},
        {"session_get", NULL, k_get, 0, 0},
        {"session_save batched", NULL, kura_save_pipelined, 0, 0},
        {"session_get batched", NULL, kura_get_pipelined, 0, 0},
    };
    for (int round = 0; round < ROUNDS; round++)
        for (size_t f = 0; f < 4; f++) {
            double b = ops(emb[f].kura);
            if (b > emb[f].kura_best)
                emb[f].kura_best = b;
        }
    printf("\nEmbedded %s (WAL, synchronous=normal), best of %d\n", kv_url, ROUNDS);
    printf("%-24s %14s\n", "operation", "kura ops/s");
    for (size_t f = 0; f < 4; f++)
        printf("%-24s %14.0f\n", emb[f].name, emb[f].kura_best);
    kura_kv_close(kv);
    char side[96];
    unlink(file);
    snprintf(side, sizeof side, "%s-wal", file);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", file);
    unlink(side);
    return 0;
}
