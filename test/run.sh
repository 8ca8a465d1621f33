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
step "check-compat (each BSD compat header alone, MP/UP, gcc+clang)" \
    $MAKE -s check-compat
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
step "build interrupt-mask suites (fake firmware port, MP and UP)" \
    $MAKE -s irqmask-suites
step_show "firmware cross builds (Cortex-M0+/M4/M33, RV32/RV64; -ffreestanding -Werror)" \
    $MAKE -s check-fw
step_show "firmware -nostdlib links of every row, no TLS (.tdata/.tbss, __aeabi_read_tp, tp/TPIDR_EL0)" \
    $MAKE -s check-fw-link
step "build i386 (gcc -m32) and AArch64 (qemu-user) suites" \
    $MAKE -s -j2 xsuites
step_show "bare-metal AArch64 self-test (4 cores, qemu-system-aarch64)" \
    $MAKE -s check-baremetal
step_show "firmware runs with timer interrupts (RISC-V RV64/RV32 4 harts M-mode, Cortex-M3 UP)" \
    $MAKE -s check-fwrun
step "build ThreadSanitizer suites (atomic backend)" $MAKE -s -j2 check-tsan
for bin in "$BUILD"/test-* "$BUILD"/xsuite-*; do
	[ -x "$bin" ] || continue
	suite "$bin"
done
# Inspection against hostile local users, lifecycle and scale
# (test/inspect.sh: as root with useradd it creates two users).
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null 2>&1; then
	echo "note   attacker tests skipped: they need root and useradd"
fi
suite "$BUILD/inspect/run-inspect"
# The torture suite (test/torture.mk): its scenarios add to the tally.
tally() {
	name=$1
	shift
	"$@" >"$log" 2>&1
	rc=$?
	line=$(tail -n 1 "$log")
	p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed, .*/\1/p')
	f=$(echo "$line" | sed -n 's/.* passed, \([0-9]*\) failed.*/\1/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		fail=$((fail + 1))
		echo "FAIL   $name (no tally line, exit $rc)"
		tail -n 60 "$log" | sed 's/^/       /'
		return
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail=$((fail + 1))
	if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "ok     $name: $line"
	else
		echo "FAIL   $name: $line"
	fi
	grep -v '^torture' "$log" | grep '^ok\|^skip\|^FAIL' | sed 's/^/       /'
}
tally "torture (make torture: rseq, getcpu, rseq-off, sim)" $MAKE -s torture
# The toolkit as a library of C and C++ projects (test/lib.mk).
step "one implementation switch; link errors name the fix (check-lib-link)" \
    $MAKE -s check-lib-link
step "C++17/20 headers in any order, C/C++ implementation (check-cxx)" \
    $MAKE -s check-cxx
step "consumers: vendored, pkg-config, find_package, add_subdirectory; install/uninstall (check-consumers)" \
    $MAKE -s check-consumers
step "shared libraries: visibility, a second copy, DPCPU (check-shared)" \
    $MAKE -s check-shared
step "man pages: mandoc -Tlint, coverage, man NAME (check-man)" \
    $MAKE -s check-man
step "pcpustat -o prom through prometheus_client; --help/--version (check-prom)" \
    $MAKE -s check-prom
step "hygiene: pre-C11 #error, DPCPU_NO_BSD_NAMES, clang -Weverything (check-hygiene)" \
    $MAKE -s check-hygiene
# Inspection (test/inspect.mk): libFuzzer on the reader, time-bounded.
step "fuzz kvm_pcpu.h open and parse (${FUZZ_TIME:-20} s, ASan+UBSan)" \
    $MAKE -s fuzz
echo "test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
