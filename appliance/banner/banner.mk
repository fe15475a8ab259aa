# SPDX-License-Identifier: Apache-2.0
PROGRAMS += airlock-banner airlock-boot-complete
airlock-banner_SRCS := appliance/banner/banner.c
airlock-boot-complete_SRCS := appliance/banner/boot-complete.c
