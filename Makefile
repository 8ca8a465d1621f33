# Makefile - build, test and demo the percpu toolkit.
#
#   make demo          build and run the examples
#   make test          install missing Debian packages, then every check
#                      (format, headers alone, two-file link, MP/SIM/UP
#                      suites with gcc and clang, ASan+UBSan); the last
#                      line is the tally "N passed, N failed"
#   make check-compile every public header alone, MP and UP, gcc and clang
#   make check-link    enter in one file, leave in another
#   make check-up      UP build of cpumem.h = plain structs, instruction
#                      for instruction (gcc and clang -O2)
#   make torture       the torture suite, bounded (test/torture.mk); part
#                      of make test.  make soak SOAK_TIME=s: as long as asked
#   make bench         Google Benchmark suite (bench/), against baselines
#   make format / format-check
#   make clean

CC_LIST   ?= gcc clang
BUILD     ?= build
WARN       = -std=c11 -pedantic -Wall -Wextra -Wundef -Wshadow -Wcast-align \
             -Wcast-qual -Wwrite-strings -Wstrict-prototypes \
             -Wmissing-prototypes -Wmissing-declarations -Wredundant-decls \
             -Wsign-conversion -Werror
OPT       ?= -O2 -g
CPPFLAGS  += -I.
LDLIBS_T   = -lcriterion -pthread
SAN        = -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all

