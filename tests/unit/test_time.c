/* test_time.c — kura_time text: format, parse, and their round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kura/model.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Reference values computed with Python's datetime (naive UTC). */
static const struct {
    kura_time t;
    const char *text;
} known[] = {
    {0, "1970-01-01 00:00:00.000000"},
    {1, "1970-01-01 00:00:00.000001"},
    {-1, "1969-12-31 23:59:59.999999"},
    {-1000000, "1969-12-31 23:59:59.000000"},
    {-1000001, "1969-12-31 23:59:58.999999"},
    {INT64_C(951827696789012), "2000-02-29 12:34:56.789012"},
    {INT64_C(1709164800000000), "2024-02-29 00:00:00.000000"},
    {INT64_C(-2208988800000000), "1900-01-01 00:00:00.000000"},
    {INT64_C(-14182940000000), "1969-07-20 20:17:40.000000"},
    {INT64_C(-11670994676999996), "1600-02-29 01:02:03.000004"},
    {INT64_C(-62135596800000000), "0001-01-01 00:00:00.000000"},
    {INT64_C(253402300799999999), "9999-12-31 23:59:59.999999"},
};

static void test_format_known(void **state)
{
    (void)state;
    char text[KURA_TIME_TEXT];
    char iso[28];
    for (size_t i = 0; i < LEN(known); i++) {
        kura_time_format(known[i].t, text);
        assert_string_equal(text, known[i].text);

        kura_time_format_iso(known[i].t, iso);
        assert_int_equal(strlen(iso), 27);
        assert_memory_equal(iso, known[i].text, 10);
        assert_int_equal(iso[10], 'T');
        assert_memory_equal(iso + 11, known[i].text + 11, 15);
        assert_int_equal(iso[26], 'Z');
    }
}

static void test_parse_known(void **state)
{
    (void)state;
    for (size_t i = 0; i < LEN(known); i++) {
        kura_time t = 42;
        if (!kura_time_parse(known[i].text, &t))
            fail_msg("rejected \"%s\"", known[i].text);
        assert_int_equal(t, known[i].t);

        char iso[28];
        kura_time_format_iso(known[i].t, iso);
        assert_true(kura_time_parse(iso, &t));
        assert_int_equal(t, known[i].t);
    }
}

/* Every day across a few leap and non-leap years, with odd microseconds. */
static void test_round_trip_sweep(void **state)
{
    (void)state;
    const kura_time day = INT64_C(86400000000);
    char text[KURA_TIME_TEXT];
    for (kura_time t = INT64_C(-5) * 366 * day - 123457; t < INT64_C(3) * 366 * day;
         t += day + 3600000001) {
        kura_time back;
        kura_time_format(t, text);
        assert_true(kura_time_parse(text, &back));
        assert_int_equal(back, t);
    }
}

static void test_parse_variants(void **state)
{
    (void)state;
    kura_time t;
    const kura_time base = INT64_C(951827696000000); /* 2000-02-29 12:34:56 */

    assert_true(kura_time_parse("2000-02-29 12:34:56", &t));
    assert_int_equal(t, base);
    assert_true(kura_time_parse("2000-02-29T12:34:56", &t));
    assert_int_equal(t, base);
    assert_true(kura_time_parse("2000-02-29T12:34:56Z", &t));
    assert_int_equal(t, base);
    assert_true(kura_time_parse("2000-02-29 12:34:56+00:00", &t));
    assert_int_equal(t, base);
    assert_true(kura_time_parse("2000-02-29 12:34:56-00:00", &t));
    assert_int_equal(t, base);

    /* Fractions scale to microseconds. */
    assert_true(kura_time_parse("2000-02-29 12:34:56.5", &t));
    assert_int_equal(t, base + 500000);
    assert_true(kura_time_parse("2000-02-29 12:34:56.05", &t));
    assert_int_equal(t, base + 50000);
    assert_true(kura_time_parse("2000-02-29 12:34:56.000001Z", &t));
    assert_int_equal(t, base + 1);

    /* Offsets: local time ahead of UTC means an earlier UTC instant. */
    assert_true(kura_time_parse("2000-02-29T21:34:56+09:00", &t));
    assert_int_equal(t, base);
    assert_true(kura_time_parse("2000-02-29T07:04:56.25-05:30", &t));
    assert_int_equal(t, base + 250000);
    /* An offset can move the date across a day, month and year. */
    assert_true(kura_time_parse("2000-01-01T00:30:00+01:00", &t));
    char text[KURA_TIME_TEXT];
    kura_time_format(t, text);
    assert_string_equal(text, "1999-12-31 23:30:00.000000");
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2000-02-29",
        "2000-02-29 12:34",
        "2000-02-29 12:34:56 ",        /* trailing space */
        "2000-02-29 12:34:56x",        /* trailing garbage */
        "2000-02-29 12:34:56.",        /* empty fraction */
        "2000-02-29 12:34:56.1234567", /* seven digits */
        "2000-02-29 12:34:56Zjunk",
        "2000-02-29 12:34:56+0900",
        "2000-02-29 12:34:56+09",
        "2000-02-29 12:34:56+24:00",
        "2000-02-29 12:34:56+09:60",
        "2000-02-29_12:34:56",
        "2000-02-29t12:34:56",
        "2000-2-29 12:34:56",
        "20000-02-29 12:34:56",
        "2000-00-10 12:00:00",
        "2000-13-10 12:00:00",
        "2000-01-00 12:00:00",
        "2000-01-32 12:00:00",
        "2000-02-30 12:00:00", /* Feb 30 */
        "1900-02-29 12:00:00", /* not a leap year */
        "2023-02-29 12:00:00",
        "2000-04-31 12:00:00",
        "2000-01-01 24:00:00",
        "2000-01-01 12:60:00",
        "2000-01-01 12:00:60", /* no leap seconds */
        "2000-01-01 -1:00:00",
        " 2000-01-01 12:00:00",
        "0000-01-01 00:00:00+00:01", /* before the formattable range */
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        kura_time t = 42;
        if (kura_time_parse(bad[i], &t))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(t, 42); /* untouched on failure */
    }
    kura_time t;
    assert_false(kura_time_parse(NULL, &t));
    assert_true(kura_time_parse("0000-01-01 00:00:00", &t));
}

static void test_format_clamps(void **state)
{
    (void)state;
    char text[KURA_TIME_TEXT];
    kura_time_format(INT64_MIN, text);
    assert_string_equal(text, "0000-01-01 00:00:00.000000");
    kura_time_format(INT64_MAX, text);
    assert_string_equal(text, "9999-12-31 23:59:59.999999");
}

static void test_now(void **state)
{
    (void)state;
    kura_time a = kura_now();
    kura_time b = kura_now();
    assert_true(a > INT64_C(1577836800000000)); /* after 2020 */
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known),
        cmocka_unit_test(test_parse_known),
        cmocka_unit_test(test_round_trip_sweep),
        cmocka_unit_test(test_parse_variants),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_clamps),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
