#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# lib/pe.c's parser of untrusted PE images under libFuzzer (ASan + UBSan) for a few
# seconds (FUZZ_SECONDS), from the committed seed and the real systemd-stub.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-fuzz.sh"

fuzz_build fuzz-pe
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
extra=()
[ -f "$stub" ] && extra=("$stub")
fuzz_run fuzz-pe 8 100000 "${extra[@]}"
