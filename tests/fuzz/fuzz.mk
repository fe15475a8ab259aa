# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets: one per tests/fuzz/fuzz-*.c, built with clang and ASan+UBSan into
# $(FUZZ_BUILD) together with their own build of lib/ (libFuzzer needs the code it
# explores instrumented). `make fuzz` builds them; tests/integration/test-fuzz-*.sh run
# them for a few seconds each from the seeds in tests/fuzz/corpus/<target>/.
# Warnings are not fatal here: the gcc build (-Werror) is the one that judges them.

FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu17 -g -O1 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(FUZZ_SANITIZE) \
	$(filter-out -Werror,$(WARNINGS)) -MMD -MP
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(LIB_SRCS))

.PHONY: fuzz clean-fuzz
fuzz: $(FUZZ_TARGETS)

$(FUZZ_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -c -o $@ $<

$(FUZZ_BUILD)/libairlock.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcsD $@ $^

$(FUZZ_BUILD)/fuzz-%: $(FUZZ_BUILD)/tests/fuzz/fuzz-%.o $(FUZZ_BUILD)/libairlock.a
	$(call say,LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libairlock.a $(LIBS)

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_BUILD)

-include $(shell find $(FUZZ_BUILD) -type f -name '*.d' 2>/dev/null)
