/*
 * schema_c.c — a schema's models as C declarations (kura inspect --c).
 *
 * The struct for a model lists its members in field order after
 * `kura_base base`, each declared as its type's entry says (model/types.h), so
 * the compiled struct has the runtime layout; the descriptor uses the same
 * KURA_* macros a person would write, which check the member types at compile
 * time (KURA_MODEL; KURA_MODEL_KEYED for a key other than int64; KURA_MODEL_EX
 * for a model without created_at and updated_at).
 */
#include "model/model_private.h"
#include "model/schema_private.h"
#include "model/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

static bool c_keyword(const char *s)
{
    static const char *const words[] = {
        "auto",       "break",     "case",           "char",
        "const",      "continue",  "default",        "do",
        "double",     "else",      "enum",           "extern",
        "float",      "for",       "goto",           "if",
        "inline",     "int",       "long",           "register",
        "restrict",   "return",    "short",          "signed",
        "sizeof",     "static",    "struct",         "switch",
        "typedef",    "union",     "unsigned",       "void",
        "volatile",   "while",     "_Alignas",       "_Alignof",
        "_Atomic",    "_Bool",     "_Complex",       "_Generic",
        "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
        "bool",       "true",      "false",          "NULL",
        NULL};
    for (const char *const *w = words; *w; w++)
        if (strcmp(*w, s) == 0)
            return true;
    return false;
}

/* A C string literal for s: quotes, backslashes and control bytes escaped
 * (octal, three digits, so a following digit cannot join the escape). */
static void c_string(kura_buf *b, const char *s)
{
    kura_buf_add(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            kura_buf_addf(b, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f || *c == '?') /* '?' too: no trigraphs */
            kura_buf_addf(b, "\\%03o", *c);
        else
            kura_buf_addn(b, (const char *)c, 1);
    }
    kura_buf_add(b, "\"");
}

static void c_int64(kura_buf *b, int64_t v)
{
    if (v == INT64_MIN)
        kura_buf_add(b, "INT64_MIN");
    else if (v == INT64_MAX)
        kura_buf_add(b, "INT64_MAX");
    else
        kura_buf_addf(b, "%lld", (long long)v);
}

/* A double literal that reads back as d, in the fewest digits. */
static void c_double(kura_buf *b, double d)
{
    char text[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(text, sizeof text, "%.*g", p, d);
        if (strtod(text, NULL) == d || p == 17)
            break;
    }
    /* "5" would be an int literal: fine in an initialiser, but say what it is. */
    kura_buf_add(b, text);
    if (!strpbrk(text, ".eEn"))
        kura_buf_add(b, ".0");
}

/* A comment holding text, with any end-of-comment sequence broken up. */
static void c_comment(kura_buf *b, const char *prefix, const char *text)
{
    kura_buf_addf(b, "/* %s", prefix);
    for (const char *c = text; *c; c++) {
        kura_buf_addn(b, c, 1);
        if (c[0] == '*' && c[1] == '/')
            kura_buf_add(b, " ");
    }
    kura_buf_add(b, " */\n");
}

