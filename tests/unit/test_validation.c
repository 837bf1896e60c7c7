/* test_validation.c — UTF-8, e-mail syntax, and kura_validate's rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kura/json.h>

#include "unit/t_user.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* --- e-mail -------------------------------------------------------------- */

#define L10 "abcdefghij"
#define L63 L10 L10 L10 L10 L10 L10 "abc"
#define L64 L63 "d"

static const char *const good_emails[] = {
    "root@localhost",
    "a.b@x-y.z",
    "user@example.com",
    "first.last@sub.example.co.uk",
    "user+tag@example.org",
    "x@a",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    ".leading.dot@example.com", /* WHATWG allows dots anywhere in the local part */
    "a..b@example.com",
    "1@2",
    "UPPER@EXAMPLE.COM",
    "user@xn--bcher-kva.ch",
    "user@123.123.123.123",
    "u_s-e.r@d0main.c0m",
    "a@a-b--c.d",
    "a@" L63,
    "a@" L63 "." L63,
};

static const char *const bad_emails[] = {
    "",
    "@example.com",      /* empty local part */
    "user@",             /* empty domain */
    "user",              /* no @ */
    "user@example.com.", /* trailing dot */
    "user@.example.com", /* leading dot in domain */
    "user@example..com", /* empty label */
    "a@" L64,            /* 64-character label */
    "a@" L63 "." L64,
    "us er@example.com", /* space */
    " user@example.com",
    "user@example.com ",
    "user@exa mple.com",
    "a@b@c",                    /* two @ */
    "\xe3\x83\xa6@example.com", /* unicode local part */
    "user@ex\xc3\xa4mple.com",  /* unicode domain (must be punycode) */
    "user@-example.com",        /* label starts with '-' */
    "user@example-.com",        /* label ends with '-' */
    "user@exa_mple.com",
    "\"quoted\"@example.com",
    "user@[127.0.0.1]",
    "user(comment)@example.com",
    "user@example.com\n",
};

static void test_email_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < LEN(good_emails); i++) {
        if (!kura_email_valid(good_emails[i]))
            fail_msg("rejected good e-mail \"%s\"", good_emails[i]);
    }
    assert_true(LEN(good_emails) >= 15);
}

static void test_email_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < LEN(bad_emails); i++) {
        if (kura_email_valid(bad_emails[i]))
            fail_msg("accepted bad e-mail \"%s\"", bad_emails[i]);
    }
    assert_true(LEN(bad_emails) >= 15);
    assert_false(kura_email_valid(NULL));
}

/* --- UTF-8 --------------------------------------------------------------- */

