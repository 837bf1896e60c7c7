/*
 * kura/error.h — error codes and the error struct every kura call fills.
 *
 * Convention (as libbson's bson_error_t): a function that can fail returns
 * bool (or a pointer, NULL on failure) and takes an optional `kura_error *err`
 * as its last argument. On failure it fills *err when err is not NULL; on
 * success it leaves *err untouched. The struct lives on the caller's stack and
 * never needs freeing. Library code never prints and never exits.
 */
#ifndef KURA_ERROR_H
#define KURA_ERROR_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One list generates the enum and the names, so they cannot drift apart. */
#define KURA_ERROR_LIST(X)                                                                         \
    X(OK, "ok")                                                                                    \
    X(INVALID, "invalid argument")                                                                 \
    X(VALIDATION, "validation failed")                                                             \
    X(NOT_FOUND, "not found")                                                                      \
    X(CONSTRAINT, "constraint violated")                                                           \
    X(CONFIG, "bad configuration")                                                                 \
    X(STORE, "store error")                                                                        \
    X(UNAVAILABLE, "store unavailable")                                                            \
    X(TIMEOUT, "timed out")                                                                        \
    X(NOMEM, "out of memory")                                                                      \
    X(UNSUPPORTED, "not supported")                                                                \
    X(IO, "input/output error")                                                                    \
    X(AUTH, "not authorised")                                                                      \
    X(CONFLICT, "conflicts with the current state")                                                \
    X(MISFIT, "a stored document does not fit the model")                                          \
    X(OUTCOME_UNKNOWN, "outcome unknown")

/*
 * KURA_OUTCOME_UNKNOWN: the connection to the server was lost after a write (or its
 * COMMIT) was sent and before the server answered, so it may or may not have been
 * applied. kura never runs such a write again by itself; check (read it back) before
 * retrying. A write that fails before it was sent is KURA_UNAVAILABLE: nothing happened.
 */
typedef enum kura_code {
#define KURA_X_ENUM(name, text) KURA_##name,
    KURA_ERROR_LIST(KURA_X_ENUM)
#undef KURA_X_ENUM
} kura_code;

typedef struct kura_error {
    kura_code code;    /* KURA_OK when nothing failed */
    char field[64];    /* the model field at fault, or "" */
    char message[256]; /* readable, complete sentence fragment, never NULL */
} kura_error;

/* The constant name of a code ("NOT_FOUND"); "UNKNOWN" for a value outside the list. */
const char *kura_code_name(kura_code code);

/* A short description of a code ("not found"). Static storage. */
const char *kura_code_text(kura_code code);

/*
 * Fills *err (when err is not NULL) with code, field (may be NULL) and a
 * printf-style message, truncated to fit. Always returns false, so that a
 * failing path reads `return kura_fail(err, KURA_INVALID, NULL, "...")`.
 */
bool kura_fail(kura_error *err, kura_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Resets *err to KURA_OK with empty strings. err may be NULL. */
void kura_error_clear(kura_error *err);

#ifdef __cplusplus
}
#endif
#endif
