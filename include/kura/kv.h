/*
 * kura/kv.h — the key-value store: strings, sorted sets, hashes, batches.
 *
 * A kura_kv is Redis (hiredis) or its embedded twin (tables in a SQLite file)
 * behind one API; one conformance suite (tests/conformance/kv_suite.c) holds
 * both to the same behaviour, which is Redis's. The guide's `app.redis` is
 * kura_app_kv(app), and its `Session.get` / `Session.save` are kura_kv_get /
 * kura_kv_set on kura_app_kv(kura_current_app()) (kura/session.h is signed web
 * sessions, something else). Rules:
 *
 *  - Keys, sorted-set members and hash fields are NUL-terminated strings;
 *    values are binary-safe (any bytes, any length, embedded NULs included).
 *  - A key holds one type: a string, a sorted set or a hash. Using it as
 *    another type fails with KURA_STORE ("WRONGTYPE ..."), as Redis does.
 *    A sorted set or hash that loses its last member is deleted.
 *  - TTLs are milliseconds, at most 2^62 (longer: KURA_INVALID, on both
 *    drivers). An expired key is gone for every operation; the
 *    embedded driver checks expiry on every read and purges expired keys.
 *  - Sorted sets order by score, then by member bytes (memcmp, shorter first
 *    on a common prefix); reverse order is the exact mirror. NaN scores are
 *    KURA_INVALID.
 *
 * Errors: KURA_INVALID for bad arguments, KURA_CONFIG for a bad URL,
 * KURA_UNAVAILABLE when the server cannot be reached (the call fails at once;
 * a later call reconnects by itself), KURA_TIMEOUT when it does not answer in
 * time or no pooled connection came free, KURA_AUTH for a refused password,
 * KURA_STORE when the store refused the command (wrong type, not an integer).
 *
 * Threads: a kura_kv is safe to share. The Redis driver keeps a small pool of
 * connections (URL option pool, default 8); the embedded driver serialises
 * operations on one SQLite connection.
 *
 * Ownership: everything a call returns (kura_bytes, kura_kv_entries,
 * batch replies) is the caller's until freed with the matching _free call.
 * The store never keeps pointers to caller memory after a call returns.
 */
#ifndef KURA_KV_H
#define KURA_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kura_kv kura_kv;
typedef struct kura_kv_batch kura_kv_batch;

/* A value read from the store. data is malloc'd with one NUL byte after the
 * len bytes (so text values are C strings too); data is NULL when the key (or
 * field) does not exist. Free with kura_bytes_free, or free(b.data) yourself:
 * data comes from the C library's malloc, never from a pool of kura's, so a
 * caller may keep the buffer (set b.data = NULL) and free it later. The one
 * exception is a batch's replies, which the batch owns (kura_kv_batch_reply). */
typedef struct kura_bytes {
    char *data;
    size_t len;
} kura_bytes;

/* Frees b->data and zeroes *b. NULL is a no-op. */
void kura_bytes_free(kura_bytes *b);

/* One sorted-set member with its score, one hash field with its value, or
 * (kura_kv_mget) one value with name NULL. */
typedef struct kura_kv_entry {
    char *name;       /* member or field, malloc'd; NULL for mget */
    double score;     /* sorted sets */
    kura_bytes value; /* hashes and mget (data NULL: missing) */
} kura_kv_entry;

typedef struct kura_kv_entries {
    kura_kv_entry *items; /* malloc'd array of count entries */
    size_t count;
} kura_kv_entries;

/* Frees every entry and the array; zeroes *e. NULL is a no-op. */
void kura_kv_entries_free(kura_kv_entries *e);

