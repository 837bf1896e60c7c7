/*
 * kv_private.h — the table of functions behind every key-value driver.
 *
 * Every public call (kv.c) and every batch becomes an array of kura_kv_cmd
 * handed to the driver's run function, so a driver implements each command
 * once and pipelining comes for free. kv.c checks arguments first: drivers
 * receive non-NULL keys, finite scores and positive TTLs.
 */
#ifndef KURA_KV_PRIVATE_H
#define KURA_KV_PRIVATE_H

#include <kura/kv.h>
#include <stdatomic.h>

typedef enum kura_kv_op {
    KV_PING,
    KV_GET,
    KV_SET,
    KV_DEL,
    KV_EXISTS,
    KV_EXPIRE,
    KV_TTL,
    KV_INCR,
    KV_MGET,
    KV_MSET,
    KV_ZADD,
    KV_ZINCR,
    KV_ZSCORE,
    KV_ZRANK,
    KV_ZRANGE,
    KV_ZREM,
    KV_ZCARD,
    KV_ZCOUNT,
    KV_HSET,
    KV_HGET,
    KV_HGETALL,
    KV_HDEL,
} kura_kv_op;

/* What an op is, for every driver (kv.c): KV_READS, it only reads;
 * KV_REPEATABLE, it writes, but its reply and effect do not depend on what was
 * there, so sending it twice is sending it once (a conditional SET, an INCR or
 * an "it was added" count are not). */
enum { KV_READS = 1u << 0, KV_REPEATABLE = 1u << 1 };
extern const unsigned char kura__kv_op_traits[KV_HDEL + 1];

/* One command. Which members are read depends on op (see kv.c). The op's
 * numbers or lists share one union, so only the members of op's own line may
 * be set or read; a batch queues thousands of these, at 72 bytes each. */
typedef struct kura_kv_cmd {
    kura_kv_op op;
    kura_kv_cond cond; /* SET */
    bool reverse;      /* ZRANK, ZRANGE */
    const char *key;
    const char *name; /* sorted-set member or hash field */
    const void *value;
    size_t len;
    union {
        int64_t ttl_ms; /* SET (0: none), EXPIRE (> 0) */
        int64_t by;     /* INCR */
        struct {
            int64_t start, stop; /* ZRANGE */
        };
        struct {
            double score, max; /* ZADD, ZINCR (the increment); ZCOUNT min = score, max */
        };
        struct {
            const char *const *keys;   /* MGET */
            const kura_kv_pair *pairs; /* MSET */
            size_t n;                  /* MGET, MSET */
        };
    };
} kura_kv_cmd;

/*
 * How each op fills its kura_kv_reply (zeroed by the caller):
 *   GET, HGET        value (data NULL: missing)
 *   SET              found = stored          DEL, ZREM, HDEL  found = removed
 *   EXISTS           found                   EXPIRE           found = TTL set
 *   TTL              integer (-2, -1, ms)    INCR             integer
 *   ZADD             found = added           HSET             found = created
 *   ZINCR            score                   ZSCORE           found, score
 *   ZRANK            found, integer (-1 when absent)
 *   ZCARD, ZCOUNT    integer
 *   MGET             entries (name NULL)     ZRANGE, HGETALL  entries
 */
/* Memory handed out from blocks that never move and given back all at once
 * (blocks.c): a batch's queued strings, and its replies' values. */
typedef struct kura_kv_block kura_kv_block;
typedef struct kura_kv_blocks {
    kura_kv_block *first, *cur; /* zeroed: empty */
} kura_kv_blocks;

/* n bytes, until the next reset; NULL on out of memory. */
char *kura__kv_blocks_alloc(kura_kv_blocks *b, size_t n);
/* Whether p points into b's blocks. */
bool kura__kv_blocks_own(const kura_kv_blocks *b, const void *p);
void kura__kv_blocks_reset(kura_kv_blocks *b); /* everything handed out is given back */
void kura__kv_blocks_free(kura_kv_blocks *b);

typedef struct kura_kv_ops {
    const char *name;
    void (*close)(kura_kv *kv);
    /* Runs n commands in order. Returns false (err filled) only when the run
     * as a whole failed; per-command refusals go in replies[i].code/error.
     * values, when not NULL, may hold the bytes of the replies' values
     * (value.data pointing into them) instead of one malloc each: the
     * caller (a batch) frees only the values that are not in its blocks. */
    bool (*run)(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                kura_kv_blocks *values, kura_error *err);
    bool (*purge)(kura_kv *kv, int64_t *purged, kura_error *err); /* NULL: nothing to do */
    const char *(*file)(kura_kv *kv); /* the database file, or NULL (none, in memory) */
} kura_kv_ops;

