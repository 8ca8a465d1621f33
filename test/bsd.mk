# test/bsd.mk - consumers in the shape of BSD kernel code (test/bsd/),
# each file built through its BSD's compat tree (-Icompat/<bsd>), linked
# with test/impl.c (the toolkit's state and the harness).  Included by the
# Makefile before `suites`, so `make suites` builds them and test/run.sh
# runs every $(BUILD)/test-bsd-* binary.
#
#   $(BUILD)/test-bsd-<variant>-<cc>  mp, sim, up with gcc and clang
#   $(BUILD)/test-bsd-<variant>-asan  mp, sim with ASan+UBSan (clang)
#   $(BUILD)/test-bsd-upoff-gcc       UP with DPCPU_UP_OFFSETS=1
#   $(BUILD)/test-bsd-updebug-gcc     UP with PERCPU_DEBUG=1
#   make check-compat                 every compat header alone, MP and UP

BSD_NAMES   = netbsd openbsd freebsd
BSD_SRCS    = $(patsubst %,test/bsd/%.c,$(BSD_NAMES))
COMPAT_HDRS = $(shell find compat -name '*.h' 2>/dev/null)
VARIANT_upoff = -DPERCPU_MP=0 -DDPCPU_UP_OFFSETS=1

# $(1) variant, $(2) suffix, $(3) compiler, $(4) flags
define bsd_rule
$(BUILD)/test-bsd-$(1)-$(2): $(BSD_SRCS) test/impl.c $(TEST_HDRS) \
    $(HEADERS) $(INTERNALS) $(COMPAT_HDRS) test/bsd.mk
	@mkdir -p $(BUILD)/bsd/$(1)-$(2)
	@set -e; for b in $(BSD_NAMES); do \
	  $(3) $(WARN) $(4) $(CPPFLAGS) -Icompat/$$$$b $(VARIANT_$(1)) -c \
	    -o $(BUILD)/bsd/$(1)-$(2)/$$$$b.o test/bsd/$$$$b.c; done
	$(3) $(WARN) $(4) $(CPPFLAGS) $(VARIANT_$(1)) -c \
	  -o $(BUILD)/bsd/$(1)-$(2)/impl.o test/impl.c
	$(3) $(4) -o $$@ $(patsubst %,$(BUILD)/bsd/$(1)-$(2)/%.o,$(BSD_NAMES) impl) \
	  $(LDLIBS_T)
SUITES += $(BUILD)/test-bsd-$(1)-$(2)
endef
$(foreach v,mp sim up,$(foreach c,$(CC_LIST),\
  $(eval $(call bsd_rule,$(v),$(c),$(c),$(OPT)))))
$(foreach v,mp sim,$(eval $(call bsd_rule,$(v),asan,clang,-O1 -g $(SAN))))
$(eval $(call bsd_rule,upoff,gcc,gcc,$(OPT)))
# UP with PERCPU_DEBUG=1 (tracked sections: kpreempt_disabled(), the
# td_critnest shim and zpcpu_*_protected checks are meaningful).
$(eval $(call bsd_rule,updebug,$(firstword $(CC_LIST)),$(firstword $(CC_LIST)),$(OPT)))

# Each compat header alone, as the kernel file's first include.
.PHONY: check-compat
check-compat: $(COMPAT_HDRS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)/compile
	@set -e; for h in $(COMPAT_HDRS); do \
	  b=$$(echo $$h | cut -d/ -f2); i=$$(echo $$h | cut -d/ -f3-); \
	  for c in $(CC_LIST); do for v in "$(VARIANT_mp)" "$(VARIANT_up)"; do \
	    printf '#include <%s>\n' $$i > $(BUILD)/compile/compat.c; \
	    $$c $(WARN) -Icompat/$$b $$v -c -o $(BUILD)/compile/compat.o \
	      $(BUILD)/compile/compat.c; \
	  done; done; echo "compat alone: $$h"; done
	@set -e; for c in $(CC_LIST); do for v in "$(VARIANT_mp)" "$(VARIANT_up)"; do \
	  printf '%s\n' '#include <sys/counter.h>' '#include <sys/kernel.h>' \
	    'int64_t bandlim(struct counter_rate *cr);' \
	    'int64_t bandlim(struct counter_rate *cr)' \
	    '{ if (cr->cr_ticks == 0) cr->cr_ticks = ticks - hz;' \
	    '  return (counter_ratecheck(cr, 10)); }' \
	    > $(BUILD)/compile/ratecheck.c; \
	  $$c $(WARN) -Icompat/freebsd $$v -c -o $(BUILD)/compile/ratecheck.o \
	    $(BUILD)/compile/ratecheck.c; done; done; \
	echo "counter_ratecheck, ticks, hz with the default clock: MP and UP"