# Public headers: every top-level .h; internals live in percpu/.
HEADERS    = $(wildcard *.h)
INTERNALS  = $(wildcard percpu/*.h)
TEST_SRCS  = $(wildcard test/test_*.c) test/impl.c
TEST_HDRS  = $(wildcard test/*.h)
EXAMPLES   = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/[0-9]*.c))
FMT_FILES  = $(shell git ls-files '*.c' '*.h' '*.cc' 2>/dev/null || \
             find . -name '*.[ch]' -not -path './build/*')

# Variants of the test suite: MP on the Linux port, MP on the simulated
# sparse-CPU port, and the uniprocessor build.
VARIANT_mp  = -DPERCPU_MP=1
VARIANT_sim = -DPERCPU_MP=1 -DPERCPU_MD=PERCPU_MD_SIM
VARIANT_up  = -DPERCPU_MP=0
VARIANTS    = mp sim up
# The UP build with PERCPU_DEBUG=1 (tracked sections), one compiler.
VARIANT_updebug = -DPERCPU_MP=0 -DPERCPU_DEBUG=1

# Debian packages `make test` needs; installed when missing.
DEBS       = libcriterion-dev clang clang-format libclang-rt-14-dev
SUDO       = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all demo test deps check check-compile check-link bench bench-deps \
        bench-icount bench-ratio bench-uarch \
        format format-check clean examples suites check-up

all: examples suites

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	    grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    $(APT_FLAGS) $$missing >/dev/null || exit 1; \
	fi

# ---- Test suites: $(BUILD)/test-<variant>-<cc>, plus ASan+UBSan ----
define suite_rule
$(BUILD)/test-$(1)-$(2): $(TEST_SRCS) $(TEST_HDRS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	$(2) $(WARN) $(OPT) $(CPPFLAGS) $(VARIANT_$(1)) -o $$@ $(TEST_SRCS) $(LDLIBS_T)
SUITES += $(BUILD)/test-$(1)-$(2)
endef
$(foreach v,$(VARIANTS),$(foreach c,$(CC_LIST),$(eval $(call suite_rule,$(v),$(c)))))
$(eval $(call suite_rule,updebug,$(firstword $(CC_LIST))))

# The MP ASan suite is also the MP PERCPU_DEBUG=1 suite (checks that cost
# time: a pinned thread moved off its CPU caught by the inline add, ...).
ASAN_mp = -DPERCPU_DEBUG=1
define asan_rule
$(BUILD)/test-$(1)-asan: $(TEST_SRCS) $(TEST_HDRS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	clang $(WARN) -O1 -g $(SAN) $(CPPFLAGS) $(VARIANT_$(1)) $(ASAN_$(1)) -o $$@ $(TEST_SRCS) $(LDLIBS_T)
SUITES += $(BUILD)/test-$(1)-asan
endef
$(foreach v,mp sim,$(eval $(call asan_rule,$(v))))

# BSD kernel-shaped consumers through the compat trees (test/bsd.mk).
include test/bsd.mk

# The restartable sequences as compilers before gcc 11 / clang 11 build
# them (no asm goto with outputs: PERCPU_MD_ASM_GOTO_OUTPUT=0) against a C
# library older than glibc 2.35 (no __rseq_offset in its headers:
# PERCPU_MD_RSEQ_DIRECT=0, the toolkit's copy of the offset, tested before
# each sequence), gcc and clang: the suites of percpu_local_add64() and
# counter(9).
OLDASM_SRCS = test/test_fastpath.c test/test_foreign.c test/test_counter.c \
              test/impl.c
define oldasm_rule
$(BUILD)/test-oldasm-$(1): $(OLDASM_SRCS) $(TEST_HDRS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	$(1) $(WARN) $(OPT) $(CPPFLAGS) $(VARIANT_mp) \
	  -DPERCPU_MD_ASM_GOTO_OUTPUT=0 -DPERCPU_MD_RSEQ_DIRECT=0 \
	  -o $$@ $(OLDASM_SRCS) $(LDLIBS_T)
SUITES += $(BUILD)/test-oldasm-$(1)
endef
$(foreach c,$(CC_LIST),$(eval $(call oldasm_rule,$(c))))

suites: $(SUITES)

# ---- Examples ----
$(BUILD)/examples/%: examples/%.c $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)/examples
	$(firstword $(CC_LIST)) $(WARN) $(OPT) $(CPPFLAGS) -o $@ $< -pthread

examples: $(EXAMPLES)

demo: $(EXAMPLES)
	@for e in $(EXAMPLES); do echo "==> $$e"; $$e || exit 1; echo; done

# ---- Benchmarks: C loops (bench/shim.c) driven by Google Benchmark ----
# Three kinds of process (the backend is chosen once per process): the
# default port ("rseq" where glibc registered it), the same binary with
# PERCPU_BACKEND=getcpu, and the simulated port at 2..1024 CPUs for fetch.
BENCH_DEBS = libbenchmark-dev g++ gnuplot-nox python3 valgrind
BENCH_TIME ?= 0.2
BENCH_REPS ?= 5
BENCH_ARGS  = --benchmark_min_time=$(BENCH_TIME) \
              --benchmark_repetitions=$(BENCH_REPS) \
              --benchmark_report_aggregates_only=true
BENCH_OUT  = $(BUILD)/bench
# Loops and functions aligned to 64 bytes: every row, the floor's too, starts
# its loop on a fresh fetch line, so a ratio measures the code and not
# where the linker happened to put it (unaligned, the same loop moved by
# up to 0.4x between builds).
BENCH_ALIGN = -falign-loops=64 -falign-functions=64
$(BUILD)/bench/shim-%.o: bench/shim.c bench/shim.h $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)/bench
	gcc $(WARN) -O2 $(BENCH_ALIGN) $(CPPFLAGS) $(VARIANT_$*) -c -o $@ $<

$(BUILD)/bench/bench-%: bench/bench.cc bench/shim.h $(BUILD)/bench/shim-%.o
	g++ -std=c++17 -O2 -Wall -Wextra -Werror -o $@ bench/bench.cc \
	  $(BUILD)/bench/shim-$*.o \
	  -lbenchmark -pthread

bench-deps:
	@$(MAKE) -s deps DEBS="$(BENCH_DEBS)"

# Instructions per operation (callgrind), one thread: load-independent.
$(BUILD)/bench/icount: bench/icount.c bench/shim.h $(BUILD)/bench/shim-mp.o
	gcc $(WARN) -O2 $(CPPFLAGS) -o $@ bench/icount.c \
	  $(BUILD)/bench/shim-mp.o -pthread

# Hot paths against the floor (a bare restartable add), one thread:
# fastest of many tries per round, medians of per-round ratios.
$(BUILD)/bench/ratio: bench/ratio.c bench/shim.h $(BUILD)/bench/shim-mp.o
	gcc $(WARN) -O2 $(CPPFLAGS) -o $@ bench/ratio.c \
	  $(BUILD)/bench/shim-mp.o -pthread

$(BUILD)/bench/ratio-sim: bench/ratio.c bench/shim.h $(BUILD)/bench/shim-sim.o
	gcc $(WARN) -O2 $(CPPFLAGS) -o $@ bench/ratio.c \
	  $(BUILD)/bench/shim-sim.o -pthread

bench-ratio: $(BUILD)/bench/ratio $(BUILD)/bench/ratio-sim
	@$(BUILD)/bench/ratio | tee $(BUILD)/bench/ratio.txt
	@echo "the atomic backend against its own floor:"
	@PERCPU_BACKEND=getcpu $(BUILD)/bench/ratio | tee -a $(BUILD)/bench/ratio.txt
	@echo "fetch side, 256 simulated CPUs:"
	@PERCPU_SIM_CPUS=0-255 $(BUILD)/bench/ratio-sim | \
	  grep -E '^(backend|counter_u64_fetch|counters_read)' | tee -a $(BUILD)/bench/ratio.txt

# What bounds the hot paths here: store, load, branch and read-modify-
# write throughput in cycles (x86-64; elsewhere it says so).
$(BUILD)/bench/uarch: bench/uarch.c
	@mkdir -p $(BUILD)/bench
	gcc $(WARN) -O2 -o $@ bench/uarch.c

bench-uarch: $(BUILD)/bench/uarch
	@$(BUILD)/bench/uarch | tee $(BUILD)/bench/uarch.txt

bench-icount: bench-deps $(BUILD)/bench/icount
	@cd $(BUILD)/bench && valgrind --tool=callgrind \
	  --callgrind-out-file=callgrind.out ./icount >/dev/null 2>&1 && \
	  callgrind_annotate --inclusive=yes --threshold=100 callgrind.out 2>/dev/null | \
	  awk 'match($$0, /shim_[a-z_0-9]*/) { n = $$1; gsub(",", "", n); \
	    printf "%-40s %8.1f instructions/op\n", \
	      substr($$0, RSTART, RLENGTH), n / 100000 }' | \
	  sort -k2 -n | tee icount.txt

