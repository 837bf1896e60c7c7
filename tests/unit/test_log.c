/* test_log.c — libmongoc's log lines reach kura's handler (kura/log.h), never stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <mongoc/mongoc.h>

#include <kura/kura.h>

typedef struct seen {
    int lines;
    kura_log_level level;
    char source[64];
    char message[256];
} seen;

static void catch_line(kura_log_level level, const char *source, const char *message, void *ctx)
{
    seen *s = ctx;
    s->lines++;
    s->level = level;
    snprintf(s->source, sizeof s->source, "%s", source);
    snprintf(s->message, sizeof s->message, "%s", message);
}

static void test_mongoc_lines_go_to_the_handler(void **state)
{
    (void)state;
    seen s = {0};
    kura_log_set_handler(catch_line, &s);
    kura_log_fn fn = NULL;
    void *ctx = NULL;
    kura_log_get_handler(&fn, &ctx);
    assert_ptr_equal(fn, catch_line);
    assert_ptr_equal(ctx, &s);

    /* Opening a MongoDB store (no server needed: libmongoc connects lazily)
     * takes libmongoc's log over. */
    kura_error err = {0};
    kura_store *docs = kura_document_store_open(
        "mongodb://127.0.0.1:1/kura_log?serverSelectionTimeoutMS=50", &err);
    int before = s.lines; /* libmongoc may have said something of its own while opening */
    mongoc_log(MONGOC_LOG_LEVEL_WARNING, "stream", "Failed to buffer %d bytes", 4);
    assert_int_equal(s.lines, before + 1);
    assert_int_equal(s.level, KURA_LOG_WARN);
    assert_string_equal(s.source, "mongoc stream");
    assert_string_equal(s.message, "Failed to buffer 4 bytes");
    mongoc_log(MONGOC_LOG_LEVEL_CRITICAL, "cluster", "x");
    assert_int_equal(s.level, KURA_LOG_ERROR);
    mongoc_log(MONGOC_LOG_LEVEL_DEBUG, "cluster", "y");
    assert_int_equal(s.level, KURA_LOG_DEBUG);
    assert_int_equal(s.lines, before + 3);

    /* No handler: the line is dropped (and not printed). */
    kura_log_set_handler(NULL, NULL);
    mongoc_log(MONGOC_LOG_LEVEL_WARNING, "stream", "dropped");
    assert_int_equal(s.lines, before + 3);
    kura_store_close(docs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mongoc_lines_go_to_the_handler)};
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
