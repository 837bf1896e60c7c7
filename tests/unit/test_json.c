/* test_json.c — the JSON codec: round trips, nulls, and every error class. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include <kura/json.h>

#include "unit/t_user.h"

static void full_user(t_user *u)
{
    kura_init(&t_user_model, u);
    u->base.id = 7;
    u->base.created_at = INT64_C(951827696789012);            /* 2000-02-29 12:34:56.789012 */
    u->base.updated_at = -1;                                  /* 1969-12-31 23:59:59.999999 */
    strcpy(u->name, "\xe5\xb1\xb1\xe7\x94\xb0 \"Yamada\"\n"); /* 山田, with escapes */
    strcpy(u->email, "yamada@example.jp");
    u->age = -2147483647 - 1;
    strcpy(u->sex, "M");
    u->score = INT64_MAX;
    u->ratio = 0.25;
    u->active = false;
    assert_true(kura_set_text(&u->bio, "line1\nline2 \xf0\x9f\x98\x80"));
    u->born = INT64_C(-14182940000000); /* 1969-07-20 20:17:40 */
    strcpy(u->nick, "");
}

static void assert_same_user(const t_user *a, const t_user *b)
{
    assert_int_equal(a->base.id, b->base.id);
    assert_int_equal(a->base.created_at, b->base.created_at);
    assert_int_equal(a->base.updated_at, b->base.updated_at);
    assert_int_equal(a->base.nulls, b->base.nulls);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->email, b->email);
    assert_int_equal(a->age, b->age);
    assert_string_equal(a->sex, b->sex);
    assert_int_equal(a->score, b->score);
    assert_true(a->ratio == b->ratio);
    assert_int_equal(a->active, b->active);
    if (a->bio == NULL || b->bio == NULL)
        assert_ptr_equal(a->bio, b->bio);
    else
        assert_string_equal(a->bio, b->bio);
    assert_int_equal(a->born, b->born);
    assert_string_equal(a->nick, b->nick);
}

/* Parses text into *u (initialised first); returns the result, err filled. */
static bool decode(t_user *u, const char *text, bool ignore_unknown, kura_error *err)
{
    kura_error_clear(err);
    return kura_from_json_string(&t_user_model, text, strlen(text), u, ignore_unknown, err);
}

static void test_round_trip(void **state)
{
    (void)state;
    t_user u, v;
    kura_error err;
    full_user(&u);

    char *text = kura_to_json_string(&t_user_model, &u);
    assert_non_null(text);
    kura_init(&t_user_model, &v);
    if (!decode(&v, text, false, &err))
        fail_msg("%s", err.message);
    assert_same_user(&u, &v);

    /* A second encoding of the decoded value is byte-identical. */
    char *again = kura_to_json_string(&t_user_model, &v);
    assert_string_equal(text, again);
    free(again);
    free(text);
    kura_clear(&t_user_model, &u);
    kura_clear(&t_user_model, &v);
}

static void test_encoding_shape(void **state)
{
    (void)state;
    t_user u;
    kura_init(&t_user_model, &u);
    strcpy(u.name, "A");
    u.ratio = 0.5;
    u.base.created_at = 1;
    char *text = kura_to_json_string(&t_user_model, &u);
    assert_string_equal(text, "{\"id\":0,\"name\":\"A\",\"email\":\"\",\"age\":0,\"sex\":\"\","
                              "\"score\":10,\"ratio\":0.5,\"active\":true,\"bio\":\"hello\","
                              "\"born\":null,\"nick\":\"\","
                              "\"created_at\":\"1970-01-01T00:00:00.000001Z\","
                              "\"updated_at\":null}");
    free(text);

    /* A NULL TEXT pointer encodes as "", a non-finite double as null. */
    assert_true(kura_set_text(&u.bio, NULL));
    u.ratio = NAN;
    json_t *j = kura_to_json(&t_user_model, &u);
    assert_string_equal(json_string_value(json_object_get(j, "bio")), "");
    assert_true(json_is_null(json_object_get(j, "ratio")));
    json_decref(j);

    /* Invalid UTF-8 cannot be written as JSON. */
    strcpy(u.name, "\xff");
    assert_null(kura_to_json(&t_user_model, &u));
    assert_null(kura_to_json_string(&t_user_model, &u));
    kura_clear(&t_user_model, &u);
}

