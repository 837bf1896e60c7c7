/* app_private.h — what the app's parts share inside the library. */
#ifndef KURA_APP_PRIVATE_H
#define KURA_APP_PRIVATE_H

#include <kura/app.h>
#include <kura/kv.h>

/* Copies every setting of src into dst. */
bool kura_config_copy(kura_config *dst, const kura_config *src, kura_error *err);

/*
 * Opens the app's key-value store (setting redis_url; a bare "embedded:" is the
 * database file of database_url) and loads its secret (app_kv.c). On success
 * the caller owns *kv and *secret: kura_app_kv_free.
 */
bool kura_app_kv_open(const kura_config *cfg, const char *database_url, kura_kv **kv,
                      unsigned char **secret, size_t *secret_len, kura_error *err);
void kura_app_kv_free(kura_kv *kv, unsigned char *secret, size_t secret_len);

#endif
