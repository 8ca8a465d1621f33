#!/bin/sh
# test/cross/check-fw.sh - freestanding cross builds for firmware targets.
#
# For each target (Cortex-M0+, M4, M33 with arm-none-eabi-gcc; RV32IMAC
# and RV64IMAC with riscv64-unknown-elf-gcc) and each build (UP without a
# port; UP and MP with a firmware port: the user port firmware/port_rp2040.h
# on Cortex-M, the ready RISC-V port and the user port
# firmware/port_riscv_smode.h on RISC-V): every face header alone, and with
# PERCPU_IMPLEMENTATION (static arena: no malloc), -ffreestanding -Werror.
# Then the code size of test/cross/size_ref.c's functions at -O2 and -Os,
# the same sources with clang's cross targets, and that an MP build
# without a port fails naming the fix.
BUILD=${BUILD:-build}
out=$BUILD/fw
mkdir -p "$out" || exit 1
WARN="-std=c11 -pedantic -Wall -Wextra -Wundef -Wshadow -Wcast-align \
-Wcast-qual -Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes \
-Wmissing-declarations -Wredundant-decls -Wsign-conversion -Werror"
HEADERS="percpu.h cpumem.h dpcpu.h counter.h"
IMPL="-DPERCPU_STATIC_ARENA_SIZE=4096 -DPERCPU_STATIC_POOL_SIZE=1024"
status=0
sizes=$out/sizes.txt
: >"$sizes"

# insns OBJDUMP FUNCTION: the instructions of FUNCTION in size.o.
insns() {
	$1 -d "$out/size.o" | awk -v f="<$2>:" '
	    $2 == f { on = 1; next }
	    on && /^$/ { exit }
	    on && !/\.word|\.short|[[:space:]]nop/ { n++ }
	    END { print n + 0 }'
}

# target NAME CC FLAGS...: the builds are listed in $BUILDS as
# label|flags entries separated by newlines.
target() {
	name=$1
	cc=$2
	shift 2
	flags="$*"
	echo "$BUILDS" | while IFS='|' read -r label bflags; do
		[ -n "$label" ] || continue
		for h in $HEADERS; do
			printf '#include "%s"\n' "$h" >"$out/only.c"
			printf '#define PERCPU_IMPLEMENTATION\n#include "%s"\n' \
			    "$h" >"$out/impl.c"
			# shellcheck disable=SC2086
			$cc $WARN -ffreestanding -O2 -I. $flags $bflags -c \
			    -o "$out/only.o" "$out/only.c" || {
				echo "check-fw: $name $label: $h alone"
				exit 1
			}
			# shellcheck disable=SC2086
			$cc $WARN -ffreestanding -O2 -I. $flags $bflags $IMPL \
			    -c -o "$out/impl.o" "$out/impl.c" || {
				echo "check-fw: $name $label: $h with the implementation"
				exit 1
			}
		done
		row=""
		for o in -O2 -Os; do
			# shellcheck disable=SC2086
			$cc $WARN -ffreestanding $o -I. $flags $bflags $IMPL \
			    -c -o "$out/size.o" test/cross/size_ref.c || {
				echo "check-fw: $name $label: size_ref.c $o"
				exit 1
			}
			nm=$(echo "$cc" | sed 's/gcc$/nm/')
			# Instructions (no literal pool, no alignment nop).
			od=$(echo "$cc" | sed 's/gcc$/objdump/')
			crit=$(insns "$od" ref_critical)
			sect=$(insns "$od" ref_enter_leave_void)
			if [ "$crit" != "$sect" ] || [ "$crit" -eq 0 ]; then
				echo "check-fw: $name $label $o: critical_enter/exit is $crit instructions, its percpu_enter + leave $sect"
				exit 1
			fi
			for f in ref_counter_add ref_enter_leave ref_counters_inc; do
				n=$($nm -S -t d "$out/size.o" |
				    awk -v f=$f '$4 == f { print $2 + 0 }')
				row="$row $(printf '%6s' "$n")"
			done
		done
		printf '%-9s %-22s%s\n' "$name" "$label" "$row" >>"$sizes"
		echo "ok: $name $label"
	done || exit 1
}

ARM_PORT="-DPERCPU_MD=PERCPU_MD_USER -DPERCPU_MD_USER_HEADER=\"firmware/port_rp2040.h\""
BUILDS="UP (no port)|-DPERCPU_MP=0
UP, port (PRIMASK)|-DPERCPU_MP=0 $ARM_PORT
MP, port_rp2040.h|-DPERCPU_MP=1 -DPERCPU_MAXCPU=2 -DPERCPU_UNIT_SIZE=256 $ARM_PORT"
for cpu in cortex-m0plus cortex-m4 cortex-m33; do
	target "$(echo $cpu | sed 's/cortex-//')" arm-none-eabi-gcc \
	    -mcpu=$cpu -mthumb || status=1
done

