/*
 * session.c — signed-cookie web sessions over a kura_kv (see kura/session.h).
 */
#include <kura/session.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_private.h"

#define ID_BYTES   32
#define MAC_BYTES  crypto_auth_hmacsha256_BYTES
#define B64_ID_LEN 43 /* 32 bytes in unpadded base64url */
#define KEY_PREFIX "kura:session:"
#define MIN_SECRET 16
/* The MAC covers a purpose label too, so a MAC made with the same secret for
 * anything else can never pass as a session cookie. */
#define MAC_LABEL "kura-session-v1:"

_Static_assert(MAC_BYTES == ID_BYTES, "the cookie layout assumes 32-byte MACs");
_Static_assert(KURA_SESSION_COOKIE_LEN == 2 * B64_ID_LEN + 1, "cookie length");

struct kura_sessions {
    kura_kv *kv;
    unsigned char *secret;
    size_t secret_len;
    int64_t ttl_ms;
};

/* The store key of a decoded id. */
typedef struct session_key {
    char text[sizeof KEY_PREFIX + B64_ID_LEN];
} session_key;

kura_sessions *kura_sessions_new(kura_kv *kv, const unsigned char *secret, size_t secret_len,
                                 int64_t ttl_ms, kura_error *err)
{
    if (!kv || !secret) {
        kura_fail(err, KURA_INVALID, NULL, "NULL store or secret");
        return NULL;
    }
    if (secret_len < MIN_SECRET) {
        kura_fail(err, KURA_INVALID, NULL, "a session secret of %zu bytes: use at least %d",
                  secret_len, MIN_SECRET);
        return NULL;
    }
    if (ttl_ms <= 0) {
        kura_fail(err, KURA_INVALID, NULL, "sessions need a positive TTL");
        return NULL;
    }
    if (sodium_init() < 0) {
        kura_fail(err, KURA_IO, NULL, "libsodium could not initialise");
        return NULL;
    }
    kura_sessions *s = calloc(1, sizeof *s);
    if (!s || !(s->secret = malloc(secret_len))) {
        free(s);
        kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        return NULL;
    }
    memcpy(s->secret, secret, secret_len);
    s->secret_len = secret_len;
    s->kv = kv;
    s->ttl_ms = ttl_ms;
    return s;
}

void kura_sessions_free(kura_sessions *s)
{
    if (!s)
        return;
    sodium_memzero(s->secret, s->secret_len);
    free(s->secret);
    free(s);
}

static void mac_of(const kura_sessions *s, const unsigned char id[ID_BYTES],
                   unsigned char mac[MAC_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, s->secret, s->secret_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)MAC_LABEL, sizeof MAC_LABEL - 1);
    crypto_auth_hmacsha256_update(&st, id, ID_BYTES);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

