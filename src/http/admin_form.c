/*
 * admin_form.c — a model's fields as an HTML form and back.
 *
 * Inputs follow the field types: number for integers and doubles, email,
 * date, datetime-local (UTC, to the second), a checkbox for a bool, a select
 * for choices, a textarea for text and JSON, text for the rest. A posted form
 * becomes the JSON object the collection would have been sent
 * (admin_form_json) and goes through the collections' own rules
 * (http_decode_fields): the admin accepts and refuses exactly what the JSON
 * API does, with the same messages. The forms carry `novalidate`, so what
 * the browser would have checked is checked, and reported, by the model.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/admin.h"

/* --- bodies ------------------------------------------------------------------ */

static void plus_to_space(char *s)
{
    for (; *s; s++)
        if (*s == '+')
            *s = ' ';
}

bool admin_form_parse(const char *body, size_t len, admin_form *f)
{
    memset(f, 0, sizeof *f);
    if (!body || len == 0)
        return true;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += body[i] == '&';
    f->text = malloc(len + 1);
    f->pairs = calloc(cap, sizeof *f->pairs);
    if (!f->text || !f->pairs) {
        admin_form_free(f);
        return false;
    }
    memcpy(f->text, body, len);
    f->text[len] = '\0';
    for (char *p = f->text, *next; p; p = next) {
        next = strchr(p, '&');
        if (next)
            *next++ = '\0';
        if (!*p)
            continue;
        char *eq = strchr(p, '=');
        const char *value = "";
        if (eq) {
            *eq = '\0';
            plus_to_space(eq + 1);
            MHD_http_unescape(eq + 1);
            value = eq + 1;
        }
        plus_to_space(p);
        MHD_http_unescape(p);
        f->pairs[f->n].name = p;
        f->pairs[f->n].value = value;
        f->n++;
    }
    return true;
}

void admin_form_free(admin_form *f)
{
    free(f->text);
    free(f->pairs);
    memset(f, 0, sizeof *f);
}

const char *admin_form_get(const admin_form *f, const char *name)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (strcmp(f->pairs[i].name, name) == 0)
            return f->pairs[i].value;
    return NULL;
}

/* --- values as text ------------------------------------------------------------ */

/* The shortest text that reads back as d. */
static void add_double(kura_buf *b, double d)
{
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, d);
        if (strtod(text, NULL) == d)
            break;
    }
    kura_buf_add(b, text);
}

void admin_field_text(kura_buf *b, const kura_model *m, const void *obj, const kura_field *f,
                      bool for_input)
{
    if (kura_is_null(m, obj, f))
        return;
    const char *member = (const char *)obj + f->offset;
    switch (f->type) {
    case KURA_TYPE_INT32:
        kura_buf_addf(b, "%" PRId32, *(const int32_t *)(const void *)member);
        break;
    case KURA_TYPE_INT64:
        kura_buf_addf(b, "%" PRId64, *(const int64_t *)(const void *)member);
        break;
    case KURA_TYPE_DOUBLE:
        add_double(b, *(const double *)(const void *)member);
        break;
    case KURA_TYPE_BOOL:
        kura_buf_add(b, *(const bool *)(const void *)member ? "true" : "false");
        break;
    case KURA_TYPE_DATETIME: {
        char text[KURA_TIME_TEXT];
        kura_time t = *(const kura_time *)(const void *)member;
        if (t == 0) /* "unset" (model.h): an empty box, not 1970 */
            break;
        kura_time_format(t, text);
        if (for_input) { /* what datetime-local shows: to the second, no zone */
            text[10] = 'T';
            kura_buf_addn(b, text, 19);
        } else {
            kura_buf_add(b, text);
            kura_buf_add(b, " UTC");
        }
        break;
    }
    case KURA_TYPE_TAGS: {
        const kura_tags *tags = (const kura_tags *)(const void *)member;
        for (uint32_t i = 0; i < tags->count && i < KURA_TAGS_MAX; i++) {
            if (i)
                kura_buf_add(b, ", ");
            kura_buf_add(b, tags->items[i]);
        }
        break;
    }
    case KURA_TYPE_JSON: {
        const char *text = *(char *const *)(const void *)member;
        json_t *j = for_input && text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
        kura_buf_add(b, pretty ? pretty : text ? text : "");
        free(pretty);
        json_decref(j);
        break;
    }
    case KURA_TYPE_TEXT: {
        const char *text = *(char *const *)(const void *)member;
        kura_buf_add(b, text ? text : "");
        break;
    }
    default: /* string, email and the text-valued types: char arrays */
        kura_buf_add(b, member);
        break;
    }
}

