# SPDX-License-Identifier: Apache-2.0
PROGRAMS += airlock-console
airlock-console_SRCS := $(sort $(wildcard appliance/console/*.c))
