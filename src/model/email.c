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

/* Character classes, ASCII only (the spec's classes are ASCII, and <ctype.h>
 * follows the locale): one table lookup per character, as validation runs on
 * every row written. */
enum { ALNUM = 1, LOCAL = 2, LABEL = 4 /* alnum or '-' */ };

static const unsigned char email_class[256] = {
    ['a' ... 'z'] = ALNUM | LOCAL | LABEL,
    ['A' ... 'Z'] = ALNUM | LOCAL | LABEL,
    ['0' ... '9'] = ALNUM | LOCAL | LABEL,
    ['.'] = LOCAL,
    ['!'] = LOCAL,
    ['#'] = LOCAL,
    ['$'] = LOCAL,
    ['%'] = LOCAL,
    ['&'] = LOCAL,
    ['\''] = LOCAL,
    ['*'] = LOCAL,
    ['+'] = LOCAL,
    ['/'] = LOCAL,
    ['='] = LOCAL,
    ['?'] = LOCAL,
    ['^'] = LOCAL,
    ['_'] = LOCAL,
    ['`'] = LOCAL,
    ['{'] = LOCAL,
    ['|'] = LOCAL,
    ['}'] = LOCAL,
    ['~'] = LOCAL,
    ['-'] = LOCAL | LABEL,
};

bool kura_email_valid(const char *s)
{
    if (s == NULL)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    while (email_class[*p] & LOCAL)
        p++;
    if (p == (const unsigned char *)s || *p != '@')
        return false;
    /* label = alnum [ *61( alnum / "-" ) alnum ]; an empty label (leading,
     * doubled or trailing dot) fails. */
    p++;
    for (;;) {
        const unsigned char *label = p;
        while (email_class[*p] & LABEL)
            p++;
        size_t len = (size_t)(p - label);
        if (len == 0 || len > LABEL_MAX || !(email_class[label[0]] & ALNUM) ||
            !(email_class[p[-1]] & ALNUM))
            return false;
        if (*p == '\0')
            return true;
        if (*p != '.')
            return false;
        p++;
    }
}
