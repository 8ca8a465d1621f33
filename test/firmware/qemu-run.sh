#!/bin/sh
# test/firmware/qemu-run.sh LOG SECONDS QEMU-COMMAND... - run a firmware
# image under qemu-system-*, bounded: print its console, and fail unless
# it printed "firmware: PASS" (or "baremetal: PASS") within SECONDS.
log=$1
secs=$2
shift 2
timeout "$secs" "$@" >"$log" 2>&1 </dev/null
rc=$?
cat "$log"
if [ $rc -eq 124 ]; then
	echo "qemu-run: timed out after $secs s: $*"
	exit 1
fi
grep -q '^\(firmware\|baremetal\): PASS' "$log" || {
	echo "qemu-run: no PASS line (exit $rc): $*"
	exit 1
}
