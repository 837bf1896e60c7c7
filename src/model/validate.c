/* validate.c — checks a model value against its descriptor. */
#include "kura/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/model_private.h"

/* Every check writes its reason ("is required") into a caller buffer, so the
 * same code serves kura_validate (one kura_error) and kura_validate_all. */
typedef struct reason {
    char *buf;
    size_t cap;
} reason;

static bool fail(reason r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(reason r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.buf, r.cap, fmt, ap);
    va_end(ap);
    return false;
}

static bool check_choices(const kura_field *f, const char *s, reason r)
{
    for (const char *const *c = f->choices; *c != NULL; c++)
        if (strcmp(*c, s) == 0)
            return true;
    /* Lists the choices as far as they fit; snprintf stops at the buffer's end. */
    size_t used = (size_t)snprintf(r.buf, r.cap, "must be one of: ");
    for (const char *const *c = f->choices; *c != NULL && used < r.cap; c++)
        used +=
            (size_t)snprintf(r.buf + used, r.cap - used, "%s%s", c == f->choices ? "" : ", ", *c);
    return false;
}

/* STRING, EMAIL and TEXT: s is NUL-terminated at s[len]. */
static bool check_text(const kura_field *f, const char *s, size_t len, reason r)
{
    long chars = kura_utf8_chars(s, len);
    if (chars < 0)
        return fail(r, "is not valid UTF-8");
    if (f->max_chars > 0 && chars > f->max_chars)
        return fail(r, "is longer than %d characters", f->max_chars);
    if (len == 0) {
        /* An optional string may be left empty whatever its other constraints. */
        return f->required ? fail(r, "is required") : true;
    }
    if (f->type == KURA_TYPE_EMAIL && !kura_email_valid(s))
        return fail(r, "is not a valid e-mail address");
    if (f->choices != NULL && !check_choices(f, s, r))
        return false;
    return true;
}

static bool check_range(const kura_field *f, int64_t v, reason r)
{
    if (f->has_range && (v < f->min || v > f->max))
        return fail(r, "must be between %lld and %lld", (long long)f->min, (long long)f->max);
    return true;
}

static bool check_field(const kura_model *model, const void *obj, const kura_field *f, reason r)
{
    /* kura_is_null, without the call: validation runs for every row written. */
    size_t index = (size_t)(f - model->fields);
    if (index < KURA_MAX_FIELDS && ((((const kura_base *)obj)->nulls >> index) & 1u))
        return f->required ? fail(r, "is required") : true;

    const void *m = kura__cmember(obj, f);
    switch (f->type) {
    case KURA_TYPE_INT32:
        return check_range(f, *(const int32_t *)m, r);
    case KURA_TYPE_INT64:
        return check_range(f, *(const int64_t *)m, r);
    case KURA_TYPE_DOUBLE: {
        double v = *(const double *)m;
        if (!isfinite(v))
            return fail(r, "is not a finite number");
        if (f->has_range && (v < (double)f->min || v > (double)f->max))
            return fail(r, "must be between %lld and %lld", (long long)f->min, (long long)f->max);
        return true;
    }
    case KURA_TYPE_BOOL:
        return true;
    case KURA_TYPE_STRING:
    case KURA_TYPE_EMAIL: {
        /* A member filled with memcpy may lack its NUL; never read past it. */
        size_t len = strnlen(m, f->size);
        if (len == f->size)
            return fail(r, "is not NUL-terminated");
        return check_text(f, m, len, r);
    }
    case KURA_TYPE_TEXT: {
        const char *s = *(char *const *)m;
        return s ? check_text(f, s, strlen(s), r) : check_text(f, "", 0, r);
    }
    case KURA_TYPE_DATETIME:
        if (f->required && *(const kura_time *)m == 0)
            return fail(r, "is required");
        return true;
    case KURA_TYPE_TAGS: {
        const kura_tags *t = m;
        if (t->count > KURA_TAGS_MAX)
            return fail(r, "has more than %d tags", KURA_TAGS_MAX);
        if (t->count == 0)
            return f->required ? fail(r, "is required") : true;
        int max = f->max_chars > 0 && f->max_chars < KURA_TAG_CHARS ? f->max_chars : KURA_TAG_CHARS;
        for (uint32_t i = 0; i < t->count; i++) {
            const char *s = t->items[i];
            if (memchr(s, '\0', sizeof t->items[i]) == NULL)
                return fail(r, "tag %u is not NUL-terminated", (unsigned)i);
            long chars = kura_utf8_chars(s, strlen(s));
            if (chars < 0)
                return fail(r, "tag %u is not valid UTF-8", (unsigned)i);
            if (chars == 0)
                return fail(r, "tag %u is empty", (unsigned)i);
            if (chars > max)
                return fail(r, "tag %u is longer than %d characters", (unsigned)i, max);
            if (f->choices != NULL && !check_choices(f, s, r))
                return false;
        }
        return true;
    }
    }
    return fail(r, "has an unknown type");
}

bool kura_validate_field(const kura_model *model, const void *obj, const kura_field *field,
                         kura_error *err)
{
    char buf[sizeof(((kura_field_error *)0)->reason)];
    buf[0] = '\0'; /* written only on failure: no need to clear it all */
    if (check_field(model, obj, field, (reason){buf, sizeof buf}))
        return true;
    return kura_fail(err, KURA_VALIDATION, field->name, "%s %s", field->name, buf);
}

bool kura_validate(const kura_model *model, const void *obj, kura_error *err)
{
    for (size_t i = 0; i < model->nfields; i++)
        if (!kura_validate_field(model, obj, &model->fields[i], err))
            return false;
    return true;
}

size_t kura_validate_all(const kura_model *model, const void *obj, kura_field_error *out,
                         size_t cap)
{
    size_t failures = 0;
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        char scratch[sizeof out->reason];
        /* Past cap the failure is still counted, into a scratch buffer. */
        reason r = failures < cap ? (reason){out[failures].reason, sizeof out->reason}
                                  : (reason){scratch, sizeof scratch};
        if (check_field(model, obj, f, r))
            continue;
        if (failures < cap)
            out[failures].field = f->name;
        failures++;
    }
    return failures;
}
