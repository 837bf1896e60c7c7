/*
 * kura/session.h — web sessions on the key-value store.
 *
 * A session is a JSON value stored under a 256-bit random id (libsodium)
 * with a sliding TTL: every load pushes the expiry ttl_ms into the future.
 * The browser holds a cookie value "<id>.<mac>" (base64url, 87 characters):
 * the mac is HMAC-SHA-256 of the id under the app's secret. A cookie that is
 * forged, truncated, tampered with or not a cookie at all is refused with
 * KURA_AUTH and one fixed message before the store is asked anything, so a
 * bad cookie cannot probe which ids exist, nor cost a store round trip.
 * A well-signed cookie whose session expired or was destroyed is
 * KURA_NOT_FOUND.
 *
 * Fixation defence: call kura_session_rotate whenever the privilege of a
 * session changes (log-in, log-out, sudo): the data moves to a fresh id and
 * the old cookie stops working at once.
 *
 * Sessions live under "kura:session:<id>" in the store. A kura_sessions is
 * safe to share between threads.
 *
 * This is not the guide's `Session`. The guide's class is a thin wrapper over
 * Redis GET and SET of any key (`Session().get(key)`, `.save(key, value)`):
 * that is kura_kv_get / kura_kv_set on kura_app_kv(kura_current_app()), in
 * kura/kv.h (examples/seed/session.c translates it). This header is signed
 * web sessions, what Flask's `session` with a server-side store gives: an id
 * in a signed cookie, data in the store, expiry, rotation.
 */
#ifndef KURA_SESSION_H
#define KURA_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cookie value's length, and the buffer size that holds it with its NUL. */
#define KURA_SESSION_COOKIE_LEN  87
#define KURA_SESSION_COOKIE_SIZE 88

typedef struct kura_sessions kura_sessions;

/*
 * Sessions in kv, signed with secret[0..secret_len) (at least 16 bytes;
 * kura_app_secret gives the app's), expiring ttl_ms after their last use.
 * kv must outlive the sessions; the secret is copied. The caller owns the
 * result: kura_sessions_free.
 */
kura_sessions *kura_sessions_new(kura_kv *kv, const unsigned char *secret, size_t secret_len,
                                 int64_t ttl_ms, kura_error *err);
void kura_sessions_free(kura_sessions *s);

/* Starts a session holding `data` (any JSON value; not stolen) and writes its
 * cookie value, NUL-terminated, into cookie. */
bool kura_session_create(kura_sessions *s, const json_t *data,
                         char cookie[KURA_SESSION_COOKIE_SIZE], kura_error *err);

/* The session's data into *data (a new reference: json_decref it) and its
 * TTL renewed. KURA_AUTH for a bad cookie, KURA_NOT_FOUND for an expired or
 * destroyed session. */
bool kura_session_load(kura_sessions *s, const char *cookie, json_t **data, kura_error *err);

/* Replaces the session's data and renews its TTL. A session that is gone is
 * KURA_NOT_FOUND: a stale cookie cannot bring a destroyed session back. */
bool kura_session_save(kura_sessions *s, const char *cookie, const json_t *data, kura_error *err);

/* Ends the session (log-out). Ending one that is already gone succeeds. */
bool kura_session_destroy(kura_sessions *s, const char *cookie, kura_error *err);

/* Moves the session to a fresh id, writes the new cookie value into
 * new_cookie and makes the old one worthless. KURA_NOT_FOUND when gone. */
bool kura_session_rotate(kura_sessions *s, const char *cookie,
                         char new_cookie[KURA_SESSION_COOKIE_SIZE], kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
