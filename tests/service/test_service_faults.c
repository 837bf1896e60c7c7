/*
 * test_service_faults.c — the guide's service over real HTTP while a store hangs:
 * PostgreSQL stopped with SIGSTOP (every process of the test cluster), so it
 * accepts connections and never answers, as a hung or partitioned server does.
 * Only the routes that need it may suffer, and only with a quick 503
 * problem+json; /health says which store; the service recovers by itself.
 *
 * Then a read replica hangs the same way: reads go on from the primary.
 *
 * The clusters are the test command's (KURA_TEST_PG_URL, KURA_TEST_PG_DATA; the
 * pair's KURA_TEST_PG_PRIMARY_URL, _STANDBY_URL, _STANDBY_PIDFILE): the program
 * holds their resource locks, and a helper process sends SIGCONT after a bound
 * even if this one dies, so no other test is left waiting on a stopped server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#include <kura/http.h>

#include "guide_app.h"
#include "sa_user.h"
#include "servers.h"
#include "wait_until.h"

/* The answer timeout and stall limit of the service's PostgreSQL URL: short, so
 * the test is quick; the rules are the same as the defaults'. */
#define ANSWER_MS 3000
#define STALL_MS  200
#define THREADS   2
/* A healthy route must answer well before a hung one would give up. */
#define PROMPT_MS 1500

typedef struct fixture {
    kura_app *app;
    kura_http *srv;
    char base[64];
    char dir[64];
} fixture;

static fixture F;

typedef struct response {
    long status;
    long long ms;
    char *body;
    size_t len;
    char type[128];
} response;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    response *r = ud;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

/* One request on a fresh connection, bounded at 15 s: status 0 when it took longer
 * or the connection was cut (a hang, for these tests). */
static response request(const char *method, const char *path, const char *body)
{
    response r = {0};
    CURL *c = curl_easy_init();
    if (!c)
        return r;
    char url[256];
    snprintf(url, sizeof url, "%s%s", F.base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    long long t0 = kura_test_now_ms();
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(r.type, sizeof r.type, "%s", ct ? ct : "");
    }
    r.ms = kura_test_now_ms() - t0;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

static void expect(const response *r, long status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: expected %ld, got %ld after %lld ms: %s", what, status, r->status, r->ms,
                 r->body ? r->body : "");
}

/* A store's 503: problem+json, never a hang or a 500. */
static void expect_503_problem(const response *r, const char *what)
{
    expect(r, 503, what);
    if (strcmp(r->type, "application/problem+json") != 0)
        fail_msg("%s: 503 as %s, not application/problem+json", what, r->type);
}

/* --- stopping PostgreSQL ------------------------------------------------------ */

enum { MAX_PIDS = 64 };
static pid_t pg_pids[MAX_PIDS];
static size_t pg_npids;
static pid_t resumer; /* sends SIGCONT after a bound unless killed first */

static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command may hold spaces */
    int ppid = 0;
    char st;
    if (!p || sscanf(p + 1, " %c %d", &st, &ppid) != 2)
        return 0;
    return (pid_t)ppid;
}

/* The cluster the next stop_pg() stops: its postmaster.pid. */
static char pg_pidfile[512];

/* The postmaster of pg_pidfile and every process it started. */
static bool find_pg(void)
{
    FILE *f = fopen(pg_pidfile, "r");
    int pm = 0;
    if (!f)
        return false;
    if (fscanf(f, "%d", &pm) != 1)
        pm = 0;
    fclose(f);
    if (pm <= 0)
        return false;
    pg_npids = 0;
    pg_pids[pg_npids++] = pm;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d)) && pg_npids < MAX_PIDS;) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 0 && parent_of(pid) == pm)
            pg_pids[pg_npids++] = pid;
    }
    if (d)
        closedir(d);
    return true;
}

static void signal_pg(int sig)
{
    for (size_t i = 0; i < pg_npids; i++)
        kill(pg_pids[i], sig);
}

/* SIGSTOPs pg_pids; a child resumes them after 30 s should this process fail
 * to (a crash, a hung assertion). */
