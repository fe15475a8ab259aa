#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The ledger's parsers of untrusted input under libFuzzer (ASan + UBSan), about 20 s
# in all: record lines, whole ledger files through verify, client requests and
# replies, the policy and cgroup text. Builds the targets first (make fuzz). Each
# starts from its committed seeds (tests/fuzz/corpus/<target>/); what it finds new
# stays in the test's temporary directory. FUZZ_SECONDS overrides the time per target.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-fuzz.sh"

targets=(fuzz-ledger-record fuzz-ledger-verify fuzz-ledger-request fuzz-ledger-policy)
fuzz_build "${targets[@]}"
for t in "${targets[@]}"; do
	fuzz_run "$t" 5 70000
done
echo PASS
