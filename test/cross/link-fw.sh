#!/bin/sh
# test/cross/link-fw.sh - full -nostdlib links of every row of the
# firmware table, and the check that firmware images use no thread-local
# storage.
#
# For each target and build of test/cross/check-fw.sh (Cortex-M0+/M4/M33:
# UP without a port, UP and MP with firmware/port_rp2040.h; RV32IMAC and
# RV64IMAC: UP without a port, UP and MP with the ready M-mode port, MP
# with firmware/port_riscv_smode.h) and AArch64 (MP, ready port): link
# size_ref.c (the implementation, static arena) + fw_image.c +
# test/firmware/fw_libc.c + the target's __atomic_* calls
# (firmware/rp2040_atomic.c on Cortex-M, test/firmware/rv32_atomic.c on
# RV32) with -nostdlib -lgcc at -Os, --gc-sections.  Each image must
# have no .tdata/.tbss section and no TLS segment, must not reference
# __aeabi_read_tp, the toolkit's objects must carry no TLS relocation,
# and their code must not address memory through the thread pointer
# (tp on RISC-V, except the S-mode port, which keeps the hart id at tp[0]
# by its own convention; TPIDR_EL0/TPIDRURO on Arm).  Then the image
# sizes (text, data, bss; bss includes the static arena and pool) with
# and without the message formatter (PERCPU_NO_FORMAT=1).
BUILD=${BUILD:-build}
out=$BUILD/fwlink
mkdir -p "$out" || exit 1
WARN="-std=c11 -pedantic -Wall -Wextra -Wundef -Wshadow -Wcast-align \
-Wcast-qual -Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes \
-Wmissing-declarations -Wredundant-decls -Wsign-conversion -Werror"
IMPL="-DPERCPU_STATIC_ARENA_SIZE=4096 -DPERCPU_STATIC_POOL_SIZE=1024"
status=0
sizes=$out/sizes.txt
: >"$sizes"

fail() {
	echo "link-fw: $*"
	status=1
}

