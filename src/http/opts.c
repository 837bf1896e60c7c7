/*
 * opts.c — the server's options: their defaults, the app settings that set
 * them (kura_http_opts_from_config) and the ranges kura_http_new accepts.
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "http/internal.h"

void kura_http_opts_default(kura_http_opts *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (kura_http_opts){
        .bind = "127.0.0.1",
        .port = 8080,
        .threads = cpus > 0 ? (unsigned)cpus : 1,
        .max_body = 64 * 1024,
        .max_header = 16 * 1024,
        .timeout_s = 15,
        .max_conns = 1024,
        .drain_s = 10,
        .default_limit = 100,
        .max_limit = 1000,
        .session_ttl_s = 86400,
        .log_level = KURA_LOG_INFO,
        .log_fd = 2,
        .request_timeout_s = 30,
        .max_conns_per_ip = 64,
        .max_params = 128,
        .max_fields = 128,
        .cache_ttl_ms = 0,
        .cache_entries = 4096,
    };
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    return false;
}

/* A whole number from 0 to max, as the setting `name`. */
static bool parse_unsigned(const char *name, const char *v, unsigned long max, unsigned *out,
                           kura_error *err)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || errno || *end || n > max)
        return kura_fail(err, KURA_CONFIG, NULL, "%s: '%.32s' is not a whole number from 0 to %lu",
                         name, v, max);
    *out = (unsigned)n;
    return true;
}

bool kura_http_opts_from_config(kura_http_opts *o, const kura_config *cfg, kura_error *err)
{
    const char *v;
    if ((v = kura_config_get(cfg, "bind")) && *v)
        o->bind = v;
    if ((v = kura_config_get(cfg, "port")) && *v) {
        char *end;
        errno = 0;
        long port = strtol(v, &end, 10);
        if (errno || *end || port < 0 || port > 65535)
            return kura_fail(err, KURA_CONFIG, NULL, "port: '%.32s' is not a port number", v);
        o->port = (uint16_t)port;
    }
    if ((v = kura_config_get(cfg, "api_token")))
        o->api_token = v;
    if ((v = kura_config_get(cfg, "log_level")) && *v && !kura_log_level_parse(v, &o->log_level))
        return kura_fail(err, KURA_CONFIG, NULL,
                         "log_level: '%.32s' is not one of debug, info, warn, error, off", v);
    if ((v = kura_config_get(cfg, "secure_cookies")) && !parse_bool(v, &o->secure_cookies))
        return kura_fail(err, KURA_CONFIG, NULL, "secure_cookies: '%.32s' is not a boolean", v);
    if ((v = kura_config_get(cfg, "request_timeout")) && *v &&
        !parse_unsigned("request_timeout", v, 86400, &o->request_timeout_s, err))
        return false;
    if ((v = kura_config_get(cfg, "max_conns_per_ip")) && *v &&
        !parse_unsigned("max_conns_per_ip", v, 1000000, &o->max_conns_per_ip, err))
        return false;
    unsigned ttl = 0;
    if ((v = kura_config_get(cfg, "cache_ttl_ms")) && *v) {
        if (!parse_unsigned("cache_ttl_ms", v, 86400000, &ttl, err))
            return false;
        o->cache_ttl_ms = ttl;
    }
    return true;
}

/* A size_t option for the range table (past INT64_MAX is out of every range). */
static int64_t as_i64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

bool http_opts_check(const kura_http_opts *o, kura_error *err)
{
    /* Every option with a range, once: the error names the one out of it. */
    const struct {
        const char *name;
        int64_t value, min, max;
    } ranges[] = {
        {"threads", o->threads, 1, 1024},
        {"max_body", as_i64(o->max_body), 1, INT64_MAX},
        {"max_header", as_i64(o->max_header), 4096, 16 * 1024 * 1024},
        {"max_limit", o->max_limit, 1, INT64_MAX},
        {"default_limit", o->default_limit, 1, o->max_limit},
        {"session_ttl_s", o->session_ttl_s, 1, INT64_MAX},
        {"max_conns", o->max_conns, 1, INT64_MAX},
        {"request_timeout_s", o->request_timeout_s, 0, 86400},
        {"max_params", o->max_params, 0, 65536},
        {"max_fields", o->max_fields, 8, 65536},
        {"cache_ttl_ms", o->cache_ttl_ms, 0, 86400000},
        /* only read when the cache is on */
        {"cache_entries", o->cache_ttl_ms > 0 ? as_i64(o->cache_entries) : 1, 1, 16 * 1024 * 1024},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (ranges[i].value >= ranges[i].min && ranges[i].value <= ranges[i].max)
            continue;
        if (ranges[i].max == INT64_MAX)
            return kura_fail(err, KURA_CONFIG, NULL,
                             "HTTP option %s is %lld: it must be at least %lld", ranges[i].name,
                             (long long)ranges[i].value, (long long)ranges[i].min);
        return kura_fail(err, KURA_CONFIG, NULL,
                         "HTTP option %s is %lld: it must be from %lld to %lld", ranges[i].name,
                         (long long)ranges[i].value, (long long)ranges[i].min,
                         (long long)ranges[i].max);
    }
    return true;
}
