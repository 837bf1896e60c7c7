/* app_private.h — what the app's parts share inside the library. */
#ifndef KURA_APP_PRIVATE_H
#define KURA_APP_PRIVATE_H

#include <kura/app.h>

/* Copies every setting of src into dst. */
bool kura_config_copy(kura_config *dst, const kura_config *src, kura_error *err);

#endif