RV_USER="-DPERCPU_MD=PERCPU_MD_USER -DPERCPU_MD_USER_HEADER=\"firmware/port_riscv_smode.h\""
BUILDS="UP (no port)|-DPERCPU_MP=0
UP, ready port (MIE)|-DPERCPU_MP=0 -DPERCPU_MD=PERCPU_MD_BAREMETAL
MP, ready port|-DPERCPU_MP=1 -DPERCPU_MAXCPU=4 -DPERCPU_UNIT_SIZE=256 -DPERCPU_MD=PERCPU_MD_BAREMETAL
MP, port_riscv_smode.h|-DPERCPU_MP=1 -DPERCPU_MAXCPU=4 -DPERCPU_UNIT_SIZE=256 $RV_USER"
# newlib's headers (for <string.h>) after the compiler's own.
target rv32imac riscv64-unknown-elf-gcc -march=rv32imac_zicsr -mabi=ilp32 \
    -idirafter /usr/include/newlib || status=1
target rv64imac riscv64-unknown-elf-gcc -march=rv64imac_zicsr -mabi=lp64 \
    -mcmodel=medany -idirafter /usr/include/newlib || status=1

# The same sources with clang (LLVM's own cross targets, no toolchain
# needed): every face and the implementation, one build per target.
# ARMv6-M has no lock-free atomics at all: clang's -Watomic-alignment
# says so for each one (they are the firmware's library calls by design).
clang_fw() {
	# shellcheck disable=SC2086
	clang $WARN -ffreestanding -O2 -I. -idirafter /usr/include/newlib \
	    $IMPL "$@" -c -o "$out/clang.o" test/cross/size_ref.c || {
		echo "check-fw: clang $*"
		status=1
		return
	}
	echo "ok: clang $1 $2"
}
clang_fw --target=aarch64-none-elf -DPERCPU_MD=PERCPU_MD_BAREMETAL \
    -DPERCPU_MAXCPU=4 -DPERCPU_UNIT_SIZE=256
clang_fw --target=riscv64-unknown-elf -march=rv64imac \
    -DPERCPU_MD=PERCPU_MD_BAREMETAL -DPERCPU_MAXCPU=4 -DPERCPU_UNIT_SIZE=256
clang_fw --target=thumbv6m-none-eabi -mcpu=cortex-m0plus \
    -Wno-atomic-alignment $ARM_PORT -DPERCPU_MAXCPU=2 -DPERCPU_UNIT_SIZE=256
clang_fw --target=thumbv8m.main-none-eabi -mcpu=cortex-m33 -DPERCPU_MP=0 \
    $ARM_PORT

# Footprint: counter_u64_add on Cortex-M0+ MP at -Os (the rare paths
# out of line) is at most 64 bytes.
n=$(awk '$1 == "m0plus" && $2 == "MP," { print $7 }' "$sizes")
if [ -z "$n" ] || [ "$n" -gt 64 ]; then
	echo "check-fw: counter_u64_add on Cortex-M0+ MP at -Os is ${n:-?} bytes (limit 64)"
	status=1
fi
# PERCPU_BOOT_INIT=1: the boot code calls percpu_init(), and nothing else
# calls the first-use initialization (percpu_priv_init); without the
# knob, the sections do.
for boot in 0 1; do
	# shellcheck disable=SC2086
	arm-none-eabi-gcc $WARN -ffreestanding -O2 -I. -mcpu=cortex-m0plus \
	    -mthumb -DPERCPU_MP=1 -DPERCPU_MAXCPU=2 -DPERCPU_UNIT_SIZE=256 \
	    $ARM_PORT $IMPL -DPERCPU_BOOT_INIT=$boot -c -o "$out/boot.o" \
	    test/cross/size_ref.c || status=1
	calls=$(arm-none-eabi-objdump -d "$out/boot.o" |
	    grep -c 'bl.*<percpu_priv_init>')
	if [ $boot = 1 ] && [ "$calls" -ne 1 ]; then
		echo "check-fw: PERCPU_BOOT_INIT=1: $calls calls of percpu_priv_init (only percpu_init's expected)"
		status=1
	elif [ $boot = 0 ] && [ "$calls" -le 1 ]; then
		echo "check-fw: control: without PERCPU_BOOT_INIT only $calls call of percpu_priv_init"
		status=1
	fi
done

# An unknown target is an #error that names the fix.
printf '#include "percpu.h"\n' >"$out/none.c"
for f in "-DPERCPU_MP=1" "-DPERCPU_MP=1 -DPERCPU_MD=PERCPU_MD_BAREMETAL"; do
	# shellcheck disable=SC2086
	if arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -ffreestanding -I. $f \
	    -c -o "$out/none.o" "$out/none.c" >"$out/none.log" 2>&1; then
		echo "check-fw: an MP build for Cortex-M with $f compiled"
		status=1
	elif ! grep -q 'PERCPU_MD_USER_HEADER' "$out/none.log"; then
		echo "check-fw: the error for $f does not name the fix:"
		cat "$out/none.log"
		status=1
	fi
done

echo "code size in bytes of counter_u64_add (add), percpu_enter+percpu_leave"
echo "(enter) and counters_inc (inc), at -O2 and -Os (slow paths are calls):"
printf '%-9s %-22s %6s %6s %6s %6s %6s %6s\n' target build "add" "enter" \
    "inc" "add" "enter" "inc"
printf '%-9s %-22s %20s %20s\n' "" "" "-O2" "-Os"
cat "$sizes"
exit $status
