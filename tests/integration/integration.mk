# SPDX-License-Identifier: Apache-2.0
# TEST-ONLY programs that tests/integration/test-*.sh drive. Built into
# $(BUILD)/tests/integration/ by `make all`; never installed.

TEST_PROGRAMS += tests/integration/tpmtool
tests/integration/tpmtool_SRCS := tests/integration/tpmtool.c
# The e2e image's key typist for the operator console on tty1 (tests/e2e/lib.sh puts it
# in the image's TEST-ONLY overlay).
TEST_PROGRAMS += tests/e2e/vtkeys
tests/e2e/vtkeys_SRCS := tests/e2e/vtkeys.c
