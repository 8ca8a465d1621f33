#!/bin/sh
# test/torture/run.sh DIR SECONDS - every run of the torture suite, then
# the tally "torture: N passed, N failed" (test/run.sh adds it to make
# test's).  DIR holds torture-mp, torture-sim and the plugins.
dir=$1
secs=$2
pass=0
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run() {
	"$@" -t "$secs" >"$out" 2>&1
	cat "$out"
	line=$(tail -n 1 "$out")
	p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed, .*/\1/p')
	f=$(echo "$line" | sed -n 's/.* passed, \([0-9]*\) failed.*/\1/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		echo "FAIL   $*: no tally line"
		fail=$((fail + 1))
		return
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

run "$dir/torture-mp" -l rseq -w rseq -p "$dir/plugin-mp.so"
run env PERCPU_BACKEND=getcpu "$dir/torture-mp" -l getcpu -w getcpu \
    -p "$dir/plugin-mp.so"
run env GLIBC_TUNABLES=glibc.pthread.rseq=0 "$dir/torture-mp" -l rseq-off \
    -w getcpu -p "$dir/plugin-mp.so"
run "$dir/torture-sim" -l sim -w sim -p "$dir/plugin-sim.so"
echo "torture: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
