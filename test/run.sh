#!/bin/sh
# test/run.sh - every check of `make test`, one line each, then the tally.
#
# Steps that are not Criterion suites count as one test each; Criterion
# suites add their own counts (from their "Synthesis" line).  The last
# line is "test: N passed, N failed"; the exit status is non-zero on any
# failure.
MAKE=${MAKE:-make}
BUILD=${BUILD:-build}
pass=0
fail=0
log=$(mktemp)
# Criterion's runner leaks a little of its own; ours must not.
LSAN_OPTIONS="suppressions=$(pwd)/test/lsan.supp:print_suppressions=0"
export LSAN_OPTIONS
trap 'rm -f "$log"' EXIT

step() {
	name=$1
	shift
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok     $name"
	else
		fail=$((fail + 1))
		echo "FAIL   $name"
		sed 's/^/       /' "$log" | tail -n 60
	fi
}

# step_show NAME CMD...: a step whose output is shown even when it passes.
step_show() {
	name=$1
	shift
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok     $name"
		sed 's/^/       /' "$log"
	else
		fail=$((fail + 1))
		echo "FAIL   $name"
		sed 's/^/       /' "$log" | tail -n 60
	fi
}

# suite BIN: a Criterion suite (or one of the Criterion-compatible
# runner's).  Its "[NOTE]" lines (how it ran) and skipped tests (with the
# reason: a missing host capability is a skip, never a failure) are shown
# under its line.
suite() {
	bin=$1
	"$bin" --jobs 2 --short-filename --verbose >"$log" 2>&1
	rc=$?
	line=$(grep 'Synthesis:' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	if [ -z "$p" ]; then
		fail=$((fail + 1))
		echo "FAIL   $bin (no synthesis line, exit $rc)"
		tail -n 60 "$log" | sed 's/^/       /'
		return
	fi
	pass=$((pass + p))
	fail=$((fail + f + c))
	if [ "$rc" -ne 0 ] || [ $((f + c)) -ne 0 ]; then
		[ $((f + c)) -eq 0 ] && fail=$((fail + 1))
		echo "FAIL   $bin: $line"
		# The failures with their assertions' messages.
		grep -v '^\[====\]\|^\[RUN \]\|^\[PASS\]\|^\[----\] Criterion v' \
		    "$log" | grep -v '^\[----\] *$' | head -n 80 |
		    sed 's/^/       /'
	else
		echo "ok     $bin: $line"
		grep '^\[NOTE\]\|^\[SKIP\]\|: skipped: ' "$log" |
		    grep -v 'Test is disabled' | sed 's/^/       /'
	fi
}

step "format-check" $MAKE -s format-check
step "check-compile (each header alone, MP/SIM/UP, gcc+clang)" $MAKE -s check-compile
step "check-link (two translation units, one state)" $MAKE -s check-link
step "programs that must not compile (test/compile/fail.sh)" sh test/compile/fail.sh
if $MAKE -s -n check-up >/dev/null 2>&1; then
	step "check-up (UP build = plain globals)" $MAKE -s check-up
fi
step "build examples" $MAKE -s examples
step "build tools (pcpustat)" $MAKE -s tools
step "build suites" $MAKE -s -j2 suites
# Firmware and portability (test/firmware.mk).
step "cross packages (CROSS_DEBS)" $MAKE -s cross-deps
step "build static-arena suites (no malloc)" $MAKE -s static-suites
step_show "firmware cross builds (Cortex-M0+/M4/M33, RV32/RV64; -ffreestanding -Werror)" \
    $MAKE -s check-fw
step "build i386 (gcc -m32) and AArch64 (qemu-user) suites" \
    $MAKE -s -j2 xsuites
step_show "bare-metal AArch64 self-test (4 cores, qemu-system-aarch64)" \
    $MAKE -s check-baremetal
step "build ThreadSanitizer suites (atomic backend)" $MAKE -s -j2 check-tsan
for bin in "$BUILD"/test-* "$BUILD"/xsuite-*; do
	[ -x "$bin" ] || continue
	suite "$bin"
done
# Inspection (test/inspect.mk): libFuzzer on the reader, time-bounded.
step "fuzz kvm_pcpu.h open and parse (${FUZZ_TIME:-20} s, ASan+UBSan)" \
    $MAKE -s fuzz
echo "test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
