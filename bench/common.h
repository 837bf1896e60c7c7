/*
 * common.h — what every bench_*.c shares: options, the clock, the workload's
 * users (docs/BENCHMARKS.md), best-of-N bookkeeping and the result table.
 *
 * A bench program measures one store both through kura and through raw
 * driver code in the same run and prints ratios: on a noisy 2-core machine
 * the ratio is the figure that means something, not the absolute rate.
 */
#ifndef KURA_BENCH_COMMON_H
#define KURA_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sa_user.h"

/* Each timed operation is one non-inlined function, so that a profiler
 * (perf report, callgrind_annotate --inclusive=yes) attributes its cost. */
#define BENCH_OP __attribute__((noinline))

typedef struct bench_opts {
    int64_t n;       /* users inserted (workload: 10000) */
    int64_t lookups; /* get_by_id operations (10000) */
    int64_t queries; /* query_by_age operations (1000) */
    int64_t updates; /* update operations, ids 1..updates (1000, at most n) */
    int runs;        /* each figure is the best of this many fresh runs (3) */
    const char *dir; /* where fresh database files go */
} bench_opts;

/* Parses -n N, --quick, --runs N, --dir DIR, --help. Exits (0 after --help, 2 on a
 * bad option): a benchmark is a program, not a library. */
void bench_parse_args(int argc, char **argv, bench_opts *o);

/* Monotonic seconds. */
double bench_now(void);

/* User i (1-based) of the workload, into *u (initialised; owns nothing). */
void bench_make_user(sa_user *u, int64_t i);

/* The workload's k-th lookup id and q-th queried age. */
int64_t bench_lookup_id(const bench_opts *o, int64_t k);
int bench_query_age(int64_t q);

/* One line of the table: operation, best ops/s of each side. */
typedef struct bench_line {
    const char *op;
    double raw;  /* best ops/s of the raw driver code */
    double kura; /* best ops/s through kura */
} bench_line;

/* Keeps the best rate: *best = max(*best, ops / seconds). */
void bench_keep_best(double *best, double ops, double seconds);

/* Prints a titled table of lines with the kura/raw ratio; ratios under 0.90 are flagged. */
void bench_print(const char *title, const bench_line *lines, size_t n);

/* A fresh path "<dir>/<stem>-<pid>-<counter>.db"; removes any file (and -wal,
 * -shm, -journal) already there. Static storage, valid until the next call. */
const char *bench_fresh_db(const bench_opts *o, const char *stem);

/* Removes the database file and its -wal, -shm and -journal companions. */
void bench_remove_db(const char *path);

#endif
