# SPDX-License-Identifier: Apache-2.0
# Unit tests: one cmocka binary per tests/unit/test-*.c, linked against libairlock.a.

UNIT_TEST_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_TESTS := $(patsubst %.c,$(BUILD)/%,$(UNIT_TEST_SRCS))

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libairlock.a
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libairlock.a $(LIBS) $(CMOCKA_LIBS)

# libFuzzer targets (clang); built on demand by `make fuzz` and the fuzz tests.
include tests/fuzz/fuzz.mk
