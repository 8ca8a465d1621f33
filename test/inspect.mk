# test/inspect.mk - inspection from outside (included by the Makefile).
#
#   make tools         build/tools/pcpustat: reads the segments programs
#                      export with percpu_export.h, live or snapshots
#   make fuzz          libFuzzer on kvm_pcpu.h's open and parse of hostile
#                      images, and pcpustat's display of them, with a
#                      structure-aware mutator, for FUZZ_TIME seconds
#                      (default 20; run by `make test`); a crash leaves its
#                      input in build/fuzz/ (crash-*, leak-*, timeout-*)
#   make check-inspect hostile local users, lifecycle, scale and exact
#                      gauge sums (test/inspect_test.c via
#                      test/inspect.sh; the gauge suite needs
#                      python3-prometheus-client; run by
#                      `make test`; the attacker's tests need root)
#   make demo          builds pcpustat first: examples/06-inspect runs it
#                      against its own workload (PCPUSTAT in its
#                      environment)
#
# The Criterion suites (test/test_kvm.c) run pcpustat too, so `suites`
# builds it.

PCPUSTAT_TOOL = $(BUILD)/tools/pcpustat
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_TIME    ?= 20
FUZZ_SRCS     = test/fuzz_kvm.c test/kvm_image.h kvm_pcpu.h percpu/seg.h \
                tools/pcpustat.c

.PHONY: tools fuzz

$(PCPUSTAT_TOOL): tools/pcpustat.c kvm_pcpu.h percpu/seg.h
	@mkdir -p $(BUILD)/tools
	$(firstword $(CC_LIST)) $(WARN) $(OPT) $(CPPFLAGS) -o $@ $<

tools: $(PCPUSTAT_TOOL)
all: tools
suites: $(PCPUSTAT_TOOL)
demo: $(PCPUSTAT_TOOL)
demo: export PCPUSTAT = $(abspath $(PCPUSTAT_TOOL))

$(FUZZ_DIR)/kvm: $(FUZZ_SRCS)
	@mkdir -p $(FUZZ_DIR)
	clang $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all $(CPPFLAGS) -Itest -o $@ test/fuzz_kvm.c

$(FUZZ_DIR)/seed: $(FUZZ_SRCS)
	@mkdir -p $(FUZZ_DIR)
	$(firstword $(CC_LIST)) $(WARN) -O1 $(CPPFLAGS) -Itest \
	  -DKVM_FUZZ_SEEDS -o $@ test/fuzz_kvm.c

# The corpus grows across runs (build/fuzz/corpus): seeds are valid
# images of test/kvm_image.h, rewritten each time.
fuzz: $(FUZZ_DIR)/kvm $(FUZZ_DIR)/seed
	@mkdir -p $(FUZZ_DIR)/corpus
	@$(FUZZ_DIR)/seed $(FUZZ_DIR)/corpus
	@cd $(FUZZ_DIR) && ./kvm -max_total_time=$(FUZZ_TIME) \
	  -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 corpus \
	  >fuzz.log 2>&1 || \
	  { tail -n 60 fuzz.log; exit 1; }
	@grep -E '^Done|number_of_executed_units' $(FUZZ_DIR)/fuzz.log

# ---- Issue 15: hostile local users, lifecycle, scale ----
# build/inspect/test-inspect (test/inspect_test.c): one Criterion binary,
# built once with the first compiler, run by test/inspect.sh (which, as
# root with useradd, creates the attacker's and the victim's users).
INSPECT_TEST = $(BUILD)/inspect/test-inspect

$(INSPECT_TEST): test/inspect_test.c test/impl.c $(TEST_HDRS) $(HEADERS) \
    $(INTERNALS)
	@mkdir -p $(BUILD)/inspect
	$(firstword $(CC_LIST)) $(WARN) $(OPT) $(CPPFLAGS) $(VARIANT_mp) -o $@ \
	  test/inspect_test.c test/impl.c $(LDLIBS_T)

# run-inspect: the suite as test/run.sh runs it (any Criterion options).
$(BUILD)/inspect/run-inspect: $(INSPECT_TEST) $(PCPUSTAT_TOOL) \
    test/inspect.sh
	printf '#!/bin/sh\nexec sh %s %s %s "$$@"\n' \
	  '$(abspath test/inspect.sh)' '$(abspath $(INSPECT_TEST))' \
	  '$(abspath $(PCPUSTAT_TOOL))' > $@
	chmod +x $@

suites: $(BUILD)/inspect/run-inspect

.PHONY: check-inspect
check-inspect: $(BUILD)/inspect/run-inspect
	@$(BUILD)/inspect/run-inspect --jobs 2
