# SPDX-License-Identifier: Apache-2.0
# airlock-tpm: the TPM lifecycle after install (airlock-tpm(8)).
PROGRAMS += airlock-tpm
airlock-tpm_SRCS := $(sort $(wildcard appliance/tpm/*.c))