/*
 * Opens a store from a URL:
 *   embedded:                    an in-memory embedded store (gone on close)
 *   embedded://:memory:          the same, spelled out
 *   embedded:///relative.db      tables kura_kv* in that SQLite file
 *   embedded:////absolute.db     (options: busy_timeout ms, synchronous)
 *   redis://[[user]:password@]host[:port][/db]     (port 6379, db 0)
 *   unix:///path/redis.sock[?db=N&password=...]
 *   redis+sentinel://[[user]:password@]h1:p1[,h2:p2...]/mastername[/db]
 *                                (sentinel port 26379; the credentials and db are
 *                                the master's, sentinels get none)
 * A redis:// URL naming any node of a Redis Cluster works in cluster mode, found
 * on the first connection (CLUSTER SLOTS): keys are routed by slot, MGET/MSET
 * across slots are split (atomic per slot only), MOVED/ASK are followed, and
 * during a failover commands are retried within the timeout; db must be 0.
 * Through sentinels, the master is found again after a failover. A command
 * whose connection broke after it was sent is retried only when running it
 * twice changes nothing; otherwise it fails with KURA_OUTCOME_UNKNOWN. On
 * every topology a write sent whose reply never came (the connection broke,
 * or the timeout passed: a stopped server runs it once it continues) fails
 * with KURA_OUTCOME_UNKNOWN, never KURA_UNAVAILABLE, which means not applied.
 * Redis options: timeout (connect and command timeout in ms, default 2000;
 * on a cluster or sentinel URL also the bound on retrying one call),
 * pool (connections per server, default 8), stall (ms, default 1000; 0 turns
 * it off). A dead or stopped Redis holds up at most a few callers: once a call
 * has waited `stall` ms with no other call finishing, further calls fail at
 * once with KURA_UNAVAILABLE; once a call failed for want of the server
 * (KURA_UNAVAILABLE, KURA_TIMEOUT, KURA_OUTCOME_UNKNOWN), calls fail at once
 * for 250 ms, doubling up
 * to 2 s while it stays away, and then one call tries it again (its success
 * ends this). Opening Redis connects once to check the
 * credentials and db (KURA_AUTH, KURA_CONFIG); a server that cannot be
 * reached does not fail the open (apps may start before their Redis): calls
 * fail with KURA_UNAVAILABLE until it answers. kura_kv_ping to insist.
 * A kura_app resolves a bare "embedded:" to its own database file instead
 * (kura_app_kv). The caller owns the store: kura_kv_close.
 */
kura_kv *kura_kv_open(const char *url, kura_error *err);

/* Closes every connection and frees the store. NULL is a no-op. */
void kura_kv_close(kura_kv *kv);

/* "redis" or "embedded". Static storage. */
const char *kura_kv_driver(const kura_kv *kv);

/* A round trip to the store. */
bool kura_kv_ping(kura_kv *kv, kura_error *err);

/* --- strings ------------------------------------------------------------ */

typedef enum kura_kv_cond {
    KURA_KV_ALWAYS = 0, /* SET */
    KURA_KV_IF_ABSENT,  /* SET NX */
    KURA_KV_IF_PRESENT, /* SET XX */
} kura_kv_cond;

/* Reads a string value into *out (which must own nothing); out->data is NULL
 * when the key does not exist. KURA_STORE when the key is not a string. */
bool kura_kv_get(kura_kv *kv, const char *key, kura_bytes *out, kura_error *err);

/* Stores len bytes of value (copied) under key, replacing whatever the key
 * held (of any type) and its TTL; ttl_ms > 0 sets a new TTL, 0 none. */
bool kura_kv_set(kura_kv *kv, const char *key, const void *value, size_t len, int64_t ttl_ms,
                 kura_error *err);

/* kura_kv_set under a condition; *stored (may be NULL) says whether it was
 * written. Not storing is not an error. */
bool kura_kv_set_if(kura_kv *kv, const char *key, const void *value, size_t len, int64_t ttl_ms,
                    kura_kv_cond cond, bool *stored, kura_error *err);

/* Deletes the key (of any type); *deleted (may be NULL) says whether it existed. */
bool kura_kv_del(kura_kv *kv, const char *key, bool *deleted, kura_error *err);

/* Sets *exists to whether the key holds a value of any type (and has not expired). */
bool kura_kv_exists(kura_kv *kv, const char *key, bool *exists, kura_error *err);

