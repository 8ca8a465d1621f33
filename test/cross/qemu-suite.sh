#!/bin/sh
# test/cross/qemu-suite.sh QEMU BINARY [ARGS...] - run a foreign test suite
# (linked with the Criterion-compatible runner of test/cross/criterion)
# under the qemu-user emulator QEMU.  $XSUITE_NOTE, if set, is printed
# first as a "[NOTE]" line (why the suite runs emulated).
#
# A missing emulator is a missing host capability, not a failure of the
# project: the suite then reports that it ran nothing and why (a "[SKIP]"
# line and an empty synthesis) and exits 0.
qemu=$1
bin=$2
shift 2
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "[SKIP] $bin: not run: $qemu is not installed (Debian package qemu-user)"
	echo "[====] Synthesis: Tested: 0 | Passing: 0 | Failing: 0 | Crashing: 0 | Skipped: 0"
	exit 0
fi
if [ -n "$XSUITE_NOTE" ]; then
	echo "[NOTE] $XSUITE_NOTE"
fi
exec "$qemu" "$bin" "$@"
