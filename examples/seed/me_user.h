/*
 * me_user.h — the guide's MEUser (app/models/me_user.py), as MongoEngine declares it.
 *
 *   class MEUser(Base):                     typedef struct me_user {
 *                                               kura_base base;  (the key: an ObjectId
 *                                                                 `_id`, created_at, updated_at)
 *       name = mongo.StringField()              char name[...];  \
 *       email = mongo.EmailField()              char email[...];  | SAUser's members, in
 *       age = mongo.IntField()                  int32_t age;      | SAUser's order, read
 *       sex = mongo.StringField()               char sex[...];   /  by SAUser's descriptors
 *       id = mongo.StringField()                char id[...];    a plain field named "id"
 *
 * What MongoEngine 0.24 makes of that class, and kura with it:
 *   - the collection is "m_e_user" (kura_mongoengine_collection("MEUser"));
 *   - `id` is a declared StringField, so MongoEngine adds its own key field
 *     `auto_id_0`, an ObjectId stored as `_id`: the model is keyed
 *     KURA_KEY_OBJECTID and kura writes ObjectIds as the drivers do;
 *   - in JSON (kura_to_json, the HTTP service at /me_users) the key is
 *     "_id" (24 hex digits) and "id" is the declared field (kura_key_name);
 *   - MongoEngine also makes the class attribute `id` an alias of auto_id_0,
 *     so a Python program setting user.id sets the key, never the field: the
 *     stored `id` is only ever written by programs that name it in the
 *     document (kura does, as null when unset).
 * The guide declares every field twice; kura reuses SAUser's descriptors for
 * the four fields the two models share (same members, same order, so the same
 * offsets: checked at compile time in me_user.c) and adds `id`.
 */
#ifndef ME_USER_H
#define ME_USER_H

#include "sa_user.h"

/* StringField() has no bound; kura's strings do: 64 characters here. */
#define ME_USER_ID_CHARS 64

typedef struct me_user {
    kura_base base;
    char name[KURA_STRING_BYTES(128)];
    char email[KURA_STRING_BYTES(128)];
    int32_t age;
    char sex[KURA_STRING_BYTES(1)];
    char id[KURA_STRING_BYTES(ME_USER_ID_CHARS)];
} me_user;

/* MEUser's descriptor: collection "m_e_user", key KURA_KEY_OBJECTID, SAUser's
 * fields and `id`. Static storage, built on first call (thread-safe). */
const kura_model *me_user_model(void);

/* The guide's classmethod fetch (left as `pass` there): the users aged 30,
 * as SAUser.fetch_30_age, appended to *out. */
bool me_user_fetch_30_age(kura_store *docs, kura_rows *out, kura_error *err);

/* change_sex, as for SAUser: kura_save validates and stamps. */
void me_user_change_sex(me_user *u, const char *sex);

#endif
