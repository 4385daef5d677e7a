#!/bin/sh
# Build crt as one static-pie binary with musl instead of glibc:
#   contrib/musl-build.sh BUILDDIR
# (needs: apt-get install musl-tools gperf dpkg-dev, and apt access to
# Debian's source packages).
#
# Why: every crt command is one exec, and starting a glibc program is
# dear where CPUID traps to the hypervisor (glibc's start-up probes the
# CPU with dozens of them; ld.so maps and relocates libc.so): `crt list`
# of an empty root takes 831 µs with dynamic glibc, 637 µs with static
# glibc and 347 µs with musl on the development VM (bench/RESULTS.md).
#
# musl cannot link objects built against glibc (Debian's libcap.a,
# libyajl_s.a and libseccomp.a call glibc's fortified __*_chk functions),
# so the three libraries are built here from Debian's own source
# packages (`apt-get source`, the same versions and patches as the -dev
# packages) with musl-gcc, into BUILDDIR/deps. Nothing is installed
# outside BUILDDIR. The systemd cgroup driver needs no library (crt
# speaks D-Bus itself): this build has it too.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
deps=$build/deps
src=$deps/src
jobs=$(nproc 2>/dev/null || echo 2)

for tool in musl-gcc gcc gperf dpkg-source; do
  command -v $tool >/dev/null 2>&1 \
    || { echo "$0: $tool not found: apt-get install musl-tools gperf dpkg-dev" >&2; exit 1; }
done

# musl-gcc sees musl's headers only: the kernel's (linux/, asm/) and the
# libraries' own come from this directory.
inc=$deps/include
mkdir -p "$inc" "$deps/lib/pkgconfig" "$src"
multiarch=$(gcc -print-multiarch)
ln -sfn /usr/include/linux "$inc/linux"
ln -sfn /usr/include/asm-generic "$inc/asm-generic"
ln -sfn "/usr/include/$multiarch/asm" "$inc/asm"

# Debian's musl-gcc.specs has no -static-pie (it links a dynamic PIE
# with musl's loader as interpreter): this copy adds it (rcrt1.o, the
# static-pie link flags gcc's own specs use), for a randomized binary
# with no loader at all.
specs=$deps/musl-gcc.specs
mspecs=$(sed -n 's/.*-specs "\(.*\)"$/\1/p' "$(command -v musl-gcc)")
[ -f "$mspecs" ] || { echo "$0: musl-gcc's specs file not found" >&2; exit 1; }
mlib=$(dirname "$mspecs")
sed -e "s|^%{!shared: $mlib/Scrt1.o}|%{static-pie: $mlib/rcrt1.o; !shared: $mlib/Scrt1.o}|" \
    -e "s|^-dynamic-linker \([^ ]*\) -nostdlib|%{static-pie: -static -pie --no-dynamic-linker -z text; !static: -dynamic-linker \1} -nostdlib|" \
    "$mspecs" > "$specs"
grep -q rcrt1.o "$specs" && grep -q no-dynamic-linker "$specs" \
  || { echo "$0: could not add -static-pie to $mspecs" >&2; exit 1; }

CC="gcc -specs $specs -isystem $inc"
# Built for size, as crt is below: -Os, unused sections dropped at the
# link, and no unwind tables (.eh_frame: C without exceptions needs none;
# a stripped binary loses only debuggers' unwinding without debug info).
CFLAGS="-Os -fPIE -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -fstack-protector-strong"

# Debian's source packages, from the mirrors this machine's apt already
# uses (deb lines turned into deb-src), in a private apt state.
fetch_sources () {
  apt=$deps/apt
  mkdir -p "$apt/parts" "$apt/lists/partial"
  : > "$apt/parts/src.sources"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >> "$apt/parts/src.sources" \
      && echo >> "$apt/parts/src.sources"
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > "$apt/parts/src.list"
  fi
  aptopts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt/parts
           -o Dir::State::Lists=$apt/lists -o APT::Sandbox::User=root"
  # shellcheck disable=SC2086
  apt-get -qq $aptopts update
  # shellcheck disable=SC2086
  (cd "$src" && apt-get -qq $aptopts source --download-only yajl libcap2 libseccomp)
  # apt checked every file against the signed Sources index; the .dsc
  # signatures themselves would need debian-keyring (hence --no-check).
  for dsc in "$src"/*.dsc; do
    (cd "$src" && dpkg-source -q --no-check -x "$dsc")
  done
}
unpacked () { ls -d "$src/$1"-*/ 2>/dev/null | head -1; }
[ -n "$(unpacked yajl)" ] && [ -n "$(unpacked libcap2)" ] && [ -n "$(unpacked libseccomp)" ] \
  || fetch_sources
