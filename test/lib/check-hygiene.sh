#!/bin/sh
# test/lib/check-hygiene.sh - issue 14, item 8:
#   1. pre-C11 C (c89, c99, gnu99) stops at the toolkit's one #error
#      and one fatal stop after it (no cascade): at most two "error:"
#      lines, every public header, gcc and clang;
#   2. DPCPU_NO_BSD_NAMES=1 lets ordinary code use curcpu, mp_maxid,
#      mp_ncpus as names (test/lib/bsd_names.c); without it, it must not
#      compile (so the test can fail);
#   3. clang -Weverything on the whole implementation: no warning but the
#      three classes that are not defects here (-Wpadded: layouts are
#      chosen; -Wreserved-identifier: __start_set_dpcpu, __rseq_offset are
#      the linker's and glibc's names; -Wc++98-compat: C11 code);
#   4. no #error message split over two lines (cppcheck reads it as an
#      error of its own).
CC_LIST=${CC_LIST:-gcc clang}
BUILD=${BUILD:-build}
out=$BUILD/lib/hygiene
mkdir -p "$out" || exit 1
status=0
fail() {
	echo "check-hygiene: $*"
	status=1
}
for cc in $CC_LIST; do
	for std in c89 c99 gnu99; do
		for h in ./*.h; do
			printf '#include "%s"\n' "$h" >"$out/old.c"
			if $cc -std=$std -I. -c -o "$out/old.o" "$out/old.c" \
			    >"$out/log" 2>&1; then
				fail "$h compiles as $std ($cc)"
				continue
			fi
			first=$(grep -m1 'error:' "$out/log")
			n=$(grep -c 'error:' "$out/log")
			case $first in
			*"the toolkit needs C11 or later"*) ;;
			*) fail "$h, $std ($cc): first error is not ours: $first" ;;
			esac
			[ "$n" -le 2 ] || fail "$h, $std ($cc): $n error lines"
		done
	done
	$cc -std=c11 -Wall -Wextra -Werror -I. -c -o "$out/bsd.o" \
	    test/lib/bsd_names.c || fail "DPCPU_NO_BSD_NAMES=1 does not help ($cc)"
	$cc -std=c11 -I. -DFAIL_WITHOUT_OPT_OUT -c -o "$out/bsd.o" \
	    test/lib/bsd_names.c >/dev/null 2>&1 &&
		fail "bsd_names.c compiles without the opt-out ($cc): the test cannot fail"
done
printf '#define PERCPU_IMPLEMENTATION\n#include "percpu_export.h"\n' >"$out/all.c"
for v in "-DPERCPU_MP=1" "-DPERCPU_MP=1 -DPERCPU_MD=PERCPU_MD_SIM" "-DPERCPU_MP=0"; do
	# shellcheck disable=SC2086
	clang -std=c11 -Weverything -Wno-padded -Wno-reserved-identifier \
	    -Wno-c++98-compat -Werror -I. $v -c -o "$out/all.o" "$out/all.c" ||
		fail "clang -Weverything $v"
done
split=$(grep -n -A1 '#[[:space:]]*error[[:space:]]*\\$' ./*.h percpu/*.h)
[ -z "$split" ] || fail "#error split over two lines: $split"
[ $status -eq 0 ] && echo "check-hygiene: one #error before C11; DPCPU_NO_BSD_NAMES; clang -Weverything clean; whole #error lines"
exit $status
