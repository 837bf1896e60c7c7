/*
 * sa_user.h — the guide's SAUser (app/models/sa_user.py), declared once in C.
 *
 *   class SAUser(Base):                          typedef struct sa_user {
 *       id = Column(Integer, primary_key=True)       kura_base base;  (id, created_at, updated_at)
 *       name = Column(String(128))                   char name[KURA_STRING_BYTES(128)];
 *       email = Column(String(128))                  char email[KURA_STRING_BYTES(128)];
 *       age = Column(Integer, index=True)            int32_t age;
 *       sex = Column(String(1))                      char sex[KURA_STRING_BYTES(1)];
 */
#ifndef SA_USER_H
#define SA_USER_H

#include <kura/kura.h>

typedef struct sa_user {
    kura_base base;
    char name[KURA_STRING_BYTES(128)];
    char email[KURA_STRING_BYTES(128)];
    int32_t age;
    char sex[KURA_STRING_BYTES(1)];
} sa_user;

/* Table "sa_user", index ix_sa_user_age; email validated; sex one of M, F. */
extern const kura_model sa_user_model;

/* The guide's classmethod fetch_30_age: every user aged 30, appended to *out. */
bool sa_user_fetch_30_age(kura_store *db, kura_rows *out, kura_error *err);

/* The guide's change_sex: changes the struct; kura_save validates and stamps it. */
void sa_user_change_sex(sa_user *u, const char *sex);

#endif