/* --- forms to JSON --------------------------------------------------------------- */

static const char *trim(const char *s, char *buf, size_t size)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= size)
        return s;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* A number when the text is one (else the text, which the field's decoder
 * then refuses with its own message). */
static json_t *number_or_text(const kura_field *f, const char *v)
{
    char buf[64];
    const char *t = trim(v, buf, sizeof buf);
    char *end;
    errno = 0;
    if (f->type == KURA_TYPE_DOUBLE) {
        double d = strtod(t, &end);
        if (*t && !*end && !errno && isfinite(d))
            return json_real(d);
    } else if (*t && strspn(t + (*t == '-'), "0123456789") == strlen(t + (*t == '-')) &&
               t[*t == '-']) {
        long long n = strtoll(t, &end, 10);
        if (!errno && !*end)
            return json_integer(n);
    }
    return json_string(v);
}

static json_t *tag_list(const char *v)
{
    json_t *list = json_array();
    for (const char *p = v; list && *p;) {
        size_t n = strcspn(p, ",");
        char buf[KURA_STRING_BYTES(KURA_TAG_CHARS) * 2];
        char part[sizeof buf];
        if (n < sizeof part) {
            memcpy(part, p, n);
            part[n] = '\0';
            const char *t = trim(part, buf, sizeof buf);
            if (*t && json_array_append_new(list, json_string(t)) != 0) {
                json_decref(list);
                return NULL;
            }
        } else if (json_array_append_new(list, json_stringn(p, n)) != 0) {
            json_decref(list); /* too long for a tag: the decoder says so */
            return NULL;
        }
        p += n;
        p += *p == ',';
    }
    return list;
}

