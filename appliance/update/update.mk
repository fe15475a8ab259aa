# SPDX-License-Identifier: Apache-2.0
# airlock-update: signed offline updates (airlock-update(8)).
PROGRAMS += airlock-update
airlock-update_SRCS := $(sort $(wildcard appliance/update/*.c))
