/* config.c — settings from defaults, a file, the environment and flags. */
#include <kura/app.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_private.h"

/* Known settings: a typo in a config file should fail loudly, not be ignored. */
static const struct {
    const char *key;
    const char *env;
} known[] = {
    {"database_url", "KURA_DATABASE_URL"},
    /* Read replicas of database_url (app.c): URLs, and when a replica is left out. */
    {"database_replica_urls", "KURA_DATABASE_REPLICA_URLS"},
    {"database_replica_max_lag_ms", "KURA_DATABASE_REPLICA_MAX_LAG_MS"},
    {"database_replica_max_lag_bytes", "KURA_DATABASE_REPLICA_MAX_LAG_BYTES"},
    {"database_replica_check_ms", "KURA_DATABASE_REPLICA_CHECK_MS"},
    {"database_replica_read_your_writes", "KURA_DATABASE_REPLICA_READ_YOUR_WRITES"},
    {"document_url", "KURA_DOCUMENT_URL"},
    {"redis_url", "KURA_REDIS_URL"},
    {"secret", "KURA_SECRET"},
    {"api_token", "KURA_API_TOKEN"},
    {"bind", "KURA_BIND"},
    {"port", "KURA_PORT"},
    {"log_level", "KURA_LOG_LEVEL"},
    {"secure_cookies", "KURA_SECURE_COOKIES"},
    {"request_timeout", "KURA_REQUEST_TIMEOUT"},
    {"max_conns_per_ip", "KURA_MAX_CONNS_PER_IP"},
    {"cache_ttl_ms", "KURA_CACHE_TTL_MS"},
    {"admin_password", "KURA_ADMIN_PASSWORD"},
};
#define NKNOWN (sizeof known / sizeof known[0])

struct kura_config {
    char *values[NKNOWN];
};

static int key_index(const char *key)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (key && strcmp(key, known[i].key) == 0)
            return (int)i;
    return -1;
}

kura_config *kura_config_new(void)
{
    return calloc(1, sizeof(kura_config));
}

void kura_config_free(kura_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NKNOWN; i++)
        free(cfg->values[i]);
    free(cfg);
}

bool kura_config_set(kura_config *cfg, const char *key, const char *value, kura_error *err)
{
    if (!cfg)
        return kura_fail(err, KURA_INVALID, NULL, "NULL configuration");
    int i = key_index(key);
    if (i < 0)
        return kura_fail(err, KURA_CONFIG, NULL, "unknown setting '%.64s'", key ? key : "");
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    free(cfg->values[i]);
    cfg->values[i] = copy;
    return true;
}

const char *kura_config_get(const kura_config *cfg, const char *key)
{
    int i = key_index(key);
    return i < 0 || !cfg ? NULL : cfg->values[i];
}

bool kura_config_load_env(kura_config *cfg, kura_error *err)
{
    if (!cfg)
        return kura_fail(err, KURA_INVALID, NULL, "NULL configuration");
    for (size_t i = 0; i < NKNOWN; i++) {
        const char *v = getenv(known[i].env);
        if (v && !kura_config_set(cfg, known[i].key, v, err))
            return false;
    }
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

bool kura_config_load_file(kura_config *cfg, const char *path, kura_error *err)
{
    if (!cfg || !path)
        return kura_fail(err, KURA_INVALID, NULL, "NULL configuration or path");
    FILE *f = fopen(path, "r");
    if (!f)
        return kura_fail(err, KURA_IO, NULL, "cannot read config file '%.128s': %s", path,
                         strerror(errno));
    char line[4096];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            ok = kura_fail(err, KURA_CONFIG, NULL, "%.128s:%d: line too long", path, lineno);
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            ok = kura_fail(err, KURA_CONFIG, NULL, "%.128s:%d: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (value[0] == '"') {
            /* Without its closing quote the value would keep the opening one
             * (a secret one byte off what the file seems to say). */
            if (vlen < 2 || value[vlen - 1] != '"') {
                ok = kura_fail(err, KURA_CONFIG, NULL, "%.128s:%d: the value's quote is not closed",
                               path, lineno);
                break;
            }
            value[vlen - 1] = '\0';
            value++;
        }
        if (key_index(key) < 0)
            ok = kura_fail(err, KURA_CONFIG, NULL, "%.128s:%d: unknown setting '%.64s'", path,
                           lineno, key);
        else
            ok = kura_config_set(cfg, key, value, err);
    }
    /* fgets ends at an error as at the end (a directory: EISDIR): not an empty file. */
    if (ok && ferror(f))
        ok = kura_fail(err, KURA_IO, NULL, "cannot read config file '%.128s': %s", path,
                       strerror(errno));
    fclose(f);
    return ok;
}

bool kura_config_copy(kura_config *dst, const kura_config *src, kura_error *err)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (src->values[i] && !kura_config_set(dst, known[i].key, src->values[i], err))
            return false;
    return true;
}
