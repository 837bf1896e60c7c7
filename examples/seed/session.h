/*
 * session.h — the guide's Session (app/models/session.py), over the current
 * app's key-value store (current_app.redis):
 *
 *   class Session(object):                       reached through kura_current_app()
 *       def get(self, key):                      session_get(key, &value, &err)
 *           return self.redis.get(key)
 *       def save(self, key, value):              session_save(key, value, &err)
 *           self.redis.set(key, value)
 *
 * The bytes saved are the bytes stored: on Redis, `redis-cli GET key` prints
 * exactly the value. (For signed web sessions see <kura/session.h>.)
 */
#ifndef SEED_SESSION_H
#define SEED_SESSION_H

#include <kura/kura.h>

/* The value under key into *out (out->data NULL when there is none; the
 * caller frees it with kura_bytes_free). KURA_INVALID outside an app. */
bool session_get(const char *key, kura_bytes *out, kura_error *err);

/* Stores the text value under key (no TTL, as the guide's redis.set). */
bool session_save(const char *key, const char *value, kura_error *err);

#endif