/* Sets the key's TTL to ttl_ms (> 0). *set (may be NULL) is false when the key
 * does not exist. */
bool kura_kv_expire(kura_kv *kv, const char *key, int64_t ttl_ms, bool *set, kura_error *err);

/* Remaining TTL in ms: -2 when the key does not exist, -1 when it has none. */
bool kura_kv_ttl(kura_kv *kv, const char *key, int64_t *ttl_ms, kura_error *err);

/* Adds `by` to the integer in key (a missing key counts as 0) and stores the
 * result as decimal text, keeping the TTL. KURA_STORE when the value is not
 * the decimal text of a 64-bit integer (Redis's rules: no sign '+', no leading
 * zeros or spaces) or the result would overflow. */
bool kura_kv_incr(kura_kv *kv, const char *key, int64_t by, int64_t *result, kura_error *err);

/* Reads n keys at once into *out (which must own nothing): out->items[i] is
 * keys[i]'s value, data NULL when missing or not a string (as Redis's MGET). */
bool kura_kv_mget(kura_kv *kv, const char *const *keys, size_t n, kura_kv_entries *out,
                  kura_error *err);

typedef struct kura_kv_pair {
    const char *key;
    const void *value;
    size_t len;
} kura_kv_pair;

/* Sets n keys at once, atomically, clearing their TTLs (as Redis's MSET). */
bool kura_kv_mset(kura_kv *kv, const kura_kv_pair *pairs, size_t n, kura_error *err);

/* --- sorted sets -------------------------------------------------------- */

/* Sets member's score; *added (may be NULL) is true when it was new. */
bool kura_kv_zadd(kura_kv *kv, const char *key, const char *member, double score, bool *added,
                  kura_error *err);

/* Adds `by` to member's score (a new member starts at 0); *score (may be
 * NULL) receives the new score. */
bool kura_kv_zincr(kura_kv *kv, const char *key, const char *member, double by, double *score,
                   kura_error *err);

/* member's score; *found is false (and *score untouched) when it is absent. */
bool kura_kv_zscore(kura_kv *kv, const char *key, const char *member, double *score, bool *found,
                    kura_error *err);

/* member's 0-based position in ascending order (reverse: descending);
 * -1 when it is absent. */
bool kura_kv_zrank(kura_kv *kv, const char *key, const char *member, bool reverse, int64_t *rank,
                   kura_error *err);

/* Members at positions start..stop inclusive, with scores, into *out (which
 * must own nothing). Negative positions count from the end (-1 is the last);
 * out-of-range positions are clipped as Redis's ZRANGE does. reverse walks
 * the descending order (ZREVRANGE). */
bool kura_kv_zrange(kura_kv *kv, const char *key, int64_t start, int64_t stop, bool reverse,
                    kura_kv_entries *out, kura_error *err);

/* Removes member; *removed (may be NULL) says whether it was there. */
bool kura_kv_zrem(kura_kv *kv, const char *key, const char *member, bool *removed, kura_error *err);

/* Number of members (0 for a missing key). */
bool kura_kv_zcard(kura_kv *kv, const char *key, int64_t *count, kura_error *err);

/* Number of members with min <= score <= max. */
bool kura_kv_zcount(kura_kv *kv, const char *key, double min, double max, int64_t *count,
                    kura_error *err);

/* --- hashes ------------------------------------------------------------- */

/* Sets field to len bytes of value; *created (may be NULL) is true when the
 * field was new. */
bool kura_kv_hset(kura_kv *kv, const char *key, const char *field, const void *value, size_t len,
                  bool *created, kura_error *err);

/* field's value into *out (must own nothing); out->data NULL when absent. */
bool kura_kv_hget(kura_kv *kv, const char *key, const char *field, kura_bytes *out,
                  kura_error *err);

/* Every field and value into *out (must own nothing), sorted by field bytes
 * (kura sorts: Redis itself promises no order). */
