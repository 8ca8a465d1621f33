#!/bin/sh
# test/lib/check-prom.sh - pcpustat -o prom, read back by a real parser
# (Debian's python3-prometheus-client), values exact (issue 14, item 9);
# and pcpustat's --help, --version, -i 0 and a filter that matches
# nothing (item 7).
BUILD=${BUILD:-build}
PCPUSTAT=${PCPUSTAT:-$BUILD/tools/pcpustat}
out=$BUILD/lib/prom
mkdir -p "$out" || exit 1
status=0
fail() {
	echo "check-prom: $*"
	status=1
}
gcc -std=c11 -Wall -Wextra -Werror -I. -o "$out/writer" test/lib/prom_writer.c \
    -pthread || exit 1
rm -f "$out/snap.pcpu"
ncpu=$("$out/writer" "$out/snap.pcpu") || exit 1
"$PCPUSTAT" -r "$out/snap.pcpu" -o prom >"$out/out.prom" || fail "pcpustat -o prom: exit $?"
/usr/bin/python3 test/lib/check_prom.py "$ncpu" "$out/snap.pcpu" \
    <"$out/out.prom" || { fail "the parser disagrees:"; cat "$out/out.prom"; }

# --help and --version: stdout, exit 0.
"$PCPUSTAT" --help >"$out/help" 2>&1 && grep -q '^usage: pcpustat' "$out/help" ||
	fail "--help"
v=$(sed -n 's/^#define PERCPU_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' percpu/config.h | paste -sd.)
[ "$("$PCPUSTAT" --version)" = "pcpustat (percpu) $v" ] || fail "--version: $("$PCPUSTAT" --version)"
# -i 0: a usage error that says why.
"$PCPUSTAT" -r "$out/snap.pcpu" -i 0 >/dev/null 2>"$out/i0"
rc=$?
[ $rc -eq 2 ] && grep -q 'SECONDS must be above 0' "$out/i0" || fail "-i 0: exit $rc"
# A filter that matches nothing: exit 0, the header and no rows.
"$PCPUSTAT" -r "$out/snap.pcpu" -f 'no-such-*' >"$out/none"
rc=$?
[ $rc -eq 0 ] && [ "$(grep -c . "$out/none")" -eq 2 ] && grep -q '^NAME ' "$out/none" ||
	fail "-f matching nothing: exit $rc, output: $(cat "$out/none")"
[ "$("$PCPUSTAT" -r "$out/snap.pcpu" -f 'no-such-*' -o prom | grep -c .)" -eq 0 ] ||
	fail "-o prom -f matching nothing is not empty"
[ $status -eq 0 ] && echo "check-prom: --help, --version, -i 0 (exit 2), empty filter (exit 0)"
exit $status