static long chars(const char *s)
{
    return kura_utf8_chars(s, strlen(s));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_int_equal(chars(""), 0);
    assert_int_equal(chars("abc"), 3);
    assert_int_equal(chars("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), 3); /* 日本語 */
    assert_int_equal(chars("\xf0\x9f\x98\x80"), 1);                     /* U+1F600 */
    assert_int_equal(chars("\xf4\x8f\xbf\xbf"), 1);                     /* U+10FFFF */
    assert_int_equal(chars("\xed\x9f\xbf"), 1);                         /* U+D7FF */
    assert_int_equal(chars("\xee\x80\x80"), 1);                         /* U+E000 */
    assert_int_equal(chars("\xc2\x80"), 1);                             /* U+0080 */
    assert_int_equal(chars("\xe0\xa0\x80"), 1);                         /* U+0800 */
    assert_int_equal(chars("\xf0\x90\x80\x80"), 1);                     /* U+10000 */
    /* len bounds the scan: a NUL inside counts as a character. */
    assert_int_equal(kura_utf8_chars("a\0b", 3), 3);
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong 3-byte */
        "\xe0\x9f\xbf",     /* overlong 3-byte */
        "\xf0\x80\x80\x80", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xe3\x81",      /* truncated */
        "a\xf0\x9f\x98", /* truncated at the end */
        "\xe3\x41\x82",  /* bad continuation */
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        if (chars(bad[i]) != -1)
            fail_msg("accepted invalid UTF-8 #%zu", i);
    }
    /* The length bound cuts a valid sequence: truncated. */
    assert_int_equal(kura_utf8_chars("\xe3\x81\x82", 2), -1);
}

static void test_copy_string(void **state)
{
    (void)state;
    const char *a3 = "\xe3\x81\x82\xe3\x81\x84\xe3\x81\x86"; /* あいう, 9 bytes */
    char buf[16];

    assert_true(kura_copy_string(buf, sizeof buf, a3));
    assert_string_equal(buf, a3);
    assert_true(kura_copy_string(buf, 10, a3)); /* exactly fits with the NUL */
    assert_string_equal(buf, a3);

    assert_false(kura_copy_string(buf, 9, a3));
    assert_string_equal(buf, "\xe3\x81\x82\xe3\x81\x84");
    assert_false(kura_copy_string(buf, 7, a3));
    assert_string_equal(buf, "\xe3\x81\x82\xe3\x81\x84");
    assert_false(kura_copy_string(buf, 6, a3));
    assert_string_equal(buf, "\xe3\x81\x82");
    assert_false(kura_copy_string(buf, 4, a3));
    assert_string_equal(buf, "\xe3\x81\x82");
    assert_false(kura_copy_string(buf, 3, a3));
    assert_string_equal(buf, "");
    assert_false(kura_copy_string(buf, 1, a3));
    assert_string_equal(buf, "");
    assert_false(kura_copy_string(buf, 0, a3));

    assert_false(kura_copy_string(buf, 4, "abcdef"));
    assert_string_equal(buf, "abc");
    assert_true(kura_copy_string(buf, 1, ""));
    assert_string_equal(buf, "");
}

/* --- kura_validate ------------------------------------------------------- */

/* *u must be zeroed or initialised: what it owns is released first. */
static void valid_user(t_user *u)
{
    kura_clear(&t_user_model, u);
    kura_init(&t_user_model, u);
    strcpy(u->name, "Alice");
    strcpy(u->email, "alice@example.com");
    u->age = 30;
    strcpy(u->sex, "F");
    u->ratio = 0.5;
}

/* Validates u; expects failure on `field` with message `message`. */
static void expect_invalid(const t_user *u, const char *field, const char *message)
{
    kura_error err;
    kura_error_clear(&err);
    assert_false(kura_validate(&t_user_model, u, &err));
    assert_int_equal(err.code, KURA_VALIDATION);
    assert_string_equal(err.field, field);
    assert_string_equal(err.message, message);
}

static void expect_valid(const t_user *u)
{
    kura_error err;
    kura_error_clear(&err);
    if (!kura_validate(&t_user_model, u, &err))
        fail_msg("unexpected: %s", err.message);
}

static void test_valid_user(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    expect_valid(&u);
    kura_clear(&t_user_model, &u);
}

static void repeat(char *dst, const char *unit, int times)
{
    dst[0] = '\0';
    for (int i = 0; i < times; i++)
        strcat(dst, unit);
}

static void test_lengths_in_characters(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);

    repeat(u.name, "\xe3\x81\x82", 128); /* 128 × あ = 384 bytes */
    expect_valid(&u);
    repeat(u.name, "\xe3\x81\x82", 129);
    expect_invalid(&u, "name", "name is longer than 128 characters");

    /* 128 four-byte characters fill KURA_STRING_BYTES(128) exactly. */
    repeat(u.name, "\xf0\x9f\x98\x80", 128);
    assert_int_equal(strlen(u.name) + 1, sizeof u.name);
    expect_valid(&u);

    repeat(u.name, "a", 128);
    expect_valid(&u);
    repeat(u.name, "a", 129);
    expect_invalid(&u, "name", "name is longer than 128 characters");

    /* A 1-character field takes one multibyte character, not two ASCII ones. */
    valid_user(&u);
    strcpy(u.nick, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
                   "\xe6\x97\xa5\xe6\x9c\xac"); /* 8 characters, 24 bytes */
    expect_valid(&u);
    strcpy(u.nick, "123456789");
    expect_invalid(&u, "nick", "nick is longer than 8 characters");
    /* One is singular: "longer than 1 character". */
    valid_user(&u);
    strcpy(u.sex, "MF");
    expect_invalid(&u, "sex", "sex is longer than 1 character");
    kura_clear(&t_user_model, &u);
}

