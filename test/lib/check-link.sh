#!/bin/sh
# test/lib/check-link.sh - one implementation switch, and link errors
# that say what to do (issue 14, item 1).
#
#   1. switch_impl.c (PERCPU_IMPLEMENTATION + percpu.h only) and
#      switch_use.c (every face) link and give exact sums: MP, SIM, UP,
#      gcc and clang.
#   2. Without the implementation the link fails naming
#      percpu_<build>_build_needs_PERCPU_IMPLEMENTATION_in_one_c_file_...
#   3. A UP file with an MP implementation (and the reverse) fails to
#      link, naming the build the file needs.
#   4. The inspection headers' parts come with an implementation file
#      that includes them; without, the link names
#      percpu_export_needs_... and kvm_pcpu_needs_....
CC_LIST=${CC_LIST:-gcc clang}
BUILD=${BUILD:-build}
WARN="-std=c11 -pedantic -Wall -Wextra -Wundef -Wshadow -Werror"
out=$BUILD/lib/link
mkdir -p "$out" || exit 1
status=0
fail() {
	echo "check-link: $*"
	status=1
}
# must_fail_with SYMBOL CC ARGS...: the link fails and names SYMBOL.
must_fail_with() {
	sym=$1
	shift
	if "$@" >"$out/log" 2>&1; then
		fail "linked, it must not: $*"
	elif ! grep -q "undefined reference to .$sym" "$out/log"; then
		fail "no reference to $sym in:"
		cat "$out/log"
	fi
}
need=needs_PERCPU_IMPLEMENTATION_in_one_c_file_with_the_same_PERCPU_MP_and_PERCPU_MD
for cc in $CC_LIST; do
	for v in mp sim up; do
		case $v in
		mp) f="-DPERCPU_MP=1" b=MP ;;
		sim) f="-DPERCPU_MP=1 -DPERCPU_MD=PERCPU_MD_SIM" b=MP_SIM ;;
		up) f="-DPERCPU_MP=0" b=UP ;;
		esac
		# shellcheck disable=SC2086
		if ! $cc $WARN -I. $f -o "$out/sw-$v-$cc" test/lib/switch_impl.c \
		    test/lib/switch_use.c -pthread; then
			fail "$cc $v: percpu.h's implementation does not serve every face"
		elif [ "$("$out/sw-$v-$cc")" != ok ]; then
			fail "$cc $v: wrong sums"
		fi
		# shellcheck disable=SC2086
		must_fail_with "percpu_${b}_build_$need" \
		    $cc $WARN -I. $f -o "$out/none" test/lib/switch_use.c -pthread
	done
	# shellcheck disable=SC2086
	$cc $WARN -I. -DPERCPU_MP=0 -c -o "$out/use-up.o" test/lib/switch_use.c &&
		$cc $WARN -I. -DPERCPU_MP=1 -c -o "$out/impl-mp.o" \
		    test/lib/switch_impl.c &&
		$cc $WARN -I. -DPERCPU_MP=1 -c -o "$out/use-mp.o" \
		    test/lib/switch_use.c &&
		$cc $WARN -I. -DPERCPU_MP=0 -c -o "$out/impl-up.o" \
		    test/lib/switch_impl.c || fail "$cc: objects do not compile"
	must_fail_with "percpu_UP_build_$need" \
	    $cc -o "$out/mixed" "$out/use-up.o" "$out/impl-mp.o" -pthread
	must_fail_with "percpu_MP_build_$need" \
	    $cc -o "$out/mixed" "$out/use-mp.o" "$out/impl-up.o" -pthread
	# shellcheck disable=SC2086
	$cc $WARN -I. -o "$out/insp" test/lib/inspect_impl.c test/lib/inspect_use.c \
	    -pthread && [ "$("$out/insp")" = "ok 0" ] ||
		fail "$cc: the inspection headers' implementation"
	must_fail_with percpu_export_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_percpu_export_h \
	    $cc $WARN -I. -o "$out/insp" test/lib/switch_impl.c test/lib/inspect_use.c -pthread
	must_fail_with kvm_pcpu_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_kvm_pcpu_h \
	    $cc $WARN -I. -o "$out/insp" test/lib/switch_impl.c test/lib/inspect_use.c -pthread
done
[ $status -eq 0 ] && echo "check-link: one switch serves every face; missing or mixed implementations name the fix"
exit $status
