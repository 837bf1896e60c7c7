/* log_private.h — handing a library's log line to the handler of kura/log.h. */
#ifndef KURA_BASE_LOG_PRIVATE_H
#define KURA_BASE_LOG_PRIVATE_H

#include <kura/log.h>

/* Calls the handler set with kura_log_set_handler, if any. */
void kura__log(kura_log_level level, const char *source, const char *message);

#endif