static void pause_all(void)
{
    resumer = fork();
    assert_true(resumer >= 0);
    if (resumer == 0) {
        sleep(30);
        signal_pg(SIGCONT);
        _exit(0);
    }
    signal_pg(SIGSTOP);
}

static void stop_pg(void)
{
    assert_true(find_pg());
    pause_all();
}

static void resume_pg(void)
{
    if (!resumer)
        return;
    signal_pg(SIGCONT);
    kill(resumer, SIGKILL);
    waitpid(resumer, NULL, 0);
    resumer = 0;
}

/* --- the service ------------------------------------------------------------------ */

/* url with the test's answer timeout and stall limit, in out[cap]. */
static const char *with_limits(const char *url, char *out, size_t cap)
{
    snprintf(out, cap, "%s%ctimeout=%d&stall=%d", url, strchr(url, '?') ? '&' : '?', ANSWER_MS,
             STALL_MS);
    return out;
}

/* The guide's service on PostgreSQL `pg` (NULL: an SQLite file) with read replica
 * `replica` (or NULL), its key-value store on `redis` (NULL: an embedded file). */
static int start(const char *pg, const char *replica, const char *redis)
{
    snprintf(F.dir, sizeof F.dir, "/tmp/kura-faults-XXXXXX");
    if (!mkdtemp(F.dir))
        return -1;
    char db[1024], rep[1024], docs[128], kv[128];
    snprintf(docs, sizeof docs, "sqlite:///%s/docs.db", F.dir);
    snprintf(kv, sizeof kv, "embedded:///%s/kv.db", F.dir);
    kura_config *cfg = kura_config_new();
    if (pg)
        with_limits(pg, db, sizeof db);
    else
        snprintf(db, sizeof db, "sqlite:///%s/db.db", F.dir);
    kura_config_set(cfg, "database_url", db, NULL);
    if (replica)
        kura_config_set(cfg, "database_replica_urls", with_limits(replica, rep, sizeof rep), NULL);
    kura_config_set(cfg, "document_url", docs, NULL);
    kura_config_set(cfg, "redis_url", redis ? redis : kv, NULL);
    kura_error err = {0};
    F.app = kura_app_open(cfg, &err);
    kura_config_free(cfg);
    kura_http_opts o;
    kura_http_opts_default(&o);
    o.port = 0;
    o.threads = THREADS;
    o.log_level = KURA_LOG_ERROR;
    if (!F.app || !guide_setup(F.app, NULL, &err) ||
        !kura_drop(kura_app_db(F.app), &sa_user_model, &err) ||
        !kura_app_migrate(F.app, 0, NULL, NULL, NULL, NULL, &err) ||
        !(F.srv = kura_http_new(F.app, &o, &err)) || !guide_mount(F.srv, F.app, NULL, &err) ||
        !kura_http_listen(F.srv, &err)) {
        fprintf(stderr, "cannot start the service: %s\n", err.message);
        return -1;
    }
    snprintf(F.base, sizeof F.base, "http://127.0.0.1:%u", (unsigned)kura_http_port(F.srv));
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(pg_pidfile, sizeof pg_pidfile, "%s/postmaster.pid", getenv("KURA_TEST_PG_DATA"));
    return start(getenv("KURA_TEST_PG_URL"), NULL, NULL);
}

/* The primary + standby pair, the standby as read replica; stop_pg() stops the standby. */
static int setup_replica(void **state)
{
    (void)state;
    snprintf(pg_pidfile, sizeof pg_pidfile, "%s", getenv("KURA_TEST_PG_STANDBY_PIDFILE"));
    return start(getenv("KURA_TEST_PG_PRIMARY_URL"), getenv("KURA_TEST_PG_STANDBY_URL"), NULL);
}

static int teardown(void **state)
{
    (void)state;
    resume_pg();
    kura_http_stop(F.srv);
    kura_app_close(F.app);
    const char *files[] = {"docs.db",   "docs.db-wal", "docs.db-shm",  "kv.db",
                           "kv.db-wal", "kv.db-shm",   "kv.db.secret", "db.db",
                           "db.db-wal", "db.db-shm",   "db.db.secret"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", F.dir, files[i]);
        unlink(path);
    }
    rmdir(F.dir);
    return 0;
}