static void test_invalid_utf8_and_unterminated(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    strcpy(u.name, "Al\xc0\x80ice");
    expect_invalid(&u, "name", "name is not valid UTF-8");

    valid_user(&u);
    memset(u.nick, 'x', sizeof u.nick);
    expect_invalid(&u, "nick", "nick is not NUL-terminated");

    valid_user(&u);
    assert_true(kura_set_text(&u.bio, "bad \xed\xa0\x80"));
    expect_invalid(&u, "bio", "bio is not valid UTF-8");
    kura_clear(&t_user_model, &u);
}

/* A string member is scanned 8 bytes at a time: a NUL, a multi-byte character
 * or a bad byte at every place within and across those words. */
static void test_string_scan_offsets(void **state)
{
    (void)state;
    t_user u = {0};
    for (int n = 1; n <= 40; n++) {
        valid_user(&u);
        memset(u.name, 'a', (size_t)n);
        u.name[n] = '\0';
        expect_valid(&u);
        strcpy(u.name + n, "\xc3\xa9"
                           "b"); /* é after n ASCII bytes */
        expect_valid(&u);
        strcpy(u.name + n, "\xc0\x80"); /* an overlong NUL */
        expect_invalid(&u, "name", "name is not valid UTF-8");
        strcpy(u.name + n, "\xc3"); /* cut short */
        expect_invalid(&u, "name", "name is not valid UTF-8");
        u.name[n] = '\x80'; /* a lone continuation byte, then the rest of the array */
        memset(u.name + n + 1, 'b', 8);
        u.name[n + 9] = '\0';
        expect_invalid(&u, "name", "name is not valid UTF-8");
    }
    /* Characters are counted past a multi-byte one: 127 + 1 fit, 128 + 1 do not. */
    valid_user(&u);
    memset(u.name, 'a', 127);
    strcpy(u.name + 127, "\xc3\xa9");
    expect_valid(&u);
    memset(u.name, 'a', 128);
    strcpy(u.name + 128, "\xc3\xa9");
    expect_invalid(&u, "name", "name is longer than 128 characters");
    /* No NUL in the member is reported before its bad bytes, wherever they are. */
    for (size_t at = 0; at < sizeof u.nick; at++) {
        valid_user(&u);
        memset(u.nick, 'x', sizeof u.nick);
        u.nick[at] = '\xff';
        expect_invalid(&u, "nick", "nick is not NUL-terminated");
    }
    /* The last byte of the member as the NUL: 32 ASCII bytes are 32 characters. */
    valid_user(&u);
    memset(u.nick, 'x', sizeof u.nick - 1);
    u.nick[sizeof u.nick - 1] = '\0';
    expect_invalid(&u, "nick", "nick is longer than 8 characters");
    kura_clear(&t_user_model, &u);
}

static void test_email_field(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    strcpy(u.email, "alice@example.com.");
    expect_invalid(&u, "email", "email is not a valid e-mail address");
    strcpy(u.email, "root@localhost");
    expect_valid(&u);
    strcpy(u.email, "");
    expect_invalid(&u, "email", "email is required");
    kura_clear(&t_user_model, &u);
}

static void test_choices(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    strcpy(u.sex, "X");
    expect_invalid(&u, "sex", "sex must be one of: M, F");
    strcpy(u.sex, "M");
    expect_valid(&u);
    strcpy(u.sex, ""); /* optional: empty is allowed */
    expect_valid(&u);
    kura_clear(&t_user_model, &u);
}

