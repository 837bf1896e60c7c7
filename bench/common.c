/* common.c — options, clock, workload data, the interleaved-pair statistics,
 * instruction counts under callgrind and the result table for the bench programs. */
#include "common.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [URL] [-n N | --sizes A,B,..] [--quick] [--pairs P] [--no-ir]\n"
            "          [--csv FILE] [--dir DIR]\n"
            "  -n N         users to insert (default 10000); same as --sizes N\n"
            "  --sizes LIST table sizes run in turn, e.g. 10000,100000,1000000\n"
            "  --quick      a smoke run: 1000 users, 1000 lookups, 100 queries, 100 updates,\n"
            "               5 pairs, no callgrind\n"
            "  --pairs P    interleaved kura/baseline pairs per operation (default 10)\n"
            "  --no-ir      skip the instruction counts (callgrind)\n"
            "  --csv FILE   also append every table row to FILE (for bench/plot)\n"
            "  --dir DIR    where the database files go (default $TMPDIR or /tmp)\n",
            prog);
}

static int64_t parse_count(const char *prog, const char *what, const char *s, int64_t max)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '0' || *s > '9' || (*end && *end != ',') || v < 1 || v > max) {
        fprintf(stderr, "%s: %s must be whole numbers from 1 to %lld, not '%s'\n", prog, what,
                (long long)max, s);
        exit(2);
    }
    return v;
}

static void parse_sizes(const char *prog, const char *s, bench_opts *o)
{
    o->nsizes = 0;
    for (const char *p = s; p && *p;) {
        if (o->nsizes == BENCH_MAX_SIZES) {
            fprintf(stderr, "%s: at most %d sizes\n", prog, BENCH_MAX_SIZES);
            exit(2);
        }
        o->sizes[o->nsizes++] = parse_count(prog, "--sizes", p, 10000000);
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
}

void bench_parse_args(int argc, char **argv, bench_opts *o, const char **url)
{
    static const struct option options[] = {
        {"quick", no_argument, NULL, 'q'},       {"runs", required_argument, NULL, 'r'},
        {"pairs", required_argument, NULL, 'r'}, {"sizes", required_argument, NULL, 's'},
        {"no-ir", no_argument, NULL, 'I'},       {"ir-child", no_argument, NULL, 'C'},
        {"csv", required_argument, NULL, 'c'},   {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},        {0}};
    const char *tmp = getenv("TMPDIR");
    *o = (bench_opts){.n = 10000,
                      .pairs = 10,
                      .dir = tmp && *tmp ? tmp : "/tmp",
                      .sizes = {10000},
                      .nsizes = 1,
                      .ir = true,
                      .argv0 = argv[0]};
    bool sizes_given = false, pairs_given = false;
    *url = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1) {
        switch (opt) {
        case 'n':
        case 's':
            parse_sizes(argv[0], optarg, o);
            sizes_given = true;
            break;
        case 'q':
            o->quick = true;
            break;
        case 'r':
            o->pairs = (int)parse_count(argv[0], "--pairs", optarg, BENCH_MAX_PAIRS);
            pairs_given = true;
            break;
        case 'I':
            o->ir = false;
            break;
        case 'C':
            o->ir_child = true;
            break;
        case 'c':
            o->csv = optarg;
            break;
        case 'd':
            o->dir = optarg;
            break;
        case 'h':
            usage(stdout, argv[0]);
            exit(0);
        default:
            usage(stderr, argv[0]);
            exit(2);
        }
    }
    for (; optind < argc; optind++) {
        if (!strstr(argv[optind], "://")) {
            usage(stderr, argv[0]);
            exit(2);
        }
        *url = argv[optind];
    }
    if (o->quick) {
        if (!sizes_given)
            o->sizes[0] = 1000;
        if (!pairs_given)
            o->pairs = 5;
        o->ir = false;
    }
    if (o->ir_child) {
        o->pairs = 1;
        o->ir = false;
    }
    bench_use_size(o, 0);
}

void bench_use_size(bench_opts *o, int i)
{
    o->n = o->sizes[i];
    o->lookups = o->quick ? 1000 : 10000;
    int64_t queries = o->quick ? 100 : 1000;
    /* About n/63 rows a query: keep rows read per size near 1000 queries at 10k. */
    if (o->n > 10000)
        queries = queries * 10000 / o->n;
    o->queries = queries < 10 ? 10 : queries;
    o->updates = o->quick ? 100 : 1000;
    if (o->updates > o->n)
        o->updates = o->n;
}

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bench_make_user(sa_user *u, int64_t i)
{
    kura_init(&sa_user_model, u);
    snprintf(u->name, sizeof u->name, "user%05lld", (long long)i);
    snprintf(u->email, sizeof u->email, "user%05lld@example.com", (long long)i);
    u->age = (int32_t)(18 + (i * 7919 % 63));
    u->sex[0] = i % 2 ? 'M' : 'F';
    u->sex[1] = '\0';
}