/* A name in capitals, for the constants (KURA_KEY_UUID, KURA_ON_DELETE_SET_NULL). */
static void upper(kura_buf *b, const char *name)
{
    for (const char *c = name; *c; c++)
        kura_buf_addf(b, "%c", *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
}

/* ", .<option> = (const char *const[]){"a", "b", NULL}" for a list of strings. */
static void c_strings(kura_buf *b, const char *option, const char *const *list)
{
    kura_buf_addf(b, ", .%s = (const char *const[]){", option);
    for (const char *const *c = list; *c; c++) {
        c_string(b, *c);
        kura_buf_add(b, ", ");
    }
    kura_buf_add(b, "NULL}");
}

static void field_options(kura_buf *b, const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    if (ti->chars_limit && ti->args != KURA_ARGS_CHARS && f->max_chars > 0)
        kura_buf_addf(b, ", .max_chars = %d", f->max_chars);
    if (f->index)
        kura_buf_add(b, ", .index = true");
    if (f->unique)
        kura_buf_add(b, ", .unique = true");
    if (f->required)
        kura_buf_add(b, ", .required = true");
    if (f->choices && ti->choices)
        c_strings(b, "choices", f->choices);
    if (f->unique_with)
        c_strings(b, "unique_with", f->unique_with);
    if (f->has_range && ti->range) {
        kura_buf_add(b, ", .has_range = true, .min = ");
        c_int64(b, f->min);
        kura_buf_add(b, ", .max = ");
        c_int64(b, f->max);
    }
    if (f->references && f->references->name) {
        kura_buf_addf(b, ", .references = &%s_model", f->references->name);
        if (f->on_delete != KURA_ON_DELETE_RESTRICT && kura__on_delete_name(f->on_delete)) {
            kura_buf_add(b, ", .on_delete = KURA_ON_DELETE_");
            upper(b, kura__on_delete_name(f->on_delete));
        }
    }
    if (!f->has_default)
        return;
    switch (ti->dflt) { /* the member of kura_field the type keeps its default in */
    case KURA_DEFAULT_INT:
        kura_buf_add(b, ", .has_default = true, .default_int = ");
        c_int64(b, f->default_int);
        break;
    case KURA_DEFAULT_DOUBLE:
        kura_buf_add(b, ", .has_default = true, .default_double = ");
        c_double(b, f->default_double);
        break;
    case KURA_DEFAULT_STRING:
        if (f->default_string) {
            kura_buf_add(b, ", .has_default = true, .default_string = ");
            c_string(b, f->default_string);
        }
        break;
    case KURA_DEFAULT_NONE:
        break;
    }
}

/* A member's declaration, one line: "int32_t age;", "char *bio;",
 * "char name[KURA_STRING_BYTES(80)];". */
static void member(kura_buf *b, const kura_field *f)
{
    const kura_type_info *ti = kura__type(f->type);
    size_t n = strlen(ti->c_type);
    const char *gap = n && ti->c_type[n - 1] == '*' ? "" : " ";
    kura_buf_addf(b, "    %s%s%s", ti->c_type, gap, f->name);
    if (!ti->size) {
        kura_buf_add(b, "[");
        ti->array_bytes(f, b);
        kura_buf_add(b, "]");
    }
    kura_buf_add(b, ";\n");
}

/* The key kind's constant: KURA_KEY_ and its name in capitals. */
static void key_constant(kura_buf *b, kura_key_kind kind)
{
    kura_buf_add(b, "KURA_KEY_");
    upper(b, kura_key_kind_name(kind));
}

static bool add_model(kura_buf *b, const kura_schema *s, size_t mi, kura_error *err)
{
    const kura_model *m = kura_schema_model(s, mi);
    const char *t = m->name;
    if (!kura__schema_ident(t) || c_keyword(t))
        return kura_fail(err, KURA_UNSUPPORTED, NULL,
                         "model %s: its name is not a usable C identifier", t);
    for (size_t i = 0; i < m->nfields; i++)
        if (!kura__schema_ident(m->fields[i].name) || c_keyword(m->fields[i].name) ||
            (unsigned)m->fields[i].type >= KURA_TYPE_COUNT)
            return kura_fail(err, KURA_UNSUPPORTED, m->fields[i].name,
                             "model %s, field %s: not expressible as a C member", t,
                             m->fields[i].name);

    kura_buf_addf(b, "\n/* %s: store \"%s\", path ", t,
                  kura_schema_store_of(s, mi) == KURA_SCHEMA_DOCUMENTS ? "documents" : "sql");
    c_string(b, kura_schema_path(s, mi));
    kura_buf_add(b, " */\n");
    for (size_t i = 0; i < kura_schema_warning_count(s, mi); i++)
        c_comment(b, "warning: ", kura_schema_warning(s, mi, i));
    kura_buf_addf(b, "typedef struct %s {\n    kura_base base;\n", t);
    for (size_t i = 0; i < m->nfields; i++)
        member(b, &m->fields[i]);
    kura_buf_addf(b, "} %s;\n\n", t);
    if (m->nfields == 0) {
        kura_buf_addf(b, "/* %s has no fields of its own: KURA_MODEL needs at least one. */\n", t);
        return true;
    }
    /* KURA_MODEL for the defaults, KURA_MODEL_KEYED for another key, KURA_MODEL_EX
     * for a model without timestamps. */
    bool stamps = kura_model_has_timestamps(m);
    kura_buf_addf(b, "const kura_model %s_model = %s(\n    %s, ", t,
                  !stamps                    ? "KURA_MODEL_EX"
                  : m->key != KURA_KEY_INT64 ? "KURA_MODEL_KEYED"
                                             : "KURA_MODEL",
                  t);
    c_string(b, t);
    if (!stamps || m->key != KURA_KEY_INT64) {
        kura_buf_add(b, ", ");
        key_constant(b, m->key);
    }
    if (!stamps)
        kura_buf_add(b, ", KURA_MODEL_NO_TIMESTAMPS");
    for (size_t i = 0; i < m->nfields; i++) {
        const kura_field *f = &m->fields[i];
        const kura_type_info *ti = kura__type(f->type);
        kura_buf_addf(b, ",\n    %s(%s, %s", ti->c_macro, t, f->name);
        if (ti->args == KURA_ARGS_CHARS)
            kura_buf_addf(b, ", %d", f->max_chars);
        else if (ti->args == KURA_ARGS_DECIMAL)
            kura_buf_addf(b, ", %d, %d", f->precision, f->scale);
        field_options(b, f);
        kura_buf_add(b, ")");
    }
    kura_buf_add(b, ");\n");
    return true;
}

char *kura_schema_to_c(const kura_schema *schema, kura_error *err)
{
    if (!schema) {
        kura_fail(err, KURA_INVALID, NULL, "no schema");
        return NULL;
    }
    char stack[4096];
    kura_buf b;
    kura_buf_init(&b, stack, sizeof stack);
    kura_buf_add(&b, "/* Models declared in C, generated by kura from a schema. */\n"
                     "#include <kura/kura.h>\n");
    for (size_t i = 0; i < kura_schema_warning_count(schema, (size_t)-1); i++)
        c_comment(&b, "warning: ", kura_schema_warning(schema, (size_t)-1, i));
    /* A model may reference one declared after it, or itself. */
    bool declared = false;
    for (size_t i = 0; i < schema->count; i++) {
        const kura_model *m = kura_schema_model(schema, i);
        bool referenced = false;
        for (size_t k = 0; k < schema->count && !referenced; k++) {
            const kura_model *o = kura_schema_model(schema, k);
            for (size_t j = 0; j < o->nfields && !referenced; j++)
                referenced = o->fields[j].references == m;
        }
        if (referenced) {
            kura_buf_addf(&b, "%sextern const kura_model %s_model;\n", declared ? "" : "\n",
                          m->name);
            declared = true;
        }
    }
    bool ok = true;
    for (size_t i = 0; ok && i < schema->count; i++)
        ok = add_model(&b, schema, i, err);
    char *out = ok && !b.oom ? strdup(b.data) : NULL;
    if (ok && !out)
        kura_fail(err, KURA_NOMEM, NULL, "out of memory writing C declarations");
    kura_buf_free(&b);
    return out;
}