bench: bench-deps $(BUILD)/bench/bench-mp $(BUILD)/bench/bench-sim
	@$(MAKE) -s bench-ratio
	$(BUILD)/bench/bench-mp $(BENCH_ARGS) \
	  --benchmark_out=$(BENCH_OUT)/default.json --benchmark_out_format=json
	PERCPU_BACKEND=getcpu $(BUILD)/bench/bench-mp $(BENCH_ARGS) \
	  --benchmark_filter='counter|percpu|cpumem|dpcpu|base_getcpu' \
	  --benchmark_out=$(BENCH_OUT)/getcpu.json --benchmark_out_format=json
	for n in 2 64 256 1024; do \
	  PERCPU_SIM_CPUS=0-$$((n - 1)) $(BUILD)/bench/bench-sim \
	    $(BENCH_ARGS) --benchmark_filter='fetch|counters_read' \
	    --benchmark_out=$(BENCH_OUT)/sim-$$n.json \
	    --benchmark_out_format=json >/dev/null || exit 1; done
	python3 bench/report.py $(BENCH_OUT) $(BENCH_OUT)/default.json \
	  $(BENCH_OUT)/getcpu.json=getcpu $(BENCH_OUT)/sim-2.json=sim \
	  $(BENCH_OUT)/sim-64.json=sim $(BENCH_OUT)/sim-256.json=sim \
	  $(BENCH_OUT)/sim-1024.json=sim $(BUILD)/bench/ratio.txt=ratio | \
	  tee $(BENCH_OUT)/report.txt
	gnuplot $(BENCH_OUT)/throughput.gp && cp $(BENCH_OUT)/throughput.png bench/
	@echo "instructions per operation (callgrind, backend getcpu):"
	@$(MAKE) -s bench-icount

# ---- Compile checks ----
# Every public header alone, as the first and only include, MP, SIM and
# UP, gcc and clang, -Werror.
check-compile: $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)/compile
	@set -e; for h in $(HEADERS); do for c in $(CC_LIST); do \
	  for v in "$(VARIANT_mp)" "$(VARIANT_sim)" "$(VARIANT_up)"; do \
	    printf '#include "%s"\n' $$h > $(BUILD)/compile/only.c; \
	    $$c $(WARN) $(CPPFLAGS) $$v -c -o $(BUILD)/compile/only.o \
	      $(BUILD)/compile/only.c; \
	    printf '#define PERCPU_IMPLEMENTATION\n#include "%s"\n' $$h \
	      > $(BUILD)/compile/only_impl.c; \
	    $$c $(WARN) $(CPPFLAGS) $$v -c -o $(BUILD)/compile/only_impl.o \
	      $(BUILD)/compile/only_impl.c; \
	  done; done; echo "alone: $$h"; done
	@set -e; for c in $(CC_LIST); do for v in "$(VARIANT_mp)" "$(VARIANT_up)"; do \
	  $$c $(WARN) $(CPPFLAGS) $$v -DCPUMEM_NO_POOL=1 -c \
	    -o $(BUILD)/compile/own_pool.o test/compile/own_pool.c; \
	done; done; echo "own pool(9) beside cpumem.h: CPUMEM_NO_POOL=1"

# Two translation units share one program state: enter in one, leave in
# the other (test/compile/tu_*.c).
check-link: $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	@set -e; for c in $(CC_LIST); do for v in mp sim up; do \
	  case $$v in mp) f="$(VARIANT_mp)";; sim) f="$(VARIANT_sim)";; \
	    up) f="$(VARIANT_up)";; esac; \
	  $$c $(WARN) $(OPT) $(CPPFLAGS) $$f -o $(BUILD)/link-$$v-$$c \
	    test/compile/tu_a.c test/compile/tu_b.c test/compile/tu_impl.c \
	    -pthread; \
	  $(BUILD)/link-$$v-$$c; done; done