int64_t bench_lookup_id(const bench_opts *o, int64_t k)
{
    return (k * 7919 % o->n) + 1;
}

int bench_query_age(int64_t q)
{
    return (int)(18 + q % 63);
}

/* ---- interleaved pairs ---------------------------------------------------------- */

bool bench_kura_first(int pair, int op)
{
    return (pair + op) % 2 == 1;
}

void bench_figure_init(bench_figure *f, const char *op, const char *unit, double units)
{
    memset(f, 0, sizeof *f);
    f->op = op;
    f->unit = unit;
    f->units = units;
}

void bench_figure_add(bench_figure *f, double base_seconds, double kura_seconds)
{
    if (f->pairs == BENCH_MAX_PAIRS)
        return;
    f->base_s[f->pairs] = base_seconds;
    f->kura_s[f->pairs] = kura_seconds;
    f->pairs++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n), interpolated between neighbours. */
static double quantile(const double *v, int n, double q)
{
    if (n == 0)
        return 0;
    double pos = q * (n - 1);
    int lo = (int)pos;
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

bench_stats bench_figure_stats(const bench_figure *f)
{
    bench_stats s = {0};
    double r[BENCH_MAX_PAIRS], b[BENCH_MAX_PAIRS], k[BENCH_MAX_PAIRS];
    int n = f->pairs;
    for (int i = 0; i < n; i++) {
        r[i] = f->kura_s[i] > 0 ? f->base_s[i] / f->kura_s[i] : 0;
        b[i] = f->base_s[i];
        k[i] = f->kura_s[i];
    }
    qsort(r, (size_t)n, sizeof r[0], cmp_double);
    qsort(b, (size_t)n, sizeof b[0], cmp_double);
    qsort(k, (size_t)n, sizeof k[0], cmp_double);
    if (n > 0) {
        s.median = quantile(r, n, 0.5);
        s.min = r[0];
        s.max = r[n - 1];
        s.q1 = quantile(r, n, 0.25);
        s.q3 = quantile(r, n, 0.75);
        double units = f->units > 0 ? f->units : 1;
        s.base_us = quantile(b, n, 0.5) / units * 1e6;
        s.kura_us = quantile(k, n, 0.5) / units * 1e6;
    }
    s.ir_ratio = f->base_ir > 0 && f->kura_ir > 0 ? f->base_ir / f->kura_ir : 0;
    return s;
}

void bench_csv_row(const bench_opts *o, const char *bench, const char *group, int64_t size,
                   const char *op, const char *unit, const bench_stats *s)
{
    if (!o->csv || o->ir_child)
        return;
    FILE *f = fopen(o->csv, "a");
    if (!f) {
        perror(o->csv);
        return;
    }
    fprintf(f, "%s,%s,%lld,%s,%s,%.6g,%.6g,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", bench, group,
            (long long)size, op, unit, s->base_us, s->kura_us, s->median, s->min, s->max, s->q1,
            s->q3, s->ir_ratio);
    fclose(f);
}

void bench_print(const bench_opts *o, const char *bench, const char *group, int64_t size,
                 const char *title, const char *base_name, const bench_figure *f, size_t n,
                 double target)
{
    if (o->ir_child)
        return;
    printf("\n%s\n", title);
    char ratio[32];
    snprintf(ratio, sizeof ratio, "kura/%.5s", base_name);
    printf("| %-22s | %10s | %10s | %10s | %13s | %13s | %8s |\n", "operation", base_name, "kura",
           ratio, "min–max", "IQR", "Ir ratio");
    printf("|------------------------|-----------:|-----------:|-----------:|--------------:|------"
           "--------:|---------:|\n");
    for (size_t i = 0; i < n; i++) {
        bench_stats s = bench_figure_stats(&f[i]);
        char label[64], ir[16];
        snprintf(label, sizeof label, "%s (µs/%s)", f[i].op, f[i].unit);
        if (s.ir_ratio > 0)
            snprintf(ir, sizeof ir, "%.3f", s.ir_ratio);
        else
            snprintf(ir, sizeof ir, "-");
        /* "µ" is two bytes and one column: pad the label by one more. */
        printf("| %-23s | %10.3f | %10.3f | %8.3f%s | %5.2f – %5.2f | %5.2f – %5.2f | %8s |\n",
               label, s.base_us, s.kura_us, s.median, s.median < target ? " *" : "  ", s.min, s.max,
               s.q1, s.q3, ir);
        bench_csv_row(o, bench, group, size, f[i].op, f[i].unit, &s);
    }
    printf("(median of %d interleaved pairs; kura/%s = %s time / kura time, above 1: kura "
           "faster; Ir ratio = %s instructions / kura instructions under callgrind at the "
           "smallest size; * = median under %.2f)\n",
           n ? f[0].pairs : 0, base_name, base_name, base_name, target);
    fflush(stdout);
}

/* ---- instruction counts ---------------------------------------------------------- */

void bench_ir_begin(void)
{
#ifdef BENCH_HAVE_CALLGRIND
    CALLGRIND_ZERO_STATS;
#endif
}

void bench_ir_end(const char *label)
{
#ifdef BENCH_HAVE_CALLGRIND
    CALLGRIND_DUMP_STATS_AT(label);
#else
    (void)label;
#endif
}

#define IR_MAX 128
static struct {
    char label[64];
    double ir;
} ir_table[IR_MAX];
static int ir_count;

double bench_ir_get(const char *label)
{
    for (int i = 0; i < ir_count; i++)
        if (strcmp(ir_table[i].label, label) == 0)
            return ir_table[i].ir;
    return 0;
}

void bench_ir_fill(bench_figure *f, const char *prefix)
{
    char label[128];
    snprintf(label, sizeof label, "%s/%s/base", prefix, f->op);
    f->base_ir = bench_ir_get(label);
    snprintf(label, sizeof label, "%s/%s/kura", prefix, f->op);
    f->kura_ir = bench_ir_get(label);
}

/* Reads one callgrind dump: its trigger label and its total instructions. */
static void ir_read_dump(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512], label[64] = "";
    double total = 0;
    static const char trigger[] = "desc: Trigger: Client Request: ";
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, trigger, sizeof trigger - 1) == 0) {
            snprintf(label, sizeof label, "%.63s", line + sizeof trigger - 1);
            label[strcspn(label, "\n")] = '\0';
        } else if (strncmp(line, "totals: ", 8) == 0) {
            total = strtod(line + 8, NULL);
        }
    }
    fclose(f);
    if (*label && ir_count < IR_MAX) {
        snprintf(ir_table[ir_count].label, sizeof ir_table[ir_count].label, "%s", label);
        ir_table[ir_count++].ir = total;
    }
}

