# test/torture.mk - the torture suite (test/torture/): make torture (a
# bounded pass, part of make test) and make soak (SOAK_TIME seconds per
# scenario, default 60).  Runs: the Linux port with its default backend
# (rseq where glibc registered it), with PERCPU_BACKEND=getcpu, with
# GLIBC_TUNABLES=glibc.pthread.rseq=0, and the simulated port.
TORTURE_TIME ?= 1
SOAK_TIME    ?= 60
TORTURE_DIR   = $(BUILD)/torture

$(TORTURE_DIR)/torture-%: test/torture/torture.c $(HEADERS) $(INTERNALS)
	@mkdir -p $(TORTURE_DIR)
	gcc $(WARN) $(OPT) $(CPPFLAGS) $(VARIANT_$*) -o $@ $< -pthread -ldl

$(TORTURE_DIR)/plugin-%.so: test/torture/plugin.c $(HEADERS) $(INTERNALS)
	@mkdir -p $(TORTURE_DIR)
	gcc $(WARN) $(OPT) $(CPPFLAGS) $(VARIANT_$*) -fPIC -shared -o $@ $< \
	  -pthread

TORTURE_BINS = $(TORTURE_DIR)/torture-mp $(TORTURE_DIR)/torture-sim \
               $(TORTURE_DIR)/plugin-mp.so $(TORTURE_DIR)/plugin-sim.so

.PHONY: torture soak
torture: $(TORTURE_BINS)
	@sh test/torture/run.sh $(TORTURE_DIR) $(TORTURE_TIME)

soak: $(TORTURE_BINS)
	@sh test/torture/run.sh $(TORTURE_DIR) $(SOAK_TIME)
