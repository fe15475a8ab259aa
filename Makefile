# SPDX-License-Identifier: Apache-2.0
#
# Airlock: one non-recursive Makefile. Each program has a fragment (<dir>/<name>.mk)
# that appends to PROGRAMS and sets <program>_SRCS; lib/lib.mk builds lib/ into one
# static library that every program and test links.
#
# User-facing targets install what they need first (scripts/deps) and then re-enter
# make, so that pkg-config sees freshly installed libraries:
#   make qemu     build the default image and boot it under QEMU
#   make image    build the default image into out/
#   make check    every test: unit (also under ASan+UBSan), integration, e2e
#   make deps     apt-install every build and test dependency (idempotent)

BUILD ?= build
CC ?= gcc
PKG_CONFIG ?= pkg-config
OUT ?= out
# Parallel compile jobs for the builds inside `make check` (not the tests: those run one
# at a time).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

PKGS := libarchive libcryptsetup blkid fdisk gpgme tss2-esys tss2-mu tss2-tctildr tss2-rc \
	ncursesw json-c libcrypto libxcrypt
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes -Wmissing-prototypes \
	-Werror
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu17 $(WARNINGS) -D_GNU_SOURCE -fstack-protector-strong \
	-ffile-prefix-map=$(CURDIR)=. -fno-ident -Ilib $(PKG_CFLAGS) -MMD -MP
LDFLAGS ?=
LIBS := -Wl,--as-needed $(PKG_LIBS) -lpthread

ifeq ($(SANITIZE),1)
BASE_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BASE_CFLAGS += -D_FORTIFY_SOURCE=3
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)

# Quiet by default; V=1 shows whole command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-5s %s\n' $(1) $(2)
endif

PROGRAMS :=
# Test-only programs (tests/integration/*.mk): built by `all` like PROGRAMS, never installed.
TEST_PROGRAMS :=
include lib/lib.mk
include $(sort $(wildcard builder/*.mk appliance/*/*.mk installer/*.mk tests/integration/*.mk))
include tests/tests.mk

.DEFAULT_GOAL := all
all: $(addprefix $(BUILD)/,$(PROGRAMS) $(TEST_PROGRAMS))

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

define program_template
$(BUILD)/$(1): $$(patsubst %.c,$(BUILD)/%.o,$$($(1)_SRCS)) $(BUILD)/libairlock.a
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)
	$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(BUILD)/libairlock.a $$(LIBS) $$($(1)_LIBS)
endef
$(foreach p,$(PROGRAMS) $(TEST_PROGRAMS),$(eval $(call program_template,$(p))))

# ---- user-facing targets (install dependencies, then re-enter make) -------------------------
.PHONY: unit-tests all deps image lock release qemu check check-unit check-unit-san check-integration \
	check-e2e check-format format lint bench clean install-programs

deps:
	@scripts/deps

image: deps
	@$(MAKE) --no-print-directory all
	@scripts/image

lock: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/airlock-build lock manifests/airlock.manifest

release: deps
	@$(MAKE) --no-print-directory all
	@AIRLOCK_RELEASE=1 scripts/image

qemu: image
	@qemu/run $(OUT)/airlock.img

check: deps
	@$(MAKE) --no-print-directory check-format
	@$(MAKE) --no-print-directory -j$(JOBS) all unit-tests
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE=1 BUILD=build-san unit-tests
	@tests/run-tests unit:build/tests/unit unit:build-san/tests/unit:asan+ubsan \
		integration e2e

unit-tests: $(UNIT_TESTS)

check-unit: unit-tests
	@tests/run-tests unit:$(BUILD)/tests/unit

check-integration: all
	@tests/run-tests integration

check-e2e: all
	@tests/run-tests e2e

FORMAT_SRCS = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRCS)

check-format:
	@out=$$(clang-format --dry-run $(FORMAT_SRCS) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" | head -40; \
		echo "check-format: run 'make format'"; exit 1; fi; echo "check-format: ok"

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=missingIncludeSystem -Ilib $(FORMAT_SRCS)

bench: all
	@for b in bench/*.sh; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build build-san

.SECONDARY:

-include $(shell find $(BUILD) -path $(BUILD)/test-cache -prune -o -type f -name '*.d' -print 2>/dev/null)
