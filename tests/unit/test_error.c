/* test_error.c — error names, texts and kura_fail's truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kura/error.h>

static void test_names_and_texts(void **state)
{
    (void)state;
    assert_string_equal(kura_code_name(KURA_OK), "OK");
    assert_string_equal(kura_code_name(KURA_NOT_FOUND), "NOT_FOUND");
    assert_string_equal(kura_code_name(KURA_AUTH), "AUTH");
    assert_string_equal(kura_code_text(KURA_NOT_FOUND), "not found");
    assert_string_equal(kura_code_name((kura_code)999), "UNKNOWN");
    assert_non_null(kura_code_text((kura_code)-1));
}

static void test_fail_fills_and_returns_false(void **state)
{
    (void)state;
    kura_error err;
    kura_error_clear(&err);
    assert_int_equal(err.code, KURA_OK);
    assert_false(kura_fail(&err, KURA_NOT_FOUND, "id", "no row %d", 42));
    assert_int_equal(err.code, KURA_NOT_FOUND);
    assert_string_equal(err.field, "id");
    assert_string_equal(err.message, "no row 42");

    assert_false(kura_fail(&err, KURA_INVALID, NULL, "x"));
    assert_string_equal(err.field, "");
    assert_false(kura_fail(NULL, KURA_INVALID, NULL, "ignored"));
    kura_error_clear(NULL);
}

static void test_fail_truncates(void **state)
{
    (void)state;
    kura_error err;
    char longname[200];
    memset(longname, 'f', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char longmsg[600];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    kura_fail(&err, KURA_VALIDATION, longname, "%s", longmsg);
    assert_int_equal(strlen(err.field), sizeof err.field - 1);
    assert_int_equal(strlen(err.message), sizeof err.message - 1);

    /* 254 ASCII bytes then a 3-byte character: the partial character is dropped. */
    char text[300];
    memset(text, 'a', 254);
    strcpy(text + 254, "\xe3\x81\x82");
    kura_fail(&err, KURA_VALIDATION, NULL, "%s", text);
    assert_int_equal(strlen(err.message), 254);

    /* 252 + 3 = 255 bytes fit exactly and stay. */
    memset(text, 'a', 252);
    strcpy(text + 252, "\xe3\x81\x82zz");
    kura_fail(&err, KURA_VALIDATION, NULL, "%s", text);
    assert_int_equal(strlen(err.message), 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_texts),
        cmocka_unit_test(test_fail_fills_and_returns_false),
        cmocka_unit_test(test_fail_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