/* Resumes the cluster after each test, passed or failed. */
static int after(void **state)
{
    (void)state;
    resume_pg();
    return 0;
}

static int64_t post_user(const char *name)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"email\":\"%s@example.com\",\"age\":30,\"sex\":\"F\"}", name, name);
    response r = request("POST", "/users", body);
    expect(&r, 201, "POST /users");
    json_t *j = json_loads(r.body, 0, NULL);
    int64_t id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    free(r.body);
    return id;
}

typedef struct call {
    pthread_t t;
    const char *method, *path;
    char body[256];
    response r;
} call;

static void *call_run(void *arg)
{
    call *c = arg;
    c->r = request(c->method, c->path, c->body[0] ? c->body : NULL);
    return NULL;
}

/* Waits until the service answers GET path with 200 (the store is back). */
static bool answers_200(const char *path)
{
    response r = request("GET", path, NULL);
    free(r.body);
    return r.status == 200;
}

/*
 * PostgreSQL hangs: more requests to /users at once than the service has threads.
 * Every one gets a 503 problem+json within the answer timeout (never a hang); the
 * routes on the other stores answer 200 promptly meanwhile; /health answers 503
 * naming the SQL store; once PostgreSQL continues, /users answers again without
 * a restart.
 */
static void pg_hung_degrades_only_its_routes(void **state)
{
    (void)state;
    int64_t id = post_user("before");
    char user_path[64];
    snprintf(user_path, sizeof user_path, "/users/%lld", (long long)id);
    assert_true(answers_200(user_path));

    stop_pg();
    enum { N = 3 * THREADS };
    call calls[N];
    for (int i = 0; i < N; i++) {
        calls[i] = (call){.method = "GET", .path = user_path};
        assert_int_equal(pthread_create(&calls[i].t, NULL, call_run, &calls[i]), 0);
    }
    /* While those wait: the routes that need no PostgreSQL. */
    KURA_POLL(false, 100);
    const char *healthy[] = {"/me_users?limit=1", "/rankings/board", "/metrics"};
    for (size_t i = 0; i < sizeof healthy / sizeof healthy[0]; i++) {
        response r = request("GET", healthy[i], NULL);
        expect(&r, 200, healthy[i]);
        if (r.ms > PROMPT_MS)
            fail_msg("GET %s took %lld ms while PostgreSQL hung", healthy[i], r.ms);
        free(r.body);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(calls[i].t, NULL);
        expect_503_problem(&calls[i].r, "GET /users/{id} while PostgreSQL hung");
        if (calls[i].r.ms > ANSWER_MS + 2000)
            fail_msg("a /users request took %lld ms (answer timeout %d ms)", calls[i].r.ms,
                     ANSWER_MS);
        free(calls[i].r.body);
    }
    /* Once a wait gave up, the next ones end at the stall limit or at once. */
    response r = request("GET", user_path, NULL);
    expect_503_problem(&r, "GET /users/{id} after the first timeout");
    assert_true(r.ms < PROMPT_MS);
    free(r.body);
    r = request("POST", "/session", "{\"user\":\"alice\"}"); /* the key-value store is fine */
    expect(&r, 201, "POST /session");
    free(r.body);
    r = request("GET", "/health", NULL);
    expect(&r, 503, "/health");
    assert_true(r.ms < PROMPT_MS);
    json_t *j = json_loads(r.body, 0, NULL);
    json_t *stores = json_object_get(j, "stores");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(stores, "sql"), "status")),
        "unavailable");
    assert_string_equal(json_string_value(json_object_get(json_object_get(stores, "kv"), "status")),
                        "ok");
    json_decref(j);
    free(r.body);

    resume_pg();
    KURA_POLL(answers_200(user_path), 5000);
    assert_true(answers_200(user_path));
    assert_true(answers_200("/health"));
}

static int64_t count_named(const char *name)
{
    kura_query q = kura_query_for(&sa_user_model);
    kura_where_str(&q, "name", KURA_EQ, name);
    int64_t n = -1;
    kura_error err = {0};
    if (!kura_count(kura_app_db(F.app), &q, &n, &err))
        fail_msg("count: %s", err.message);
    return n;
}

