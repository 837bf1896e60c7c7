/*
 * test_mongoengine_interop.c — kura and the guide's MongoEngine MEUser share one
 * collection on the MongoDB wire-protocol test peer (NOT MongoDB; see
 * ../shared/test-peers/mongo-wire/README.md): MongoEngine saves an MEUser and
 * kura lists, reads, updates and deletes it by its ObjectId; kura saves one and
 * Python reads it (with pymongo from MongoEngine's collection: MongoEngine 0.24
 * cannot read MEUser back by key, see me_user_app.py). Needs Debian's
 * python3-mongoengine and the peer (with_mongo_peer.sh sets
 * KURA_TEST_MONGO_PEER_URL); without either the test prints why and skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <kura/kura.h>

#include "me_user.h"

#define PYTHON "/usr/bin/python3"

static char url[512];
static kura_store *docs;

/* Runs the MongoEngine app with args; returns its stdout (static buffer) or
 * NULL when it failed; *status (may be NULL) gets its exit status. */
static const char *python(const char *args, int *status)
{
    static char out[8192];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' %s 2>/dev/null", PYTHON, KURA_INTEROP_ME_SCRIPT, url,
             args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    if (status)
        *status = code;
    return code == 0 ? out : NULL;
}

static void test_kura_reads_what_mongoengine_wrote(void **state)
{
    (void)state;
    const kura_model *m = me_user_model();
    const char *out = python("add py py@example.com 30 F", NULL);
    assert_non_null(out);
    char pk[KURA_KEY_BYTES];
    snprintf(pk, sizeof pk, "%.24s", out);
    assert_int_equal(strlen(pk), 24);

    /* Listed (the listing that answered 500 before keys had kinds)... */
    kura_rows rows = {0};
    kura_error err = {0};
    assert_true(me_user_fetch_30_age(docs, &rows, &err));
    assert_int_equal(rows.nmisfits, 0);
    const me_user *found = NULL;
    for (size_t i = 0; i < rows.count; i++)
        if (strcmp(((const me_user *)kura_row(&rows, i))->base.key, pk) == 0)
            found = kura_row(&rows, i);
    assert_non_null(found);
    assert_string_equal(found->name, "py");
    assert_string_equal(found->email, "py@example.com");
    assert_true(found->base.created_at > 0);
    kura_rows_free(&rows);

    /* ...read, changed (change_sex, saved) and deleted by its ObjectId. */
    me_user u;
    assert_true(kura_get_key(docs, m, pk, &u, &err));
    assert_string_equal(u.sex, "F");
    me_user_change_sex(&u, "M");
    assert_true(kura_save(docs, m, &u, &err)); /* has a key: an update */
    char args[128];
    snprintf(args, sizeof args, "get %s", pk);
    out = python(args, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"sex\": \"M\""));
    assert_non_null(strstr(out, "\"_id\": \"ObjectId "));
    assert_true(kura_delete_key(docs, m, pk, &err));
    int status = 0;
    assert_null(python(args, &status));
    assert_int_equal(status, 3); /* gone for Python too */
}

static void test_python_reads_what_kura_wrote(void **state)
{
    (void)state;
    const kura_model *m = me_user_model();
    me_user k;
    kura_init(m, &k);
    kura_copy_string(k.name, sizeof k.name, "kura");
    kura_copy_string(k.email, sizeof k.email, "kura@example.com");
    k.age = 41;
    me_user_change_sex(&k, "M");
    kura_error err = {0};
    assert_true(kura_save(docs, m, &k, &err));
    assert_int_equal(strlen(k.base.key), 24);

    char args[128];
    snprintf(args, sizeof args, "get %s", k.base.key);
    const char *out = python(args, NULL);
    assert_non_null(out);
    /* An ObjectId _id in MongoEngine's collection, BSON dates, MEUser's fields. */
    assert_non_null(strstr(out, "\"collection\": \"m_e_user\""));
    char oid[128];
    snprintf(oid, sizeof oid, "\"_id\": \"ObjectId %s\"", k.base.key);
    assert_non_null(strstr(out, oid));
    assert_non_null(strstr(out, "\"name\": \"kura\""));
    assert_non_null(strstr(out, "\"age\": 41"));
    assert_non_null(strstr(out, "\"created_at\": \"datetime\""));
    out = python("names", NULL); /* and MongoEngine's own reading of the fields */
    assert_non_null(out);
    assert_non_null(strstr(out, "[\"kura\", \"M\", null]"));
    assert_true(kura_delete_key(docs, m, k.base.key, &err));
}

static int setup(void **state)
{
    (void)state;
    kura_error err = {0};
    docs = kura_document_store_open(url, &err);
    if (!docs) {
        fprintf(stderr, "cannot open %s: %s\n", url, err.message);
        return -1;
    }
    return kura_drop(docs, me_user_model(), &err) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    kura_drop(docs, me_user_model(), NULL);
    kura_store_close(docs);
    return 0;
}

static void skipped(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const char *peer = getenv("KURA_TEST_MONGO_PEER_URL");
    const char *why = NULL;
    if (!peer || !*peer)
        why = "no MongoDB wire-protocol test peer (with_mongo_peer.sh starts it)";
    else if (system(PYTHON " -c 'import mongoengine, pymongo' 2>/dev/null") != 0)
        why = "Debian's python3-mongoengine is not installed (scripts/bootstrap installs it)";
    if (why) {
        printf("skipped: MongoEngine interop: %s\n", why);
        const struct CMUnitTest s[] = {cmocka_unit_test(skipped)};
        return cmocka_run_group_tests_name("mongoengine interop", s, NULL, NULL);
    }
    snprintf(url, sizeof url, "%s/kura_me_interop", peer);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kura_reads_what_mongoengine_wrote),
        cmocka_unit_test(test_python_reads_what_kura_wrote),
    };
    return cmocka_run_group_tests_name("mongoengine interop", tests, setup, teardown);
}
