/*
 * url.h — parsing store URLs: scheme://[user[:password]@]host[:port]/path?k=v&...
 *
 * Components are percent-decoded copies owned by the kura_url (kura_url_free).
 * A missing component is NULL (port 0). The path keeps what follows the
 * authority's '/' without that slash: "sqlite:///app.db" has host NULL and
 * path "app.db"; "sqlite:////abs/app.db" has path "/abs/app.db".
 */
#ifndef KURA_URL_H
#define KURA_URL_H

#include <kura/error.h>
#include <stddef.h>

#define KURA_URL_MAX_PARAMS 32

typedef struct kura_url {
    char *scheme; /* lower-cased */
    char *user;
    char *password;
    char *host; /* [v6] brackets removed */
    int port;   /* 0 when absent */
    char *path; /* NULL when absent */
    size_t nparams;
    struct {
        char *key;
        char *value;
    } params[KURA_URL_MAX_PARAMS];
} kura_url;

/* Parses url into *out. KURA_CONFIG with a reason for a malformed URL (no
 * scheme, a bad port, bad percent-escapes, control characters, too many
 * parameters); KURA_NOMEM. On failure *out owns nothing. */
bool kura_url_parse(const char *url, kura_url *out, kura_error *err);

void kura_url_free(kura_url *url);

/* The value of query parameter `key`, or NULL. */
const char *kura_url_param(const kura_url *url, const char *key);

/* Fails with KURA_CONFIG naming the first parameter not in allowed (NULL-terminated). */
bool kura_url_check_params(const kura_url *url, const char *const *allowed, kura_error *err);

/* Parses a parameter as an integer in [min, max]; absent → *out = dflt. */
bool kura_url_param_int(const kura_url *url, const char *key, long min, long max, long dflt,
                        long *out, kura_error *err);

#endif