/* A client that POSTs users back to back until told to stop, keeping every answer. */
enum { MAX_WRITES = 4096 };
typedef struct writer {
    pthread_t t;
    int n;
    atomic_bool *stop;
    long status[MAX_WRITES];
    bool maybe[MAX_WRITES]; /* a 503 saying the write may have been applied */
    bool problem[MAX_WRITES];
    int id;
} writer;

static void *writer_run(void *arg)
{
    writer *w = arg;
    while (!atomic_load(w->stop) && w->n < MAX_WRITES) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"w%d-%d\",\"email\":\"w@example.com\",\"age\":31,\"sex\":\"M\"}",
                 w->id, w->n);
        response r = request("POST", "/users", body);
        w->status[w->n] = r.status;
        w->maybe[w->n] = r.body && strstr(r.body, "may or may not have been applied");
        w->problem[w->n] = strcmp(r.type, "application/problem+json") == 0;
        w->n++;
        free(r.body);
    }
    return NULL;
}

/*
 * Writes in flight when PostgreSQL hangs: every POST answers 201 (and the row is
 * there afterwards) or 503 problem+json; a 503 that says the write may have been
 * applied may or may not be there, any other 503 must not be.
 */
static void pg_hung_writes_are_honest(void **state)
{
    (void)state;
    enum { N = 2 * THREADS };
    static writer ws[N];
    atomic_bool stop = false;
    for (int i = 0; i < N; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        ws[i].id = i;
        ws[i].stop = &stop;
        assert_int_equal(pthread_create(&ws[i].t, NULL, writer_run, &ws[i]), 0);
    }
    KURA_POLL(false, 300);
    stop_pg();
    KURA_POLL(false, ANSWER_MS + 500);
    resume_pg();
    KURA_POLL(false, 300);
    atomic_store(&stop, true);
    for (int i = 0; i < N; i++)
        pthread_join(ws[i].t, NULL);
    KURA_POLL(answers_200("/health"), 5000);
    int acked = 0, unknown = 0, unknown_applied = 0, refused = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < ws[i].n; k++) {
            char name[32];
            snprintf(name, sizeof name, "w%d-%d", i, k);
            int64_t n = count_named(name);
            assert_true(n <= 1);
            if (ws[i].status[k] == 201) {
                if (n != 1)
                    fail_msg("POST %s was acknowledged (201) and is not there", name);
                acked++;
                continue;
            }
            if (ws[i].status[k] != 503 || !ws[i].problem[k])
                fail_msg("POST %s answered %ld%s", name, ws[i].status[k],
                         ws[i].status[k] == 503 ? " not as problem+json" : "");
            if (!ws[i].maybe[k] && n != 0)
                fail_msg("POST %s answered 503 (unavailable) but was applied", name);
            unknown += ws[i].maybe[k];
            unknown_applied += ws[i].maybe[k] && n == 1;
            refused += !ws[i].maybe[k];
        }
    assert_true(acked > 0);
    assert_true(unknown + refused > 0);
    print_message("writes while PostgreSQL hung: %d acknowledged, %d outcome unknown (%d of them "
                  "applied), %d refused and not applied\n",
                  acked, unknown, unknown_applied, refused);
}

/* --- a Redis of the test's own (the shared one serves other tests meanwhile) ------ */

static pid_t redis_pid;
static int redis_port;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool redis_answers(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)redis_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool start_redis(void)
{
    if ((redis_port = free_port()) < 0)
        return false;
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    redis_pid = fork();
    if (redis_pid < 0)
        return false;
    if (redis_pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    KURA_POLL(redis_answers(), 5000);
    return redis_answers();
}

static void stop_redis(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGCONT);
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
        redis_pid = 0;
    }
}

static int setup_redis(void **state)
{
    (void)state;
    if (!start_redis()) {
        fprintf(stderr, "cannot start redis-server\n");
        stop_redis();
        return -1;
    }
    char url[128];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0?timeout=1000&stall=200", redis_port);
    return start(NULL, NULL, url);
}

