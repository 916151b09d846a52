# Assay — build, check, demo, bench, fuzz, install.
# Modules are picked up by wildcard: a new .c file in common/, agent/,
# verifier/ or tools/ needs no Makefile change. Each daemon's main.c holds
# only main(); everything else goes into a static library that the unit
# tests link too.

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/assay
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
STATEDIR ?= $(if $(filter /usr,$(PREFIX)),/var/lib/assay,$(PREFIX)/var/lib/assay)
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O        ?= build-asan
else
O        ?= build
endif

PKGS := tss2-esys tss2-tctildr tss2-mu tss2-rc libssl libcrypto libevent \
        libevent_openssl libevent_pthreads jansson yaml-0.1 sqlite3 libpq libsystemd \
        libjwt libarchive
# What each binary links: only the libraries it uses (no SQLite in the
# agent, no TPM stack in the verifier or assayctl).
BASE_PKGS     := libssl libcrypto libevent libevent_openssl libevent_pthreads \
                 jansson yaml-0.1
AGENT_PKGS    := $(BASE_PKGS) tss2-esys tss2-tctildr tss2-mu tss2-rc libsystemd
VERIFIER_PKGS := $(BASE_PKGS) sqlite3 libpq libsystemd libjwt
CTL_PKGS      := $(BASE_PKGS) libarchive

# tss2_mu.h trips deprecation warnings: include it as a system header.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's|-I/usr/include/tss2|-isystem /usr/include/tss2|g')
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
          -Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes \
          -fno-strict-aliasing -I. -isystem /usr/include/tss2 $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread -lm
libs_of = $(shell pkg-config --libs $(1) 2>/dev/null) -lpthread -lm
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SANITIZE),fuzz)
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

