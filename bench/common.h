/*
 * common.h — what every bench_*.c shares: options, the clock, the workload's
 * users (docs/BENCHMARKS.md), the interleaved-pair method and the result table.
 *
 * A bench program measures one store both through kura and through a baseline
 * (raw driver code) in the same run. On a noisy 2-core machine one best-of-3
 * run moves a ratio by ±30%, so every figure is taken in interleaved pairs
 * (A B, B A, A B, ...): each pair gives one ratio, the table shows the median
 * of those ratios with its spread, and beside it the ratio of instruction
 * counts measured under callgrind, which the neighbours' load does not move.
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

#define BENCH_MAX_SIZES 8
#define BENCH_MAX_PAIRS 100

typedef struct bench_opts {
    int64_t n;       /* users inserted at the size being run (workload: 10000) */
    int64_t lookups; /* get_by_id operations (10000) */
    int64_t queries; /* query_by_age operations (1000 at 10k; fewer at larger sizes) */
    int64_t updates; /* update operations, ids 1..updates (1000, at most n) */
    int pairs;       /* interleaved pairs per operation (10) */
    const char *dir; /* where fresh database files go */
    int64_t sizes[BENCH_MAX_SIZES]; /* --sizes: the table sizes to run, in order */
    int nsizes;
    bool quick;
    bool ir;         /* also count instructions under callgrind (--ir, default on) */
    bool ir_child;   /* this process is the callgrind run: one pair, smallest size */
    const char *csv; /* --csv FILE: every table row is appended there too */
    const char *argv0;
} bench_opts;

/* Parses -n N, --sizes A,B,C, --quick, --pairs P (--runs is its old name), --no-ir,
 * --csv FILE, --dir DIR, --help. Exits (0 after --help, 2 on a bad option): a
 * benchmark is a program, not a library. Arguments containing "://" are left
 * for the program (a server URL) and returned in *url, or NULL. */
void bench_parse_args(int argc, char **argv, bench_opts *o, const char **url);

/* Sets o->n and the operation counts for size number i of o->sizes. query_by_age
 * reads about n/63 rows per query, so the count of queries shrinks as n grows to
 * keep each size's run about as long (at least 10 queries). */
void bench_use_size(bench_opts *o, int i);

/* Monotonic seconds. */
double bench_now(void);

/* User i (1-based) of the workload, into *u (initialised; owns nothing). */
void bench_make_user(sa_user *u, int64_t i);

/* The workload's k-th lookup id and q-th queried age. */
int64_t bench_lookup_id(const bench_opts *o, int64_t k);
int bench_query_age(int64_t q);

/* ---- interleaved pairs ------------------------------------------------------- */

/* Whether the kura side goes first in pair p of operation op: A B, B A, A B, ...
 * and shifted per operation, so neither side always meets the warmer cache. */
bool bench_kura_first(int pair, int op);

/* One operation's figures: the seconds each side took in every pair. */
typedef struct bench_figure {
    const char *op;
    const char *unit; /* what `units` counts: "row", "op", "query", "request" */
    double units;     /* units done by one side in one pair (cost = seconds / units) */
    int pairs;        /* pairs recorded */
    double base_s[BENCH_MAX_PAIRS], kura_s[BENCH_MAX_PAIRS];
    double base_ir, kura_ir; /* instructions of one side (callgrind), 0: not measured */
} bench_figure;

void bench_figure_init(bench_figure *f, const char *op, const char *unit, double units);

/* Records one pair. */
void bench_figure_add(bench_figure *f, double base_seconds, double kura_seconds);

/* The statistics of a figure's pairs: speed ratio kura/baseline per pair
 * (baseline seconds / kura seconds: 1.0 costs nothing, above 1 kura is faster),
 * and the median cost per unit of each side. */
typedef struct bench_stats {
    double median, min, max, q1, q3; /* of the per-pair ratios */
    double base_us, kura_us;         /* median microseconds per unit */
    double ir_ratio;                 /* base Ir / kura Ir, 0: not measured */
} bench_stats;

bench_stats bench_figure_stats(const bench_figure *f);

/* Prints a titled table of figures: cost per unit of each side, the median
 * ratio with min–max and IQR, the instruction ratio; a median under `target`
 * is flagged with '*'. `size` (0: none) and `group` go to the CSV file. */
void bench_print(const bench_opts *o, const char *bench, const char *group, int64_t size,
                 const char *title, const char *base_name, const bench_figure *f, size_t n,
                 double target);

/* Appends one free-form row to the CSV file (when --csv is given):
 * bench,group,size,op,unit,base_us,kura_us,median,min,max,q1,q3,ir. */
void bench_csv_row(const bench_opts *o, const char *bench, const char *group, int64_t size,
                   const char *op, const char *unit, const bench_stats *s);

/* ---- instruction counts ---------------------------------------------------------- */

/* Around one side of one operation: under callgrind (the --ir child) the
 * instructions between the two calls are dumped under `label`; otherwise
 * they cost nothing. */
void bench_ir_begin(void);
void bench_ir_end(const char *label);

/* Runs this program once more under callgrind (valgrind --tool=callgrind) with
 * --ir-child and the smallest size, and reads back each label's instructions.
 * Returns false (and says why on stderr) when valgrind is missing or fails. */
bool bench_ir_collect(const bench_opts *o, int argc, char **argv);

/* The instructions counted for `label` by bench_ir_collect, 0 when none. */
double bench_ir_get(const char *label);

/* Fills f->base_ir and f->kura_ir from labels "<prefix>/<op>/base" and ".../kura". */
void bench_ir_fill(bench_figure *f, const char *prefix);

/* ---- files ---------------------------------------------------------------------- */

/* A fresh path "<dir>/<stem>-<pid>-<counter>.db"; removes any file (and -wal,
 * -shm, -journal) already there. Static storage, valid until the next call. */
const char *bench_fresh_db(const bench_opts *o, const char *stem);

/* Removes the database file and its -wal, -shm and -journal companions. */
void bench_remove_db(const char *path);

#endif
