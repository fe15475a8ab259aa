# SPDX-License-Identifier: Apache-2.0
# TEST-ONLY programs that tests/integration/test-*.sh drive. Built into
# $(BUILD)/tests/integration/ by `make all`; never installed.

TEST_PROGRAMS += tests/integration/tpmtool
tests/integration/tpmtool_SRCS := tests/integration/tpmtool.c
