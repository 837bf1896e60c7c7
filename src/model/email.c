/*
 * email.c — the WHATWG HTML "valid e-mail address" (the syntax <input type=email>
 * accepts), written out by hand from the spec's grammar:
 *
 *   local  = 1*( atext / "." )   where atext = ALPHA / DIGIT / one of !#$%&'*+/=?^_`{|}~-
 *   domain = label *( "." label )
 *   label  = alnum [ *61( alnum / "-" ) alnum ]   (1..63 characters)
 *
 * The spec deliberately accepts dotless domains (root@localhost) and dots
 * anywhere in the local part, and rejects a trailing dot in the domain.
 */
#include "kura/model.h"

#include <string.h>

#define LABEL_MAX 63

/* ASCII only: the spec's classes are ASCII, and <ctype.h> follows the locale. */
static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_local_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* One label of len bytes at s. */
static bool label_valid(const char *s, size_t len)
{
    if (len == 0 || len > LABEL_MAX)
        return false;
    if (!is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!is_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

bool kura_email_valid(const char *s)
{
    if (s == NULL)
        return false;

    const char *p = s;
    while (is_local_char(*p))
        p++;
    if (p == s || *p != '@')
        return false;

    /* Each label runs up to the next '.' or the end; an empty label (leading,
     * doubled or trailing dot) fails label_valid. */
    const char *label = p + 1;
    for (;;) {
        size_t len = strcspn(label, ".");
        if (!label_valid(label, len))
            return false;
        if (label[len] == '\0')
            return true;
        label += len + 1;
    }
}
