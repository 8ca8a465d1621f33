# test/lib.mk - the toolkit as a library of C and C++ projects (included
# by the Makefile; issue 14).
#
#   make install       PREFIX (default /usr/local) and DESTDIR: headers
#                      under include/percpu/ (#include <percpu/counter.h>),
#                      pkg-config file percpu.pc, CMake package percpu
#                      (target percpu::percpu), man pages, pcpustat
#   make uninstall     removes exactly what install put there
#   make check-lib     the checks of `make test` for this: one switch and
#                      link errors, C++, consumers built four ways
#                      (vendored, pkg-config, find_package,
#                      add_subdirectory), install/uninstall, man pages
#                      (mandoc -Tlint), pcpustat -o prom through
#                      prometheus_client's parser
#   make check-cxx / check-lib-link / check-consumers / check-man /
#        check-hygiene / check-shared /
#        check-prom    one of them

PREFIX      ?= /usr/local
DESTDIR     ?=
INCLUDEDIR   = $(PREFIX)/include
BINDIR       = $(PREFIX)/bin
DATADIR      = $(PREFIX)/share
MANDIR       = $(DATADIR)/man
PKGCONFIGDIR = $(DATADIR)/pkgconfig
CMAKEDIR     = $(DATADIR)/cmake/percpu
INSTALL     ?= install

# What make test needs for these checks (python3-prometheus-client: the
# parser the -o prom test reads pcpustat's output with).
DEBS += g++ cmake pkg-config mandoc man-db python3-prometheus-client

VERSION_OF = $(shell sed -n 's/^\#define PERCPU_VERSION_$(1) \([0-9]*\)$$/\1/p' percpu/config.h)
VERSION    = $(call VERSION_OF,MAJOR).$(call VERSION_OF,MINOR).$(call VERSION_OF,PATCH)
MAN3       = $(wildcard man/*.3)
MAN1       = $(wildcard man/*.1)
# The names a page documents (its .Nm lines before .Nd), each a link.
MAN_NAMES  = sed -n '/^\.Sh NAME/,/^\.Nd/s/^\.Nm \([A-Za-z_0-9]*\).*/\1/p'

.PHONY: install uninstall check-lib check-cxx check-lib-link \
        check-consumers check-man check-prom

install: $(PCPUSTAT_TOOL)
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/percpu/percpu \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/percpu/
	$(INSTALL) -m 644 $(INTERNALS) $(DESTDIR)$(INCLUDEDIR)/percpu/percpu/
	$(INSTALL) -m 755 $(PCPUSTAT_TOOL) $(DESTDIR)$(BINDIR)/pcpustat
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  tools/percpu.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/percpu.pc
	$(INSTALL) -m 644 tools/percpuConfig.cmake $(DESTDIR)$(CMAKEDIR)/
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@MAJOR@|$(call VERSION_OF,MAJOR)|' \
	  tools/percpuConfigVersion.cmake.in > \
	  $(DESTDIR)$(CMAKEDIR)/percpuConfigVersion.cmake
	$(if $(MAN1),$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN3),$(INSTALL) -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/)
	@set -e; for p in $(MAN3); do b=$${p##*/}; \
	  for n in $$($(MAN_NAMES) $$p); do [ "$$n.3" = "$$b" ] || \
	    ln -sf $$b $(DESTDIR)$(MANDIR)/man3/$$n.3; done; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/percpu/,$(HEADERS))
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/percpu/,$(INTERNALS))
	rm -f $(DESTDIR)$(BINDIR)/pcpustat $(DESTDIR)$(PKGCONFIGDIR)/percpu.pc
	rm -f $(DESTDIR)$(CMAKEDIR)/percpuConfig.cmake \
	  $(DESTDIR)$(CMAKEDIR)/percpuConfigVersion.cmake
	@set -e; for p in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$${p##*/}; done; \
	for p in $(MAN3); do rm -f $(DESTDIR)$(MANDIR)/man3/$${p##*/}; \
	  for n in $$($(MAN_NAMES) $$p); do \
	    rm -f $(DESTDIR)$(MANDIR)/man3/$$n.3; done; done
	-rmdir $(DESTDIR)$(INCLUDEDIR)/percpu/percpu $(DESTDIR)$(INCLUDEDIR)/percpu \
	  $(DESTDIR)$(CMAKEDIR) 2>/dev/null

check-lib-link:
	@CC_LIST="$(CC_LIST)" BUILD=$(BUILD) sh test/lib/check-link.sh

check-cxx:
	@BUILD=$(BUILD) sh test/lib/check-cxx.sh

check-consumers: $(PCPUSTAT_TOOL)
	@MAKE="$(MAKE)" BUILD=$(BUILD) sh test/lib/check-consumers.sh

check-man:
	@MAKE="$(MAKE)" BUILD=$(BUILD) sh test/lib/check-man.sh

check-prom: $(PCPUSTAT_TOOL)
	@BUILD=$(BUILD) PCPUSTAT=$(PCPUSTAT_TOOL) sh test/lib/check-prom.sh

check-lib: check-lib-link check-cxx check-consumers check-man check-prom

# The C++ Criterion suite (test/cxx/): every face from std::threads, with
# the implementation compiled as C++.  Run by `make test` with the others.
CXX_SUITE_SRCS = $(wildcard test/cxx/*.cc)
define cxx_suite_rule
$(BUILD)/test-cxx-$(1): $(CXX_SUITE_SRCS) $(HEADERS) $(INTERNALS)
	@mkdir -p $(BUILD)
	$(1) -std=c++17 -Wall -Wextra -Werror $(OPT) $(CPPFLAGS) \
	  -o $$@ $(CXX_SUITE_SRCS) $(LDLIBS_T)
suites: $(BUILD)/test-cxx-$(1)
endef
$(foreach c,g++ clang++,$(eval $(call cxx_suite_rule,$(c))))

.PHONY: check-hygiene
check-hygiene:
	@CC_LIST="$(CC_LIST)" BUILD=$(BUILD) sh test/lib/check-hygiene.sh
check-lib: check-hygiene

.PHONY: check-shared
check-shared:
	@BUILD=$(BUILD) sh test/lib/check-shared.sh
check-lib: check-shared
