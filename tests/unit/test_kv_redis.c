/*
 * test_kv_redis.c — what only a real Redis can show: kura survives a
 * redis-server that stops and comes back (clear errors while it is down,
 * success again without reopening anything), and a value the guide's Session
 * saves is byte for byte what `redis-cli GET` prints.
 *
 * The test starts its own redis-server on a free loopback port (persistence
 * off), stops it and starts it again on the same port, always by PID. It is
 * skipped, with a printed reason, when redis-server or redis-cli is missing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "servers.h"
#include "session.h"
#include "wait_until.h"

static int port;
static pid_t server = -1;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A loopback port nobody listens on right now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static bool answers(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool start_server(void)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    server = fork();
    if (server < 0)
        return false;
    if (server == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (answers())
            return true;
        sleep_ms(25);
    }
    return false;
}

static void stop_server(void)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = -1;
    }
}

static void test_restart(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0?timeout=500&pool=4", port);
    kura_error err = {0};
    kura_kv *kv = kura_kv_open(url, &err);
    assert_non_null(kv);
    assert_true(kura_kv_set(kv, "k", "before", 6, 0, &err));

    /* Down: every call fails at once, clearly, and nothing crashes (SIGPIPE). */
    stop_server();
    kura_bytes v = {0};
    assert_false(kura_kv_get(kv, "k", &v, &err));
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", port);
    assert_non_null(strstr(err.message, where));
    printf("  while down: %s\n", err.message);
    assert_false(kura_kv_set(kv, "k", "x", 1, 0, &err));
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    kura_kv_batch *b = kura_kv_batch_new(kv, &err);
    for (int i = 0; i < 100; i++)
        kura_kv_batch_set(b, "bulk", "0123456789", 10, 0);
    assert_false(kura_kv_batch_run(b, &err));
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    assert_false(kura_kv_ping(kv, &err));

    /* Back (empty: persistence is off): calls succeed again, same kura_kv, once
     * the guard's backoff (250 ms after these failures, kv.h) lets one through. */
    assert_true(start_server());
    long long t0 = kura_test_now_ms();
    KURA_POLL(kura_kv_ping(kv, &err), 5000);
    assert_true(kura_kv_ping(kv, &err));
    printf("  answered again %lld ms after the server was back\n", kura_test_now_ms() - t0);
    assert_true(kura_kv_get(kv, "k", &v, &err));
    assert_null(v.data);
    assert_true(kura_kv_set(kv, "k", "after", 5, 0, &err));
    for (int i = 0; i < 100; i++)
        kura_kv_batch_set(b, "bulk", "0123456789", 10, 0);
    assert_true(kura_kv_batch_run(b, &err));

    /* A restart nobody saw: the pooled connection is stale, yet the first
     * call after it succeeds (idle connections are probed). */
    sleep_ms(30);
    stop_server();
    assert_true(start_server());
    sleep_ms(30);
    if (!kura_kv_set(kv, "k", "again", 5, 0, &err))
        fail_msg("first call after an unseen restart: %s", err.message);
    assert_true(kura_kv_get(kv, "k", &v, &err));
    assert_string_equal(v.data, "again");
    kura_bytes_free(&v);
    kura_kv_batch_free(b);
    kura_kv_close(kv);
}

/* Threads keep working through an outage: each call succeeds or fails
 * cleanly, and all succeed once the server is back. */
typedef struct worker {
    kura_kv *kv;
    volatile bool stop;
    int ok, unavailable, other;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    while (!w->stop) {
        kura_error err = {0};
        if (kura_kv_incr(w->kv, "counter", 1, NULL, &err))
            __atomic_add_fetch(&w->ok, 1, __ATOMIC_RELAXED);
        else if (err.code == KURA_UNAVAILABLE || err.code == KURA_TIMEOUT ||
                 err.code == KURA_OUTCOME_UNKNOWN) /* an INCR in flight when it died */
            __atomic_add_fetch(&w->unavailable, 1, __ATOMIC_RELAXED);
        else
            __atomic_add_fetch(&w->other, 1, __ATOMIC_RELAXED);
        sleep_ms(1);
    }
    return NULL;
}

/* Waits until *counter exceeds `above`, for at most 10 s: a condition, not a guess at
 * how long the workers need. */
