#!/bin/sh
# test/lib/check-shared.sh - shared libraries (issue 14, item 5):
#   1. the implementation in a .so built with -fvisibility=hidden: the
#      program that links it uses the API (exact sums); the .so exports no
#      symbol the headers do not declare;
#   2. two plugins that each carry the implementation, dlopen()ed
#      RTLD_LOCAL into one process: the second stops at start with
#      "two copies of the implementation in one process: another one runs
#      in .../plug_a.so ..."; one plugin alone runs;
#   3. a DPCPU variable in the executable with the implementation in the
#      .so: the documented error names set_dpcpu;
#   4. a dlopen()ed module without the implementation (it uses libpc.so's
#      API) adds and takes sections, is dlclose()d, and the thread goes on
#      (context switches): exact totals, no SIGSEGV (its sequences never
#      start: the implementation copies only its own descriptors);
#   5. a plugin with the implementation dlclose()d by an exit handler
#      after exit() began: no SIGSEGV (it became RTLD_NODELETE);
#   6. a dlopen()ed module without the implementation that defines a DPCPU
#      variable: its load calls the error handler and stops the program
#      before the module's own constructor runs (abort, exit 134);
#   7. an executable that names the library's DPCPU variable: copy-
#      relocated (gcc PIE), a fault at a small address in a section, not
#      a wild write; built -fPIC, exact sums;
#   8. an executable's own DPCPU variable reached from a library's
#      constructor, before the executable's check: the same;
#   9. an unrelated set_dpcpu in another library: not taken for the
#      executable's;
#  10. a variable outside the set read or written in a section (gcc, clang
#      -flto): a fault at a small address.
BUILD=${BUILD:-build}
out=$BUILD/lib/shared
src=test/lib/shared
mkdir -p "$out" || exit 1
status=0
fail() {
	echo "check-shared: $*"
	status=1
}
W="-std=c11 -Wall -Wextra -Werror -I."
# shellcheck disable=SC2086
gcc $W -fPIC -shared -fvisibility=hidden -o "$out/libpc.so" "$src/libpc.c" -pthread &&
	gcc $W -o "$out/main" "$src/main.c" -L"$out" -lpc -Wl,-rpath,"$(pwd)/$out" -pthread ||
	{ echo "check-shared: build failed"; exit 1; }
