#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The update bundle's parsers of untrusted input under libFuzzer (ASan + UBSan), a few
# seconds each: manifest.json (fuzz-bundle-manifest) and the tar member checks on
# arbitrary bytes (fuzz-bundle-tar), and the framing of manifest.json.sig
# (fuzz-sig-packets). Each starts from its committed seeds
# (tests/fuzz/corpus/<target>/); what it finds new stays in the test's temporary
# directory (tests/integration/lib-fuzz.sh). FUZZ_SECONDS overrides the time per target;
# for a longer run by hand:
#   make fuzz && build-fuzz/fuzz-bundle-tar -max_total_time=3600 CORPUS tests/fuzz/corpus/fuzz-bundle-tar
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-fuzz.sh"

fuzz_build fuzz-bundle-manifest fuzz-bundle-tar fuzz-sig-packets
fuzz_run fuzz-bundle-manifest 6 70000
fuzz_run fuzz-bundle-tar 6 70000
fuzz_run fuzz-sig-packets 3 70000
