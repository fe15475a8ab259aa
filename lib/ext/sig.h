/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * OpenPGP signatures through gpgme: the only place that includes gpgme.h.
 *
 * A keyring file (binary or armored, one or several public keys) is imported into
 * a fresh, private GnuPG home directory that nothing else uses: no user keyring,
 * no agent, no key server, no trust database decisions. The keyring file is the
 * whole trust anchor: a signature counts when it is good and made by a key from
 * that file that is neither expired nor revoked, disabled or invalid. The home directory is removed by
 * sig_keyring_free().
 *
 * Verification succeeds when at least one signature is good and none is bad, as
 * apt does for InRelease files: signatures by keys missing from the keyring, or by
 * expired or revoked keys, are passed over when another one is good. Failures
 * return -errno with a reason naming the keys involved:
 *   -EBADMSG      a bad signature (the data or the signature was altered), or
 *                 signature data that is not OpenPGP
 *   -ENODATA      no signature at all
 *   -ENOKEY       signed only by keys that are not in the keyring
 *   -EKEYEXPIRED  only signatures by expired keys, or expired signatures
 *   -EKEYREVOKED  only signatures by revoked keys
 *
 * A keyring opened with SIG_KEYRING_IGNORE_TIME judges signatures without the
 * clock, for machines that have no trusted one (the appliance's update path): a key
 * or signature dated in the future is accepted (gpg's ignore-time-conflict and
 * ignore-valid-from), and an expired key or signature counts as good, so that a
 * wrong clock can neither accept nor refuse anything. Revocation, which does not
 * depend on the clock, is still honoured: after gpg's verdict, the signing key and
 * subkey are looked up in the keyring, and a revoked, disabled or invalid one makes the
 * signature count for nothing, whatever its own status (an expired signature by a
 * revoked key is -EKEYREVOKED, not an expired one; a signature made before the key's
 * revocation counts for nothing either).
 *
 * Signing (airlock-build keygen and release) works in a GnuPG home directory that
 * holds one passphrase-less secret key; gpg-agent is started for it and stopped
 * again by sig_signer_free() and sig_key_generate().
 */

#include "core/macro.h"

struct sig_keyring;

enum sig_keyring_flags {
	SIG_KEYRING_IGNORE_TIME = 1 << 0,
};

/* Imports the keys of keyring_path into a private home; -ENOKEY if it holds none. */
int sig_keyring_open(const char *keyring_path, struct sig_keyring **ret, char **ret_error);
/* The same for several files, each of which must hold at least one key. */
int sig_keyring_open_many(char *const *paths, enum sig_keyring_flags flags,
			  struct sig_keyring **ret, char **ret_error);
/* The fingerprints (upper-case hex) of the primary keys in the keyring, sorted. */
int sig_keyring_fingerprints(struct sig_keyring *k, char ***ret);
struct sig_keyring *sig_keyring_free(struct sig_keyring *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sig_keyring *, sig_keyring_free);

/*
 * Verifies a clear-signed document (an InRelease file). On success returns the
 * signed text only — never trust anything else of the input — NUL-terminated, and
 * the fingerprint of the (first) good signature's key.
 */
int sig_verify_clearsigned(struct sig_keyring *k, const void *data, size_t size, char **ret_text,
			   size_t *ret_text_size, char **ret_fingerprint, char **ret_error);

/*
 * A detached signature is binary OpenPGP and nothing else: one or more Signature
 * packets (tag 2, version 4 or 5, over a binary or text document; old or new packet
 * format, no partial or indeterminate lengths), at most SIG_DETACHED_MAX_SIGNATURES,
 * that fill sig exactly. Armor, keys, literal data, markers, trailing bytes of any kind
 * are refused, -EBADMSG with the packet and byte offset named; empty is -ENODATA. Only
 * the packet framing is read: nothing here says the signatures are good.
 */
#define SIG_DETACHED_MAX_SIGNATURES 16U
int sig_detached_check(const void *sig, size_t size, char **ret_error);

/* Verifies a detached signature over data; sig must pass sig_detached_check() first. */
int sig_verify_detached(struct sig_keyring *k, const void *data, size_t size, const void *sig,
			size_t sig_size, char **ret_fingerprint, char **ret_error);

/* ---- signing --------------------------------------------------------------------------------- */

/*
 * Makes a new GnuPG home directory home (which must not exist; created 0700) holding
 * one Ed25519 primary key that can sign and certify, without passphrase and without
 * expiry, for user id uid. Returns its fingerprint. gpg also writes a revocation
 * certificate to home/openpgp-revocs.d/<fingerprint>.rev.
 */
int sig_key_generate(const char *home, const char *uid, char **ret_fingerprint, char **ret_error);

struct sig_signer;
/* Opens a home that holds exactly one usable secret signing key (-ENOKEY otherwise). */
int sig_signer_open(const char *home, struct sig_signer **ret, char **ret_error);
/* Stops the home's gpg-agent. */
struct sig_signer *sig_signer_free(struct sig_signer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sig_signer *, sig_signer_free);
const char *sig_signer_fingerprint(const struct sig_signer *s);
/* The public key, ASCII-armored. */
int sig_signer_export_public(struct sig_signer *s, char **ret, size_t *ret_size, char **ret_error);
/*
 * A detached binary OpenPGP signature of data. Binary detached signatures of the same
 * data by several signers may be concatenated: the result is one detached signature
 * carrying all of them, which sig_verify_detached() reads.
 */
int sig_sign_detached(struct sig_signer *s, const void *data, size_t size, void **ret_sig,
		      size_t *ret_sig_size, char **ret_error);