/* guard.c: what lets calls fail at once while a remote store is down or
 * stalled. Zeroed (disabled) unless the driver calls kura__kv_guard_init. */
typedef struct kura_kv_guard {
    bool enabled;
    long stall_ms;                 /* 0: no stall detection, only the circuit */
    atomic_int inflight;           /* calls at the store now */
    _Atomic int64_t progress_ms;   /* last call finished, or a busy spell began */
    _Atomic int64_t open_until_ms; /* circuit open until then; 0: closed */
    _Atomic int64_t backoff_ms;    /* the last open spell's length */
    atomic_bool probing;           /* a half-open circuit's one call is out */
} kura_kv_guard;

struct kura_kv {
    const kura_kv_ops *ops;
    kura_kv_guard guard;
};

/* Turns the guard on for a remote driver's store (at open, before any call). */
void kura__kv_guard_init(kura_kv_guard *g, long stall_ms);

/* Every call to a store goes through here: ops->run behind the guard, every
 * value malloc'd (the caller takes them). */
bool kura__kv_run(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                  kura_error *err);
/* The same, values possibly in `values` (see kura_kv_ops.run). */
bool kura__kv_run_into(kura_kv *kv, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                       kura_kv_blocks *values, kura_error *err);

/* The tables the embedded store makes in its SQLite file (embedded.c's
 * schema): by default the app's own database, so no model may be named so. */
#define KURA_EMBEDDED_KV_TABLES                                                                    \
    {                                                                                              \
        "kura_kv", "kura_kv_hash", "kura_kv_zset"                                                  \
    }

/* The longest TTL, in ms (2^62: 146 million years). The expiry instant is
 * now + TTL: past INT64_MAX Redis refuses it and the embedded driver wrapped
 * to an instant already passed (the key was gone, the call said it was set),
 * so both refuse a longer one alike (KURA_INVALID). */
#define KURA_KV_TTL_MAX (INT64_C(1) << 62)

/* Redis's own text, which the embedded driver repeats word for word. */
#define KURA_KV_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define KURA_KV_NOT_INT   "ERR value is not an integer or out of range"
#define KURA_KV_OVERFLOW  "ERR increment or decrement would overflow"
#define KURA_KV_NAN       "ERR resulting score is not a number (NaN)"

/* Sets b to a malloc'd copy of data[0..len) plus a NUL. False on out of memory. */
bool kura_bytes_set(kura_bytes *b, const void *data, size_t len);

/* Marks a reply refused with code and a copy of msg (len bytes, or -1: strlen). */
void kura_kv_reply_fail(kura_kv_reply *r, kura_code code, const char *msg, int len);

/* Frees what a reply owns and zeroes it. */
void kura_kv_reply_clear(kura_kv_reply *r);

/* Driver entry points. */
kura_kv *kura_redis_kv_open(const char *url, kura_error *err);
kura_kv *kura_embedded_kv_open(const char *url, kura_error *err);
/* path ":memory:" for an in-memory store; sync NULL: normal. inherit_journal:
 * the file belongs to the app's SQL store, which chose its journal mode; a
 * standalone file is put in WAL mode. */
kura_kv *kura_embedded_kv_open_file(const char *path, const char *sync, long busy_ms,
                                    bool inherit_journal, kura_error *err);

/*
 * What kura_app opens: `url` as kura_kv_open does, except that a bare
 * "embedded:" means the SQLite file of database_url (an in-memory store for
 * a :memory: database). With a database that is not SQLite, a bare
 * "embedded:" is a file of its own, KURA_EMBEDDED_KV_DEFAULT_FILE in the working
 * directory (beside where kura.db would be).
 * *data_file (may be NULL) receives a malloc'd path of the file the app's
 * data lives in (the embedded store's, else the SQLite database's), or NULL
 * when there is none (in memory, PostgreSQL with Redis).
 */
#define KURA_EMBEDDED_KV_DEFAULT_FILE "kura-kv.db"

kura_kv *kura_kv_open_for_app(const char *url, const char *database_url, char **data_file,
                              kura_error *err);

#endif
