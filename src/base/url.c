/* url.c — store URL parsing (see url.h). */
#include "base/url.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A percent-decoded copy of s[0..len); NULL and *bad set on a broken escape or
 * a decoded NUL (which would silently cut the value short). */
static char *decode(const char *s, size_t len, bool plus_is_space, bool *bad)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                *bad = true;
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

void kura_url_free(kura_url *url)
{
    if (!url)
        return;
    free(url->scheme);
    free(url->user);
    free(url->password);
    free(url->host);
    free(url->path);
    for (size_t i = 0; i < url->nparams; i++) {
        free(url->params[i].key);
        free(url->params[i].value);
    }
    memset(url, 0, sizeof *url);
}

static bool set_part(char **dst, const char *s, size_t len, bool plus, const char *what,
                     kura_error *err)
{
    bool bad = false;
    *dst = decode(s, len, plus, &bad);
    if (bad)
        return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: bad percent-escape in the %s",
                         what);
    if (!*dst)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory parsing a URL");
    return true;
}

static bool parse_query(kura_url *u, const char *q, kura_error *err)
{
    while (*q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        if (len > 0) {
            if (u->nparams == KURA_URL_MAX_PARAMS)
                return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: more than %d parameters",
                                 KURA_URL_MAX_PARAMS);
            const char *eq = memchr(q, '=', len);
            size_t klen = eq ? (size_t)(eq - q) : len;
            if (klen == 0)
                return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: a parameter has no name");
            if (!set_part(&u->params[u->nparams].key, q, klen, true, "query", err))
                return false;
            const char *v = eq ? eq + 1 : q + len;
            size_t vlen = eq ? len - klen - 1 : 0;
            if (!set_part(&u->params[u->nparams].value, v, vlen, true, "query", err)) {
                free(u->params[u->nparams].key);
                return false;
            }
            /* kura reads the first of two, libpq the last: which one was meant? */
            if (kura_url_param(u, u->params[u->nparams].key)) {
                kura_fail(err, KURA_CONFIG, NULL, "malformed URL: parameter '%.64s' given twice",
                          u->params[u->nparams].key);
                free(u->params[u->nparams].key);
                free(u->params[u->nparams].value);
                return false;
            }
            u->nparams++;
        }
        if (!end)
            break;
        q = end + 1;
    }
    return true;
}

static bool parse_authority(kura_url *u, const char *a, size_t len, kura_error *err)
{
    const char *at = NULL;
    for (size_t i = len; i > 0; i--)
        if (a[i - 1] == '@') {
            at = a + i - 1;
            break;
        }
    if (at) {
        const char *colon = memchr(a, ':', (size_t)(at - a));
        size_t ulen = colon ? (size_t)(colon - a) : (size_t)(at - a);
        if (ulen && !set_part(&u->user, a, ulen, false, "user name", err))
            return false;
        if (colon &&
            !set_part(&u->password, colon + 1, (size_t)(at - colon - 1), false, "password", err))
            return false;
        len -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    const char *host = a;
    size_t hlen = len;
    const char *port = NULL;
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (!close)
            return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: unclosed '[' in the host");
        host = a + 1;
        hlen = (size_t)(close - a - 1);
        if ((size_t)(close + 1 - a) < len) {
            if (close[1] != ':')
                return kura_fail(err, KURA_CONFIG, NULL,
                                 "malformed URL: unexpected text after ']'");
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', len);
        if (colon) {
            hlen = (size_t)(colon - a);
            port = colon + 1;
        }
    }
    if (hlen && !set_part(&u->host, host, hlen, false, "host", err))
        return false;
    if (port) {
        size_t plen = (size_t)(a + len - port);
        if (plen == 0 || plen > 5)
            return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: bad port");
        long p = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)port[i]))
                return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: bad port");
            p = p * 10 + (port[i] - '0');
        }
        if (p < 1 || p > 65535)
            return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: port %ld out of range", p);
        u->port = (int)p;
    }
    return true;
}

bool kura_url_parse(const char *url, kura_url *out, kura_error *err)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: empty");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return kura_fail(err, KURA_CONFIG, NULL, "malformed URL: control character");
    const char *colon = strchr(url, ':');
    if (!colon || colon == url)
        return kura_fail(err, KURA_CONFIG, NULL, "malformed URL '%.64s': no scheme", url);
    for (const char *p = url; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
            return kura_fail(err, KURA_CONFIG, NULL, "malformed URL '%.64s': bad scheme", url);
    out->scheme = strndup(url, (size_t)(colon - url));
    if (!out->scheme)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory parsing a URL");
    for (char *p = out->scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    const char *rest = colon + 1;
    const char *qmark = strchr(rest, '?');
    const char *body_end = qmark ? qmark : rest + strlen(rest);
    bool ok = true;
    if (strncmp(rest, "//", 2) == 0) {
        const char *a = rest + 2;
        const char *slash = memchr(a, '/', (size_t)(body_end - a));
        const char *a_end = slash ? slash : body_end;
        ok = parse_authority(out, a, (size_t)(a_end - a), err);
        if (ok && slash && slash + 1 < body_end)
            ok =
                set_part(&out->path, slash + 1, (size_t)(body_end - slash - 1), false, "path", err);
    } else if (body_end > rest) {
        ok = set_part(&out->path, rest, (size_t)(body_end - rest), false, "path", err);
    }
    if (ok && qmark)
        ok = parse_query(out, qmark + 1, err);
    if (!ok)
        kura_url_free(out);
    return ok;
}

const char *kura_url_param(const kura_url *url, const char *key)
{
    for (size_t i = 0; i < url->nparams; i++)
        if (strcmp(url->params[i].key, key) == 0)
            return url->params[i].value;
    return NULL;
}

bool kura_url_check_params(const kura_url *url, const char *const *allowed, kura_error *err)
{
    for (size_t i = 0; i < url->nparams; i++) {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, url->params[i].key) == 0;
        if (!known)
            return kura_fail(err, KURA_CONFIG, NULL, "unknown URL option '%.64s'",
                             url->params[i].key);
    }
    return true;
}

bool kura_url_param_int(const kura_url *url, const char *key, long min, long max, long dflt,
                        long *out, kura_error *err)
{
    const char *v = kura_url_param(url, key);
    if (!v) {
        *out = dflt;
        return true;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return kura_fail(err, KURA_CONFIG, NULL,
                         "URL option %s='%.32s' must be a whole number from %ld to %ld", key, v,
                         min, max);
    *out = n;
    return true;
}
