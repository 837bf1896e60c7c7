/* kura/kura.h — everything: include this one header. */
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

#endif