# Zero cost of the UP build, mechanically: test/up/api.c (the reference
# functions of test/up/ref.h written with cpumem.h, counter.h and
# dpcpu.h, PERCPU_MP=0) must
# disassemble, normalized by test/up/normalize.sed (no addresses, no
# symbol names; instructions and relocation addends kept), to exactly what
# test/up/plain.c (the same functions on plain structs) does, with every
# compiler at -O2.  Control: the MP build of api.c must differ.
OBJDUMP   ?= objdump
UP_CHECK   = $(wildcard test/up/*.c test/up/*.h test/up/*.sed)

check-up: $(UP_CHECK) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)/up
	@set -e; want=$$(grep -c '^[a-z_0-9 ]*[ *]ref_[a-z_0-9]*(' test/up/ref.h); \
	for c in $(CC_LIST); do \
	  for v in api-up:api:0 plain:plain:0 api-mp:api:1; do \
	    o=$(BUILD)/up/$${v%%:*}-$$c; s=$${v#*:}; \
	    $$c $(WARN) -O2 $(CPPFLAGS) -DPERCPU_MP=$${s#*:} -c -o $$o.o \
	      test/up/$${s%%:*}.c; \
	    $(OBJDUMP) -d -r --no-show-raw-insn $$o.o | \
	      sed -f test/up/normalize.sed > $$o.s; \
	  done; \
	  if ! diff -u $(BUILD)/up/plain-$$c.s $(BUILD)/up/api-up-$$c.s; then \
	    echo "check-up: $$c -O2: the UP build of cpumem.h differs from plain code (diff above: - plain, + cpumem)"; \
	    exit 1; fi; \
	  n=$$(grep -c '^FUNC ' $(BUILD)/up/plain-$$c.s); \
	  if [ "$$n" -ne "$$want" ]; then \
	    echo "check-up: $$c: $$n functions disassembled, ref.h declares $$want"; \
	    exit 1; fi; \
	  if cmp -s $(BUILD)/up/plain-$$c.s $(BUILD)/up/api-mp-$$c.s; then \
	    echo "check-up: $$c: control failed: the MP build matches plain code too"; \
	    exit 1; fi; \
	  echo "check-up: $$c -O2: $$n functions, UP cpumem/counters/counter(9)/DPCPU = plain code (MP differs)"; \
	done

test: deps
	@sh test/run.sh

check: test

format:
	clang-format -i $(FMT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FMT_FILES)

clean:
	rm -rf $(BUILD)

# Firmware and portability (cross builds, emulated suites, bare metal).
include test/firmware.mk

# Inspection from outside (tools/pcpustat, fuzzing the reader).
include test/inspect.mk

# ---- ThreadSanitizer: make check-tsan ----
# The MP and simulated suites under TSan, run by the Criterion-compatible
# runner of test/cross/ (Criterion's own cannot start under TSan), with
# the atomic backend (TSan cannot see into a restartable sequence).
# Excluded: one test that writes through counters_enter()'s pointer as the
# OpenBSD man page does: a plain store that the generation protocol makes
# safe for readers, and a C11 data race that TSan rightly reports (the
# header documents it and offers counters_add/counters_pkt instead).
TSAN_EXCLUDE = counters/a_reader_waits_for_an_open_set
define tsan_rule
$(BUILD)/tsan/test-$(1): $(TEST_SRCS) $(TEST_HDRS) $(HEADERS) $(INTERNALS) \
    $(XCR_HDRS) test/cross/criterion/runner.c
	@mkdir -p $(BUILD)/tsan
	clang $(WARN) -O1 -g -fsanitize=thread $(CPPFLAGS) \
	  -isystem test/cross/criterion $(VARIANT_$(1)) -o $$@ \
	  $(TEST_SRCS) test/cross/criterion/runner.c -pthread

$(BUILD)/xsuite-tsan-$(1): $(BUILD)/tsan/test-$(1) Makefile
	printf '#!/bin/sh\nPERCPU_BACKEND=getcpu PERCPU_EXPECT_BACKEND=%s TSAN_OPTIONS="halt_on_error=1 exitcode=66" XCR_EXCLUDE="%s" exec %s "$$$$@"\n' \
	  '$(2)' '$(TSAN_EXCLUDE)' '$(abspath $(BUILD)/tsan/test-$(1))' > $$@
	chmod +x $$@
TSAN_SUITES += $(BUILD)/xsuite-tsan-$(1)
endef
$(eval $(call tsan_rule,mp,getcpu))
$(eval $(call tsan_rule,sim,sim))

.PHONY: check-tsan
check-tsan: $(TSAN_SUITES)
include test/torture.mk

# Install, pkg-config, CMake, C++ and the other library checks.
include test/lib.mk
