/* validate.c — checks a model value against its descriptor. */
#include "kura/model.h"

#include <string.h>

#include "model/model_private.h"
#include "model/types.h"

/* Every check writes its reason ("is required") into a caller buffer, so the
 * same code serves kura_validate (one kura_error) and kura_validate_all. The
 * checks themselves are the types' (model/types.h). `index` is f's place in
 * model->fields: its bit in the NULL bitmap. */
static inline bool check_field(const void *obj, const kura_field *f, size_t index, kura_reason r)
{
    if (index < KURA_MAX_FIELDS && ((((const kura_base *)obj)->nulls >> index) & 1u))
        return f->required ? kura__reason(r, "is required") : true;
    if ((unsigned)f->type >= KURA_TYPE_COUNT)
        return kura__reason(r, "has an unknown type");
    return kura__type(f->type)->check(f, kura__cmember(obj, f), r);
}

static bool field_failed(const kura_field *f, const char *reason, kura_error *err)
{
    return kura_fail(err, KURA_VALIDATION, f->name, "%s %s", f->name, reason);
}

bool kura_validate_field(const kura_model *model, const void *obj, const kura_field *field,
                         kura_error *err)
{
    if (!model || !obj || !field)
        return kura_fail(err, KURA_INVALID, NULL, "NULL model, object or field to validate");
    char buf[sizeof(((kura_field_error *)0)->reason)];
    buf[0] = '\0'; /* written only on failure: no need to clear it all */
    if (check_field(obj, field, (size_t)(field - model->fields), (kura_reason){buf, sizeof buf}))
        return true;
    return field_failed(field, buf, err);
}

/* The loop of kura_validate_field over every field, without a call and a reason
 * buffer per field: every row written comes through here. */
bool kura_validate(const kura_model *model, const void *obj, kura_error *err)
{
    if (!model || !obj)
        return kura_fail(err, KURA_INVALID, NULL, "NULL model or object to validate");
    char buf[sizeof(((kura_field_error *)0)->reason)];
    buf[0] = '\0'; /* written only on failure, by the failing check */
    for (size_t i = 0; i < model->nfields; i++) {
        const kura_field *f = &model->fields[i];
        if (!check_field(obj, f, i, (kura_reason){buf, sizeof buf}))
            return field_failed(f, buf, err);
    }
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
        kura_reason r = failures < cap ? (kura_reason){out[failures].reason, sizeof out->reason}
                                       : (kura_reason){scratch, sizeof scratch};
        if (check_field(obj, f, i, r))
            continue;
        if (failures < cap)
            out[failures].field = f->name;
        failures++;
    }
    return failures;
}
