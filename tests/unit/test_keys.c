/* test_keys.c — model keys: making them, reading them, naming them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kura/kura.h>

typedef struct k_note {
    kura_base base;
    char title[KURA_STRING_BYTES(16)];
} k_note;

static const kura_model int_model = KURA_MODEL(k_note, "k_note", KURA_STRING(k_note, title, 16));
static const kura_model uuid_model =
    KURA_MODEL_KEYED(k_note, "k_note", KURA_KEY_UUID, KURA_STRING(k_note, title, 16));
static const kura_model oid_model =
    KURA_MODEL_KEYED(k_note, "k_note", KURA_KEY_OBJECTID, KURA_STRING(k_note, title, 16));
static const kura_model str_model =
    KURA_MODEL_KEYED(k_note, "k_note", KURA_KEY_STRING, KURA_STRING(k_note, title, 16));

/* MongoEngine's MEUser: a declared field named id, so the key is "_id". */
typedef struct k_me {
    kura_base base;
    char id[KURA_STRING_BYTES(24)];
    char name[KURA_STRING_BYTES(16)];
} k_me;
static const kura_model me_model = KURA_MODEL_KEYED(
    k_me, "m_e_user", KURA_KEY_OBJECTID, KURA_STRING(k_me, id, 24), KURA_STRING(k_me, name, 16));

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void test_uuid_v7_form(void **state)
{
    (void)state;
    char a[KURA_KEY_BYTES], b[KURA_KEY_BYTES];
    kura_error err = {0};
    kura_time before = kura_now();
    assert_true(kura_key_new(KURA_KEY_UUID, a, &err));
    assert_int_equal(strlen(a), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_true(hexval(a[i]) >= 0); /* lowercase hex */
    }
    assert_int_equal(a[14], '7');               /* version 7 */
    assert_true(strchr("89ab", a[19]) != NULL); /* variant 10 */
    /* The first 48 bits are the time in milliseconds. */
    uint64_t ms = 0;
    for (int i = 0; i < 13; i++)
        if (a[i] != '-')
            ms = ms * 16 + (uint64_t)hexval(a[i]);
    assert_true(ms >= (uint64_t)(before / 1000) && ms <= (uint64_t)(kura_now() / 1000));
    /* Random bits differ, and later keys sort later (sub-millisecond time). */
    assert_true(kura_key_new(KURA_KEY_UUID, b, &err));
    assert_string_not_equal(a, b);
    for (int i = 0; i < 200; i++) {
        char c[KURA_KEY_BYTES];
        memcpy(a, b, sizeof a);
        kura_time t = kura_now();
        while (kura_now() == t) /* one microsecond apart at least */
            ;
        assert_true(kura_key_new(KURA_KEY_UUID, c, &err));
        assert_true(strcmp(c, a) > 0);
        memcpy(b, c, sizeof b);
    }
}

static void test_objectid_form(void **state)
{
    (void)state;
    char a[KURA_KEY_BYTES], b[KURA_KEY_BYTES];
    kura_error err = {0};
    assert_true(kura_key_new(KURA_KEY_OBJECTID, a, &err));
    assert_true(kura_key_new(KURA_KEY_OBJECTID, b, &err));
    assert_int_equal(strlen(a), 24);
    for (int i = 0; i < 24; i++)
        assert_true(hexval(a[i]) >= 0);
    assert_true(strcmp(a, b) < 0); /* the drivers' counter: made in order */
    /* The first four bytes are the time in seconds. */
    unsigned long secs =
        strtoul((char[9]){a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], 0}, NULL, 16);
    long now = (long)(kura_now() / 1000000);
    assert_true(labs((long)secs - now) <= 2);
}

