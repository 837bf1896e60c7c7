/*
 * me_user.h — the guide's MEUser (app/models/me_user.py), as documents.
 *
 *   class MEUser(Base):                       the same C struct as SAUser, and the
 *       id = mongo.StringField()              same field descriptors (declared once,
 *       name = mongo.StringField()            in sa_user.c): only the collection
 *       email = mongo.EmailField()            name differs, "me_user". Store it in
 *       sex = mongo.StringField()             a document store: embedded SQLite
 *       age = mongo.IntField()                JSON, PostgreSQL JSONB or MongoDB.
 *
 * The guide declares every field twice (SQLAlchemy columns, MongoEngine
 * fields); kura reuses one descriptor. The id is the document's integer _id.
 */
#ifndef ME_USER_H
#define ME_USER_H

#include "sa_user.h"

typedef sa_user me_user;

/* SAUser's descriptor stored as collection "me_user". Static storage, built on
 * first call (thread-safe). */
const kura_model *me_user_model(void);

/* The guide's classmethod fetch (left as `pass` there): the users aged 30,
 * as SAUser.fetch_30_age, appended to *out. */
bool me_user_fetch_30_age(kura_store *docs, kura_rows *out, kura_error *err);

/* change_sex, as for SAUser: kura_save validates and stamps. */
void me_user_change_sex(me_user *u, const char *sex);

#endif
