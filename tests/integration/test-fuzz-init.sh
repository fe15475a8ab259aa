#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The parsers airlock-init and the initramfs stage use, under libFuzzer (ASan +
# UBSan) for a few seconds each (FUZZ_SECONDS): the kernel command line, modules.dep
# and the module list, and ELF headers (seeded with real programs of this host).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-fuzz.sh"

fuzz_build fuzz-cmdline fuzz-kmod fuzz-elfinfo
fuzz_run fuzz-cmdline 5 65536
fuzz_run fuzz-kmod 5 65536
elf=(/usr/bin/true)
[ -x "$AIRLOCK_BUILD/airlock-init" ] && elf+=("$AIRLOCK_BUILD/airlock-init")
fuzz_run fuzz-elfinfo 5 65536 "${elf[@]}"
