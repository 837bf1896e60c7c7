#!/bin/sh
# check.sh BUILD_DIR SOURCE_DIR — `cmake --install` puts the libraries (libkura
# and libkura-http, static and shared), the headers, the kura CLI, kura.pc and
# kura-http.pc in a prefix, and programs build against them with nothing but
# pkg-config: the guide's app, a program of the HTTP library, and the guide's
# service program over kura_main, and the blog example (served and driven over HTTP).
set -eu
build=$1
src=$2
prefix=$(mktemp -d "${TMPDIR:-/tmp}/kura-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -n 1)
for f in "$prefix/include/kura/kura.h" "$prefix/include/kura/http.h" "$prefix/include/kura/cli.h" \
    "$prefix/bin/kura" "$libdir/libkura.a" "$libdir/libkura.so" "$libdir/libkura-http.a" \
    "$libdir/libkura-http.so" "$libdir/pkgconfig/kura.pc" "$libdir/pkgconfig/kura-http.pc" \
    "$prefix/share/man/man1/kura.1"; do
    [ -e "$f" ] || { echo "install: missing $f" >&2; exit 1; }
done
export PKG_CONFIG_PATH="$libdir/pkgconfig"
out="$prefix/seed_example"
# The guide's app, built from the installed headers and the shared library.
cc -Wall -Wextra -Werror -o "$out" "$src/examples/seed/main.c" "$src/examples/seed/sa_user.c" \
    -I"$src/examples/seed" $(pkg-config --cflags --libs kura)
LD_LIBRARY_PATH="$libdir" "$out" "sqlite://:memory:" >/dev/null
# And statically. (Debian's libpq.pc names static-only archives under --static,
# so the dependencies are linked as the shared libraries they are.)
cc -o "$out-static" "$src/examples/seed/main.c" "$src/examples/seed/sa_user.c" \
    -I"$src/examples/seed" $(pkg-config --cflags kura) "$libdir/libkura.a" \
    $(pkg-config --libs jansson sqlite3 libpq hiredis libsodium libmongoc-1.0 libbson-1.0) \
    -lpthread -lm
"$out-static" "sqlite://:memory:" >/dev/null
"$prefix/bin/kura" --help >/dev/null
# A command that cannot run (no models) leaves the directory as it found it.
empty=$(mktemp -d "$prefix/empty.XXXXXX")
if (cd "$empty" && "$prefix/bin/kura" rows nobody 2>/dev/null); then
    echo "install: kura rows without models succeeded" >&2
    exit 1
fi
[ -z "$(ls -A "$empty")" ] || { echo "install: kura rows without models made files: $(ls -A "$empty")" >&2; exit 1; }
# No libmicrohttpd in the public headers: a program of the HTTP library needs
# only kura-http's flags.
if grep -lE "microhttpd\.h|MHD_" "$prefix/include/kura/"*.h; then
    echo "install: a public header names libmicrohttpd" >&2
    exit 1
fi
cc -Wall -Wextra -Werror -o "$prefix/http_program" "$src/tests/install/http_program.c" \
    $(pkg-config --cflags --libs kura-http)
LD_LIBRARY_PATH="$libdir" "$prefix/http_program"
# The guide's service program: kura_main with the guide's models and commands.
if [ -f "$src/examples/seed/guide_service.c" ]; then
    g=$src/examples/seed
    cc -Wall -Wextra -Werror -o "$prefix/guide_service" "$g/guide_service.c" "$g/guide_app.c" \
        "$g/guide_commands.c" "$g/guide_seed.c" "$g/guide_users.c" "$g/sa_user.c" "$g/me_user.c" -I"$g" \
        $(pkg-config --cflags --libs kura-http)
    db="sqlite:///$prefix/guide.db"
    LD_LIBRARY_PATH="$libdir" "$prefix/guide_service" migrate --database-url "$db" >/dev/null
    LD_LIBRARY_PATH="$libdir" "$prefix/guide_service" seed 3 --database-url "$db" >/dev/null
    n=$(LD_LIBRARY_PATH="$libdir" "$prefix/guide_service" count sa_user --database-url "$db")
    [ "$n" = 3 ] || { echo "install: guide_service count sa_user said '$n'" >&2; exit 1; }
fi
# The blog example, a second app: built from the installed headers and libraries with
# pkg-config only, then served and driven over HTTP by its test.
if [ -f "$src/examples/blog/main.c" ]; then
    b=$src/examples/blog
    cc -Wall -Wextra -Werror -o "$prefix/blog" "$b/main.c" "$b/models.c" "$b/routes.c" \
        $(pkg-config --cflags --libs kura-http)
    LD_LIBRARY_PATH="$libdir" /usr/bin/python3 "$src/tests/examples/test_blog.py" "$prefix/blog"
fi
echo "install: libraries, headers, CLI, kura.pc and kura-http.pc installed and usable"
