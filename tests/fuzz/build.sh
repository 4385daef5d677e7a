#!/bin/bash
# Build the libFuzzer harnesses of tests/fuzz (fuzz_*.c) into OUTDIR.
#
# Usage: tests/fuzz/build.sh OUTDIR
#
# libcrt is compiled again with clang and coverage instrumentation
# (-fsanitize=fuzzer-no-link) plus ASan and UBSan, by the project's own
# configure and Makefile in OUTDIR/libcrt (an out-of-tree build: nothing
# lands in the source tree but what ./autogen.sh makes in a fresh clone).
# Each harness is then linked with -fsanitize=fuzzer,address,undefined
# against that libcrt.a and the libraries of pkg-config. Run again, it
# rebuilds only what changed.
#
# Environment: CC (default clang), JOBS (make -j, default 1).
# Exits 77 when the compiler cannot build a libFuzzer program (no clang,
# no libclang_rt.fuzzer): callers treat that as "skip".
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cc=${CC:-clang}
jobs=${JOBS:-1}
# UB aborts (libFuzzer then reports it as a crash) instead of printing
# and carrying on.
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-g -O1 -fno-omit-frame-pointer $san"

# --- the toolchain: a libFuzzer program must link -------------------------
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "build.sh: $cc not found (apt-get install clang)" >&2
	exit 77
fi
probe=$out/.probe
if ! printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { return 0; }' |
	"$cc" -x c - $cflags -fsanitize=fuzzer -o "$probe" 2>"$probe.log"; then
	echo "build.sh: $cc cannot link a libFuzzer program (libclang_rt.fuzzer missing?):" >&2
	cat "$probe.log" >&2
	rm -f "$probe" "$probe.log"
	exit 77
fi
rm -f "$probe" "$probe.log"

# --- libcrt, instrumented ---------------------------------------------------
if [ ! -x "$src/configure" ]; then
	(cd "$src" && ./autogen.sh) >"$out/autogen.log" 2>&1 || {
		cat "$out/autogen.log" >&2
		exit 1
	}
fi
mkdir -p "$out/libcrt"
if [ ! -f "$out/libcrt/Makefile" ]; then
	(cd "$out/libcrt" && "$src/configure" -q CC="$cc" CFLAGS="$cflags -fsanitize=fuzzer-no-link")
fi
make -C "$out/libcrt" -s -j"$jobs" libcrt/libcrt.a 2>&1 | grep -v "modifier ignored" >&2 || true
[ -f "$out/libcrt/libcrt/libcrt.a" ] || {
	echo "build.sh: libcrt.a was not built" >&2
	exit 1
}

# --- the harnesses --------------------------------------------------------------
libs=$(pkg-config --libs libseccomp libcap yajl)
incs=$(pkg-config --cflags libseccomp libcap yajl)
lib=$out/libcrt/libcrt/libcrt.a
for c in "$src"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$c" .c)
	bin=$out/$name
	if [ -x "$bin" ] && [ "$bin" -nt "$c" ] && [ "$bin" -nt "$lib" ] &&
		[ "$bin" -nt "$src/tests/fuzz/fuzz.h" ]; then
		continue
	fi
	# shellcheck disable=SC2086 # word splitting of the flag lists is meant
	"$cc" $cflags -fsanitize=fuzzer -Wall -Wextra -Wno-unused-parameter \
		-iquote "$src" -iquote "$src/libcrt" -iquote "$src/tests/fuzz" -I"$out/libcrt" \
		$incs "$c" "$lib" $libs -o "$bin"
	echo "built $bin"
done
