#!/bin/sh
# check.sh BUILD_DIR SOURCE_DIR — `cmake --install` puts the library (static and
# shared), the headers, the kura CLI and kura.pc in a prefix, and a program
# builds against them with nothing but pkg-config.
set -eu
build=$1
src=$2
prefix=$(mktemp -d "${TMPDIR:-/tmp}/kura-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -n 1)
for f in "$prefix/include/kura/kura.h" "$prefix/bin/kura" "$libdir/libkura.a" "$libdir/libkura.so" \
    "$libdir/pkgconfig/kura.pc"; do
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
echo "install: library, headers, CLI and kura.pc installed and usable"