static void key_of(const unsigned char id[ID_BYTES], session_key *key)
{
    memcpy(key->text, KEY_PREFIX, sizeof KEY_PREFIX - 1);
    sodium_bin2base64(key->text + sizeof KEY_PREFIX - 1, B64_ID_LEN + 1, id, ID_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The cookie value of an id and its MAC: base64url(id) "." base64url(mac). */
static void cookie_of(const unsigned char id[ID_BYTES], const unsigned char mac[MAC_BYTES],
                      char cookie[KURA_SESSION_COOKIE_SIZE])
{
    sodium_bin2base64(cookie, B64_ID_LEN + 1, id, ID_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    cookie[B64_ID_LEN] = '.';
    sodium_bin2base64(cookie + B64_ID_LEN + 1, B64_ID_LEN + 1, mac, MAC_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A fresh id, its cookie value and its store key. */
static void new_id(const kura_sessions *s, char cookie[KURA_SESSION_COOKIE_SIZE], session_key *key)
{
    unsigned char id[ID_BYTES], mac[MAC_BYTES];
    randombytes_buf(id, sizeof id);
    mac_of(s, id, mac);
    cookie_of(id, mac, cookie);
    key_of(id, key);
}

/* Checks a cookie's form and signature, before and without any store access,
 * and gives the store key of its id. Every refusal says the same thing. */
static bool verify(const kura_sessions *s, const char *cookie, session_key *key, kura_error *err)
{
    unsigned char id[ID_BYTES], mac[MAC_BYTES];
    size_t n_id = 0, n_mac = 0;
    const char *end = NULL;
    bool ok = cookie && strnlen(cookie, KURA_SESSION_COOKIE_SIZE) == KURA_SESSION_COOKIE_LEN &&
              cookie[B64_ID_LEN] == '.' &&
              sodium_base642bin(id, sizeof id, cookie, B64_ID_LEN, NULL, &n_id, &end,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
              n_id == ID_BYTES && end == cookie + B64_ID_LEN &&
              sodium_base642bin(mac, sizeof mac, cookie + B64_ID_LEN + 1, B64_ID_LEN, NULL, &n_mac,
                                &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
              n_mac == MAC_BYTES && end == cookie + KURA_SESSION_COOKIE_LEN;
    if (ok) {
        /* One cookie per session: the decoder accepts some other spellings of
         * the same bytes (non-zero padding bits, and libsodium 1.0.18 maps some
         * non-ASCII bytes to digits), so only the canonical text is valid. */
        char canonical[KURA_SESSION_COOKIE_SIZE];
        cookie_of(id, mac, canonical);
        ok = memcmp(canonical, cookie, KURA_SESSION_COOKIE_LEN) == 0;
    }
    if (ok) {
        unsigned char want[MAC_BYTES];
        mac_of(s, id, want);
        ok = sodium_memcmp(mac, want, MAC_BYTES) == 0; /* constant time */
    }
    if (!ok)
        return kura_fail(err, KURA_AUTH, NULL, "invalid session cookie");
    key_of(id, key);
    return true;
}

static char *encode(const json_t *data, size_t *len, kura_error *err)
{
    if (!data) {
        kura_fail(err, KURA_INVALID, NULL, "NULL session data");
        return NULL;
    }
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) {
        kura_fail(err, KURA_INVALID, NULL, "session data cannot be written as JSON");
        return NULL;
    }
    *len = strlen(text);
    return text;
}

static bool check(const kura_sessions *s, kura_error *err)
{
    return s ? true : kura_fail(err, KURA_INVALID, NULL, "NULL sessions");
}

bool kura_session_create(kura_sessions *s, const json_t *data,
                         char cookie[KURA_SESSION_COOKIE_SIZE], kura_error *err)
{
    if (!check(s, err))
        return false;
    if (!cookie)
        return kura_fail(err, KURA_INVALID, NULL, "NULL cookie buffer");
    size_t len;
    char *text = encode(data, &len, err);
    if (!text)
        return false;
    session_key key;
    bool stored = false, ok = true;
    /* Two equal 256-bit ids will not happen; IF_ABSENT makes sure of it. */
    for (int tries = 0; ok && !stored && tries < 3; tries++) {
        new_id(s, cookie, &key);
        ok = kura_kv_set_if(s->kv, key.text, text, len, s->ttl_ms, KURA_KV_IF_ABSENT, &stored, err);
    }
    free(text);
    if (ok && !stored)
        ok = kura_fail(err, KURA_STORE, NULL, "could not store a new session");
    if (!ok)
        memset(cookie, 0, KURA_SESSION_COOKIE_SIZE);
    return ok;
}

bool kura_session_load(kura_sessions *s, const char *cookie, json_t **data, kura_error *err)
{
    if (!check(s, err))
        return false;
    if (!data)
        return kura_fail(err, KURA_INVALID, NULL, "NULL output");
    *data = NULL;
    session_key key;
    if (!verify(s, cookie, &key, err))
        return false;
    /* Read and renew in one round trip. */
    kura_kv_cmd cmds[2] = {{.op = KV_GET, .key = key.text},
                           {.op = KV_EXPIRE, .key = key.text, .ttl_ms = s->ttl_ms}};
    kura_kv_reply r[2];
    memset(r, 0, sizeof r);
    bool ok = kura__kv_run(s->kv, cmds, 2, r, err);
    if (ok && r[0].code != KURA_OK)
        ok = kura_fail(err, r[0].code, NULL, "session store: %s", r[0].error ? r[0].error : "");
    else if (ok && !r[0].value.data)
        ok = kura_fail(err, KURA_NOT_FOUND, NULL, "no such session (expired or ended)");
    if (ok) {
        json_error_t jerr;
        *data = json_loadb(r[0].value.data, r[0].value.len, JSON_DECODE_ANY, &jerr);
        if (!*data)
            ok = kura_fail(err, KURA_STORE, NULL, "session data is not JSON: %s", jerr.text);
    }
    kura_kv_reply_clear(&r[0]);
    kura_kv_reply_clear(&r[1]);
    return ok;
}

bool kura_session_save(kura_sessions *s, const char *cookie, const json_t *data, kura_error *err)
{
    if (!check(s, err))
        return false;
    session_key key;
    if (!verify(s, cookie, &key, err))
        return false;
    size_t len;
    char *text = encode(data, &len, err);
    if (!text)
        return false;
    bool stored = false;
    bool ok =
        kura_kv_set_if(s->kv, key.text, text, len, s->ttl_ms, KURA_KV_IF_PRESENT, &stored, err);
    free(text);
    if (ok && !stored)
        return kura_fail(err, KURA_NOT_FOUND, NULL, "no such session (expired or ended)");
    return ok;
}

bool kura_session_destroy(kura_sessions *s, const char *cookie, kura_error *err)
{
    if (!check(s, err))
        return false;
    session_key key;
    if (!verify(s, cookie, &key, err))
        return false;
    return kura_kv_del(s->kv, key.text, NULL, err);
}

bool kura_session_rotate(kura_sessions *s, const char *cookie,
                         char new_cookie[KURA_SESSION_COOKIE_SIZE], kura_error *err)
{
    if (!check(s, err))
        return false;
    if (!new_cookie)
        return kura_fail(err, KURA_INVALID, NULL, "NULL cookie buffer");
    session_key old, fresh;
    if (!verify(s, cookie, &old, err))
        return false;
    kura_bytes value = {0};
    if (!kura_kv_get(s->kv, old.text, &value, err))
        return false;
    if (!value.data)
        return kura_fail(err, KURA_NOT_FOUND, NULL, "no such session (expired or ended)");
    char made[KURA_SESSION_COOKIE_SIZE];
    new_id(s, made, &fresh);
    /* The new id first, then the old one gone: a failure in between leaves
     * the user logged in under the old id rather than logged out. Two round
     * trips, not one pipeline: on a cluster the two keys live on different
     * nodes, and a retried SET could otherwise land after the DEL. */
    kura_kv_cmd cmds[2] = {{.op = KV_SET,
                            .key = fresh.text,
                            .value = value.data,
                            .len = value.len,
                            .ttl_ms = s->ttl_ms,
                            .cond = KURA_KV_IF_ABSENT},
                           {.op = KV_DEL, .key = old.text}};
    kura_kv_reply r[2];
    memset(r, 0, sizeof r);
    bool ok = true;
    for (int i = 0; ok && i < 2; i++) {
        ok = kura__kv_run(s->kv, &cmds[i], 1, &r[i], err);
        if (ok && r[i].code != KURA_OK)
            ok = kura_fail(err, r[i].code, NULL, "session store: %s", r[i].error ? r[i].error : "");
        if (ok && i == 0 && !r[0].found)
            ok = kura_fail(err, KURA_STORE, NULL, "could not store the rotated session");
    }
    kura_kv_reply_clear(&r[0]);
    kura_kv_reply_clear(&r[1]);
    kura_bytes_free(&value);
    if (ok)
        memcpy(new_cookie, made, KURA_SESSION_COOKIE_SIZE);
    return ok;
}
