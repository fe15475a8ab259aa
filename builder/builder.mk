# SPDX-License-Identifier: Apache-2.0
PROGRAMS += airlock-build
airlock-build_SRCS := $(sort $(wildcard builder/*.c))