# image NAME LABEL CC TPCHECK FLAGS...: build, link and check one image.
# TPCHECK: riscv, arm, aarch64 or none.
image() {
	name=$1
	label=$2
	cc=$3
	tp=$4
	shift 4
	flags="$*"
	tag=$(echo "$name $label" | tr -c 'a-zA-Z0-9\n' '_')
	nm=$(echo "$cc" | sed 's/gcc$/nm/')
	objdump=$(echo "$cc" | sed 's/gcc$/objdump/')
	readelf=$(echo "$cc" | sed 's/gcc$/readelf/')
	size=$(echo "$cc" | sed 's/gcc$/size/')
	# libgcc's multilib is chosen by -march without extensions.
	# shellcheck disable=SC2086
	libgcc=$($cc $(echo "$flags" | sed 's/_zicsr//g') \
	    -print-libgcc-file-name)
	row=""
	for fmt in 0 1; do
		o=$out/$tag.$fmt
		extra=""
		[ $fmt = 1 ] && extra="-DPERCPU_NO_FORMAT=1"
		objs=""
		for src in test/cross/size_ref.c test/cross/fw_image.c \
		    test/firmware/fw_libc.c $ATOMICS; do
			obj=$o.$(basename "$src" .c).o
			# shellcheck disable=SC2086
			$cc $WARN -ffreestanding -Os -ffunction-sections \
			    -fdata-sections -I. -Ifirmware $flags $IMPL $extra \
			    -c -o "$obj" "$src" || {
				fail "$name $label: $src does not compile"
				return
			}
			objs="$objs $obj"
		done
		# shellcheck disable=SC2086
		$cc -nostdlib -nostartfiles -static $flags -Wl,--gc-sections \
		    -Wl,-e,fw_image_entry -Wl,--no-warn-rwx-segments \
		    -o "$o.elf" $objs "$libgcc" >"$o.log" 2>&1 || {
			fail "$name $label: the -nostdlib link fails:"
			sed 's/^/    /' "$o.log" | head -20
			return
		}
		if $readelf -SW "$o.elf" | grep -q '\.t\(data\|bss\)'; then
			fail "$name $label: a .tdata/.tbss section (TLS)"
		fi
		if $readelf -lW "$o.elf" | grep -q '^ *TLS'; then
			fail "$name $label: a TLS segment"
		fi
		if $nm "$o.elf" | grep -q '__aeabi_read_tp'; then
			fail "$name $label: __aeabi_read_tp (TLS) is referenced"
		fi
		# shellcheck disable=SC2086
		if $readelf -rW $o.size_ref.o $o.fw_image.o |
		    grep -qi 'TLS\|TPREL\|TPOFF'; then
			fail "$name $label: TLS relocations in the toolkit"
		fi
		$objdump -d --no-show-raw-insn $o.size_ref.o $o.fw_image.o \
		    >"$o.dis"
		case $tp in
		riscv) grep -q '[(,]tp[),]\|[[:space:]]tp,' "$o.dis" &&
			fail "$name $label: tp-relative code in the toolkit" ;;
		arm) grep -qi 'c13, c0, 3\|tpidruro\|__aeabi_read_tp' "$o.dis" &&
			fail "$name $label: thread-pointer code in the toolkit" ;;
		aarch64) grep -qi 'tpidr_el0\|tpidrro_el0' "$o.dis" &&
			fail "$name $label: TPIDR_EL0 code in the toolkit" ;;
		esac
		# Without the formatter: none of it, nor the 64-bit division.
		if [ $fmt = 1 ] && $nm "$o.elf" |
		    grep -q 'percpu_priv_vfmt\|percpu_priv_fmt_num\|__aeabi_uldivmod\|__udivdi3\|__umoddi3'; then
			fail "$name $label: PERCPU_NO_FORMAT=1 image has the formatter"
		fi
		set -- $($size "$o.elf" | awk 'NR == 2 { print $1, $2, $3 }')
		row="$row $(printf '%6s %5s %5s' "$1" "$2" "$3")"
	done
	printf '%-9s %-22s%s\n' "$name" "$label" "$row" >>"$sizes"
	echo "ok: $name $label"
}

ARM_PORT="-DPERCPU_MD=PERCPU_MD_USER -DPERCPU_MD_USER_HEADER=\"firmware/port_rp2040.h\""
ATOMICS=firmware/rp2040_atomic.c
for cpu in cortex-m0plus cortex-m4 cortex-m33; do
	n=$(echo $cpu | sed 's/cortex-//')
	f="-mcpu=$cpu -mthumb"
	image "$n" "UP (no port)" arm-none-eabi-gcc arm $f -DPERCPU_MP=0
	image "$n" "UP, port (PRIMASK)" arm-none-eabi-gcc arm $f \
	    -DPERCPU_MP=0 $ARM_PORT
	image "$n" "MP, port_rp2040.h" arm-none-eabi-gcc arm $f \
	    -DPERCPU_MP=1 -DPERCPU_MAXCPU=2 -DPERCPU_UNIT_SIZE=256 $ARM_PORT
done

RV_USER="-DPERCPU_MD=PERCPU_MD_USER -DPERCPU_MD_USER_HEADER=\"firmware/port_riscv_smode.h\""
RV_MP="-DPERCPU_MP=1 -DPERCPU_MAXCPU=4 -DPERCPU_UNIT_SIZE=256"
for rv in rv32imac rv64imac; do
	if [ $rv = rv32imac ]; then
		f="-march=rv32imac_zicsr -mabi=ilp32"
		ATOMICS=test/firmware/rv32_atomic.c
	else
		f="-march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany"
		ATOMICS=
	fi
	f="$f -idirafter /usr/include/newlib -Itest/firmware"
	image $rv "UP (no port)" riscv64-unknown-elf-gcc riscv $f -DPERCPU_MP=0
	image $rv "UP, ready port (MIE)" riscv64-unknown-elf-gcc riscv $f \
	    -DPERCPU_MP=0 -DPERCPU_MD=PERCPU_MD_BAREMETAL
	image $rv "MP, ready port" riscv64-unknown-elf-gcc riscv $f $RV_MP \
	    -DPERCPU_MD=PERCPU_MD_BAREMETAL
	image $rv "MP, port_riscv_smode.h" riscv64-unknown-elf-gcc none $f \
	    $RV_MP $RV_USER
