/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Opening the data volume at boot (DESIGN.md "Boot", "TPM sealing"): partition 6,
 * type GPT_TYPE_VAR, LUKS2 with a systemd-tpm2 token and a recovery keyslot, on the
 * disk the root was booted from. airlock-init calls it; tests run it against image
 * files and swtpm with no device-mapper name (the keys are only checked).
 *
 * The TPM is asked first (lib/tpm2luks.h, with the running UKI's .pcrsig and
 * .pcrpkey). Whatever it answers, PCR 11 is then capped (lib/pcr.h
 * PCR_KERNEL_BOOT_CAP_WORD) so that nothing later can unseal the key again. When the
 * TPM did not open the volume, one line says why and the recovery key is asked for
 * on the given descriptors (every console), a bounded number of times; each failure
 * says whether the input was not a recovery key or the wrong one. The typed line and
 * the key live in secret memory, are wiped after use, and are never echoed or printed.
 */

#include "core/macro.h"
#include "ext/blkid.h"
#include "ext/tpm.h"

#define DATA_DM_NAME "data"
/* How airlock-init provided /var on this boot: a data_unlock_method_to_string() word. */
#define DATA_METHOD_PATH "/run/airlock/data"
/* Exists when the booted disk has no data partition: the installer medium. */
#define INSTALLER_MEDIUM_PATH "/run/airlock/installer-medium"
/* The running UKI's .pcrsig and .pcrpkey, kept by airlock-init after the switch. */
#define RUN_PCRSIG_PATH "/run/airlock/tpm2-pcr-signature.json"
#define RUN_PCRPKEY_PATH "/run/airlock/tpm2-pcr-public-key.pem"
#define DATA_KEY_TRIES 3
/* Longer than any way of typing a recovery key (71 letters and dashes, with spaces). */
#define DATA_KEY_LINE_MAX 512

enum data_unlock_method {
	DATA_UNLOCK_NONE, /* no data partition: /var is a tmpfs (the installer medium) */
	DATA_UNLOCK_TPM,
	DATA_UNLOCK_RECOVERY,
	_DATA_UNLOCK_METHOD_MAX,
	_DATA_UNLOCK_METHOD_INVALID = -EINVAL,
};
/* "none", "tpm", "recovery": what /run/airlock/data says. */
const char *data_unlock_method_to_string(enum data_unlock_method m);
enum data_unlock_method data_unlock_method_from_string(const char *s);

/*
 * The data partition of the booted disk d: the one partition of type GPT_TYPE_VAR.
 * -ENOENT if there is none (an installer medium), -ENOTUNIQ (with a one-line
 * *ret_error naming both) if there are several: we never guess which holds /var.
 */
int data_partition_find(const struct disk_info *d, size_t *ret_index, char **ret_error);

/*
 * On the running appliance: the device node of the data partition of the disk the root
 * was booted from (lib/bootdisk.h). -ENOENT when that disk has none (the installer
 * medium); *ret_error says what was missing.
 */
int data_volume_node(char **ret, char **ret_error);

/*
 * Whether typed (as a person typed it: lib/recovery's forms) is the recovery key of the
 * LUKS2 volume at node: 0 and the keyslot it opens, or -EINVAL (not a recovery key at
 * all), -EPERM (another key) or -errno, with *ret_error. Nothing is mapped; the key is
 * only in secret memory.
 */
int data_recovery_key_check(const char *node, const char *typed, int *ret_keyslot,
			    char **ret_error);

struct data_unlock_params {
	const char *node; /* the LUKS2 partition (or a header file, with name NULL) */
	const char *name; /* device-mapper name to map it as, or NULL to check keys only */
	const char *tcti; /* the TPM, or NULL when there is none */
	const char *no_tpm_reason; /* why tcti is NULL (a phrase), for the console line */
	const char *pcrsig; /* the running UKI's .pcrsig, or NULL */
	size_t pcrsig_size;
	const void *pcrpkey; /* the running UKI's .pcrpkey, or NULL */
	size_t pcrpkey_size;
	bool cap_pcr; /* extend PCR 11 with the cap once the TPM was asked */
	/* The booting release's security version (os-release), compared with the version
	 * floor of a token sealed to one before the TPM is asked (lib/tpmfloor.h). */
	uint64_t security_version;
	const int *key_fds; /* where the recovery key may be typed; the first line wins */
	size_t n_key_fds;
	unsigned tries; /* 0: DATA_KEY_TRIES */
	/* One line for every console (no newline); userdata is passed back. */
	void (*say)(const char *line, void *userdata);
	void *userdata;
};

struct data_unlock_result {
	enum data_unlock_method method;
	int keyslot;
	bool capped; /* PCR 11 was capped */
	/* With DATA_UNLOCK_RECOVERY: why the TPM did not open it (TPM_REFUSAL_NONE when it
	 * was not a refusal, e.g. no TPM), and its sentence. */
	enum tpm_refusal refusal;
	char reason[256];
};

/*
 * Whether a refusal means the policy no longer matches this machine (the literal PCRs
 * changed, or the booted image's signed PCR value is not signed by the enrolled key):
 * a re-seal with the recovery key fixes it. Not a lockout, not a missing TPM.
 */
bool data_unlock_policy_mismatch(enum tpm_refusal r);
/* The PCRs a refusal is about: the literal ones (PCR_CHANGED) or the signed ones. */
uint32_t data_unlock_refusal_pcrs(enum tpm_refusal r, uint32_t literal_mask, uint32_t signed_mask);

/*
 * What airlock-init leaves for the running system (airlock-tpm boot-report):
 *   {"method":"recovery","refusal":"pcr-changed","reason":"token 0: ..."}
 * Written atomically; read back by data_unlock_report_read().
 */
#define DATA_UNLOCK_REPORT_PATH "/run/airlock/tpm-unlock.json"
int data_unlock_report_write(const char *path, const struct data_unlock_result *r);
int data_unlock_report_read(const char *path, struct data_unlock_result *ret, char **ret_error);

/*
 * Opens (or, with name NULL, checks) the data volume: the TPM, else the recovery key.
 * Returns 0 and *ret; or -errno with a one-line *ret_error (optional): -EPERM when
 * every try of the recovery key failed, -EPIPE when the consoles closed, -ENOLINK when
 * the TPM opened the volume but PCR 11 could not be capped (the volume is then not
 * left mapped), other -errno when the header cannot be read or mapping fails.
 */
int data_unlock(const struct data_unlock_params *p, struct data_unlock_result *ret,
		char **ret_error);
