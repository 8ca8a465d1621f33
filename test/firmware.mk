# test/firmware.mk - firmware and portability checks, included by the
# Makefile (variables WARN, OPT, CPPFLAGS, BUILD, TEST_SRCS, HEADERS, ...
# are its own).  test/run.sh runs them as part of `make test`:
#
#   make cross-deps       install the cross toolchains and emulators
#                         (CROSS_DEBS) when missing
#   make static-suites    the static-arena suite (no malloc), simulated
#                         CPUs and UP: $(BUILD)/test-static-*
#   make check-fw         freestanding builds for Cortex-M0+/M4/M33 and
#                         RV32/RV64 (every face, UP and MP with a firmware
#                         port, -Werror) and their code sizes
#   make check-fw-link    full -nostdlib links of every row of the
#                         firmware table (with firmware/rp2040_atomic.c
#                         on Cortex-M), no TLS in any image, image sizes
#   make xsuites          the test suites for i386 (gcc -m32, Criterion;
#                         under qemu-i386 with the Criterion-compatible
#                         runner of test/cross/ where the kernel cannot
#                         run 32-bit programs) and AArch64 (under
#                         qemu-user, with that runner): $(BUILD)/xsuite-*
#                         run them
#   make check-baremetal  the 4-core AArch64 bare-metal self-test under
#                         qemu-system-aarch64 (fails on FAIL or timeout)
#   make irqmask-suites   Criterion suites: every section of every face
#                         masks (MP and UP, a fake port's mask)
#   make check-fwrun      firmware images run under QEMU, each with a
#                         timer interrupt updating every face's objects:
#                         RISC-V M-mode 4 harts (RV64 and RV32, virt,
#                         -bios none) and a Cortex-M3 UP (mps2-an385)

# Installed without recommended packages (newlib's 370 MB of libraries,
# qemu's firmware images: not needed here).  lib32gcc-12-dev and
# libc6-dev-i386 give `gcc -m32` without gcc-multilib, which conflicts
# with the AArch64 cross compiler on Debian.
CROSS_DEBS = gcc-arm-none-eabi libnewlib-dev gcc-riscv64-unknown-elf \
             gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
             qemu-system-arm qemu-system-misc lib32gcc-12-dev libc6-dev-i386

.PHONY: cross-deps static-suites check-fw xsuites check-baremetal \
        check-fwrun check-fw-link

cross-deps:
	@$(MAKE) -s deps DEBS="$(CROSS_DEBS)" APT_FLAGS=--no-install-recommends

# ---- The static arena: 3 chunks of 5 CPUs (SIM) or a 60 KiB heap (UP) ----
STATIC_FLAGS = -DPERCPU_STATIC_ARENA_SIZE=61440 \
               -DPERCPU_STATIC_POOL_SIZE=65536 -DPERCPU_UNIT_SIZE=4096
STATIC_SRCS  = test/static/test_static.c test/impl.c

