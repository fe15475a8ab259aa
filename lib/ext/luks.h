/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * LUKS2 volumes through libcryptsetup (the only file that includes its header):
 * format, keyslots, tokens, and unlocking with a passphrase. Works on block
 * devices and on plain image files (header operations and passphrase checks need
 * no device-mapper; activation does). libcryptsetup's messages go to our debug log.
 * libcryptsetup already returns -errno; -EPERM means no keyslot took the passphrase.
 */

#include <stdint.h>

#include "core/macro.h"

enum luks_pbkdf_type {
	LUKS_PBKDF_ARGON2ID,
	LUKS_PBKDF_PBKDF2,
	_LUKS_PBKDF_MAX,
	_LUKS_PBKDF_INVALID = -EINVAL,
};

/*
 * Key derivation for one keyslot. With iterations > 0 the parameters are used as
 * given (no benchmark): tests and small machines pin them. With iterations == 0
 * libcryptsetup benchmarks for time_ms (default 2000 ms), using at most memory_kib.
 */
struct luks_pbkdf {
	enum luks_pbkdf_type type;
	const char *hash; /* pbkdf2: "sha256" (NULL) or "sha512" */
	uint32_t iterations; /* pbkdf2: iterations; argon2id: time cost */
	uint32_t memory_kib; /* argon2id: memory cost (or its bound when benchmarking) */
	uint32_t parallel; /* argon2id: threads (0: 1) */
	uint32_t time_ms; /* when benchmarking */
};

/* The keyslot of a TPM-sealed passphrase: PBKDF2/SHA-512, 1000 iterations, as systemd. */
extern const struct luks_pbkdf luks_pbkdf_tpm2;

struct luks_format_params {
	const char *label; /* LUKS2 label, or NULL */
	uint32_t sector_size; /* 0: libcryptsetup's choice */
	const struct luks_pbkdf *pbkdf; /* default for keyslots added without their own */
};

struct luks_volume;

/*
 * Writes a fresh LUKS2 header (aes-xts-plain64, 512-bit random volume key) with
 * no keyslot yet. The volume key stays in the returned handle (in libcryptsetup's
 * locked memory) so that keyslots can be added with unlock == NULL.
 */
int luks_format(const char *path, const struct luks_format_params *p, struct luks_volume **ret);
/* Loads an existing LUKS2 header; -EBADMSG if there is none. */
int luks_open(const char *path, struct luks_volume **ret);
struct luks_volume *luks_volume_free(struct luks_volume *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct luks_volume *, luks_volume_free);
#define _cleanup_luks_volume_ _cleanup_(luks_volume_freep)

const char *luks_volume_uuid(struct luks_volume *v);

/*
 * Adds a keyslot for passphrase, unlocking the volume with unlock (an existing
 * passphrase) or, when unlock is NULL, with the volume key held since
 * luks_format(). pbkdf NULL: the format's. Returns the new keyslot.
 */
int luks_keyslot_add(struct luks_volume *v, const void *unlock, size_t unlock_size,
		     const void *passphrase, size_t passphrase_size, const struct luks_pbkdf *pbkdf,
		     int *ret_keyslot);
int luks_keyslot_destroy(struct luks_volume *v, int keyslot);

/*
 * Stores a token (token < 0: the first free one); its "keyslots" must name
 * existing keyslots. Token handlers that libcryptsetup loads (such as systemd's
 * for "systemd-tpm2") validate it: -EINVAL if they refuse it.
 */
int luks_token_set(struct luks_volume *v, int token, const char *json, int *ret_token);
/* The token's JSON text (a copy); -ENOENT if there is no such token. */
int luks_token_get(struct luks_volume *v, int token, char **ret_json);
int luks_token_remove(struct luks_volume *v, int token);
/* The first token >= start of the given type; -ENOENT if none. */
int luks_token_find(struct luks_volume *v, const char *type, int start, int *ret_token);

/*
 * Unlocks with passphrase (keyslot < 0: any). With name NULL only checks the
 * passphrase (what `cryptsetup open --test-passphrase` does); otherwise maps
 * /dev/mapper/<name> (needs device-mapper). Returns the keyslot that opened.
 */
int luks_activate(struct luks_volume *v, const char *name, int keyslot, const void *passphrase,
		  size_t passphrase_size);
