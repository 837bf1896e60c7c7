/*
 * redis_private.h — the parts of the Redis driver (redis*.c), shared between them.
 *
 *   redis.c           the driver: URLs, opening, which topology a URL has
 *   redis_node.c      one server: a bounded pool of connections, pipelined runs
 *   redis_cmd.c       a kura_kv_cmd as Redis arguments, a reply as a kura_kv_reply
 *   redis_reply.c     replies decoded in place, without hiredis's malloc'd objects
 *   redis_slot.c      the cluster key slot (CRC16 and hash tags)
 *   redis_route.c     runs a batch over a topology that can move (retries, redirects)
 *   redis_cluster.c   Redis Cluster: the slot map
 *   redis_sentinel.c  Sentinel: finding the master, and finding it again
 */
#ifndef KURA_REDIS_PRIVATE_H
#define KURA_REDIS_PRIVATE_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "kv/kv_private.h"

#define REDIS_SLOTS 16384

/* What every connection of one store shares. */
typedef struct redis_conf {
    char *user;      /* ACL user, or NULL */
    char *password;  /* or NULL */
    long db;         /* SELECTed when not 0 */
    long timeout_ms; /* connect and command timeout */
    int pool_size;   /* connections per server */
    /* Refuse a connection to a server that is not a master (ROLE): a master that
     * sentinels demoted keeps answering reads as a replica, with older data. */
    bool require_master;
} redis_conf;

/* ---- one server (redis_node.c) ---- */

typedef struct redis_node redis_node;

/* A node at host:port (socket NULL) or at a unix socket; conf is borrowed and
 * must outlive the node. NULL on out of memory. */
redis_node *redis_node_new(const redis_conf *conf, const char *host, int port, const char *socket);
void redis_node_free(redis_node *node);
const char *redis_node_where(const redis_node *node); /* "host:port" or the socket path */
const char *redis_node_host(const redis_node *node);  /* NULL for a socket */
int redis_node_port(const redis_node *node);

redisContext *redis_node_checkout(redis_node *node, kura_error *err);
/* Returns c to the pool, or frees it when it failed. */
void redis_node_checkin(redis_node *node, redisContext *c);

/* One command on a pooled connection; the caller frees the reply. NULL with err
 * filled when the connection failed (an error reply is a reply). */
redisReply *redis_node_command(redis_node *node, int argc, const char **argv, kura_error *err);

/* Why a reply was not an answer, when the caller routes (redis_node_run's res). */
typedef enum redis_outcome {
    REDIS_DONE,  /* replies[i] holds the answer (or the store's refusal) */
    REDIS_MOVED, /* -MOVED slot host:port: the slot lives elsewhere for good */
    REDIS_ASK,   /* -ASK slot host:port: this once, ask there (ASKING first) */
    REDIS_BUSY,  /* TRYAGAIN, CLUSTERDOWN, LOADING, READONLY, MASTERDOWN: not run, retry */
    REDIS_LOST,  /* no reply: the connection failed before it came */
} redis_outcome;

typedef struct redis_result {
    redis_outcome outcome;
    char host[64]; /* MOVED, ASK */
    int port;
    char error[96]; /* BUSY: the store's words, for the error if retries run out */
} redis_result;

/* Sends count commands pipelined on one connection (each after an ASKING when asking
 * is non-NULL and asking[i]) and reads their replies into replies[]. With res
 * NULL every error reply becomes a refusal in replies[i]; with res, redirections
 * and retryable refusals are reported in res[i] instead and replies[i] is left
 * zeroed. values (may be NULL): where string values go (kura_kv_ops.run).
 * Returns false (err filled) when the connection failed; *sent then says
 * whether any command may have reached the server. */
bool redis_node_run(redis_node *n, const kura_kv_cmd *cmds, const bool *asking, size_t count,
                    kura_kv_reply *replies, redis_result *res, kura_kv_blocks *values, bool *sent,
                    kura_error *err);

/* The nodes one store has met, by address; each lives until the registry is freed,
 * so a route never points at a freed node. */
typedef struct redis_nodes {
    const redis_conf *conf;
    pthread_mutex_t mu;
    redis_node **items;
    size_t count, cap;
} redis_nodes;