COMMON_SRC   := $(wildcard common/*.c common/evidence/*.c common/proto/*.c)
APPRAISE_SRC := $(wildcard common/appraise/*.c)
AGENT_SRC    := $(filter-out agent/main.c,$(wildcard agent/*.c))
VERIFIER_SRC := $(filter-out verifier/main.c,$(wildcard verifier/*.c))
TOOLS_SRC    := $(filter-out tools/assayctl.c,$(wildcard tools/*.c))
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
# Bench and test programs split over files: <prog>.c holds main(),
# <prog>_*.c the rest (linked in, see the rules below).
SIM_PARTS    := $(wildcard tests/bench/agent_sim_*.c)
FWLOG_PARTS  := $(wildcard tests/tools/fw_eventlog_*.c)
BENCH_SRC    := $(filter-out $(SIM_PARTS),$(wildcard tests/bench/*.c))
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
TESTTOOL_SRC := $(filter-out $(FWLOG_PARTS),$(wildcard tests/tools/*.c))
FUZZ_TIME    ?= 20
FUZZ         ?=
FUZZ_RUNS    ?=

obj = $(patsubst %.c,$(O)/%.o,$(1))

LIBCOMMON   := $(O)/libassay-common.a
LIBAPPRAISE := $(O)/libassay-appraise.a
LIBAGENT    := $(O)/libassay-agent.a
LIBVERIFIER := $(O)/libassay-verifier.a
LIBTOOLS    := $(O)/libassay-tools.a
ALL_LIBS    := $(LIBTOOLS) $(LIBVERIFIER) $(LIBAGENT) $(LIBAPPRAISE) $(LIBCOMMON)

BINS  := $(O)/assay-agent $(O)/assay-verifier $(O)/assayctl
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
BENCHES := $(patsubst tests/bench/%.c,$(O)/bench/%,$(BENCH_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))
TESTTOOLS := $(patsubst tests/tools/%.c,$(O)/testtools/%,$(TESTTOOL_SRC))

.SECONDARY:
.PHONY: all deps check check-vm unit units integration demo bench fuzz fuzzers clean install uninstall
all: $(BINS)

deps:
	@tools/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBAPPRAISE): $(call obj,$(APPRAISE_SRC))
$(LIBAGENT): $(call obj,$(AGENT_SRC))
$(LIBVERIFIER): $(call obj,$(VERIFIER_SRC))
$(LIBTOOLS): $(call obj,$(TOOLS_SRC))
$(O)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(O)/assay-agent: $(O)/agent/main.o $(LIBAGENT) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(call libs_of,$(AGENT_PKGS))
$(O)/assay-verifier: $(O)/verifier/main.o $(LIBVERIFIER) $(LIBAPPRAISE) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(call libs_of,$(VERIFIER_PKGS))
$(O)/assayctl: $(O)/tools/assayctl.o $(LIBTOOLS) $(LIBAPPRAISE) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(call libs_of,$(CTL_PKGS))

$(O)/tests/%: $(O)/tests/unit/%.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(LDLIBS) $(CHECK_LIBS)

$(O)/testtools/fw_eventlog: $(call obj,$(FWLOG_PARTS))
$(O)/testtools/%: $(O)/tests/tools/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

$(O)/bench/agent_sim: $(call obj,$(SIM_PARTS))
$(O)/bench/%: $(O)/tests/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(ALL_LIBS) $(LDLIBS)

fuzzers: $(FUZZERS)

# Build every libFuzzer harness with clang + ASan/UBSan and run each for
# FUZZ_TIME seconds from its seed corpus under tests/fuzz/seeds/NAME.
# FUZZ=NAME runs one harness; FUZZ_RUNS=N runs it N executions (FUZZ_TIME
# is then an upper bound, 0 for none): make fuzz FUZZ=eventlog FUZZ_RUNS=10000000 FUZZ_TIME=0
fuzz:
	$(MAKE) O=$(O)-fuzz CC=clang SANITIZE=fuzz fuzzers
	tests/fuzz/run.sh $(O)-fuzz $(FUZZ_TIME) "$(FUZZ)" "$(FUZZ_RUNS)"

# Real firmware and a real kernel: OVMF + Debian's kernel under QEMU (TCG),
# the agent inside the guest, the verifier on the host (tests/vm/).
check-vm: deps
	$(MAKE) all $(TESTTOOLS)
	tests/vm/run.sh $(O)

check: deps
	$(MAKE) all units
	tests/run-unit.sh $(O)
	tests/run-integration.sh $(O)

units: $(UNITS) $(TESTTOOLS)

unit: all units
	tests/run-unit.sh $(O)

integration: all $(TESTTOOLS)
	tests/run-integration.sh $(O)

demo: deps
	$(MAKE) all $(TESTTOOLS)
	tests/demo.sh $(O)

bench: all $(BENCHES)
	BENCH='$(BENCH)' tests/bench/run.sh $(O)

# FHS install: daemons in sbin, assayctl in bin, man pages, example
# configs in /etc/assay (never overwriting existing ones), policies in
# share/assay, units/sysusers/tmpfiles with paths rewritten for PREFIX.
MAN1 := $(wildcard man/*.1)
MAN5 := $(wildcard man/*.5)
MAN8 := $(wildcard man/*.8)
UNIT_PATHS := sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/assay|$(SYSCONFDIR)/assay|g' \
	-e 's|/var/lib/assay|$(STATEDIR)|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/policies \
	    $(DESTDIR)$(SYSCONFDIR)/assay $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR)
	install -d -m 0750 $(DESTDIR)$(STATEDIR)
	install -m 0755 $(O)/assay-agent $(O)/assay-verifier $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(O)/assayctl $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 policies/*.yaml $(DESTDIR)$(DATADIR)/policies/
	for f in examples/*.yaml; do \
		t=$(DESTDIR)$(SYSCONFDIR)/assay/$$(basename $$f); \
		[ -e $$t ] || $(UNIT_PATHS) $$f > $$t; \
	done
	for f in systemd/*.service; do \
		$(UNIT_PATHS) $$f > $(DESTDIR)$(SYSTEMDDIR)/$$(basename $$f); \
	done
	install -m 0644 systemd/assay.sysusers $(DESTDIR)$(SYSUSERSDIR)/assay.conf
	$(UNIT_PATHS) systemd/assay.tmpfiles > $(DESTDIR)$(TMPFILESDIR)/assay.conf

# Removes what install put there, except configuration and state.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/assay-agent $(DESTDIR)$(SBINDIR)/assay-verifier \
	    $(DESTDIR)$(BINDIR)/assayctl
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(notdir $(wildcard systemd/*.service))) \
	    $(DESTDIR)$(SYSUSERSDIR)/assay.conf $(DESTDIR)$(TMPFILESDIR)/assay.conf

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