done

ATOMICS=
image aarch64 "MP, ready port" aarch64-linux-gnu-gcc aarch64 \
    -mcpu=cortex-a53 -mno-outline-atomics -mgeneral-regs-only -fno-pie \
    -no-pie -DPERCPU_MD=PERCPU_MD_BAREMETAL $RV_MP

# Limits known at build time are build errors.  A static arena smaller
# than one chunk (4 CPUs x 1024 bytes) does not compile:
o=$out/limits
# shellcheck disable=SC2086
if riscv64-unknown-elf-gcc $WARN -ffreestanding -Os -I. -march=rv64imac_zicsr \
    -mabi=lp64 -mcmodel=medany -idirafter /usr/include/newlib \
    -DPERCPU_MD=PERCPU_MD_BAREMETAL -DPERCPU_MAXCPU=4 -DPERCPU_UNIT_SIZE=1024 \
    -DPERCPU_STATIC_ARENA_SIZE=2048 -c -o "$o.o" test/cross/size_ref.c \
    >"$o.log" 2>&1; then
	fail "a static arena smaller than CPUs x unit compiled"
elif ! grep -q 'PERCPU_STATIC_ARENA_SIZE is smaller than one chunk' "$o.log"; then
	fail "the small-arena error does not say so:"
	cat "$o.log"
else
	echo "ok: PERCPU_STATIC_ARENA_SIZE < CPUs x unit is a compile error"
fi
# A DPCPU set larger than the unit does not link with firmware/dpcpu.ld
# (the control, the same link without the big variable, must pass).
for big in "" test/cross/fw_dpcpu_big.c; do
	objs=""
	for src in test/cross/size_ref.c test/cross/fw_image.c \
	    test/firmware/fw_libc.c $big; do
		# shellcheck disable=SC2086
		riscv64-unknown-elf-gcc $WARN -ffreestanding -Os -I. \
		    -march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany \
		    -idirafter /usr/include/newlib $RV_MP \
		    -DPERCPU_MD=PERCPU_MD_BAREMETAL $IMPL -c \
		    -o "$o.$(basename $src .c).o" "$src" || fail "$src"
		objs="$objs $o.$(basename $src .c).o"
	done
	# shellcheck disable=SC2086
	riscv64-unknown-elf-gcc -nostdlib -nostartfiles -static \
	    -march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany \
	    -Wl,--no-warn-rwx-segments -Wl,-e,fw_image_entry \
	    -T test/firmware/rv_link.ld -o "$o.elf" $objs -lgcc >"$o.log" 2>&1
	rc=$?
	if [ -z "$big" ] && [ $rc -ne 0 ]; then
		fail "the DPCPU control link fails:"
		cat "$o.log"
	elif [ -n "$big" ] && [ $rc -eq 0 ]; then
		fail "a DPCPU set larger than PERCPU_UNIT_SIZE linked"
	elif [ -n "$big" ] &&
	    ! grep -q 'DPCPU set (set_dpcpu) is larger than PERCPU_UNIT_SIZE' \
		"$o.log"; then
		fail "the DPCPU ASSERT does not say why:"
		cat "$o.log"
	fi
done
echo "ok: a DPCPU set larger than PERCPU_UNIT_SIZE is a link error"

echo "whole -nostdlib images at -Os, --gc-sections (bytes; bss holds the"
echo "4 KiB static arena and 1 KiB pool): with the message formatter, and"
echo "without it (PERCPU_NO_FORMAT=1):"
printf '%-9s %-22s %6s %5s %5s %6s %5s %5s\n' target build text data bss \
    text data bss
cat "$sizes"
exit $status