void redis_nodes_init(redis_nodes *r, const redis_conf *conf);
void redis_nodes_free(redis_nodes *r);
/* The node at host:port, made on first use; NULL on out of memory. */
redis_node *redis_nodes_get(redis_nodes *r, const char *host, int port);
/* A snapshot of up to max nodes (for asking around); returns how many. */
size_t redis_nodes_list(redis_nodes *r, redis_node **out, size_t max);

/* ---- commands (redis_cmd.c) ---- */

/* Appends one command to c's output buffer. */
bool redis_cmd_append(redisContext *c, const kura_kv_cmd *k, kura_error *err);
/* Turns one reply into the kura_kv_reply the op promises (kv_private.h). */
void redis_cmd_convert(const kura_kv_cmd *k, redisReply *rep, kura_kv_reply *out);
/* The code for an error reply (the connection itself is fine). */
kura_code redis_error_code(const redisReply *rep);
/* Whether sending k twice leaves the store and the reply as sending it once. */
bool redis_cmd_idempotent(const kura_kv_cmd *k);

/* ---- replies decoded in place (redis_reply.c) ---- */

/* While installed on a connection's reader, each top-level status, error,
 * integer, nil or string reply is built in rep (short text in text[], a bulk
 * string in values when given) instead of a malloc'd redisReply; arrays and
 * their elements are hiredis's objects. rep must stay the first member
 * (redis_reply_free finds the rest from it). */
typedef struct redis_replies {
    redisReply rep;
    bool out;               /* rep is handed out and not freed yet */
    bool in_values;         /* rep.str is in values: taken as it is, never freed */
    kura_kv_blocks *values; /* or NULL: long strings are malloc'd */
    redisReplyObjectFunctions fns;
    redisReplyObjectFunctions *saved_fn;
    void *saved_privdata;
    redisReader *reader;
    char text[64];
} redis_replies;

/* Installs r on c's reader until redis_replies_remove (before c goes back to
 * its pool). r must outlive the installation; values may be NULL. */
void redis_replies_install(redis_replies *r, redisContext *c, kura_kv_blocks *values);
void redis_replies_remove(redis_replies *r);
/* Frees a reply read while installed, of either kind (NULL is a no-op). */
void redis_reply_free(void *reply);
/* Moves (or copies) a string reply's bytes into b; false on out of memory. */
bool redis_reply_take_string(redisReply *rep, kura_bytes *b);

/* ---- slots (redis_slot.c) ---- */

/* CRC16-CCITT (XMODEM), the cluster's key hash. */
uint16_t redis_crc16(const char *buf, size_t len);
/* The slot of key: the CRC16 of its hash tag (the text inside the first {...}
 * when not empty) or of the whole key, mod 16384. */
int redis_key_slot(const char *key, size_t len);

/* ---- topologies that move (redis_route.c, redis_cluster.c, redis_sentinel.c) ---- */

typedef struct redis_topo redis_topo;
typedef struct redis_topo_ops {
    /* The node serving slot now, or NULL when not known (a refresh is due). */
    redis_node *(*route)(redis_topo *t, int slot);
    /* Learns the topology again, unless it changed since version `seen`. */
    bool (*refresh)(redis_topo *t, unsigned seen, kura_error *err);
    /* A MOVED reply: slot is at node from now on. */
    void (*moved)(redis_topo *t, int slot, redis_node *node);
    void (*free)(redis_topo *t);
} redis_topo_ops;

struct redis_topo {
    const redis_topo_ops *ops;
    redis_nodes nodes;
    const redis_conf *conf;
    bool slotted;        /* multi-key commands are split per slot (cluster) */
    atomic_uint version; /* bumped by every refresh */
};

/* Runs cmds on t, following redirections and retrying through a failover:
 * commands that were not run, or that can safely run twice, are sent again
 * until they are answered, for at most the conf timeout (and a bounded number
 * of rounds). Same contract as kura_kv_ops.run. */
bool redis_route_run(redis_topo *t, const kura_kv_cmd *cmds, size_t n, kura_kv_reply *replies,
                     kura_error *err);

/* A cluster reached through seed, whose CLUSTER SLOTS reply is slots (borrowed). */
redis_topo *redis_cluster_new(const redis_conf *conf, const char *seed_host, int seed_port,
                              const redisReply *slots, kura_error *err);

/* Sentinel: the master named name, found through the sentinels at hosts/ports. */
redis_topo *redis_sentinel_new(const redis_conf *conf, const char *name, char **hosts,
                               const int *ports, size_t count, kura_error *err);

#endif
