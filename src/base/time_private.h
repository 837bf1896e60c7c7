/*
 * time_private.h — parsing many datetimes in a row, for the stores' decoders.
 *
 * Rows read together mostly share their date and second (created_at equals
 * updated_at on a fresh row; a batch insert stamps one instant on every row),
 * so a reader keeps the last "YYYY-MM-DD HH:MM:SS" it parsed and, when the
 * next value starts the same, only reads the microseconds.
 */
#ifndef KURA_TIME_PRIVATE_H
#define KURA_TIME_PRIVATE_H

#include "kura/model.h"

typedef struct kura_time_memo {
    char prefix[20]; /* "YYYY-MM-DD HH:MM:SS" of the last canonical parse; "" = none */
    int64_t seconds; /* that prefix as seconds since the epoch */
} kura_time_memo;

/* kura_time_parse of s (len bytes, NUL-terminated; SIZE_MAX: not known), answering from *memo when
 * it can and updating it. The result is exactly kura_time_parse's. memo must
 * start zeroed. */
bool kura_time_parse_memo(const char *s, size_t len, kura_time_memo *memo, kura_time *out);

/* Whether t is in years 0001..9999, the range a datetime field may hold:
 * beyond 9999 kura_time_format clamps (another instant would be read back),
 * and PostgreSQL has no year 0000 (SQLite took what PostgreSQL refused). */
bool kura__time_in_range(kura_time t);

#endif
