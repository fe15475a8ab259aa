# SPDX-License-Identifier: Apache-2.0
PROGRAMS += airlock-init
airlock-init_SRCS := $(sort $(wildcard appliance/init/*.c))