static void test_no_new_int_or_string_keys(void **state)
{
    (void)state;
    char k[KURA_KEY_BYTES];
    kura_error err = {0};
    assert_false(kura_key_new(KURA_KEY_INT64, k, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_key_new(KURA_KEY_STRING, k, &err));
    assert_int_equal(err.code, KURA_INVALID);
}

static void test_parse(void **state)
{
    (void)state;
    char k[KURA_KEY_BYTES];
    int64_t id = 0;
    kura_error err = {0};
    assert_true(kura_key_parse(&int_model, "42", &id, k, &err));
    assert_int_equal(id, 42);
    const char *bad_ints[] = {"", "0", "-1", "4x", "99999999999999999999", " 1", NULL};
    for (int i = 0; bad_ints[i]; i++) {
        kura_error_clear(&err);
        assert_false(kura_key_parse(&int_model, bad_ints[i], &id, k, &err));
        assert_int_equal(err.code, KURA_INVALID);
        assert_string_equal(err.field, "id");
    }

    assert_true(kura_key_parse(&uuid_model, "018F3A2B-1C4D-7E5F-8A6B-7C8D9E0F1A2B", NULL, k, &err));
    assert_string_equal(k, "018f3a2b-1c4d-7e5f-8a6b-7c8d9e0f1a2b"); /* canonical: lowercase */
    const char *bad_uuids[] = {"",
                               "not-a-uuid",
                               "018f3a2b1c4d7e5f8a6b7c8d9e0f1a2b",
                               "018f3a2b-1c4d-7e5f-8a6b-7c8d9e0f1a2",
                               "018f3a2b-1c4d-7e5f-8a6b-7c8d9e0f1a2bc",
                               "018f3a2b-1c4d-7e5f-8a6b-7c8d9e0f1a2g",
                               NULL};
    for (int i = 0; bad_uuids[i]; i++) {
        kura_error_clear(&err);
        assert_false(kura_key_parse(&uuid_model, bad_uuids[i], NULL, k, &err));
        assert_int_equal(err.code, KURA_INVALID);
        assert_non_null(strstr(err.message, "UUID"));
    }

    assert_true(kura_key_parse(&oid_model, "5F1D7A3B9C0E4A2B8D6F0A11", NULL, k, &err));
    assert_string_equal(k, "5f1d7a3b9c0e4a2b8d6f0a11");
    /* Another program's _id: a string or an integer's text reads as itself. */
    assert_true(kura_key_parse(&oid_model, "user-1", NULL, k, &err));
    assert_string_equal(k, "user-1");
    char too_long[KURA_KEY_BYTES + 1];
    memset(too_long, 'x', KURA_KEY_BYTES);
    too_long[KURA_KEY_BYTES] = '\0';
    const char *bad_texts[] = {"", "a\nb", "\xff\xfe", too_long, NULL};
    for (int i = 0; bad_texts[i]; i++) {
        kura_error_clear(&err);
        assert_false(kura_key_parse(&str_model, bad_texts[i], NULL, k, &err));
        assert_int_equal(err.code, KURA_INVALID);
        kura_error_clear(&err);
        assert_false(kura_key_parse(&oid_model, bad_texts[i], NULL, k, &err));
    }
    assert_true(kura_key_parse(&str_model, "ünïcode-ok", NULL, k, &err));
    too_long[KURA_KEY_BYTES - 1] = '\0'; /* 63 bytes: the most a key holds */
    assert_true(kura_key_parse(&str_model, too_long, NULL, k, &err));
}

static void test_check_new(void **state)
{
    (void)state;
    k_note n;
    kura_error err = {0};
    kura_init(&oid_model, &n);
    snprintf(n.base.key, sizeof n.base.key, "user-1"); /* readable, but not an ObjectId */
    assert_false(kura_key_check_new(&oid_model, &n.base, &err));
    assert_int_equal(err.code, KURA_VALIDATION);
    assert_string_equal(err.field, "id");
    snprintf(n.base.key, sizeof n.base.key, "5F1D7A3B9C0E4A2B8D6F0A11");
    assert_true(kura_key_check_new(&oid_model, &n.base, &err));
    assert_string_equal(n.base.key, "5f1d7a3b9c0e4a2b8d6f0a11");
    snprintf(n.base.key, sizeof n.base.key, "nope");
    assert_false(kura_key_check_new(&uuid_model, &n.base, &err));
}

static void test_names_and_text(void **state)
{
    (void)state;
    assert_string_equal(kura_key_name(&int_model), "id");
    assert_string_equal(kura_key_name(&uuid_model), "id");
    assert_string_equal(kura_key_name(&me_model), "_id"); /* a field has the name id */
    assert_string_equal(kura_key_kind_name(KURA_KEY_OBJECTID), "objectid");
    k_note n;
    kura_init(&int_model, &n);
    char t[KURA_KEY_BYTES];
    assert_false(kura_key_is_set(&int_model, &n));
    n.base.id = 7;
    kura_key_text(&int_model, &n, t);
    assert_string_equal(t, "7");
    assert_true(kura_key_is_set(&int_model, &n));
    kura_init(&uuid_model, &n);
    assert_false(kura_key_is_set(&uuid_model, &n));
    snprintf(n.base.key, sizeof n.base.key, "abc");
    kura_key_text(&uuid_model, &n, t);
    assert_string_equal(t, "abc");
}

/* JSON: a text key is a string, named "_id" beside a field named id. */
static void test_json(void **state)
{
    (void)state;
    k_me u;
    kura_init(&me_model, &u);
    snprintf(u.base.key, sizeof u.base.key, "5f1d7a3b9c0e4a2b8d6f0a11");
    snprintf(u.id, sizeof u.id, "legacy-7");
    snprintf(u.name, sizeof u.name, "ann");
    char *text = kura_to_json_string(&me_model, &u);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"_id\":\"5f1d7a3b9c0e4a2b8d6f0a11\""));
    assert_non_null(strstr(text, "\"id\":\"legacy-7\""));
    k_me back;
    kura_init(&me_model, &back);
    kura_error err = {0};
    assert_true(kura_from_json_string(&me_model, text, strlen(text), &back, false, &err));
    assert_string_equal(back.base.key, u.base.key);
    assert_string_equal(back.id, "legacy-7");
    free(text);
    /* An int64 key stays a JSON integer; a string where it wants one is refused. */
    k_note n;
    kura_init(&int_model, &n);
    n.base.id = 3;
    text = kura_to_json_string(&int_model, &n);
    assert_non_null(strstr(text, "\"id\":3"));
    free(text);
    assert_false(kura_from_json_string(&int_model, "{\"id\":\"3\"}", 10, &n, false, &err));
    assert_false(kura_from_json_string(&uuid_model, "{\"id\":3}", 8, &n, false, &err));
    /* The query builder names the key the same way. */
    kura_query q = kura_query_for(&me_model);
    kura_where_str(&q, "_id", KURA_EQ, "5f1d7a3b9c0e4a2b8d6f0a11");
    kura_where_str(&q, "id", KURA_EQ, "legacy-7");
    assert_null(kura_query_error(&q));
    q = kura_query_for(&uuid_model);
    kura_where_int(&q, "id", KURA_EQ, 3); /* a text key takes a string */
    assert_non_null(kura_query_error(&q));
}

