# SPDX-License-Identifier: Apache-2.0
PROGRAMS += airlock-install
airlock-install_SRCS := $(sort $(wildcard installer/*.c))

# The installer's pure parts, linked into their unit tests (tests/unit/test-install-*.c).
$(BUILD)/tests/unit/test-install-answers: $(BUILD)/installer/answers.o
$(BUILD)/tests/unit/test-install-flow: $(BUILD)/installer/flow.o
$(BUILD)/tests/unit/test-install-select: $(BUILD)/installer/select.o $(BUILD)/installer/answers.o \
	$(BUILD)/installer/disks.o

$(BUILD)/tests/unit/test-install-image: $(BUILD)/installer/image.o
$(BUILD)/tests/unit/test-install-console: $(BUILD)/installer/console.o
