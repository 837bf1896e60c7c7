/*
 * time.c — kura_time (UTC microseconds) to and from text.
 *
 * Calendar arithmetic is done by hand (Howard Hinnant's days_from_civil and
 * civil_from_days) rather than with timegm/gmtime_r: no time-zone state, no
 * dependence on TZ, and the same results before 1970 as after.
 */
#include "kura/model.h"

#include <time.h>

#define US_PER_SEC  INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)

/* Formatting prints a four-digit year, so instants are clamped to years 0000..9999. */
#define DAYS_MIN INT64_C(-719528) /* 0000-01-01 */
#define DAYS_MAX INT64_C(2932896) /* 9999-12-31 */
#define TIME_MIN (DAYS_MIN * SEC_PER_DAY * US_PER_SEC)
#define TIME_MAX (((DAYS_MAX + 1) * SEC_PER_DAY * US_PER_SEC) - 1)

/* Division rounding toward negative infinity (C's '/' truncates toward zero). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

kura_time kura_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (kura_time)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

/* Writes v as exactly n decimal digits (v is known to fit). */
static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Writes by hand rather than with snprintf: every width is fixed once t is clamped. */
static void format(kura_time t, char sep, bool zulu, char *out)
{
    if (t < TIME_MIN)
        t = TIME_MIN;
    if (t > TIME_MAX)
        t = TIME_MAX;
    int64_t secs = floor_div(t, US_PER_SEC);
    int64_t us = t - secs * US_PER_SEC;
    int64_t days = floor_div(secs, SEC_PER_DAY);
    int64_t sod = secs - days * SEC_PER_DAY;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);

    char *p = put_digits(out, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = sep;
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    *p++ = '.';
    p = put_digits(p, us, 6);
    if (zulu)
        *p++ = 'Z';
    *p = '\0';
}

void kura_time_format(kura_time t, char out[KURA_TIME_TEXT])
{
    format(t, ' ', false, out);
}

void kura_time_format_iso(kura_time t, char out[28])
{
    format(t, 'T', true, out);
}

/* Reads exactly n ASCII digits at *p and advances past them. */
static bool digits(const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *value = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool kura_time_parse(const char *s, kura_time *out)
{
    if (s == NULL)
        return false;
    const char *p = s;
    int year, mon, day, hour, min, sec;
    if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &mon) || !expect(&p, '-') ||
        !digits(&p, 2, &day))
        return false;
    if (*p != ' ' && *p != 'T')
        return false;
    p++;
    if (!digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &min) || !expect(&p, ':') ||
        !digits(&p, 2, &sec))
        return false;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 ||
        sec > 59)
        return false;

    /* The fraction is 1..6 digits, scaled to microseconds ("0.5" is 500000 us). */
    int64_t us = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (p[n] >= '0' && p[n] <= '9') {
            if (n == 6)
                return false;
            us = us * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0)
            return false;
        for (int i = n; i < 6; i++)
            us *= 10;
        p += n;
    }

    /* An offset says the local time is ahead of (+) or behind (-) UTC. */
    int64_t offset_sec = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        p++;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_sec = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0')
        return false;

    int64_t secs =
        days_from_civil(year, mon, day) * SEC_PER_DAY + hour * 3600 + min * 60 + sec - offset_sec;
    kura_time t = secs * US_PER_SEC + us;
    /* Keep parse and format inverse to each other: no instant the format would clamp. */
    if (t < TIME_MIN || t > TIME_MAX)
        return false;
    *out = t;
    return true;
}