static void test_required_and_null(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    u.name[0] = '\0';
    expect_invalid(&u, "name", "name is required");

    valid_user(&u);
    kura_set_null(&t_user_model, &u, kura_field_named(&t_user_model, "name"), true);
    expect_invalid(&u, "name", "name is required");

    /* An optional NULL field skips its other checks. */
    valid_user(&u);
    u.age = 999;
    kura_set_null(&t_user_model, &u, kura_field_named(&t_user_model, "age"), true);
    expect_valid(&u);
    kura_set_null(&t_user_model, &u, kura_field_named(&t_user_model, "age"), false);
    expect_invalid(&u, "age", "age must be between 0 and 150");

    /* TEXT NULL pointer reads as empty. */
    valid_user(&u);
    assert_true(kura_set_text(&u.bio, NULL));
    expect_valid(&u);
    kura_clear(&t_user_model, &u);
}

static void test_ranges(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    u.age = 0;
    expect_valid(&u);
    u.age = 150;
    expect_valid(&u);
    u.age = 151;
    expect_invalid(&u, "age", "age must be between 0 and 150");
    u.age = -1;
    expect_invalid(&u, "age", "age must be between 0 and 150");

    valid_user(&u);
    u.ratio = 1.0;
    expect_valid(&u);
    u.ratio = 1.5;
    expect_invalid(&u, "ratio", "ratio must be between 0 and 1");
    u.ratio = NAN;
    expect_invalid(&u, "ratio", "ratio is not a finite number");
    u.ratio = INFINITY;
    expect_invalid(&u, "ratio", "ratio is not a finite number");
    kura_clear(&t_user_model, &u);
}

typedef struct t_event {
    kura_base base;
    kura_time at;
    double x; /* no range: any finite value */
} t_event;

static const kura_model t_event_model = KURA_MODEL(
    t_event, "t_event", KURA_DATETIME(t_event, at, .required = true), KURA_DOUBLE(t_event, x));

static void test_datetime_required(void **state)
{
    (void)state;
    t_event e;
    kura_error err;
    kura_init(&t_event_model, &e);
    assert_false(kura_validate(&t_event_model, &e, &err));
    assert_string_equal(err.message, "at is required");
    e.at = kura_now();
    e.x = -1e300;
    assert_true(kura_validate(&t_event_model, &e, &err));
    e.x = NAN;
    assert_false(kura_validate(&t_event_model, &e, &err));
    assert_string_equal(err.field, "x");
}

static void test_validate_all(void **state)
{
    (void)state;
    t_user u = {0};
    valid_user(&u);
    u.name[0] = '\0';
    strcpy(u.email, "nope");
    u.age = 200;
    strcpy(u.sex, "Q");

    kura_field_error out[8];
    assert_int_equal(kura_validate_all(&t_user_model, &u, out, LEN(out)), 4);
    assert_string_equal(out[0].field, "name");
    assert_string_equal(out[0].reason, "is required");
    assert_string_equal(out[1].field, "email");
    assert_string_equal(out[1].reason, "is not a valid e-mail address");
    assert_string_equal(out[2].field, "age");
    assert_string_equal(out[2].reason, "must be between 0 and 150");
    assert_string_equal(out[3].field, "sex");
    assert_string_equal(out[3].reason, "must be one of: M, F");

    /* Past cap, failures are counted but not written. */
    kura_field_error two[2];
    assert_int_equal(kura_validate_all(&t_user_model, &u, two, 2), 4);
    assert_string_equal(two[1].field, "email");
    assert_int_equal(kura_validate_all(&t_user_model, &u, NULL, 0), 4);

    /* kura_validate stops at the first. */
    expect_invalid(&u, "name", "name is required");

    kura_error err;
    kura_error_clear(&err);
    assert_false(
        kura_validate_field(&t_user_model, &u, kura_field_named(&t_user_model, "age"), &err));
    assert_string_equal(err.message, "age must be between 0 and 150");
    assert_true(
        kura_validate_field(&t_user_model, &u, kura_field_named(&t_user_model, "ratio"), &err));

    valid_user(&u);
    assert_int_equal(kura_validate_all(&t_user_model, &u, out, LEN(out)), 0);
    kura_clear(&t_user_model, &u);
}

