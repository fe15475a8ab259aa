# SPDX-License-Identifier: Apache-2.0
# airlock-ledger: the audit ledger daemon and its tools (airlock-ledger(8)).
PROGRAMS += airlock-ledger
airlock-ledger_SRCS := $(sort $(wildcard appliance/ledger/*.c))
