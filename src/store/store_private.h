/*
 * store_private.h — the table of functions behind every model store.
 *
 * A driver defines a struct whose first member is `kura_store base`, fills a
 * static const kura_store_ops and returns &its->base from its open function.
 * The public functions in store.c validate, stamp timestamps and check
 * arguments before calling the driver, so drivers receive objects that are
 * already valid and stamped.
 */
#ifndef KURA_STORE_PRIVATE_H
#define KURA_STORE_PRIVATE_H

#include <jansson.h>

#include <kura/store.h>

#include <stdatomic.h>

#define KURA_STORE_CASCADING 16

/* A key as drivers receive it: `id` for KURA_KEY_INT64 models (text NULL),
 * `text` in canonical form for the others (id 0). Borrowed for the call. */
typedef struct kura_keyref {
    int64_t id;
    const char *text;
} kura_keyref;

/* The key of a model struct, borrowing its base.key. */
static inline kura_keyref kura_keyref_of(const kura_model *m, const void *obj)
{
    const kura_base *b = obj;
    kura_keyref k = {b->id, m->key == KURA_KEY_INT64 ? NULL : b->key};
    return k;
}

/* The key as the SQL value bound for it. */
static inline kura_value kura_keyref_value(const kura_keyref *k)
{
    return k->text ? KURA_VSTR(k->text) : KURA_VINT(k->id);
}

/* Fills err with KURA_NOT_FOUND for "<model> <key> not found"; returns false. */
bool kura_key_not_found(kura_error *err, const kura_model *m, const kura_keyref *k);

/* What kura_insert_many does to rows [0, n) before a driver's insert: each is
 * validated (a failure names its row: "row 7: ...") and, when the model has
 * timestamps, stamped with now. For an insert_checked that hands some
 * collections to a driver without one. */
bool kura__check_and_stamp(const kura_model *model, void *objs, size_t n, kura_time now,
                           kura_error *err);

typedef struct kura_store_ops {
    const char *name;
    void (*close)(kura_store *store);
    bool (*ping)(kura_store *store, kura_error *err);

    bool (*create)(kura_store *store, const kura_model *model, kura_error *err);
    bool (*drop)(kura_store *store, const kura_model *model, kura_error *err);

    /* objs: n validated, stamped structs. Sets each base.id (int64 keys);
     * the other key kinds arrive with base.key set and checked. n > 1 is atomic. */
    bool (*insert)(kura_store *store, const kura_model *model, void *objs, size_t n,
                   kura_error *err);
    /* Optional: insert with each row validated and stamped (now) by the driver
     * just before it is written, all or none; the message of a validation
     * failure names the row ("row 7: ..."). A model without timestamps
     * (kura_model_has_timestamps) is never stamped: now is 0 then. */
    bool (*insert_checked)(kura_store *store, const kura_model *model, void *objs, size_t n,
                           kura_time now, kura_error *err);
    bool (*get)(kura_store *store, const kura_model *model, const kura_keyref *key, void *out,
                kura_error *err);
    bool (*update)(kura_store *store, const kura_model *model, const void *obj, kura_error *err);
    bool (*remove)(kura_store *store, const kura_model *model, const kura_keyref *key,
                   kura_error *err);

    /* q is well formed (no building error). */
    kura_cursor *(*cursor_open)(kura_store *store, const kura_query *q, kura_error *err);
    /* Optional: like cursor_open, for kura_find, which reads every row anyway
     * (a driver may fetch them in one go instead of streaming). NULL: cursor_open. */
    kura_cursor *(*find_open)(kura_store *store, const kura_query *q, kura_error *err);
    bool (*count)(kura_store *store, const kura_query *q, int64_t *count, kura_error *err);
    /* set[] values are validated; now is the updated_at stamp to write (0,
     * and nothing to write, for a model without timestamps). */
    bool (*update_where)(kura_store *store, const kura_query *q, const kura_assign *set, size_t n,
                         kura_time now, int64_t *affected, kura_error *err);
    bool (*delete_where)(kura_store *store, const kura_query *q, int64_t *affected,
                         kura_error *err);

    bool (*begin)(kura_store *store, kura_error *err);
    bool (*commit)(kura_store *store, kura_error *err);
    bool (*rollback)(kura_store *store, kura_error *err);
    int (*depth)(kura_store *store);

    /* Optional (NULL: KURA_UNSUPPORTED): the stored document under key as a
     * JSON object without `_id`, every key in it (kura_document_get_json). */
    bool (*get_json)(kura_store *store, const kura_model *model, const kura_keyref *key,
                     json_t **out, kura_error *err);

    /* Optional (NULL: KURA_UNSUPPORTED). */
    bool (*sql_query)(kura_store *store, const kura_model *model, const char *sql,
                      const kura_value *params, size_t nparams, kura_rows *out, kura_error *err);
    bool (*sql_exec)(kura_store *store, const char *sql, const kura_value *params, size_t nparams,
                     int64_t *affected, kura_error *err);
} kura_store_ops;

struct kura_store {
    const kura_store_ops *ops;
    const char *driver; /* kura_store_driver(): "sqlite", "postgresql", ... */
    /* kura_store_add_write_hook: the first nhooks are in use; zero (none)
     * in a calloc'd store. */
    struct {
        kura_write_hook fn;
        void *ctx;
    } hooks[KURA_WRITE_HOOKS];
    int nhooks;
    /* The models read or written through the store whose rows a delete of
     * another model changes in the database (ON DELETE CASCADE or SET NULL,
     * kura__model_cascades): the hooks hear such a delete as a write to many
     * rows of each (store.c, deleted). Slots fill once, left to right; past
     * the last, every delete is heard as a write to anything. */
    _Atomic(const kura_model *) cascading[KURA_STORE_CASCADING];
    atomic_bool cascading_full;
    _Atomic(const kura_model *) noted; /* the model note_model looked at last */
};

typedef struct kura_cursor_ops {
    /* -1 with KURA_MISFIT: this row does not fit the model (err->field and
     * message say why), out's base holds its key as far as it could be read,
     * out owns nothing, and the cursor can go on to the next row. */
    int (*next)(kura_cursor *cursor, void *out, kura_error *err);
    void (*close)(kura_cursor *cursor);
    /* next() writes every member (and owns nothing it did not set), so
     * kura_find may hand it rows that were not zeroed first. */
    bool fills_rows;
} kura_cursor_ops;

struct kura_cursor {
    const kura_cursor_ops *ops;
    const kura_model *model;
};

/* Grows rows by one zeroed struct and returns it; NULL on out of memory. */
void *kura_rows_push(kura_rows *rows, const kura_model *model);

/* The same without zeroing, for a cursor whose next() fills every member. */
void *kura_rows_push_raw(kura_rows *rows, const kura_model *model);

/* Drops the last row (after a failed decode), clearing what it owns. */
void kura_rows_pop(kura_rows *rows);

/* Checks one assigned value for a bulk update against its field: kind, bounds,
 * e-mail, choices, range, required. */
bool kura_assign_check(const kura_model *model, const kura_assign *a, kura_error *err);

#endif
