/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* airlock-tpm: one file per verb; what they share (common.c). */

#include "core/macro.h"
#include "core/verb.h"
#include "ext/json.h"
#include "ext/luks.h"
#include "ext/tpm.h"
#include "ledger-client.h"
#include "dataunlock.h"
#include "tpm2luks.h"
#include "tpm2token.h"

/* Exit statuses (airlock-tpm(8)). */
#define EXIT_REFUSED 3 /* refused: wrong recovery key, nothing measured in PCR 7, lockout */

int verb_status(int argc, char **argv);
int verb_reseal(int argc, char **argv);
int verb_boot_report(int argc, char **argv);

/* The options every verb takes. */
struct tpm_options {
	const char *tcti; /* NULL: TPM_DEFAULT_TCTI */
	const char *device; /* the data volume (partition or image); NULL: the booted disk's */
	const char *pcrsig; /* the running image's .pcrsig */
	const char *pcrpkey; /* and .pcrpkey */
	const char *ledger; /* the ledger socket; NULL: LEDGER_SOCKET_DEFAULT */
};
#define TPM_OPTIONS_INIT                                                \
	{                                                               \
		.pcrsig = RUN_PCRSIG_PATH, .pcrpkey = RUN_PCRPKEY_PATH, \
	}
/* The long options of struct tpm_options, for getopt tables; and their parser. */
enum { ARG_TCTI = 0x100, ARG_DEVICE, ARG_PCRSIG, ARG_PCRPKEY, ARG_LEDGER, ARG_VERB_FIRST };
#define TPM_COMMON_OPTIONS                                           \
	{ "tcti", required_argument, NULL, ARG_TCTI },               \
		{ "device", required_argument, NULL, ARG_DEVICE },   \
		{ "pcrsig", required_argument, NULL, ARG_PCRSIG },   \
		{ "pcrpkey", required_argument, NULL, ARG_PCRPKEY }, \
	{                                                            \
		"ledger-socket", required_argument, NULL, ARG_LEDGER \
	}
/* 1 if c was a common option (stored), 0 if not. */
int tpm_options_take(struct tpm_options *o, int c, const char *arg);
#define TPM_COMMON_HELP                                                                          \
	"      --tcti SPEC         the TPM (default " TPM_DEFAULT_TCTI ")\n"                     \
	"      --device NODE       the data volume: its partition, or an image file (default:\n" \
	"                          the data partition of the disk airlock-init booted)\n"        \
	"      --pcrsig FILE       the running image's PCR signature (default\n"                 \
	"                          " RUN_PCRSIG_PATH ")\n"                                       \
	"      --pcrpkey FILE      its PCR public key (default " RUN_PCRPKEY_PATH ")\n"          \
	"      --ledger-socket P   the ledger daemon's socket (default " LEDGER_SOCKET_DEFAULT   \
	")\n"

/* The data volume's node: --device, else the booted disk's data partition. Logs why not. */
int tpm_volume_node(const struct tpm_options *o, char **ret);
/* The image's .pcrsig and .pcrpkey (NULL when a file is not there). */
struct tpm_image_keys {
	char *pcrsig;
	size_t pcrsig_size;
	char *pcrpkey;
	size_t pcrpkey_size;
};
int tpm_image_keys_read(const struct tpm_options *o, struct tpm_image_keys *ret);
void tpm_image_keys_done(struct tpm_image_keys *k);

/* "7", "7, 11" */
char *tpm_pcr_mask_string(uint32_t mask);