static int teardown_redis(void **state)
{
    teardown(state);
    stop_redis();
    return 0;
}

/* Whether board b holds member. */
static bool ranked(const char *member)
{
    response r = request("GET", "/rankings/b?limit=100", NULL);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"member\":\"%s\"", member);
    bool in = r.status == 200 && r.body && strstr(r.body, quoted);
    if (r.status != 200)
        fail_msg("GET /rankings/b: %ld %s", r.status, r.body ? r.body : "");
    free(r.body);
    return in;
}

/*
 * Redis hangs with ranking writes in flight: each answers 200 (the member is
 * there afterwards) or 503 problem+json, and a 503 that does not say the write
 * may have been applied must not have been: a stopped Redis runs what it was sent
 * once it continues. Meanwhile the SQL routes answer, /health names the
 * key-value store.
 */
static void redis_hung_writes_are_honest(void **state)
{
    (void)state;
    response r = request("POST", "/rankings/b", "{\"member\":\"before\",\"score\":1}");
    expect(&r, 200, "POST /rankings/b");
    free(r.body);
    pg_npids = 1;
    pg_pids[0] = redis_pid;
    pause_all();
    enum { N = 2 * THREADS };
    call calls[N];
    for (int i = 0; i < N; i++) {
        calls[i] = (call){.method = "POST", .path = "/rankings/b"};
        snprintf(calls[i].body, sizeof calls[i].body, "{\"member\":\"m%d\",\"score\":%d}", i,
                 i + 2);
        assert_int_equal(pthread_create(&calls[i].t, NULL, call_run, &calls[i]), 0);
    }
    /* Workers held by Redis calls are held for at most its 1 s timeout. */
    r = request("GET", "/users?limit=1", NULL);
    expect(&r, 200, "GET /users while Redis hung");
    if (r.ms > 1000 + PROMPT_MS)
        fail_msg("GET /users took %lld ms while Redis hung", r.ms);
    free(r.body);
    for (int i = 0; i < N; i++)
        pthread_join(calls[i].t, NULL);
    r = request("GET", "/health", NULL);
    expect(&r, 503, "/health while Redis hung");
    assert_true(r.ms < PROMPT_MS);
    json_t *j = json_loads(r.body, 0, NULL);
    json_t *kv = json_object_get(json_object_get(j, "stores"), "kv");
    assert_string_equal(json_string_value(json_object_get(kv, "status")), "unavailable");
    json_decref(j);
    free(r.body);

    resume_pg();
    KURA_POLL(answers_200("/rankings/b"), 5000);
    int acked = 0, unknown = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        char member[16];
        snprintf(member, sizeof member, "m%d", i);
        response *c = &calls[i].r;
        bool in = ranked(member);
        if (c->status == 200) {
            assert_true(in);
            acked++;
        } else {
            expect_503_problem(c, "POST /rankings/b while Redis hung");
            bool maybe = c->body && strstr(c->body, "may or may not have been applied");
            if (!maybe && in)
                fail_msg("POST /rankings/b %s answered 503 (%s) but was applied", member, c->body);
            unknown += maybe;
            refused += !maybe;
        }
        free(c->body);
    }
    assert_true(unknown > 0);
    print_message("ranking writes while Redis hung: %d acknowledged, %d outcome unknown, %d "
                  "refused and not applied\n",
                  acked, unknown, refused);
}

static kura_store_node replica_node(void)
{
    kura_store_node nodes[4];
    size_t n = kura_store_nodes(kura_app_db(F.app), nodes, 4);
    assert_int_equal(n, 2);
    return nodes[1];
}

/*
 * A read replica hangs (SIGSTOP of the standby) while it serves reads: reads still
 * answer 200 (the one that finds out after the answer timeout, from the primary),
 * the following ones at once; /health stays 200 and shows the replica unavailable;
 * after SIGCONT the replica is taken back.
 */
