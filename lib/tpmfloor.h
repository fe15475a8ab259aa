/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The version floor: a TPM NV counter (TPMNV_FLOOR, lib/tpmnv.h) that only rises, and
 * the security version each release carries, compared before the data volume is
 * unsealed so that an older release written back onto the disk cannot open it.
 *
 * Why the counter does not hold a version: a TPM counter moves by exactly one per
 * TPM2_NV_Increment, and a newly defined one starts at the highest value any counter
 * on that TPM ever held (TPM 2.0 Part 1, "NV Counter"), so its absolute value is not
 * Airlock's to choose, and a version packed into 64 bits (2.0.0 as 2 << 32) could
 * only be reached by billions of increments. The floor is therefore an integer epoch,
 * the counter's distance from its base (its value right after the installer defined
 * it):
 *
 *     floor = counter - base
 *
 * Each release says its security version (the manifest's security-version, 0 when
 * absent; os-release's AIRLOCK_SECURITY_VERSION): a release may unseal the data volume,
 * and may be imported, only when its security version >= floor. When a release is
 * marked good its security version becomes the floor (one increment per step), so
 * plain A/B rollback keeps working between releases of the same security version.
 * This is the scheme of Android Verified Boot's rollback index and of UEFI security
 * version numbers.
 *
 * The base is recorded in the data volume's TPM token (airlock_floor), and the sealed
 * object's policy ends in PolicyNV(counter >= base) (lib/ext/tpm.h): a token whose
 * base was edited, or that no longer names the counter, does not unseal.
 *
 * Who can move it: increments need the counter's authValue, 32 random bytes kept on
 * the data volume (TPMNV_FLOOR_AUTH), so only an unlocked appliance raises the
 * floor. Anyone with the TPM's owner authorization (empty on Airlock) can undefine the
 * counter; then nothing unseals (TPM_REFUSAL_FLOOR_GONE) and the recovery key is the
 * way in; a counter defined again in its place starts at the highest value a counter
 * ever held, which can only raise the floor. Nothing lowers it but a re-install,
 * which defines a new counter and wipes the data volume.
 */

#include <stdint.h>

#include "ext/tpm.h"

/* The most one raise may move the floor: a guard against a corrupt security version. */
#define TPM_FLOOR_STEP_MAX 1024

/*
 * Defines the floor's counter at TPMNV_FLOOR with auth, increments it once and returns
 * its index, base and name in *ret (the floor is 0). -EEXIST when the index is
 * defined already (a re-install: tpm_nv_undefine() it first).
 */
int tpm_floor_define(struct tpm_context *t, const void *auth, size_t auth_size,
		     struct tpm_floor_bind *ret);

/*
 * The floor (counter - base) of a binding. -ENOENT: the counter is not defined;
 * -EMEDIUMTYPE: the index is not a counter; -ESTALE: it holds less than the base (or
 * nothing), so it is not the counter the token was sealed to.
 */
int tpm_floor_read(struct tpm_context *t, const struct tpm_floor_bind *b, uint64_t *ret);

/*
 * Raises the floor to at least `to` with the counter's auth; *ret (optional) gets the
 * floor afterwards. A floor at or above `to` is left alone (0). -E2BIG when `to` is
 * more than TPM_FLOOR_STEP_MAX above the floor; -EACCES for a wrong auth. A failure
 * part way leaves the floor somewhere between the two, never below where it was.
 */
int tpm_floor_raise(struct tpm_context *t, const struct tpm_floor_bind *b, const void *auth,
		    size_t auth_size, uint64_t to, uint64_t *ret);

/*
 * The running appliance's floor: the binding the data volume's TPM token records and the
 * counter's value now. device: the data volume (NULL: the booted disk's, lib/dataunlock.h);
 * tcti NULL: the default. -ENOENT when no floor is kept (no data volume, or no token
 * sealed to one); any other error (no TPM, the counter gone) with *ret_error: the caller
 * must not take that for "no floor".
 */
int tpm_floor_of_volume(const char *device, const char *tcti, struct tpm_floor_bind *ret_bind,
			uint64_t *ret_floor, char **ret_error);