$(BUILD)/test-static-sim: $(STATIC_SRCS) $(TEST_HDRS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	gcc $(WARN) $(OPT) $(CPPFLAGS) -Itest $(STATIC_FLAGS) $(VARIANT_sim) \
	  -o $@ $(STATIC_SRCS) $(LDLIBS_T)

$(BUILD)/test-static-up: $(STATIC_SRCS) $(TEST_HDRS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	clang $(WARN) $(OPT) $(CPPFLAGS) -Itest $(STATIC_FLAGS) $(VARIANT_up) \
	  -o $@ $(STATIC_SRCS) $(LDLIBS_T)

static-suites: $(BUILD)/test-static-sim $(BUILD)/test-static-up

# ---- Freestanding cross builds and code sizes ----
check-fw: $(HEADERS) $(INTERNALS)
	@BUILD=$(BUILD) sh test/cross/check-fw.sh

# ---- Full -nostdlib links of every firmware row; no TLS in them ----
check-fw-link: $(HEADERS) $(INTERNALS)
	@BUILD=$(BUILD) sh test/cross/link-fw.sh

# ---- i386: gcc -m32 against Criterion's i386 run-time libraries ----
XROOT      = $(BUILD)/xroot
I386_LIB   = $(XROOT)/i386/root/usr/lib/i386-linux-gnu
I386_LIBS  = $(abspath $(I386_LIB)):$(abspath $(XROOT)/i386/root/lib/i386-linux-gnu)
XCR_HDRS   = test/cross/criterion/criterion/criterion.h
# The cross suites build the native suites' sources, less XTEST_SKIP.
XTEST_SKIP ?=
XTEST_SRCS  = $(filter-out $(XTEST_SKIP),$(TEST_SRCS))

$(XROOT)/%/.done: test/cross/criterion-rt.sh
	sh test/cross/criterion-rt.sh $* $(XROOT)/$*

# gcc -m32 looks for <asm/...> in /usr/include/i386-linux-gnu, which only
# gcc-multilib provides; the x86-64 headers serve both (they test
# __i386__).
$(BUILD)/cross/i386-inc/asm:
	@mkdir -p $(BUILD)/cross/i386-inc
	ln -sfn /usr/include/x86_64-linux-gnu/asm $@

# Where the kernel cannot run 32-bit programs (no IA32 emulation: "Exec
# format error"), the i386 suites run under qemu-i386 instead, linked with
# the Criterion-compatible runner (Criterion's workers re-execute the
# binary, which such a kernel refuses), less the tests that re-execute
# their own binary (XCR_EXCLUDE_QEMU, below); qemu-user has no rseq: the
# MP suite runs the getcpu backend.  The kernel is asked once per make
# through the i386 loader (libc6-i386, of CROSS_DEBS);
# PERCPU_TEST_NO_I386=1 in the environment takes that path on any kernel
# (to test it).  $(BUILD)/cross/i386/mode records the answer: the
# wrappers follow it.
I386_MODE := $(if $(PERCPU_TEST_NO_I386),qemu,$(shell \
               /lib/ld-linux.so.2 --version >/dev/null 2>&1 && echo native || \
               echo qemu))
I386_NOTE  = the kernel cannot run 32-bit programs$(if \
             $(PERCPU_TEST_NO_I386), (PERCPU_TEST_NO_I386 set)): under \
             qemu-i386 (no rseq), with the Criterion-compatible runner

.PHONY: i386-mode
$(BUILD)/cross/i386/mode: i386-mode
	@mkdir -p $(@D)
	@echo $(I386_MODE) | cmp -s - $@ || echo $(I386_MODE) > $@

define i386_rule
$(BUILD)/cross/i386/test-$(1): $(TEST_SRCS) $(TEST_HDRS) $(HEADERS) \
    $(INTERNALS) $(XROOT)/i386/.done $(BUILD)/cross/i386-inc/asm
	@mkdir -p $(BUILD)/cross/i386
	gcc -m32 $(WARN) -Wno-psabi $(OPT) $(CPPFLAGS) \
	  -idirafter $(BUILD)/cross/i386-inc $(VARIANT_$(1)) -o $$@ \
	  $(XTEST_SRCS) $(I386_LIB)/libcriterion.so.3 \
	  -Wl,-rpath-link,$(I386_LIBS) -pthread -latomic

$(BUILD)/cross/i386/xcr-test-$(1): $(TEST_SRCS) $(TEST_HDRS) $(HEADERS) \
    $(INTERNALS) $(XCR_HDRS) test/cross/criterion/runner.c \
    $(BUILD)/cross/i386-inc/asm
	@mkdir -p $(BUILD)/cross/i386
	gcc -m32 $(WARN) -Wno-psabi $(OPT) $(CPPFLAGS) \
	  -idirafter $(BUILD)/cross/i386-inc -isystem test/cross/criterion \
	  $(VARIANT_$(1)) -o $$@ $(XTEST_SRCS) test/cross/criterion/runner.c \
	  -pthread -latomic

ifeq ($(I386_MODE),native)
$(BUILD)/xsuite-i386-$(1): $(BUILD)/cross/i386/test-$(1) test/firmware.mk \
    $(BUILD)/cross/i386/mode
	printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$$$$@"\n' \
	  '$(I386_LIBS)' '$(abspath $(BUILD)/cross/i386/test-$(1))' > $$@
	chmod +x $$@
else
$(BUILD)/xsuite-i386-$(1): $(BUILD)/cross/i386/xcr-test-$(1) test/firmware.mk \
    $(BUILD)/cross/i386/mode test/cross/qemu-suite.sh
	printf '#!/bin/sh\nXSUITE_NOTE="%s" XCR_TIMEOUT_SCALE=4 XCR_EXCLUDE="%s" exec sh %s qemu-i386 %s "$$$$@"\n' \
	  '$(strip $(I386_NOTE))' '$$(XCR_EXCLUDE_QEMU)' \
	  '$(abspath test/cross/qemu-suite.sh)' \
	  '$(abspath $(BUILD)/cross/i386/xcr-test-$(1))' > $$@
	chmod +x $$@
endif
XSUITES += $(BUILD)/xsuite-i386-$(1)
endef
$(foreach v,mp sim up,$(eval $(call i386_rule,$(v))))

# ---- AArch64 under qemu-user ----
# Criterion cannot run there (its sandbox needs ptrace, which qemu-user
# lacks): the suites link the Criterion-compatible runner of test/cross/.
# Not run there, with the reason: the tests that re-execute their own
# binary through /proc/self/exe or /proc/PID/exe (under qemu-user that is
# the emulator itself, which then rejects the arguments): the forced
# atomic-backend rerun, the glibc-rseq-off child, and the inspection
# tests with a live writer process (kvm_live).  Timeouts are scaled by 4
# for emulation.
XCR_EXCLUDE_AARCH64 = forced/atomic_backend_passes_the_fast_path_suites \
                      percpu/getcpu_backend_when_glibc_rseq_is_off \
                      kvm_live/*
# The same under qemu-i386 (above).
XCR_EXCLUDE_QEMU = $(XCR_EXCLUDE_AARCH64)

define aarch64_rule
$(BUILD)/cross/aarch64/test-$(1): $(TEST_SRCS) $(TEST_HDRS) $(HEADERS) \
    $(INTERNALS) $(XCR_HDRS) test/cross/criterion/runner.c
	@mkdir -p $(BUILD)/cross/aarch64
	aarch64-linux-gnu-gcc $(WARN) $(OPT) $(CPPFLAGS) \
	  -isystem test/cross/criterion $(VARIANT_$(1)) -o $$@ \
	  $(XTEST_SRCS) test/cross/criterion/runner.c -pthread

$(BUILD)/xsuite-aarch64-$(1): $(BUILD)/cross/aarch64/test-$(1) test/firmware.mk \
    test/cross/qemu-suite.sh
	printf '#!/bin/sh\nQEMU_LD_PREFIX=/usr/aarch64-linux-gnu XCR_TIMEOUT_SCALE=4 XCR_EXCLUDE="%s" exec sh %s qemu-aarch64 %s "$$$$@"\n' \
	  '$(XCR_EXCLUDE_AARCH64)' '$(abspath test/cross/qemu-suite.sh)' \
	  '$(abspath $(BUILD)/cross/aarch64/test-$(1))' > $$@
	chmod +x $$@
XSUITES += $(BUILD)/xsuite-aarch64-$(1)
endef
$(foreach v,mp sim up,$(eval $(call aarch64_rule,$(v))))

xsuites: $(XSUITES)

# ---- The bare-metal self-test ----
BM_FLAGS = -ffreestanding -nostdlib -nostartfiles -static -fno-pie -no-pie \
           -mcpu=cortex-a53 -mno-outline-atomics -mgeneral-regs-only \
           -DPERCPU_MD=PERCPU_MD_BAREMETAL -DPERCPU_MAXCPU=4 \
           -DPERCPU_MD_NCPUS=4 -DPERCPU_UNIT_SIZE=4096 \
           -DPERCPU_STATIC_ARENA_SIZE=65536 \
           -Wl,--no-warn-rwx-segments -Wl,--build-id=none
BM_SRCS  = test/baremetal/start.S test/baremetal/main.c \
           test/firmware/fw_libc.c
BM_QEMU  = qemu-system-aarch64 -M virt -cpu cortex-a53 -smp 4 -m 128M \
           -accel tcg,thread=multi -nographic -nic none

$(BUILD)/baremetal/selftest.elf: $(BM_SRCS) test/baremetal/link.ld \
    firmware/dpcpu.ld $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)/baremetal
	aarch64-linux-gnu-gcc $(WARN) $(OPT) $(CPPFLAGS) $(BM_FLAGS) \
	  -T test/baremetal/link.ld -o $@ $(BM_SRCS) -lgcc

# A host without qemu-system-aarch64 (qemu-system-arm) skips it, saying so.
check-baremetal: $(BUILD)/baremetal/selftest.elf
	@if ! command -v qemu-system-aarch64 >/dev/null 2>&1; then \
	  echo "check-baremetal: skipped: qemu-system-aarch64 is not installed (Debian package qemu-system-arm)"; \
	  exit 0; fi; \
	timeout 120 $(BM_QEMU) -kernel $< > $(BUILD)/baremetal/uart.log 2>&1; \
	rc=$$?; cat $(BUILD)/baremetal/uart.log; \
	if [ $$rc -eq 124 ]; then echo "check-baremetal: timed out (120 s)"; exit 1; fi; \
	grep -q '^baremetal: PASS' $(BUILD)/baremetal/uart.log

# ---- Firmware runs under QEMU (test/firmware/) ----
# Each image: the workload of test/firmware/fwtest.h with a timer
# interrupt on every core, static arena, no C library, -nostdlib.  The
# RV64 image is built with PERCPU_BOOT_INIT=1 (percpu_init() at boot, no
# readiness checks), the RV32 one initializes at first use.
FW_W    = $(WARN) -O2 -g -I. -Itest/firmware -ffreestanding -nostdlib \
          -nostartfiles -static -Wl,--no-warn-rwx-segments
FW_HDRS = test/firmware/fwtest.h $(HEADERS) $(INTERNALS) firmware/dpcpu.ld
RV_SRCS = test/firmware/rv_start.S test/firmware/rv_main.c \
          test/firmware/fw_libc.c
RV_FW   = -DPERCPU_MD=PERCPU_MD_BAREMETAL -DPERCPU_MAXCPU=4 \
          -DPERCPU_UNIT_SIZE=1024 -DPERCPU_STATIC_ARENA_SIZE=16384 \
          -idirafter /usr/include/newlib -Wl,--no-relax \
          -T test/firmware/rv_link.ld
RV_QEMU = -M virt -smp 4 -m 64M -bios none -nographic -nic none \
          -accel tcg,thread=multi

$(BUILD)/fwrun/rv64.elf: $(RV_SRCS) test/firmware/rv_link.ld $(FW_HDRS)
	@mkdir -p $(BUILD)/fwrun
	riscv64-unknown-elf-gcc $(FW_W) -march=rv64imac_zicsr -mabi=lp64 \
	  -mcmodel=medany -DPERCPU_BOOT_INIT=1 $(RV_FW) -o $@ $(RV_SRCS) -lgcc

# libgcc's multilib is chosen by -march without extensions.
$(BUILD)/fwrun/rv32.elf: $(RV_SRCS) test/firmware/rv32_atomic.c \
    test/firmware/rv32_atomic.h test/firmware/rv_link.ld $(FW_HDRS)
	@mkdir -p $(BUILD)/fwrun
	riscv64-unknown-elf-gcc $(FW_W) -march=rv32imac_zicsr -mabi=ilp32 \
	  $(RV_FW) -o $@ $(RV_SRCS) test/firmware/rv32_atomic.c \
	  $$(riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 \
	     -print-libgcc-file-name)

$(BUILD)/fwrun/m3.elf: test/firmware/m3_main.c test/firmware/fw_libc.c test/firmware/m3_link.ld \
    test/firmware/port_cortexm.h $(FW_HDRS)
	@mkdir -p $(BUILD)/fwrun
	arm-none-eabi-gcc $(FW_W) -mcpu=cortex-m3 -mthumb -DPERCPU_MP=0 \
	  -DPERCPU_MD=PERCPU_MD_USER \
	  -DPERCPU_MD_USER_HEADER='"test/firmware/port_cortexm.h"' \
	  -DPERCPU_STATIC_ARENA_SIZE=8192 -DPERCPU_STATIC_POOL_SIZE=1024 \
	  -T test/firmware/m3_link.ld -o $@ test/firmware/m3_main.c \
	  test/firmware/fw_libc.c -lgcc

FWRUN = sh test/firmware/qemu-run.sh
check-fwrun: $(BUILD)/fwrun/rv64.elf $(BUILD)/fwrun/rv32.elf \
    $(BUILD)/fwrun/m3.elf
	@echo "== RV64, 4 harts, M-mode (qemu-system-riscv64 -M virt)"
	@$(FWRUN) $(BUILD)/fwrun/rv64.log 60 qemu-system-riscv64 $(RV_QEMU) \
	  -kernel $(BUILD)/fwrun/rv64.elf
	@echo "== RV32, 4 harts, M-mode (qemu-system-riscv32 -M virt)"
	@$(FWRUN) $(BUILD)/fwrun/rv32.log 60 qemu-system-riscv32 $(RV_QEMU) \
	  -kernel $(BUILD)/fwrun/rv32.elf
	@echo "== Cortex-M3, UP, PRIMASK port (qemu-system-arm -M mps2-an385)"
	@$(FWRUN) $(BUILD)/fwrun/m3.log 60 qemu-system-arm -M mps2-an385 \
	  -nographic -semihosting-config enable=on,target=native \
	  -kernel $(BUILD)/fwrun/m3.elf

# ---- The interrupt mask of every face, MP and UP (fake port, hosted) ----
# Criterion suites, run by test/run.sh with the others ($(BUILD)/test-*).
IRQMASK_FLAGS = -DPERCPU_MD=PERCPU_MD_USER \
                -DPERCPU_MD_USER_HEADER='"test/firmware/port_fake.h"' \
                -DPERCPU_MAXCPU=1 -DPERCPU_UNIT_SIZE=4096 \
                -DPERCPU_STATIC_ARENA_SIZE=65536
define irqmask_rule
$(BUILD)/test-irqmask-$(1): test/firmware/test_irqmask.c \
    test/firmware/port_fake.h $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	gcc $(WARN) $(OPT) $(CPPFLAGS) $(IRQMASK_FLAGS) -DPERCPU_MP=$(2) \
	  -o $$@ test/firmware/test_irqmask.c $(LDLIBS_T)
endef
$(eval $(call irqmask_rule,mp,1))
$(eval $(call irqmask_rule,up,0))
irqmask-suites: $(BUILD)/test-irqmask-mp $(BUILD)/test-irqmask-up
.PHONY: irqmask-suites