static void test_mongoengine_names(void **state)
{
    (void)state;
    char out[64];
    struct {
        const char *cls, *coll;
    } cases[] = {{"MEUser", "m_e_user"}, {"BlogPost", "blog_post"},  {"User", "user"},
                 {"user", "user"},       {"HTTPLog", "h_t_t_p_log"}, {"_Private", "private"},
                 {"A_B", "a__b"},        {"Trail_", "trail"},        {"SAUser2", "s_a_user2"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(kura_mongoengine_collection(cases[i].cls, out, sizeof out));
        assert_string_equal(out, cases[i].coll);
    }
    assert_false(kura_mongoengine_collection("MEUser", out, 4));
    assert_string_equal(out, "m_e");
    /* NULL arguments are refused, not read through. */
    assert_false(kura_mongoengine_collection(NULL, out, sizeof out));
    assert_false(kura_mongoengine_collection("MEUser", NULL, 8));
    assert_false(kura_uuid_new(NULL));
    kura_error err = {0};
    assert_false(kura_key_new(KURA_KEY_UUID, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    k_note note = {0};
    assert_false(kura_from_json_string(&int_model, NULL, 0, &note, false, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_string_equal(err.message, "NULL JSON text");
}

/* Inserting: kura makes uuid and objectid keys, checks a caller's, and
 * demands a string key; kura_get refuses text-keyed models. */
static void test_store_keys(void **state)
{
    (void)state;
    kura_error err = {0};
    kura_store *db = kura_store_open("sqlite://:memory:", &err);
    assert_non_null(db);
    const kura_model *models[] = {&uuid_model, &oid_model, &str_model};
    for (int i = 0; i < 3; i++) {
        const kura_model *m = models[i];
        assert_true(kura_drop(db, m, &err) && kura_create(db, m, &err));
        k_note n;
        kura_init(m, &n);
        snprintf(n.title, sizeof n.title, "t");
        bool ok = kura_insert(db, m, &n, &err);
        if (m->key == KURA_KEY_STRING) {
            assert_false(ok);
            assert_int_equal(err.code, KURA_VALIDATION);
            assert_string_equal(err.field, "id");
            snprintf(n.base.key, sizeof n.base.key, "first");
            assert_true(kura_save(db, m, &n, &err)); /* no row: an insert */
            snprintf(n.title, sizeof n.title, "u");
            assert_true(kura_save(db, m, &n, &err)); /* now an update */
        } else {
            assert_true(ok);
            assert_true(kura_key_is_set(m, &n));
            kura_error_clear(&err);
            assert_true(kura_save(db, m, &n, &err)); /* has a key: an update */
        }
        assert_int_equal(n.base.id, 0);
        k_note back;
        assert_true(kura_get_key(db, m, n.base.key, &back, &err));
        assert_false(kura_get(db, m, 1, &back, &err));
        assert_int_equal(err.code, KURA_INVALID);
        int64_t count = 0;
        kura_query q = kura_query_for(m);
        assert_true(kura_count(db, &q, &count, &err));
        assert_int_equal(count, 1);
        assert_true(kura_delete_key(db, m, n.base.key, &err));
        assert_false(kura_delete_key(db, m, n.base.key, &err));
        assert_int_equal(err.code, KURA_NOT_FOUND);
        assert_false(kura_get_key(db, m, "", &back, &err));
        assert_int_equal(err.code, KURA_INVALID);
    }
    /* A caller's malformed UUID is refused before anything is written. */
    k_note n;
    kura_init(&uuid_model, &n);
    snprintf(n.base.key, sizeof n.base.key, "not-a-uuid");
    assert_false(kura_insert(db, &uuid_model, &n, &err));
    assert_int_equal(err.code, KURA_VALIDATION);
    /* A failed insert takes back the key it made. */
    k_note batch[2];
    kura_init(&uuid_model, &batch[0]);
    kura_init(&uuid_model, &batch[1]);
    snprintf(batch[0].title, sizeof batch[0].title, "fine");
    memset(batch[1].title, 'x', sizeof batch[1].title - 1); /* too long: invalid */
    batch[1].title[sizeof batch[1].title - 1] = '\0';
    assert_false(kura_insert_many(db, &uuid_model, batch, 2, &err));
    assert_string_equal(batch[0].base.key, "");
    assert_string_equal(batch[1].base.key, "");
    kura_store_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v7_form),
        cmocka_unit_test(test_objectid_form),
        cmocka_unit_test(test_no_new_int_or_string_keys),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_check_new),
        cmocka_unit_test(test_names_and_text),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_mongoengine_names),
        cmocka_unit_test(test_store_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
