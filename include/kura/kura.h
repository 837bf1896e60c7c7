/*
 * kura/kura.h — the whole of libkura: include this one header
 * (pkg-config kura). The HTTP library (kura/http.h) and the command line
 * (kura/cli.h) are libkura-http's (pkg-config kura-http) and are included
 * on their own.
 */
#ifndef KURA_KURA_H
#define KURA_KURA_H

#include "error.h"
#include "model.h"
#include "query.h"
#include "store.h"
#include "json.h"
#include "kv.h"
#include "session.h"
#include "cache.h"
#include "rank.h"
#include "app.h"
#include "document.h"
#include "migrate.h"
#include "schema.h"
#include "log.h"

#endif
