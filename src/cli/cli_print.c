/*
 * cli_print.c — rows of any model on a terminal. Cells are the model's own
 * JSON (kura_to_json), so every field type prints as the HTTP service shows
 * it, without a switch over types here: strings as they are, numbers right
 * aligned, null as nothing.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

/* The columns of model m: the key, its fields in order, then the timestamps
 * (when the model has them). */
static size_t columns(const kura_model *m, const char **out, size_t cap)
{
    size_t n = 0;
    out[n++] = kura_key_name(m);
    for (size_t i = 0; i < m->nfields && n + 2 < cap; i++)
        out[n++] = m->fields[i].name;
    if (kura_model_has_timestamps(m)) {
        out[n++] = "created_at";
        out[n++] = "updated_at";
    }
    return n;
}

/* A cell's text, malloc'd ("" for null or absent). */
static char *cell(json_t *obj, const char *name, bool *number)
{
    json_t *v = json_object_get(obj, name);
    *number = json_is_number(v);
    if (!v || json_is_null(v))
        return strdup("");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int width(const char *s)
{
    long n = kura_utf8_chars(s, strlen(s));
    return n < 0 ? (int)strlen(s) : (int)n;
}

static void pad(int n)
{
    for (; n > 0; n--)
        putchar(' ');
}

void cli_print_table(const kura_rows *rows)
{
    const kura_model *m = rows->model;
    const char *cols[KURA_MAX_FIELDS + 3];
    size_t ncols = columns(m, cols, sizeof cols / sizeof cols[0]);
    size_t ncells = rows->count * ncols;
    char **cells = calloc(ncells ? ncells : 1, sizeof *cells);
    bool *numeric = calloc(ncols, sizeof *numeric);
    int *w = calloc(ncols, sizeof *w);
    if (!cells || !numeric || !w) {
        free(cells);
        free(numeric);
        free(w);
        return;
    }
    for (size_t c = 0; c < ncols; c++)
        w[c] = width(cols[c]);
    for (size_t r = 0; r < rows->count; r++) {
        json_t *obj = kura_to_json(m, kura_row(rows, r));
        for (size_t c = 0; c < ncols; c++) {
            bool num = false;
            char *text = cell(obj, cols[c], &num);
            cells[r * ncols + c] = text;
            numeric[c] |= num;
            int cw = text ? width(text) : 0;
            w[c] = cw > w[c] ? cw : w[c];
        }
        json_decref(obj);
    }
    for (size_t r = 0; r <= rows->count; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *text = r == 0 ? cols[c] : cells[(r - 1) * ncols + c];
            if (!text)
                text = "";
            int gap = w[c] - width(text);
            if (numeric[c])
                pad(gap);
            fputs(text, stdout);
            if (c + 1 < ncols)
                pad((numeric[c] ? 0 : gap) + 2);
        }
        putchar('\n');
    }
    for (size_t i = 0; i < ncells; i++)
        free(cells[i]);
    free(cells);
    free(numeric);
    free(w);
}

bool cli_print_json(const kura_rows *rows, kura_error *err)
{
    for (size_t i = 0; i < rows->count; i++) {
        char *text = kura_to_json_string(rows->model, kura_row(rows, i));
        if (!text)
            return kura_fail(err, KURA_NOMEM, NULL, "cannot encode row %zu as JSON", i + 1);
        puts(text);
        free(text);
    }
    return true;
}

void cli_print_object(const kura_model *m, const void *obj)
{
    const char *cols[KURA_MAX_FIELDS + 3];
    size_t ncols = columns(m, cols, sizeof cols / sizeof cols[0]);
    int w = 0;
    for (size_t c = 0; c < ncols; c++)
        w = width(cols[c]) > w ? width(cols[c]) : w;
    json_t *j = kura_to_json(m, obj);
    for (size_t c = 0; c < ncols; c++) {
        bool num;
        char *text = cell(j, cols[c], &num);
        fputs(cols[c], stdout);
        pad(w - width(cols[c]) + 2);
        puts(text ? text : "");
        free(text);
    }
    json_decref(j);
}
