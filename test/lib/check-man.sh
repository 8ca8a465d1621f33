#!/bin/sh
# test/lib/check-man.sh - the manual pages (issue 14, item 4):
#   1. mandoc -Tlint at warning level and above: no message (the style
#      level only notes cross references to pages not installed here);
#   2. each section 3 page has LIBRARY, SYNOPSIS, DESCRIPTION, CALLING
#      CONTEXT (mandoc keeps the bare CONTEXT for section 9), MP AND UP,
#      RETURN VALUES, EXAMPLES, ERRORS and SEE ALSO; pcpustat(1) its own;
#   3. every public function and function-like macro of the headers (and
#      curcpu, mp_maxid, mp_ncpus) is a .Nm of some page;
#   4. after make install, `man NAME` finds the page of every .Nm name.
MAKE=${MAKE:-make}
BUILD=${BUILD:-build}
out=$(pwd)/$BUILD/lib/man
rm -rf "$out"
mkdir -p "$out" || exit 1
status=0
fail() {
	echo "check-man: $*"
	status=1
}
msgs=$(mandoc -Tlint -W warning man/* 2>&1)
[ -z "$msgs" ] || fail "mandoc -Tlint: $msgs"
for p in man/*.3; do
	for s in LIBRARY SYNOPSIS DESCRIPTION "CALLING CONTEXT" "MP AND UP" \
	    "RETURN VALUES" EXAMPLES ERRORS "SEE ALSO"; do
		grep -qx ".Sh $s" "$p" || fail "$p: no section $s"
	done
done
for s in SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES "SEE ALSO"; do
	grep -qx ".Sh $s" man/pcpustat.1 || fail "pcpustat.1: no section $s"
done
# Documented names: the .Nm lines of the NAME sections.
sed -n '/^\.Sh NAME/,/^\.Nd/s/^\.Nm \([A-Za-z_0-9]*\).*/\1/p' man/*.3 |
    sort -u >"$out/documented"
# Public names: declarations and function-like macros before each
# header's implementation part, minus internals (*_priv_*, port hooks).
for h in percpu.h cpumem.h dpcpu.h counter.h kvm_pcpu.h percpu_export.h \
    percpu/core.h; do
	awk '/^#if.*PERCPU_IMPLEMENTATION/ { exit } { print }' "$h" |
	    sed 's/^PERCPU_API //' |
	    grep -o '^[a-z][a-z_0-9 ]*[ *]\([a-z_0-9]*\)(\|^[a-z_0-9]*(\|^# *define [A-Za-z_0-9]*(' |
	    sed 's/^# *define //; s/($//; s/.*[ *]//'
done | grep -v '_priv_\|_PRIV_\|^percpu_md_\|^DPCPU_PRIV\|^PERCPU_EXPORT_PRIV' |
    sort -u >"$out/public"
printf 'curcpu\nmp_maxid\nmp_ncpus\n' >>"$out/public"
missing=$(sort -u "$out/public" | comm -23 - "$out/documented")
[ -z "$missing" ] || fail "public names without a page:" $missing
[ "$(wc -l <"$out/public")" -gt 135 ] ||
	fail "only $(wc -l <"$out/public") public names found: the scan is broken"
# man NAME, after make install.
if "$MAKE" -s install PREFIX="$out/prefix" >"$out/install.log" 2>&1; then
	n=0
	for name in $(cat "$out/documented") pcpustat; do
		sec=3
		[ "$name" = pcpustat ] && sec=1
		f=$(man -M "$out/prefix/share/man" -w "$sec" "$name" 2>/dev/null)
		case $f in
		"$out"/prefix/share/man/man$sec/*) n=$((n + 1)) ;;
		*) fail "man $sec $name: not found ($f)" ;;
		esac
	done
	man -M "$out/prefix/share/man" 3 counter_u64_add 2>/dev/null |
	    grep -q 'counter_u64_add' || fail "man counter_u64_add shows nothing"
else
	fail "make install: $(tail -5 "$out/install.log")"
fi
[ $status -eq 0 ] && echo "check-man: mandoc -Tlint clean; sections; $(wc -l <"$out/public") public names documented; man finds all $n names"
exit $status