yajl=$(unpacked yajl) libcap=$(unpacked libcap2) libseccomp=$(unpacked libseccomp)
[ -n "$yajl" ] && [ -n "$libcap" ] && [ -n "$libseccomp" ] \
  || { echo "$0: Debian's yajl, libcap2 and libseccomp sources not all unpacked in $src" >&2; exit 1; }

# yajl: nine C files; its CMake build only adds the version header.
if [ ! -f "$deps/lib/libyajl.a" ]; then
  v=$(sed -n 's/^SET (YAJL_\(MAJOR\|MINOR\|MICRO\) \([0-9]*\))/\2/p' "$yajl/CMakeLists.txt" | tr '\n' ' ')
  set -- $v
  mkdir -p "$inc/yajl" "$deps/yajl"
  cp "$yajl"/src/api/yajl_common.h "$yajl"/src/api/yajl_gen.h "$yajl"/src/api/yajl_parse.h \
     "$yajl"/src/api/yajl_tree.h "$inc/yajl/"
  sed -e "s/\${YAJL_MAJOR}/$1/" -e "s/\${YAJL_MINOR}/$2/" -e "s/\${YAJL_MICRO}/$3/" \
    "$yajl/src/api/yajl_version.h.cmake" > "$inc/yajl/yajl_version.h"
  for c in "$yajl"/src/*.c; do
    $CC $CFLAGS -I"$inc" -c "$c" -o "$deps/yajl/$(basename "$c" .c).o"
  done
  ar rcs "$deps/lib/libyajl.a" "$deps"/yajl/*.o
  printf 'Name: yajl\nDescription: yajl (musl)\nVersion: %s.%s.%s\nCflags:\nLibs: -L%s -lyajl\n' \
    "$1" "$2" "$3" "$deps/lib" > "$deps/lib/pkgconfig/yajl.pc"
fi

# libcap: its own Makefile, the static library only (no Go, no psx).
if [ ! -f "$deps/lib/libcap.a" ]; then
  make -s -C "$libcap/libcap" CC="$CC" BUILD_CC=gcc COPTS="$CFLAGS" \
    SHARED=no PTHREADS=no GOLANG=no libcap.a
  cp "$libcap/libcap/libcap.a" "$deps/lib/"
  mkdir -p "$inc/sys"
  cp "$libcap/libcap/include/sys/capability.h" "$inc/sys/"
  printf 'Name: libcap\nDescription: libcap (musl)\nVersion: 2\nCflags:\nLibs: -L%s -lcap\n' \
    "$deps/lib" > "$deps/lib/pkgconfig/libcap.pc"
fi

# libseccomp: autotools, static only.
if [ ! -f "$deps/lib/libseccomp.a" ]; then
  mkdir -p "$deps/seccomp-build"
  (cd "$deps/seccomp-build" \
     && "$libseccomp/configure" -q CC="$CC" CFLAGS="$CFLAGS" --prefix="$deps/seccomp" \
          --enable-static --disable-shared --disable-python \
     && make -s -j"$jobs" >/dev/null \
     && make -s install >/dev/null)
  cp "$deps/seccomp/lib/libseccomp.a" "$deps/lib/"
  cp "$deps"/seccomp/include/seccomp*.h "$inc/"
  sed -e "s|^libdir=.*|libdir=$deps/lib|" -e "s|^includedir=.*|includedir=$inc|" \
    "$deps/seccomp/lib/pkgconfig/libseccomp.pc" > "$deps/lib/pkgconfig/libseccomp.pc"
fi

# crt itself, against these only: PKG_CONFIG_LIBDIR hides the host's
# glibc .pc files (given as configure arguments, so a re-run of configure
# by make keeps them); the static-helpers probe is off because gcc's
# -print-file-name would find the host's glibc archives (musl-gcc's link
# searches musl's directory and -L only).
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
cd "$build"
"$top/configure" -q PKG_CONFIG_LIBDIR="$deps/lib/pkgconfig" CC="$CC" CFLAGS="-g $CFLAGS" \
  LDFLAGS="-L$deps/lib -Wl,--gc-sections" --enable-static-binary \
  --disable-static-helpers
make -s -j"$jobs"
echo "$build/src/crt: built with musl, static-pie"