static bool wait_above(int *counter, int above)
{
    for (int i = 0; i < 10000; i++) {
        if (__atomic_load_n(counter, __ATOMIC_RELAXED) > above)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void test_threads_through_outage(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d?timeout=500&pool=3", port);
    kura_error err = {0};
    worker w = {.kv = kura_kv_open(url, &err)};
    assert_non_null(w.kv);
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, work, &w);
    bool working = wait_above(&w.ok, 0);
    stop_server();
    bool saw_outage = wait_above(&w.unavailable, 0);
    assert_true(start_server());
    int ok_before = __atomic_load_n(&w.ok, __ATOMIC_RELAXED);
    bool recovered = wait_above(&w.ok, ok_before);
    w.stop = true;
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    printf("  %d ok, %d unavailable, %d other\n", w.ok, w.unavailable, w.other);
    /* Asserted here, in the main thread, once every worker has stopped. */
    assert_true(working);
    assert_true(saw_outage);
    assert_true(recovered);
    assert_int_equal(w.other, 0);
    assert_true(kura_kv_ping(w.kv, &err));
    kura_kv_close(w.kv);
}

typedef struct blocked_call {
    kura_kv *kv;
    kura_error err;
    bool ok;
} blocked_call;

static void *call_get(void *arg)
{
    blocked_call *c = arg;
    kura_bytes v = {0};
    c->ok = kura_kv_get(c->kv, "k", &v, &c->err);
    kura_bytes_free(&v);
    return NULL;
}

/* A stopped (SIGSTOP) server accepts connections and never answers. One call
 * waits for the timeout; the calls that come while it waits past `stall` fail
 * at once instead of queueing behind it, and so do the calls after it timed
 * out, until the server answers again. */
static void test_stalled_server_holds_up_one_caller(void **state)
{
    (void)state;
    char url[80];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0?timeout=1500&stall=200", port);
    kura_error err = {0};
    kura_kv *kv = kura_kv_open(url, &err);
    assert_non_null(kv);
    assert_true(kura_kv_set(kv, "k", "v", 1, 0, &err));

    assert_int_equal(kill(server, SIGSTOP), 0);
    blocked_call first = {.kv = kv};
    pthread_t t;
    pthread_create(&t, NULL, call_get, &first);
    sleep_ms(400); /* the first call is waiting, past the 200 ms stall limit */
    long long t0 = kura_test_now_ms();
    kura_bytes v = {0};
    bool ok = kura_kv_get(kv, "k", &v, &err);
    long long waited = kura_test_now_ms() - t0;
    printf("  during the stall: %s (%lld ms)\n", err.message, waited);
    assert_false(ok);
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    assert_non_null(strstr(err.message, "answered nothing"));
    /* At once: not the 1,500 ms timeout the first caller waits out. */
    assert_true(waited < 1000);
    pthread_join(t, NULL);
    assert_false(first.ok);
    assert_int_equal(first.err.code, KURA_TIMEOUT);

    /* The timeout opened the circuit: calls fail at once for a while. */
    t0 = kura_test_now_ms();
    assert_false(kura_kv_get(kv, "k", &v, &err));
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    assert_true(kura_test_now_ms() - t0 < 1000);

    assert_int_equal(kill(server, SIGCONT), 0);
    KURA_POLL(kura_kv_ping(kv, &err), 5000);
    assert_true(kura_kv_get(kv, "k", &v, &err));
    assert_string_equal(v.data, "v");
    kura_bytes_free(&v);
    kura_kv_close(kv);

    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0?stall=-1", port);
    assert_null(kura_kv_open(url, &err));
    assert_int_equal(err.code, KURA_CONFIG);
}

/* The guide's Session saves; redis-cli reads the very same bytes. */
static void test_redis_cli_sees_the_same_bytes(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    kura_error err = {0};
    kura_config *cfg = kura_config_new();
    assert_true(kura_config_set(cfg, "database_url", "sqlite://:memory:", &err));
    assert_true(kura_config_set(cfg, "redis_url", url, &err));
    kura_app *app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    assert_non_null(app);
    kura_app *previous = kura_app_enter(app);
    assert_string_equal(kura_kv_driver(kura_app_kv(app)), "redis");

    const char *value = "{\"user\": \"蔵\", \"quote\": \"\\\"\", \"tab\": \"\t\"} \x01\x7f\xff end";
    assert_true(session_save("session:cli", value, &err));
    kura_bytes back = {0};
    assert_true(session_get("session:cli", &back, &err));
    assert_string_equal(back.data, value);
    kura_bytes_free(&back);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "redis-cli -p %d GET session:cli", port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[512];
    size_t n = fread(out, 1, sizeof out, p);
    assert_int_equal(pclose(p), 0);
    /* Not a terminal: redis-cli prints the raw bytes and one newline. */
    assert_int_equal(n, strlen(value) + 1);
    assert_memory_equal(out, value, strlen(value));
    assert_int_equal(out[n - 1], '\n');

    kura_app_leave(previous);
    kura_app_close(app);
}

static int setup(void **state)
{
    (void)state;
    if ((port = free_port()) < 0 || !start_server()) {
        fprintf(stderr, "could not start redis-server\n");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_server();
    return 0;
}

int main(void)
{
    if (system("command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null "
               "2>&1") != 0) {
        printf("skipped: redis-server or redis-cli is not installed\n");
        /* scripts/bootstrap installs both: under the test command their absence fails. */
        return kura_test_servers_required() ? 1 : 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_threads_through_outage),
        cmocka_unit_test(test_stalled_server_holds_up_one_caller),
        cmocka_unit_test(test_redis_cli_sees_the_same_bytes),
    };
    return cmocka_run_group_tests_name("redis restart and redis-cli", tests, setup, teardown);
}