case $("$out/main") in
"ok "*) ;;
*) fail "main with libpc.so (-fvisibility=hidden): $("$out/main" 2>&1)" ;;
esac
# Every exported symbol is one the headers declare (nothing else leaks).
for s in $(nm -D --defined-only "$out/libpc.so" | awk '{print $3}'); do
	grep -qw "$s" ./*.h percpu/core.h percpu/md.h ||
		fail "libpc.so exports $s, which no header declares"
done
nm -D --defined-only "$out/libpc.so" | grep -qw percpu_backend ||
	fail "libpc.so does not export percpu_backend"

# Two copies in one process.
for p in a b; do
	# shellcheck disable=SC2086
	gcc $W -fPIC -shared -o "$out/plug_$p.so" "$src/plugin.c" -pthread || exit 1
done
gcc $W -o "$out/host" "$src/host.c" -ldl || exit 1
[ "$("$out/host" "$(pwd)/$out/plug_a.so")" = ok ] || fail "one plugin alone does not run"
"$out/host" "$(pwd)/$out/plug_a.so" "$(pwd)/$out/plug_b.so" >"$out/two.out" 2>"$out/two.err"
rc=$?
want="percpu: two copies of the implementation in one process: another one runs in $(pwd)/$out/plug_a.so; define PERCPU_IMPLEMENTATION in one module only and let the others use its exported API"
[ $rc -ne 0 ] && grep -qxF "$want" "$out/two.err" ||
	fail "two plugins: exit $rc, stderr: $(cat "$out/two.err")"

# DPCPU across the .so boundary: the documented error.
# shellcheck disable=SC2086
gcc $W -o "$out/dpcpu_main" "$src/dpcpu_main.c" -L"$out" -lpc \
    -Wl,-rpath,"$(pwd)/$out" -pthread || exit 1
"$out/dpcpu_main" >/dev/null 2>"$out/dpcpu.err"
rc=$?
[ $rc -ne 0 ] && grep -q "set_dpcpu" "$out/dpcpu.err" ||
	fail "DPCPU variable outside the implementation's module: exit $rc, $(cat "$out/dpcpu.err")"
# A dlopen()ed module with a DPCPU variable of its own: stopped when it is
# loaded, after the error handler (which returns) heard of it, and before
# its constructor writes the variable in a critical section (the write
# DPCPU_PTR() does not bounds-check).
# shellcheck disable=SC2086
gcc $W -fPIC -shared -o "$out/dpcpu_plug.so" "$src/dpcpu_plug.c" \
    -L"$out" -lpc -Wl,-rpath,"$(pwd)/$out" -pthread &&
	gcc $W -o "$out/host_dpcpu" "$src/host_dpcpu.c" -L"$out" -lpc \
	    -Wl,-rpath,"$(pwd)/$out" -ldl -pthread || exit 1
"$out/host_dpcpu" "$(pwd)/$out/dpcpu_plug.so" >"$out/host_dpcpu.out" 2>&1
rc=$?
got=$(cat "$out/host_dpcpu.out")
case "$rc:$got" in
134:"handler: DPCPU: a module's set_dpcpu (8 bytes at 0x"*") is not the implementation's: DPCPU variables must be defined in the module that defines PERCPU_IMPLEMENTATION (a variable of another shared object?)"*) ;;
*) fail "dlopen()ed module with its own DPCPU variable: exit $rc: $got" ;;
esac
case $got in
*"constructor ran"* | *"dlopen returned"*)
	fail "dlopen()ed module with its own DPCPU variable ran: $got" ;;
esac
# A variable of the implementation's library named by an executable: gcc's
# default PIE moves it into the executable (a copy relocation), out of the
# set, for every module; the library's critical section gets a null
# pointer and faults at a small address (it was a wild write).  Built with
# -fPIC the executable works, exact.
# shellcheck disable=SC2086
gcc $W -fPIC -shared -o "$out/libdpcpu.so" "$src/dpcpu_lib.c" -pthread &&
	gcc $W -o "$out/copyrel" "$src/dpcpu_copyrel.c" -L"$out" -ldpcpu \
	    -Wl,-rpath,"$(pwd)/$out" -pthread &&
	gcc $W -fPIC -o "$out/copyrel_pic" "$src/dpcpu_copyrel.c" -L"$out" \
	    -ldpcpu -Wl,-rpath,"$(pwd)/$out" -pthread || exit 1
if readelf -r "$out/copyrel" | grep -q "R_X86_64_COPY.*pcpu_entry_hits"; then
	got=$("$out/copyrel" 2>&1)
	rc=$?
	[ "$rc:$got" = "3:fault at a small address" ] ||
		fail "copy-relocated DPCPU variable in a section: exit $rc: $got"
else
	echo "check-shared: no copy relocation of pcpu_entry_hits here (not x86-64 gcc PIE): that case not run"
fi
got=$("$out/copyrel_pic" 2>&1)
rc=$?
[ "$rc:$got" = "0:lib_inc 1
ok 2" ] || fail "DPCPU variable of the library from a -fPIC executable: exit $rc: $got"
# An executable with its own DPCPU variable, reached from a library's
# constructor before the executable's load-time check: a null pointer in
# the section, a fault at a small address.
# shellcheck disable=SC2086
gcc $W -fPIC -shared -o "$out/libdpcpu_cb.so" "$src/dpcpu_cb.c" &&
	gcc $W -o "$out/early" "$src/dpcpu_early.c" -Wl,--no-as-needed \
	    -L"$out" -lpc -ldpcpu_cb -Wl,-rpath,"$(pwd)/$out" -pthread || exit 1
got=$("$out/early" 2>&1)
rc=$?
[ "$rc:$got" = "3:library constructor calls app_hook
fault at a small address" ] ||
	fail "DPCPU variable reached before the executable's check: exit $rc: $got"
# A variable outside the set read or written in a section, with gcc and
# with clang -flto (where the bounds are known and clang once folded the
# mask away): a fault at a small address every time.
for cc in "gcc -O2" "clang -O2 -flto" "clang -O3 -flto"; do
	if ! command -v "${cc%% *}" >/dev/null 2>&1; then
		echo "check-shared: no ${cc%% *} here: the $cc build of case 10 not run"
		continue
	fi
	# shellcheck disable=SC2086
	if ! $cc $W -o "$out/foreign" "$src/dpcpu_foreign.c" -pthread \
	    2>"$out/foreign.err"; then
		case $cc in
		gcc*) cat "$out/foreign.err"; exit 1 ;;
		esac
		# LTO needs the linker plugin (llvm-*-linker-tools).
		echo "check-shared: $cc cannot link here: that build of case 10 not run ($(head -c 120 "$out/foreign.err"))"
		continue
	fi
	for op in r w; do
		got=$("$out/foreign" $op 2>&1)
		rc=$?
		[ "$rc:$got" = "3:fault at a small address" ] ||
			fail "$cc: a variable outside the set ($op) in a section: exit $rc: $got"
	done
done
# Another library's own set_dpcpu (not the toolkit's) is not this
# executable's.
# shellcheck disable=SC2086
gcc $W -fPIC -shared -o "$out/libdpcpu_fbsd.so" "$src/dpcpu_fbsd.c" &&
	gcc $W -o "$out/fp" "$src/dpcpu_fp.c" -L"$out" -ldpcpu_fbsd -lpc \
	    -Wl,-rpath,"$(pwd)/$out" -pthread || exit 1
got=$("$out/fp" 2>&1)
rc=$?
[ "$rc:$got" = "0:ok" ] || fail "an unrelated set_dpcpu in another library: exit $rc: $got"
# A module without the implementation, unloaded while the thread goes on.
# shellcheck disable=SC2086
gcc $W -fPIC -shared -o "$out/user.so" "$src/user.c" -pthread &&
	gcc $W -o "$out/host_user" "$src/host_user.c" -L"$out" -lpc \
	    -Wl,-rpath,"$(pwd)/$out" -ldl -pthread || exit 1
got=$("$out/host_user" "$(pwd)/$out/user.so" 2>&1)
rc=$?
case "$rc:$got" in
"0:ok "*" 1000 1000") ;;
*) fail "module without the implementation, dlclose()d: exit $rc: $got" ;;
esac
# A plugin unloaded by an exit handler.
# shellcheck disable=SC2086
gcc $W -o "$out/host_exit" "$src/host_exit.c" -ldl || exit 1
got=$("$out/host_exit" "$(pwd)/$out/plug_a.so" 2>&1)
rc=$?
[ "$rc:$got" = "0:ok" ] ||
	fail "plugin dlclose()d by an exit handler: exit $rc: $got"
[ $status -eq 0 ] && echo "check-shared: API exported under -fvisibility=hidden; a second copy stops at start; DPCPU across .so: $(head -c 120 "$out/dpcpu.err"); modules unloaded mid-run and at exit survive"
exit $status