static void test_nulls(void **state)
{
    (void)state;
    t_user u, v;
    kura_error err;
    full_user(&u);
    const kura_field *age = kura_field_named(&t_user_model, "age");
    const kura_field *bio = kura_field_named(&t_user_model, "bio");
    const kura_field *name = kura_field_named(&t_user_model, "name");
    kura_set_null(&t_user_model, &u, age, true);
    kura_set_null(&t_user_model, &u, name, true);

    json_t *j = kura_to_json(&t_user_model, &u);
    assert_true(json_is_null(json_object_get(j, "age")));
    assert_true(json_is_null(json_object_get(j, "name")));
    assert_true(json_is_integer(json_object_get(j, "score")));
    json_decref(j);

    /* Decoding null sets the marker and zeroes (or frees) the member. */
    full_user(&v);
    assert_true(decode(&v, "{\"age\":null,\"bio\":null,\"name\":null,\"born\":null}", false, &err));
    assert_true(kura_is_null(&t_user_model, &v, age));
    assert_true(kura_is_null(&t_user_model, &v, bio));
    assert_true(kura_is_null(&t_user_model, &v, name));
    assert_int_equal(v.age, 0);
    assert_null(v.bio);
    assert_string_equal(v.name, "");
    assert_int_equal(v.born, 0);
    /* Untouched keys keep their values. */
    assert_string_equal(v.email, "yamada@example.jp");
    assert_int_equal(v.score, INT64_MAX);

    /* A value clears the marker again. */
    assert_true(decode(&v, "{\"age\":5,\"bio\":\"x\"}", false, &err));
    assert_false(kura_is_null(&t_user_model, &v, age));
    assert_false(kura_is_null(&t_user_model, &v, bio));
    assert_int_equal(v.age, 5);
    assert_string_equal(v.bio, "x");

    /* null base timestamps and id mean unset. */
    assert_true(decode(&v, "{\"id\":null,\"created_at\":null}", false, &err));
    assert_int_equal(v.base.id, 0);
    assert_int_equal(v.base.created_at, 0);
    kura_clear(&t_user_model, &u);
    kura_clear(&t_user_model, &v);
}

static void test_accepted_values(void **state)
{
    (void)state;
    t_user u;
    kura_error err;
    kura_init(&t_user_model, &u);
    assert_true(decode(&u, "{\"ratio\":1}", false, &err)); /* integers are numbers */
    assert_true(u.ratio == 1.0);
    assert_true(decode(&u, "{\"age\":2147483647,\"score\":-9223372036854775808}", false, &err));
    assert_int_equal(u.age, INT32_MAX);
    assert_int_equal(u.score, INT64_MIN);
    assert_true(decode(&u, "{\"active\":false}", false, &err));
    assert_false(u.active);
    assert_true(decode(&u, "{\"born\":\"2000-02-29 21:34:56+09:00\",\"id\":3}", false, &err));
    assert_int_equal(u.born, INT64_C(951827696000000));
    assert_int_equal(u.base.id, 3);
    kura_clear(&t_user_model, &u);
}