bool kura_kv_hgetall(kura_kv *kv, const char *key, kura_kv_entries *out, kura_error *err);

/* Deletes field; *deleted (may be NULL) says whether it was there. */
bool kura_kv_hdel(kura_kv *kv, const char *key, const char *field, bool *deleted, kura_error *err);

/* --- maintenance -------------------------------------------------------- */

/* Embedded: deletes every expired key now (reads already ignore them and
 * writes purge a batch of them now and then); *purged (may be NULL) gets how
 * many. Redis expires keys itself: *purged = 0. */
bool kura_kv_purge(kura_kv *kv, int64_t *purged, kura_error *err);

/* --- batches: many commands, one round trip ----------------------------- */

/*
 * A batch queues commands and sends them together (Redis: one pipelined
 * write, then every reply; embedded: one SQLite transaction). It is a
 * pipeline, not a transaction: on Redis other clients' commands may run
 * between its commands, and a command the store refuses (wrong type) fails
 * alone, in its reply. A batch belongs to one thread at a time.
 *
 * Queueing copies its arguments; a queueing call fails only for a bad
 * argument or out of memory, and the failure is reported by kura_kv_batch_run
 * (queueing calls return false so that a caller may stop early).
 */
kura_kv_batch *kura_kv_batch_new(kura_kv *kv, kura_error *err);
void kura_kv_batch_free(kura_kv_batch *batch);

/* Queue one command each, as the single-key calls above do it (kura_kv_get,
 * kura_kv_set, kura_kv_del, kura_kv_expire, kura_kv_incr, kura_kv_zadd,
 * kura_kv_zincr, kura_kv_hset); their replies come from kura_kv_batch_run, in
 * queueing order. False when the argument is bad or memory ran out (see above). */
bool kura_kv_batch_get(kura_kv_batch *b, const char *key);
bool kura_kv_batch_set(kura_kv_batch *b, const char *key, const void *value, size_t len,
                       int64_t ttl_ms);
bool kura_kv_batch_del(kura_kv_batch *b, const char *key);
bool kura_kv_batch_expire(kura_kv_batch *b, const char *key, int64_t ttl_ms);
bool kura_kv_batch_incr(kura_kv_batch *b, const char *key, int64_t by);
bool kura_kv_batch_zadd(kura_kv_batch *b, const char *key, const char *member, double score);
bool kura_kv_batch_zincr(kura_kv_batch *b, const char *key, const char *member, double by);
bool kura_kv_batch_hset(kura_kv_batch *b, const char *key, const char *field, const void *value,
                        size_t len);

/* Number of commands queued. */
size_t kura_kv_batch_count(const kura_kv_batch *b);

/* One command's outcome. */
typedef struct kura_kv_reply {
    kura_code code;          /* KURA_OK, or why the store refused this command */
    char *error;             /* the store's message when code != KURA_OK, else NULL */
    bool found;              /* get: the key existed; set/del/expire/zadd/hset: it changed */
    int64_t integer;         /* incr: the new value */
    double score;            /* zincr: the new score */
    kura_bytes value;        /* get: the value (data NULL when missing) */
    kura_kv_entries entries; /* lists (used by the single-call API internally) */
} kura_kv_reply;

/*
 * Sends every queued command and collects the replies. Returns false when the
 * batch as a whole failed (a queueing error, the server down or gone mid-way:
 * on Redis some commands may have run); per-command refusals do not fail the
 * run, they are in each reply. After a successful run the queue is empty and
 * the replies are readable until the next run or kura_kv_batch_free.
 */
bool kura_kv_batch_run(kura_kv_batch *b, kura_error *err);

/* Reply i of the last run (NULL when i is out of range). Owned by the batch,
 * its value and error included: the value's bytes may live in the batch's own
 * memory rather than in a malloc'd buffer of their own, so copy what must
 * outlive the next run or kura_kv_batch_free, and never free it. */
const kura_kv_reply *kura_kv_batch_reply(const kura_kv_batch *b, size_t i);

#ifdef __cplusplus
}
#endif
#endif
