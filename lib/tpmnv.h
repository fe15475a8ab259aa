/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The TPM NV indices Airlock uses, one place for all of them (owner range 0x01xxxxxx,
 * "a1a7" for Airlock). Each is a TPM2_NT_COUNTER (lib/ext/tpm.h, tpm_nv_counter_*()).
 *
 *   TPMNV_FLOOR   reserved for the version floor (not kept by this release)
 *   TPMNV_LEDGER  the ledger's high-water mark (airlock-ledger serve --tpm-counter)
 */
#define TPMNV_FLOOR 0x01a1a700U
#define TPMNV_LEDGER 0x01a1a701U
