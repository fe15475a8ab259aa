/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The TPM NV indices Airlock uses, one place for all of them (owner range 0x01xxxxxx,
 * "a1a7" for Airlock). Each is a TPM2_NT_COUNTER (lib/ext/tpm.h, tpm_nv_counter_*()).
 *
 *   TPMNV_FLOOR   the version floor (lib/tpmfloor.h)
 *   TPMNV_LEDGER  the ledger's high-water mark (airlock-ledger serve --tpm-counter)
 *
 * The installer defines both, each with 32 random bytes as its authValue (what an
 * increment needs), kept on the data volume in TPMNV_AUTH_DIR (the installer makes it
 * root's, 0700, files 0600; at boot tmpfiles.d/airlock-tpm.conf lets the ledger daemon's
 * group enter it and gives TPMNV_LEDGER_AUTH to that daemon, 0400; never logged or shown). An index already there (an earlier install on this TPM,
 * whose auth went with that install's data volume) is undefined and defined again: a
 * counter so made starts at the highest value any counter on the TPM held, so neither
 * goes back. The floor is incremented once at once (its first value is the base); the
 * ledger's is left for the daemon's first start.
 */
#define TPMNV_FLOOR 0x01a1a700U
#define TPMNV_LEDGER 0x01a1a701U
#define TPMNV_AUTH_DIR "/var/lib/airlock/tpm"
#define TPMNV_FLOOR_AUTH TPMNV_AUTH_DIR "/floor.auth"
#define TPMNV_LEDGER_AUTH TPMNV_AUTH_DIR "/ledger.auth"
#define TPMNV_AUTH_SIZE 32