json_t *admin_form_json(const kura_model *m, const admin_form *f, const void *stored,
                        bool key_allowed, http_field_errors *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *key = kura_key_name(m);
    const char *kv = key_allowed ? admin_form_get(f, key) : NULL;
    if (kv && *kv) {
        json_t *j = json_string(kv);
        if (j)
            json_object_set_new(o, key, j);
        else
            http_field_error_add(e, key, "%s", "is not valid UTF-8");
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *fd = &m->fields[i];
        const char *v = admin_form_get(f, fd->name);
        json_t *j = NULL;
        if (fd->type == KURA_TYPE_BOOL) {
            json_object_set_new(o, fd->name, json_boolean(v != NULL)); /* a checkbox */
            continue;
        }
        if (!v)
            v = "";
        if (fd->type == KURA_TYPE_DATETIME && stored && *v) {
            char stack[64];
            kura_buf was;
            kura_buf_init(&was, stack, sizeof stack);
            admin_field_text(&was, m, stored, fd, true);
            bool same = strcmp(was.data, v) == 0;
            kura_buf_free(&was);
            if (same) /* untouched: the stored instant keeps its microseconds */
                continue;
        }
        if (!*v && fd->type != KURA_TYPE_TAGS) {
            json_object_set_new(o, fd->name, json_null()); /* an empty box: no value */
            continue;
        }
        switch (fd->type) {
        case KURA_TYPE_INT32:
        case KURA_TYPE_INT64:
        case KURA_TYPE_DOUBLE:
            j = number_or_text(fd, v);
            break;
        case KURA_TYPE_DATETIME: {
            char text[40];
            /* datetime-local leaves the seconds out when they are zero */
            bool minutes = strlen(v) == 16 && v[10] == 'T';
            snprintf(text, sizeof text, "%.32s%s", v, minutes ? ":00" : "");
            j = json_string(text);
            break;
        }
        case KURA_TYPE_TAGS:
            j = tag_list(v);
            break;
        case KURA_TYPE_JSON: {
            json_error_t jerr;
            j = json_loads(v, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
            if (!j) {
                http_field_error_add(e, fd->name, "is not valid JSON: %s", jerr.text);
                e->seen[i] = true;
                continue;
            }
            break;
        }
        default:
            j = json_string(v);
            break;
        }
        if (!j) {
            http_field_error_add(e, fd->name, "%s", "is not valid UTF-8");
            e->seen[i] = true;
            continue;
        }
        json_object_set_new(o, fd->name, j);
    }
    return o;
}

/* --- inputs ------------------------------------------------------------------------ */

static void add_attr(kura_buf *b, const char *name, const char *value)
{
    kura_buf_add(b, " ");
    kura_buf_add(b, name);
    kura_buf_add(b, "=\"");
    html_text(b, value);
    kura_buf_add(b, "\"");
}

/* The line under an input saying what the field takes. */
static void hint(kura_buf *b, const kura_field *f)
{
    char text[160] = "";
    switch (f->type) {
    case KURA_TYPE_STRING:
    case KURA_TYPE_EMAIL:
        if (!f->choices)
            snprintf(text, sizeof text, "at most %d characters", f->max_chars);
        break;
    case KURA_TYPE_INT32:
    case KURA_TYPE_INT64:
    case KURA_TYPE_DOUBLE:
        if (f->has_range)
            snprintf(text, sizeof text, "from %" PRId64 " to %" PRId64, f->min, f->max);
        break;
    case KURA_TYPE_DATETIME:
        snprintf(text, sizeof text, "UTC");
        break;
    case KURA_TYPE_TAGS:
        snprintf(text, sizeof text, "comma-separated, at most %d", KURA_TAGS_MAX);
        break;
    case KURA_TYPE_JSON:
        snprintf(text, sizeof text, "any JSON value");
        break;
    case KURA_TYPE_DECIMAL:
        snprintf(text, sizeof text, "a decimal: %d digits, %d after the point", f->precision,
                 f->scale);
        break;
    case KURA_TYPE_UUID:
        snprintf(text, sizeof text, "a UUID: 8-4-4-4-12 hex digits");
        break;
    case KURA_TYPE_OBJECTID:
        snprintf(text, sizeof text, "an ObjectId: 24 hex digits");
        break;
    default:
        break;
    }
    if (f->unique)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sunique", *text ? " · " : "");
    if (!*text)
        return;
    kura_buf_add(b, "<p class=\"hint\">");
    html_text(b, text);
    kura_buf_add(b, "</p>");
}

static void select_input(kura_buf *b, const kura_field *f, const char *id, const char *value)
{
    kura_buf_add(b, "<select");
    add_attr(b, "id", id);
    add_attr(b, "name", f->name);
    kura_buf_add(b, "><option value=\"\">—</option>");
    for (const char *const *c = f->choices; *c; c++) {
        kura_buf_add(b, strcmp(*c, value) == 0 ? "<option selected" : "<option");
        add_attr(b, "value", *c);
        kura_buf_add(b, ">");
        html_text(b, *c);
        kura_buf_add(b, "</option>");
    }
    kura_buf_add(b, "</select>");
}

void admin_field_input(admin_page *p, const kura_model *m, const kura_field *f, const void *obj,
                       const admin_form *typed, const http_field_errors *e)
{
    kura_buf *b = &p->b;
    const char *error = e ? http_field_error_of(e, f->name) : NULL;
    char stack[256], id[160], error_id[160];
    kura_buf vb;
    kura_buf_init(&vb, stack, sizeof stack);
    const char *value;
    if (typed) {
        value = admin_form_get(typed, f->name);
        if (!value)
            value = "";
    } else {
        admin_field_text(&vb, m, obj, f, true);
        value = vb.data;
    }
    snprintf(id, sizeof id, "f-%s", f->name);
    snprintf(error_id, sizeof error_id, "e-%s", f->name);
    kura_buf_add(b, error ? "<div class=\"field has-error\">" : "<div class=\"field\">");
    if (f->type == KURA_TYPE_BOOL) {
        bool on = typed ? admin_form_get(typed, f->name) != NULL : strcmp(value, "true") == 0;
        kura_buf_add(b, "<label class=\"check\"><input type=\"checkbox\" value=\"true\"");
        add_attr(b, "id", id);
        add_attr(b, "name", f->name);
        kura_buf_add(b, on ? " checked> " : "> ");
        html_text(b, f->name);
        kura_buf_add(b, "</label>");
    } else {
        kura_buf_add(b, "<label");
        add_attr(b, "for", id);
        kura_buf_add(b, ">");
        html_text(b, f->name);
        if (f->required)
            kura_buf_add(b, " <span class=\"req\">required</span>");
        kura_buf_add(b, "</label>");
        bool area = f->type == KURA_TYPE_TEXT || f->type == KURA_TYPE_JSON;
        if (f->choices && f->type != KURA_TYPE_TAGS) {
            select_input(b, f, id, value);
        } else if (area) {
            kura_buf_add(b, f->type == KURA_TYPE_JSON ? "<textarea class=\"mono\" rows=\"6\""
                                                      : "<textarea rows=\"5\"");
            add_attr(b, "id", id);
            add_attr(b, "name", f->name);
            if (error)
                add_attr(b, "aria-describedby", error_id);
            kura_buf_add(b, error ? " aria-invalid=\"true\">" : ">");
            html_text(b, value);
            kura_buf_add(b, "</textarea>");
        } else {
            const char *type = "text";
            char extra[160] = "";
            switch (f->type) {
            case KURA_TYPE_INT32:
            case KURA_TYPE_INT64:
                type = "number";
                if (f->has_range)
                    snprintf(extra, sizeof extra, " min=\"%" PRId64 "\" max=\"%" PRId64 "\"",
                             f->min, f->max);
                break;
            case KURA_TYPE_DOUBLE:
                type = "number";
                snprintf(extra, sizeof extra, " step=\"any\"");
                break;
            case KURA_TYPE_EMAIL:
                type = "email";
                snprintf(extra, sizeof extra, " maxlength=\"%d\"", f->max_chars);
                break;
            case KURA_TYPE_STRING:
                snprintf(extra, sizeof extra, " maxlength=\"%d\"", f->max_chars);
                break;
            case KURA_TYPE_DATE:
                type = "date";
                break;
            case KURA_TYPE_DATETIME:
                type = "datetime-local";
                snprintf(extra, sizeof extra, " step=\"1\"");
                break;
            case KURA_TYPE_DECIMAL:
                snprintf(extra, sizeof extra, " inputmode=\"decimal\"");
                break;
            default:
                break;
            }
            kura_buf_add(b, "<input");
            add_attr(b, "type", type);
            add_attr(b, "id", id);
            add_attr(b, "name", f->name);
            add_attr(b, "value", value);
            kura_buf_add(b, extra);
            if (error) {
                add_attr(b, "aria-describedby", error_id);
                kura_buf_add(b, " aria-invalid=\"true\"");
            }
            kura_buf_add(b, ">");
        }
    }
    if (error) {
        kura_buf_add(b, "<p class=\"error\"");
        add_attr(b, "id", error_id);
        kura_buf_add(b, ">");
        html_text(b, error);
        kura_buf_add(b, "</p>");
    }
    hint(b, f);
    kura_buf_add(b, "</div>");
    kura_buf_free(&vb);
}
