#!/bin/sh
# manpage.sh KURA MANPAGE — the man page kura(1) cannot fall behind the command: every
# command `kura --help` lists, and every option a command's --help shows, is in it.
set -eu
kura=$1
page=$2
# The page's text with roff's escaped hyphens made plain.
text=$(sed 's/\\-/-/g' "$page")
missing=""
commands=$("$kura" --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }')
[ -n "$commands" ] || { echo "manpage: kura --help lists no commands" >&2; exit 1; }
for cmd in $commands; do
    printf '%s\n' "$text" | grep -q -- "$cmd" || missing="$missing $cmd"
    for opt in $("$kura" "$cmd" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
        printf '%s\n' "$text" | grep -q -- "$opt" || missing="$missing $cmd:$opt"
    done
done
if [ -n "$missing" ]; then
    echo "manpage: $page does not mention:$missing" >&2
    exit 1
fi
echo "manpage: every command and option of kura --help is in $(basename "$page")"
