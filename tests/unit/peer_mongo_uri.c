/*
 * peer_mongo_uri.c — MongoDB URIs reach libmongoc as written: replica-set seed lists,
 * mongodb+srv://, read preference, read and write concern, retryable writes, appname.
 *
 * Run by with_mongo_peer.sh against the MongoDB wire-protocol test peer
 * (../shared/test-peers/mongo-wire: NOT MongoDB, not a replica set). What this can and
 * cannot show: options the peer tolerates (write concern, read preference, read
 * concern, retryWrites, appname) open a store that then reads and writes, so kura
 * neither rejects nor rewrites them; options whose effect the peer exposes are seen to
 * act (replicaSet=rs0 makes libmongoc wait for a member of "rs0", which the peer is
 * not, for exactly the URI's serverSelectionTimeoutMS); invalid combinations are
 * refused by libmongoc with its own message. That a write concern is honoured by a
 * replica set, that reads go to a secondary, or that a write is retried across a
 * primary election needs a real replica set, which these machines do not have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <kura/kura.h>
#include <kura/log.h>

typedef struct mu_item {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
} mu_item;

static const kura_model mu_item_model =
    KURA_MODEL(mu_item, "mu_item", KURA_STRING(mu_item, name, 32));

static const char *peer;
static int errors_logged;
static char last_error[256];

static void count_errors(kura_log_level level, const char *source, const char *message, void *ctx)
{
    (void)ctx;
    if (level >= KURA_LOG_ERROR) {
        errors_logged++;
        snprintf(last_error, sizeof last_error, "%s: %s", source, message);
    }
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_options_the_peer_tolerates_pass_through(void **state)
{
    (void)state;
    char url[512];
    snprintf(url, sizeof url,
             "%s/kura_uri?w=majority&journal=true&wtimeoutMS=2000&readPreference="
             "secondaryPreferred&readPreferenceTags=dc:east&readConcernLevel=majority&"
             "retryWrites=true&retryReads=true&appname=kura-uri-test&serverSelectionTimeoutMS="
             "3000",
             peer);
    errors_logged = 0;
    kura_error err = {0};
    kura_store *s = kura_document_store_open(url, &err);
    if (!s)
        fail_msg("%s: %s", url, err.message);
    assert_true(kura_drop(s, &mu_item_model, &err));
    assert_true(kura_create(s, &mu_item_model, &err));
    mu_item it, back;
    kura_init(&mu_item_model, &it);
    kura_copy_string(it.name, sizeof it.name, "majority");
    assert_true(kura_insert(s, &mu_item_model, &it, &err));
    assert_true(kura_get(s, &mu_item_model, it.base.id, &back, &err));
    assert_string_equal(back.name, "majority");
    kura_store_close(s);
    /* The URI's appname is kept: kura sets its own only when the URI has none. */
    if (errors_logged)
        fail_msg("libmongoc logged %d error(s), e.g. %s", errors_logged, last_error);
}

/* Opening fails after the URI's own serverSelectionTimeoutMS, not libmongoc's 30 s. */
static void expect_unavailable(const char *url, double within)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kura_error err = {0};
    kura_store *s = kura_document_store_open(url, &err);
    double took = seconds_since(&t0);
    if (s)
        fail_msg("%s opened", url);
    print_message("%s: %s after %.2f s: %s\n", url, kura_code_name(err.code), took, err.message);
    assert_int_equal(err.code, KURA_UNAVAILABLE);
    assert_true(took < within);
}

static void test_a_replica_set_uri_reaches_libmongoc(void **state)
{
    (void)state;
    char url[512];
    /* The peer is a standalone server: a client told to find replica set rs0 finds no
     * member of it, so the option was read. */
    snprintf(url, sizeof url, "%s/kura_uri?replicaSet=rs0&serverSelectionTimeoutMS=300", peer);
    expect_unavailable(url, 5);
    /* A seed list of several hosts with a read preference and a write concern. */
    expect_unavailable("mongodb://127.0.0.1:1,127.0.0.1:2,127.0.0.1:3/kura?replicaSet=rs0&"
                       "readPreference=nearest&w=2&serverSelectionTimeoutMS=200&"
                       "connectTimeoutMS=200",
                       5);
}

static void test_libmongoc_judges_the_uri(void **state)
{
    (void)state;
    kura_error err = {0};
    /* An unacknowledged write cannot be journaled: libmongoc says so, kura passes it on. */
    assert_null(kura_document_store_open("mongodb://127.0.0.1:1/kura?w=0&journal=true", &err));
    print_message("w=0&journal=true: %s\n", err.message);
    assert_int_equal(err.code, KURA_CONFIG);
    /* mongodb+srv:// goes to libmongoc, which resolves the SRV record (a name that
     * cannot exist here): not an unknown scheme. */
    kura_error_clear(&err);
    assert_null(kura_document_store_open(
        "mongodb+srv://cluster0.kura-test.invalid/kura?retryWrites=true&w=majority&"
        "serverSelectionTimeoutMS=200",
        &err));
    print_message("mongodb+srv: %s: %s\n", kura_code_name(err.code), err.message);
    assert_null(strstr(err.message, "scheme"));
    assert_non_null(strstr(err.message, "SRV record \"_mongodb._tcp.cluster0.kura-test.invalid\""));
    assert_int_equal(err.code, KURA_CONFIG);
}

static void no_peer(void **state)
{
    (void)state;
    printf("skipped: KURA_TEST_MONGO_PEER_URL not set (with_mongo_peer.sh starts the MongoDB "
           "wire-protocol test peer)\n");
    skip();
}

int main(void)
{
    peer = getenv("KURA_TEST_MONGO_PEER_URL");
    kura_log_set_handler(count_errors, NULL);
    if (!peer || !*peer) {
        const struct CMUnitTest t[] = {cmocka_unit_test(no_peer)};
        return cmocka_run_group_tests_name("mongodb uri", t, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_the_peer_tolerates_pass_through),
        cmocka_unit_test(test_a_replica_set_uri_reaches_libmongoc),
        cmocka_unit_test(test_libmongoc_judges_the_uri),
    };
    return cmocka_run_group_tests_name("mongodb uri", tests, NULL, NULL);
}