/* --- model values -------------------------------------------------------- */

static void test_init_clear_copy(void **state)
{
    (void)state;
    t_user u;
    kura_init(&t_user_model, &u);
    assert_int_equal(u.base.id, 0);
    assert_int_equal(u.base.nulls, 0);
    assert_int_equal(u.score, 10);
    assert_true(u.active);
    assert_string_equal(u.bio, "hello");
    assert_string_equal(u.name, "");

    t_user c;
    kura_error err;
    assert_true(kura_copy(&t_user_model, &c, &u, &err));
    assert_ptr_not_equal(c.bio, u.bio);
    assert_string_equal(c.bio, "hello");
    assert_true(kura_set_text(&c.bio, c.bio)); /* self-assignment is safe */
    assert_string_equal(c.bio, "hello");

    kura_clear(&t_user_model, &u);
    assert_null(u.bio);
    kura_clear(&t_user_model, &u); /* twice is safe */
    assert_string_equal(c.bio, "hello");
    kura_clear(&t_user_model, &c);
}

static void test_fields_and_nulls(void **state)
{
    (void)state;
    const kura_field *f = kura_field_named(&t_user_model, "sex");
    assert_non_null(f);
    assert_int_equal(kura_field_index(&t_user_model, f), 3);
    assert_int_equal(f->max_chars, 1);
    assert_null(kura_field_named(&t_user_model, "id")); /* base columns are not user fields */
    assert_null(kura_field_named(&t_user_model, "nope"));
    assert_null(kura_field_named(&t_user_model, NULL));

    t_user u;
    kura_init(&t_user_model, &u);
    assert_false(kura_is_null(&t_user_model, &u, f));
    kura_set_null(&t_user_model, &u, f, true);
    assert_true(kura_is_null(&t_user_model, &u, f));
    assert_int_equal(u.base.nulls, 1u << 3);
    kura_set_null(&t_user_model, &u, f, false);
    assert_int_equal(u.base.nulls, 0);
    kura_clear(&t_user_model, &u);
}

/* NULL arguments to the model helpers are refused or ignored, never read
 * through: each of these crashed. */
static void test_null_arguments(void **state)
{
    (void)state;
    t_user u;
    kura_init(&t_user_model, &u);
    kura_error err = {0};
    assert_false(kura_validate(NULL, &u, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_validate(&t_user_model, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_false(kura_validate_field(&t_user_model, &u, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    assert_null(kura_to_json(NULL, &u));
    assert_null(kura_to_json(&t_user_model, NULL));
    assert_null(kura_to_json_string(NULL, &u));
    kura_clear(NULL, &u);
    kura_clear(&t_user_model, NULL);
    t_user copy;
    assert_false(kura_copy(&t_user_model, &copy, NULL, &err));
    assert_int_equal(err.code, KURA_INVALID);
    char buf[8] = "xyz";
    assert_true(kura_copy_string(buf, sizeof buf, NULL));
    assert_string_equal(buf, "");
    kura_tags tags = {0};
    assert_false(kura_tags_add(&tags, NULL));
    assert_int_equal(tags.count, 0);
    kura_clear(&t_user_model, &u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_good),
        cmocka_unit_test(test_email_bad),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_copy_string),
        cmocka_unit_test(test_valid_user),
        cmocka_unit_test(test_lengths_in_characters),
        cmocka_unit_test(test_invalid_utf8_and_unterminated),
        cmocka_unit_test(test_string_scan_offsets),
        cmocka_unit_test(test_email_field),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_required_and_null),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_datetime_required),
        cmocka_unit_test(test_validate_all),
        cmocka_unit_test(test_init_clear_copy),
        cmocka_unit_test(test_fields_and_nulls),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
