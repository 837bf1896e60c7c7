/*
 * time.c — kura_time (UTC microseconds) to and from text.
 *
 * Calendar arithmetic is done by hand (Howard Hinnant's days_from_civil and
 * civil_from_days) rather than with timegm/gmtime_r: no time-zone state, no
 * dependence on TZ, and the same results before 1970 as after.
 */
#include "kura/model.h"
#include "base/time_private.h"

#include <string.h>
#include <time.h>

#define US_PER_SEC  INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)

/* Formatting prints a four-digit year, so instants are clamped to years 0000..9999. */
#define DAYS_MIN     INT64_C(-719528) /* 0000-01-01 */
#define DAYS_MAX     INT64_C(2932896) /* 9999-12-31 */
#define TIME_MIN     (DAYS_MIN * SEC_PER_DAY * US_PER_SEC)
#define TIME_MAX     (((DAYS_MAX + 1) * SEC_PER_DAY * US_PER_SEC) - 1)
#define DATETIME_MIN (INT64_C(-719162) * SEC_PER_DAY * US_PER_SEC) /* 0001-01-01 */

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

/*
 * The form every row a SQL store returns is in ("YYYY-MM-DD HH:MM:SS.ffffff",
 * 26 characters: what kura and Flask-SQLAlchemy write) takes this short path,
 * run for two columns of every row read; it checks exactly what the general
 * path checks. Returns false to fall back to the general path.
 */
/* Whether every byte of x selected by mask is an ASCII digit (others ignored).
 * A byte is a digit when its high nibble is 3 before and after adding 6. */
static inline bool swar_digits(uint64_t x, uint64_t mask)
{
    const uint64_t hi = UINT64_C(0xF0F0F0F0F0F0F0F0) & mask;
    const uint64_t three = UINT64_C(0x3030303030303030) & mask;
    return (x & hi) == three && ((x + (UINT64_C(0x0606060606060606) & mask)) & hi) == three;
}

static bool parse_canonical(const char *s, kura_time *out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Three 8-byte words and the last two digits, checked a word at a time:
     * "YYYY-MM-" "DD HH:MM" ":SS.ffff" "ff" then NUL. */
    uint64_t w0, w1, w2;
    memcpy(&w0, s, 8);
    memcpy(&w1, s + 8, 8);
    memcpy(&w2, s + 16, 8);
    const unsigned char *u = (const unsigned char *)s;
    const uint64_t m0 = UINT64_C(0x00FFFF00FFFFFFFF); /* bytes 0-3,5,6 */
    const uint64_t m1 = UINT64_C(0xFFFF00FFFF00FFFF); /* 0,1,3,4,6,7 */
    const uint64_t m2 = UINT64_C(0xFFFFFFFF00FFFF00); /* 1,2,4-7 */
    if (!swar_digits(w0, m0) || !swar_digits(w1, m1) || !swar_digits(w2, m2) || u[4] != '-' ||
        u[7] != '-' || u[10] != ' ' || u[13] != ':' || u[16] != ':' || u[19] != '.' ||
        u[24] - 48u > 9 || u[25] - 48u > 9 || u[26] != '\0')
        return false;
    w0 = (w0 & m0) - (UINT64_C(0x3030303030303030) & m0);
    w1 = (w1 & m1) - (UINT64_C(0x3030303030303030) & m1);
    w2 = (w2 & m2) - (UINT64_C(0x3030303030303030) & m2);
#define KURA_B(w, i) ((int)(((w) >> (8 * (i))) & 0xFF))
    int year = KURA_B(w0, 0) * 1000 + KURA_B(w0, 1) * 100 + KURA_B(w0, 2) * 10 + KURA_B(w0, 3);
    int mon = KURA_B(w0, 5) * 10 + KURA_B(w0, 6);
    int day = KURA_B(w1, 0) * 10 + KURA_B(w1, 1);
    int hour = KURA_B(w1, 3) * 10 + KURA_B(w1, 4);
    int min = KURA_B(w1, 6) * 10 + KURA_B(w1, 7);
    int sec = KURA_B(w2, 1) * 10 + KURA_B(w2, 2);
    int64_t us = KURA_B(w2, 4) * 100000 + KURA_B(w2, 5) * 10000 + KURA_B(w2, 6) * 1000 +
                 KURA_B(w2, 7) * 100 + (u[24] - '0') * 10 + (u[25] - '0');
#undef KURA_B
    if (year == 0 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
        hour > 23 || min > 59 || sec > 59)
        return false;
    /* days_from_civil without floor division: the year is 1..9999 here. */
    int y = year - (mon <= 2);
    int era = y / 400, yoe = y - era * 400;
    int doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + day - 1;
    int64_t days = (int64_t)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    *out = (days * SEC_PER_DAY + hour * 3600 + min * 60 + sec) * US_PER_SEC + us;
    return true;
#else
    (void)s;
    (void)out;
    return false;
#endif
}

bool kura_time_parse(const char *s, kura_time *out)
{
    if (s == NULL)
        return false;
    /* The short path reads s[0..26]: only when no NUL comes before s[26]. A
     * shorter string stops at its NUL, and s[19] is checked before reading on. */
    if (strnlen(s, 26) == 26 && parse_canonical(s, out))
        return true;
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

bool kura__time_in_range(kura_time t)
{
    return t >= DATETIME_MIN && t <= TIME_MAX;
}

bool kura_time_parse_memo(const char *s, size_t len, kura_time_memo *memo, kura_time *out)
{
    if (s == NULL)
        return false;
    if (len == SIZE_MAX)
        len = strnlen(s, 27);
    /* len == 26 makes s[0..25] readable as words; the second is the memo's when
     * the first 19 bytes are, and then only the microseconds are read. */
    if (len == 26 && memo->prefix[0] && s[19] == '.') {
        uint64_t a, b, c, pa, pb, pc;
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + 11, 8); /* bytes 11..18: overlaps b, ends at the seconds */
        memcpy(&pa, memo->prefix, 8);
        memcpy(&pb, memo->prefix + 8, 8);
        memcpy(&pc, memo->prefix + 11, 8);
        if (a == pa && b == pb && c == pc) {
            int64_t us = 0;
            for (int i = 20; i < 26; i++) {
                unsigned d = (unsigned char)s[i] - '0';
                if (d > 9)
                    return false; /* the full parser would refuse it too */
                us = us * 10 + d;
            }
            *out = memo->seconds * US_PER_SEC + us;
            return true;
        }
    }
    if (!kura_time_parse(s, out))
        return false;
    if (strnlen(s, 26) == 26 && s[26] == '\0' && s[19] == '.' && s[10] == ' ') {
        /* Canonical: remember its second (floor, so negative times work too). */
        int64_t us = *out % US_PER_SEC;
        if (us < 0)
            us += US_PER_SEC;
        memcpy(memo->prefix, s, 19);
        memo->prefix[19] = '\0';
        memo->seconds = (*out - us) / US_PER_SEC;
    }
    return true;
}