static void replica_hung_reads_go_on(void **state)
{
    (void)state;
    int64_t id = post_user("replicated");
    char path[64];
    snprintf(path, sizeof path, "/users/%lld", (long long)id);
    /* Reads reach the replica once it has replayed the write (read-your-writes). */
    uint64_t before = replica_node().reads;
    KURA_POLL(answers_200(path) && replica_node().reads > before, 10000);
    assert_true(replica_node().reads > before);

    stop_pg();
    enum { N = 3 * THREADS };
    call calls[N];
    for (int i = 0; i < N; i++) {
        calls[i] = (call){.method = "GET", .path = i % 2 ? "/users?limit=1" : path};
        assert_int_equal(pthread_create(&calls[i].t, NULL, call_run, &calls[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(calls[i].t, NULL);
        expect(&calls[i].r, 200, "a read while the replica hung");
        if (calls[i].r.ms > ANSWER_MS + 2000)
            fail_msg("a read took %lld ms (answer timeout %d ms)", calls[i].r.ms, ANSWER_MS);
        free(calls[i].r.body);
    }
    response r = request("GET", path, NULL);
    expect(&r, 200, "a read after the replica was found hung");
    if (r.ms > PROMPT_MS)
        fail_msg("a read took %lld ms after the replica was found hung", r.ms);
    free(r.body);
    r = request("GET", "/health", NULL);
    expect(&r, 200, "/health with a hung replica");
    assert_non_null(strstr(r.body, "\"unavailable\""));
    free(r.body);
    assert_false(replica_node().in_use);

    resume_pg();
    KURA_POLL(replica_node().in_use, 10000);
    assert_true(replica_node().in_use);
}

static void no_server(void **state)
{
    (void)state;
    KURA_SKIP_NO_SERVER("service faults: KURA_TEST_PG_URL and KURA_TEST_PG_DATA not set (the test "
                        "command starts a throwaway PostgreSQL)");
}

static void no_redis(void **state)
{
    (void)state;
    KURA_SKIP_NO_SERVER("service faults, redis: redis-server is not installed");
}

static void no_pair(void **state)
{
    (void)state;
    KURA_SKIP_NO_SERVER("service faults, read replica: KURA_TEST_PG_PRIMARY_URL, "
                        "KURA_TEST_PG_STANDBY_URL and KURA_TEST_PG_STANDBY_PIDFILE not set (the "
                        "test command starts a primary + standby pair)");
}

int main(void)
{
    const char *pg = getenv("KURA_TEST_PG_URL"), *data = getenv("KURA_TEST_PG_DATA");
    if (!pg || !*pg || !data || !*data) {
        const struct CMUnitTest t[] = {cmocka_unit_test(no_server)};
        return cmocka_run_group_tests_name("service faults", t, NULL, NULL);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest t[] = {
        cmocka_unit_test_teardown(pg_hung_degrades_only_its_routes, after),
        cmocka_unit_test_teardown(pg_hung_writes_are_honest, after),
    };
    int failed = cmocka_run_group_tests_name("service faults", t, setup, teardown);
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        const struct CMUnitTest skip[] = {cmocka_unit_test(no_redis)};
        failed += cmocka_run_group_tests_name("service faults, redis", skip, NULL, NULL);
    } else {
        const struct CMUnitTest r[] = {
            cmocka_unit_test_teardown(redis_hung_writes_are_honest, after),
        };
        failed +=
            cmocka_run_group_tests_name("service faults, redis", r, setup_redis, teardown_redis);
    }
    const char *primary = getenv("KURA_TEST_PG_PRIMARY_URL");
    const char *standby = getenv("KURA_TEST_PG_STANDBY_URL");
    const char *standby_pid = getenv("KURA_TEST_PG_STANDBY_PIDFILE");
    if (!primary || !*primary || !standby || !*standby || !standby_pid || !*standby_pid) {
        const struct CMUnitTest skip[] = {cmocka_unit_test(no_pair)};
        failed += cmocka_run_group_tests_name("service faults, read replica", skip, NULL, NULL);
    } else {
        const struct CMUnitTest r[] = {
            cmocka_unit_test_teardown(replica_hung_reads_go_on, after),
        };
        failed +=
            cmocka_run_group_tests_name("service faults, read replica", r, setup_replica, teardown);
    }
    curl_global_cleanup();
    return failed;
}