/* Decoding text must fail with code on `field`, and the message contains `part`. */
static void expect_error(const char *text, kura_code code, const char *field, const char *part)
{
    t_user u;
    kura_error err;
    kura_init(&t_user_model, &u);
    if (decode(&u, text, false, &err))
        fail_msg("accepted %s", text);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
    if (strstr(err.message, part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.message, part);
    kura_clear(&t_user_model, &u);
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_error("{\"age\":2147483648}", KURA_VALIDATION, "age", "out of range");
    expect_error("{\"age\":-2147483649}", KURA_VALIDATION, "age", "out of range");
    expect_error("{\"age\":\"30\"}", KURA_VALIDATION, "age", "age must be an integer");
    expect_error("{\"age\":30.5}", KURA_VALIDATION, "age", "must be an integer");
    expect_error("{\"age\":30.0}", KURA_VALIDATION, "age", "must be an integer");
    expect_error("{\"score\":true}", KURA_VALIDATION, "score", "must be an integer");
    expect_error("{\"ratio\":\"0.5\"}", KURA_VALIDATION, "ratio", "must be a number");
    expect_error("{\"active\":1}", KURA_VALIDATION, "active", "must be true or false");
    expect_error("{\"active\":\"true\"}", KURA_VALIDATION, "active", "must be true or false");
    expect_error("{\"name\":5}", KURA_VALIDATION, "name", "must be a string");
    expect_error("{\"bio\":[]}", KURA_VALIDATION, "bio", "must be a string");
    expect_error("{\"born\":\"yesterday\"}", KURA_VALIDATION, "born", "date-time");
    expect_error("{\"born\":12345}", KURA_VALIDATION, "born", "date-time");
    expect_error("{\"created_at\":\"2000-02-30T00:00:00Z\"}", KURA_VALIDATION, "created_at",
                 "date-time");
    expect_error("{\"id\":\"7\"}", KURA_VALIDATION, "id", "must be an integer");
}

static void test_length_errors(void **state)
{
    (void)state;
    char text[1024];
    /* 8 multibyte characters fit a String(8); 9 do not. */
    strcpy(text, "{\"nick\":\"\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82"
                 "\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\"}");
    t_user u;
    kura_error err;
    kura_init(&t_user_model, &u);
    assert_true(decode(&u, text, false, &err));
    assert_int_equal(kura_utf8_chars(u.nick, strlen(u.nick)), 8);
    kura_clear(&t_user_model, &u);
    expect_error("{\"nick\":\"123456789\"}", KURA_VALIDATION, "nick",
                 "nick is longer than 8 characters");

    strcpy(text, "{\"name\":\"");
    for (int i = 0; i < 129; i++)
        strcat(text, "x");
    strcat(text, "\"}");
    expect_error(text, KURA_VALIDATION, "name", "longer than 128 characters");
}

/* A hand-written descriptor whose member is smaller than max_chars needs. */
typedef struct t_tight {
    kura_base base;
    char s[8];
} t_tight;

static const kura_field t_tight_fields[] = {
    {.name = "s",
     .type = KURA_TYPE_STRING,
     .offset = offsetof(t_tight, s),
     .size = sizeof(((t_tight *)0)->s),
     .max_chars = 8},
};
static const kura_model t_tight_model = {
    .name = "t_tight", .size = sizeof(t_tight), .fields = t_tight_fields, .nfields = 1};

static void test_byte_bound(void **state)
{
    (void)state;
    t_tight t;
    kura_error err;
    kura_init(&t_tight_model, &t);
    const char *ok = "{\"s\":\"\xe3\x81\x82\xe3\x81\x82\"}";              /* 6 bytes */
    const char *big = "{\"s\":\"\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\"}"; /* 3 chars, 9 bytes */
    assert_true(kura_from_json_string(&t_tight_model, ok, strlen(ok), &t, false, &err));
    assert_false(kura_from_json_string(&t_tight_model, big, strlen(big), &t, false, &err));
    assert_int_equal(err.code, KURA_VALIDATION);
    assert_string_equal(err.field, "s");
    assert_non_null(strstr(err.message, "too long"));
    assert_string_equal(t.s, "\xe3\x81\x82\xe3\x81\x82"); /* unchanged by the failure */
}

static void test_bad_strings(void **state)
{
    (void)state;
    t_user u;
    kura_error err;
    kura_init(&t_user_model, &u);

    /* jansson checks UTF-8 when parsing text, not in json_stringn_nocheck. */
    json_t *j = json_object();
    json_object_set_new(j, "name", json_stringn_nocheck("a\xc0\x80", 3));
    assert_false(kura_from_json(&t_user_model, j, &u, false, &err));
    assert_int_equal(err.code, KURA_VALIDATION);
    assert_string_equal(err.field, "name");
    assert_string_equal(err.message, "name is not valid UTF-8");
    json_decref(j);

    j = json_object();
    json_object_set_new(j, "bio", json_stringn("a\0b", 3));
    assert_false(kura_from_json(&t_user_model, j, &u, false, &err));
    assert_string_equal(err.field, "bio");
    assert_non_null(strstr(err.message, "NUL"));
    json_decref(j);

    /* Text with invalid UTF-8 or \u0000 is refused by the parser itself. */
    expect_error("{\"name\":\"a\xff\"}", KURA_INVALID, "", "invalid JSON");
    expect_error("{\"name\":\"a\\u0000b\"}", KURA_INVALID, "", "invalid JSON");
    kura_clear(&t_user_model, &u);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("{\"name\":\"A\",\"nmae\":\"B\"}", KURA_INVALID, "nmae", "unknown key \"nmae\"");

    t_user u;
    kura_error err;
    kura_init(&t_user_model, &u);
    assert_true(decode(&u, "{\"name\":\"A\",\"nmae\":\"B\",\"extra\":{}}", true, &err));
    assert_string_equal(u.name, "A");
    kura_clear(&t_user_model, &u);
}

/* A model without timestamps writes no stamps and reads them as unknown keys. */
typedef struct j_plain {
    kura_base base;
    char title[KURA_STRING_BYTES(8)];
} j_plain;
static const kura_model j_plain_model = KURA_MODEL_EX(
    j_plain, "j_plain", KURA_KEY_INT64, KURA_MODEL_NO_TIMESTAMPS, KURA_STRING(j_plain, title, 8));

static void test_no_timestamps(void **state)
{
    (void)state;
    j_plain p;
    kura_init(&j_plain_model, &p);
    p.base.id = 3;
    p.base.created_at = 12345; /* not the model's: never written */
    strcpy(p.title, "t");
    char *text = kura_to_json_string(&j_plain_model, &p);
    assert_string_equal(text, "{\"id\":3,\"title\":\"t\"}");
    free(text);

    kura_error err = {0};
    const char *in = "{\"title\":\"u\",\"created_at\":\"2020-01-01T00:00:00Z\"}";
    assert_false(kura_from_json_string(&j_plain_model, in, strlen(in), &p, false, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_string_equal(err.field, "created_at");
    kura_init(&j_plain_model, &p);
    assert_true(kura_from_json_string(&j_plain_model, in, strlen(in), &p, true, &err));
    assert_string_equal(p.title, "u");
    assert_int_equal(p.base.created_at, 0);
}

static void test_broken_text(void **state)
{
    (void)state;
    expect_error("{\"name\": \"A\",\n \"age\": }", KURA_INVALID, "", "line 2, column");
    expect_error("", KURA_INVALID, "", "invalid JSON at line");
    expect_error("{\"name\":\"A\"} trailing", KURA_INVALID, "", "invalid JSON");
    expect_error("{\"age\":1,\"age\":2}", KURA_INVALID, "", "duplicate");
    expect_error("[1,2]", KURA_INVALID, "", "expected a JSON object");
    expect_error("{\"score\":99999999999999999999}", KURA_INVALID, "", "invalid JSON");

    /* The length bounds the text: it need not be NUL-terminated. */
    t_user u;
    kura_error err;
    kura_init(&t_user_model, &u);
    const char *text = "{\"age\":12}garbage";
    assert_true(kura_from_json_string(&t_user_model, text, 10, &u, false, &err));
    assert_int_equal(u.age, 12);
    kura_clear(&t_user_model, &u);
}

/* Every field type, for the JSON text writer: its bytes are jansson's. */
typedef struct every {
    kura_base base;
    int32_t i32;
    int64_t i64;
    double d;
    bool b;
    char s[KURA_STRING_BYTES(40)];
    char e[KURA_STRING_BYTES(40)];
    char *t;
    kura_time at;
    char day[KURA_DATE_BYTES];
    char u[KURA_UUID_BYTES];
    char o[KURA_OBJECTID_BYTES];
    char p[KURA_DECIMAL_BYTES(8)];
    char *j;
    kura_tags tags;
} every;
#define EVERY_FIELDS                                                                               \
    KURA_INT32(every, i32), KURA_INT64(every, i64), KURA_DOUBLE(every, d), KURA_BOOL(every, b),    \
        KURA_STRING(every, s, 40), KURA_EMAIL(every, e, 40), KURA_TEXT(every, t),                  \
        KURA_DATETIME(every, at), KURA_DATE(every, day), KURA_UUID(every, u),                      \
        KURA_OBJECTID(every, o), KURA_DECIMAL(every, p, 8, 2), KURA_JSON(every, j),                \
        KURA_TAGS(every, tags)
static const kura_model every_model = KURA_MODEL(every, "every", EVERY_FIELDS);
static const kura_model every_keyed =
    KURA_MODEL_KEYED(every, "every_k", KURA_KEY_STRING, EVERY_FIELDS);
static const kura_model every_plain =
    KURA_MODEL_EX(every, "every_p", KURA_KEY_UUID, KURA_MODEL_NO_TIMESTAMPS, EVERY_FIELDS);

static void assert_text_is_janssons(const kura_model *m, const void *obj)
{
    json_t *j = kura_to_json(m, obj);
    char *want = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *got = kura_to_json_string(m, obj);
    if (!want)
        fail_msg("jansson's writer refused the object: the comparison would check nothing");
    assert_non_null(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void test_text_writer_is_janssons(void **state)
{
    (void)state;
    static const char *const strings[] = {
        "",
        "plain",
        "q\"uote\\back/slash",
        "\b\f\n\r\t",
        "\x01\x1f\x7f end",
        "\xe5\xb1\xb1\xe7\x94\xb0 \xf0\x9f\x98\x80",
        "\xe2\x80\xa8 sep",
    };
    const kura_model *models[] = {&every_model, &every_keyed, &every_plain};
    for (size_t k = 0; k < 3; k++) {
        const kura_model *m = models[k];
        for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
            every v;
            kura_init(m, &v);
            v.base.id = i ? -(int64_t)i * 1000003 : INT64_MIN;
            if (m->key != KURA_KEY_INT64 && i)
                snprintf(v.base.key, sizeof v.base.key, "k\"%zu\n", i);
            v.base.created_at = i ? INT64_C(951827696789012) : 0;
            v.base.updated_at = -1;
            v.i32 = i % 2 ? INT32_MIN : INT32_MAX;
            v.i64 = i % 2 ? INT64_MIN : (int64_t)i;
            v.d = i % 2 ? 0.1 + 0.2 : 1e300;
            v.b = i % 2;
            snprintf(v.s, sizeof v.s, "%s", strings[i]);
            snprintf(v.e, sizeof v.e, "%s", strings[(i + 1) % 7]);
            assert_true(kura_set_text(&v.t, strings[(i + 2) % 7]));
            v.at = i % 2 ? 0 : INT64_C(-14182940000000);
            if (i % 2) {
                snprintf(v.day, sizeof v.day, "2024-02-29");
                snprintf(v.u, sizeof v.u, "123e4567-e89b-42d3-a456-426614174000");
                snprintf(v.o, sizeof v.o, "6750a1c2e4b0c3d2a1f00001");
                snprintf(v.p, sizeof v.p, "-12.50");
                assert_true(kura_set_text(&v.j, "{\"k\": [1, \"two\", null, 2.5]}"));
                kura_tags_add(&v.tags, strings[i]);
                kura_tags_add(&v.tags, "x");
            }
            if (i == 3) /* nulls of every kind */
                for (size_t f = 0; f < m->nfields; f++)
                    kura_set_null(m, &v, &m->fields[f], true);
            assert_text_is_janssons(m, &v);
            kura_clear(m, &v);
        }
    }
    /* Numbers at their edges: doubles that need 17 digits, are whole, tiny
     * (subnormal), huge, negative zero or not finite (null); the integers' ends. */
    static const double doubles[] = {0.1,
                                     1.0 / 3,
                                     1e16,
                                     9007199254740993.0,
                                     -0.0,
                                     5e-324,
                                     2.2250738585072014e-308,
                                     1.7976931348623157e308,
                                     -1e-7,
                                     123456789012345678.0,
                                     NAN,
                                     INFINITY,
                                     -INFINITY};
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        every v;
        kura_init(&every_model, &v);
        v.d = doubles[i];
        v.i64 = i % 2 ? INT64_MAX : INT64_MIN;
        v.i32 = i % 2 ? INT32_MAX : INT32_MIN;
        v.base.id = INT64_MAX;
        assert_text_is_janssons(&every_model, &v);
        kura_clear(&every_model, &v);
    }
    /* Every byte below 0x20, and DEL, in every kind of text member. */
    char controls[34];
    for (int c = 1; c < 0x20; c++)
        controls[c - 1] = (char)c;
    controls[31] = 0x7f;
    controls[32] = '/';
    controls[33] = '\0';
    every c;
    kura_init(&every_keyed, &c);
    snprintf(c.base.key, sizeof c.base.key, "%s", controls);
    snprintf(c.s, sizeof c.s, "%s", controls);
    assert_true(kura_set_text(&c.t, controls));
    kura_tags_add(&c.tags, controls + 20);
    assert_text_is_janssons(&every_keyed, &c);
    kura_clear(&every_keyed, &c);

    /* Text that is not UTF-8 cannot be JSON: both refuse it. */
    every v;
    kura_init(&every_model, &v);
    snprintf(v.s, sizeof v.s, "bad \xff byte");
    assert_null(kura_to_json_string(&every_model, &v));
    assert_null(kura_to_json(&every_model, &v));
    kura_clear(&every_model, &v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_encoding_shape),
        cmocka_unit_test(test_nulls),         cmocka_unit_test(test_accepted_values),
        cmocka_unit_test(test_type_errors),   cmocka_unit_test(test_length_errors),
        cmocka_unit_test(test_byte_bound),    cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_unknown_keys),  cmocka_unit_test(test_broken_text),
        cmocka_unit_test(test_no_timestamps), cmocka_unit_test(test_text_writer_is_janssons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
