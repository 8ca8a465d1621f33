#!/bin/sh
# test/compile/fail.sh - programs that must not compile.
#
# For each compiler and build variant: the file must fail to compile
# without -Werror, with the expected diagnostic; its control (-DFAIL_CONTROL)
# must compile with the Makefile's warning flags and -Werror.
CC_LIST=${CC_LIST:-gcc clang}
BUILD=${BUILD:-build}
WARN="-std=c11 -pedantic -Wall -Wextra -Wundef -Wshadow -Wcast-align \
-Wcast-qual -Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes \
-Wmissing-declarations -Wredundant-decls -Wsign-conversion -Werror"
mkdir -p "$BUILD/compile" || exit 1
log=$BUILD/compile/fail.log
status=0

# expect FILE REGEX [VARIANTS]: FILE fails with a message matching REGEX
# (in every build variant, or in those of VARIANTS, separated by ":").
expect() {
	file=$1
	want=$2
	variants=${3:-"-DPERCPU_MP=1:-DPERCPU_MP=1 -DPERCPU_MD=PERCPU_MD_SIM:-DPERCPU_MP=0"}
	for cc in $CC_LIST; do
		IFS=:
		set -- $variants
		unset IFS
		for v in "$@"; do
			# shellcheck disable=SC2086
			if ! $cc $WARN -I. $v -DFAIL_CONTROL -c \
			    -o "$BUILD/compile/fail.o" "$file"; then
				echo "fail.sh: control of $file does not compile ($cc $v)"
				status=1
			fi
			# shellcheck disable=SC2086
			if $cc -std=c11 -I. $v -c -o "$BUILD/compile/fail.o" \
			    "$file" >"$log" 2>&1; then
				echo "fail.sh: $file compiled ($cc $v), it must not"
				status=1
			elif ! grep -Eq "$want" "$log"; then
				echo "fail.sh: $file failed for another reason ($cc $v):"
				cat "$log"
				status=1
			fi
		done
	done
	[ $status -eq 0 ] && echo "fails as it must: $file"
}

expect test/compile/fail_dpcpu_static.c \
    "multiple storage classes|cannot combine with previous 'static'"
expect test/compile/fail_dpcpu_off_up.c \
    "dpcpu_off_needs_DPCPU_UP_OFFSETS_1_in_a_UP_build" "-DPERCPU_MP=0"
exit $status
