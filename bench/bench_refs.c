/*
 * bench_refs.c — a page of rows with the rows they reference: posts, each with
 * its author, read the way a program without eager loading does (a kura_get
 * per post: the "N+1 queries") and with kura_find_referenced (a query per 64
 * distinct authors). Same store, same rows, same answers; the ratio is what
 * eager loading saves. Not part of the guide's workload: references are kura's
 * own addition (docs/BENCHMARKS.md, "References").
 *
 *   bench_refs [URL] [-n N] [--quick] [--pairs P] [--no-ir] [--csv F]
 *   N posts (default 10000) by N/10 authors, on a SQLite file (WAL) and, with a
 *   PostgreSQL URL (argument, KURA_BENCH_PG_URL or KURA_TEST_PG_URL), there too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define PAGE  100
#define PAGES 200

typedef struct b_author {
    kura_base base;
    char name[KURA_STRING_BYTES(32)];
} b_author;

typedef struct b_post {
    kura_base base;
    char title[KURA_STRING_BYTES(64)];
    int64_t author_id;
} b_post;

static const kura_model author_model =
    KURA_MODEL(b_author, "bench_author", KURA_STRING(b_author, name, 32));
static const kura_model post_model =
    KURA_MODEL(b_post, "bench_post", KURA_STRING(b_post, title, 64),
               KURA_INT64(b_post, author_id, .index = true, .references = &author_model));

static void check(bool ok, const char *what, const kura_error *err)
{
    if (!ok) {
        fprintf(stderr, "bench_refs: %s: %s\n", what, err->message);
        exit(1);
    }
}

/* Page p of the posts, in key order. */
static void read_page(kura_store *db, int64_t n, int p, kura_rows *posts)
{
    kura_error err;
    kura_query q = kura_query_for(&post_model);
    kura_order_by(&q, "id", false);
    kura_limit(&q, PAGE);
    kura_offset(&q,
                ((int64_t)p * 37 % 20 % (n / PAGE)) * PAGE); /* the first pages, as users read */
    check(kura_find(db, &q, posts, &err), "page", &err);
}

/* Without eager loading: each post's author by its key. */
BENCH_OP static double one_by_one(kura_store *db, int64_t n, int64_t *sum)
{
    kura_error err;
    double t0 = bench_now();
    for (int p = 0; p < PAGES; p++) {
        kura_rows posts = {0};
        read_page(db, n, p, &posts);
        for (size_t i = 0; i < posts.count; i++) {
            const b_post *post = kura_row(&posts, i);
            b_author a;
            check(kura_get(db, &author_model, post->author_id, &a, &err), "author", &err);
            *sum += a.base.id + (int64_t)strlen(a.name);
        }
        kura_rows_free(&posts);
    }
    return bench_now() - t0;
}

/* With it: the page's authors in one query, each post's found in them. */
BENCH_OP static double eager(kura_store *db, int64_t n, int64_t *sum)
{
    kura_error err;
    double t0 = bench_now();
    for (int p = 0; p < PAGES; p++) {
        kura_rows posts = {0}, authors = {0};
        read_page(db, n, p, &posts);
        check(kura_find_referenced(db, &posts, "author_id", &authors, &err), "authors", &err);
        for (size_t i = 0; i < posts.count; i++) {
            const b_author *a =
                kura_referenced(&authors, &post_model, kura_row(&posts, i), "author_id");
            *sum += a->base.id + (int64_t)strlen(a->name);
        }
        kura_rows_free(&authors);
        kura_rows_free(&posts);
    }
    return bench_now() - t0;
}

/* n posts by n/10 authors (authors in random order of posts). */
static void fill(kura_store *db, int64_t n)
{
    kura_error err;
    const kura_model *both[] = {&post_model, &author_model};
    check(kura_drop_all(db, both, 2, &err) && kura_create_all(db, both, 2, &err), "create", &err);
    int64_t na = n / 10 > 0 ? n / 10 : 1;
    b_author *a = calloc((size_t)na, sizeof *a);
    b_post *p = calloc((size_t)n, sizeof *p);
    if (!a || !p) {
        fprintf(stderr, "bench_refs: out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < na; i++)
        snprintf(a[i].name, sizeof a[i].name, "author %lld", (long long)i);
    check(kura_insert_many(db, &author_model, a, (size_t)na, &err), "authors", &err);
    uint64_t x = 88172645463325252u; /* xorshift: the same posts every run */
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        snprintf(p[i].title, sizeof p[i].title, "post %lld", (long long)i);
        p[i].author_id = a[x % (uint64_t)na].base.id;
    }
    check(kura_insert_many(db, &post_model, p, (size_t)n, &err), "posts", &err);
    free(a);
    free(p);
}

static void compare(const bench_opts *o, const char *group, const char *title, const char *url)
{
    kura_error err;
    kura_store *db = kura_store_open(url, &err);
    check(db != NULL, url, &err);
    fill(db, o->n);
    bench_figure f;
    bench_figure_init(&f, "page_with_authors", "page", PAGES);
    for (int pair = 0; pair < o->pairs; pair++) {
        double sec[2];
        int64_t sum[2] = {0, 0};
        for (int turn = 0; turn < 2; turn++) {
            int k = (turn == 0) == bench_kura_first(pair, 0);
            char label[96];
            snprintf(label, sizeof label, "%s/page_with_authors/%s", group, k ? "kura" : "base");
            bench_ir_begin();
            sec[k] = k ? eager(db, o->n, &sum[k]) : one_by_one(db, o->n, &sum[k]);
            bench_ir_end(label);
        }
        if (sum[0] != sum[1]) {
            fprintf(stderr, "bench_refs: %s: the two ways read different authors\n", title);
            exit(1);
        }
        bench_figure_add(&f, sec[0], sec[1]);
    }
    bench_ir_fill(&f, group);
    char full[300];
    snprintf(full, sizeof full,
             "%s: pages of %d posts with their authors, %lld posts (base = a kura_get per "
             "post, kura = kura_find_referenced)",
             title, PAGE, (long long)o->n);
    bench_print(o, "refs", group, o->n, full, "per row", &f, 1, 1.0);
    const kura_model *both[] = {&post_model, &author_model};
    check(kura_drop_all(db, both, 2, &err), "drop", &err);
    kura_store_close(db);
}

int main(int argc, char **argv)
{
    bench_opts o;
    const char *pg;
    bench_parse_args(argc, argv, &o, &pg);
    if (!pg)
        pg = getenv("KURA_BENCH_PG_URL");
    if (!pg || !*pg)
        pg = getenv("KURA_TEST_PG_URL");
    if (!o.ir_child)
        printf("bench_refs: %d interleaved pairs\n", o.pairs);
    bench_ir_collect(&o, argc, argv);
    bench_use_size(&o, 0);
    if (o.n < PAGE * 2)
        o.n = PAGE * 2;
    char path[1100], url[1200];
    snprintf(path, sizeof path, "%s", bench_fresh_db(&o, "refs"));
    snprintf(url, sizeof url, "sqlite:///%s?journal_mode=wal&synchronous=normal", path);
    compare(&o, "sqlite", "SQLite, WAL", url);
    bench_remove_db(path);
    if (pg && *pg)
        compare(&o, "postgresql", "PostgreSQL", pg);
    else if (!o.ir_child)
        printf("\nskipped: PostgreSQL: no URL (KURA_BENCH_PG_URL or KURA_TEST_PG_URL)\n");
    return 0;
}
