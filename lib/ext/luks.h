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
	/*
	 * Where the encrypted data starts on the device the header will finally sit on
	 * (a multiple of 512; 0: libcryptsetup's default, 16 MiB for LUKS2). A header
	 * formatted into a separate file with this set is the same header as one
	 * formatted on the device itself: see luks_header_install().
	 */
	uint64_t data_offset_bytes;
};

struct luks_volume;

/* LUKS2 has this many keyslots (0..31) and tokens (0..31). */
#define LUKS_KEYSLOTS_MAX 32
#define LUKS_TOKENS_MAX 32

/*
 * Writes a fresh LUKS2 header (aes-xts-plain64, 512-bit random volume key) with
 * no keyslot yet. The volume key stays in the returned handle (in libcryptsetup's
 * locked memory) so that keyslots can be added with unlock == NULL.
 */
int luks_format(const char *path, const struct luks_format_params *p, struct luks_volume **ret);
/* Loads an existing LUKS2 header; -EBADMSG if there is none. */
int luks_open(const char *path, struct luks_volume **ret);
/*
 * A header kept apart from its data (a detached header): the header file, and the
 * device holding the encrypted data at the header's data offset. Activation maps that
 * device. data_path NULL: header operations only.
 */
int luks_open_detached(const char *header_path, const char *data_path, struct luks_volume **ret);
/* Sets the data device of a volume whose header is in a file of its own. */
int luks_set_data_device(struct luks_volume *v, const char *data_path);
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
 * The key derivation of an active keyslot (hash NULL when neither sha256 nor sha512);
 * -ENOENT for an unused keyslot, -EINVAL past the last one.
 */
int luks_keyslot_pbkdf(struct luks_volume *v, int keyslot, struct luks_pbkdf *ret);

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

/* The data offset in bytes: the size of the header area in front of the data. */
uint64_t luks_volume_data_offset(struct luks_volume *v);

/*
 * Unlocks with passphrase (keyslot < 0: any). With name NULL only checks the
 * passphrase (what `cryptsetup open --test-passphrase` does); otherwise maps
 * /dev/mapper/<name> (needs device-mapper). Returns the keyslot that opened.
 */
int luks_activate(struct luks_volume *v, const char *name, int keyslot, const void *passphrase,
		  size_t passphrase_size);

/*
 * Maps /dev/mapper/<name> with the volume key held since luks_format() (needs
 * device-mapper and a data device). -ENOKEY when the handle holds no volume key.
 */
int luks_activate_volume_key(struct luks_volume *v, const char *name);
/* Removes the mapping /dev/mapper/<name>. */
int luks_deactivate(const char *name);

/*
 * Writes a complete LUKS2 header area, formatted apart in header_path (a file of at
 * least the header's data offset), to fd at offset_bytes, in an order that makes the
 * header the marker of a finished job: a device never holds a valid header (either
 * copy) whose keyslots and metadata are not yet durable.
 *
 *   1. everything but the two 4096-byte binary headers (both JSON areas, the
 *      keyslots area), then fdatasync;
 *   2. the secondary binary header, its first sector (the magic) last, fdatasync;
 *   3. the primary binary header, its first sector last, fdatasync.
 *
 * A torn write leaves at most a binary header whose checksum fails, which
 * libcryptsetup does not accept. sector_size is the device's logical sector size
 * (512 or 4096: with 4096 each binary header is one sector and is written whole).
 * step, if given, is called after each of the three stages ("body", "secondary",
 * "primary"), for fault-injection tests. The header file is checked to be a LUKS2
 * header before anything is written: -EBADMSG otherwise.
 */
int luks_header_install(const char *header_path, int fd, uint64_t offset_bytes,
			uint32_t sector_size, void (*step)(const char *stage, void *userdata),
			void *userdata);