bool bench_ir_collect(const bench_opts *o, int argc, char **argv)
{
    if (!o->ir)
        return false;
#ifndef BENCH_HAVE_CALLGRIND
    (void)argc;
    (void)argv;
    fprintf(stderr, "%s: built without valgrind/callgrind.h: no instruction counts\n", o->argv0);
    return false;
#else
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/bench-ir-%ld", o->dir, (long)getpid());
    char mk[1200];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", dir);
    if (system(mk) != 0)
        return false;
    char out_opt[1200], size[32];
    snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s/cg.out", dir);
    int64_t smallest = o->sizes[0];
    for (int i = 1; i < o->nsizes; i++)
        if (o->sizes[i] < smallest)
            smallest = o->sizes[i];
    snprintf(size, sizeof size, "%lld", (long long)smallest);
    const char *args[32] = {"valgrind", "-q",         "--tool=callgrind", out_opt,
                            argv[0],    "--ir-child", "--sizes",          size,
                            "--dir",    o->dir};
    int na = 10;
    for (int i = 1; i < argc && na < 30; i++)
        if (strstr(argv[i], "://"))
            args[na++] = argv[i];
    args[na] = NULL;
    fprintf(stderr, "%s: counting instructions under callgrind (N=%s, one pair)...\n", o->argv0,
            size);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execvp("valgrind", (char *const *)args);
        _exit(127);
    }
    int status = 0;
    bool ok =
        pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        fprintf(stderr, "%s: the callgrind run failed (is valgrind installed?)\n", o->argv0);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "cg.out", 6) != 0)
                continue;
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (ok)
                ir_read_dump(path);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    return ok;
#endif
}

/* ---- files ---------------------------------------------------------------------- */

void bench_remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[1100];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

const char *bench_fresh_db(const bench_opts *o, const char *stem)
{
    static char path[1024];
    static unsigned counter;
    snprintf(path, sizeof path, "%s/%s-%ld-%u.db", o->dir, stem, (long)getpid(), counter++);
    bench_remove_db(path);
    return path;
}
