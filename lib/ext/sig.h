/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * OpenPGP signatures through gpgme: the only place that includes gpgme.h.
 *
 * A keyring file (binary or armored, one or several public keys) is imported into
 * a fresh, private GnuPG home directory that nothing else uses: no user keyring,
 * no agent, no key server, no trust database decisions. The keyring file is the
 * whole trust anchor: a signature counts when it is good and made by a key from
 * that file that is neither expired nor revoked. The home directory is removed by
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
 */

#include "core/macro.h"

struct sig_keyring;

/* Imports the keys of keyring_path into a private home; -ENOKEY if it holds none. */
int sig_keyring_open(const char *keyring_path, struct sig_keyring **ret, char **ret_error);
struct sig_keyring *sig_keyring_free(struct sig_keyring *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sig_keyring *, sig_keyring_free);

/*
 * Verifies a clear-signed document (an InRelease file). On success returns the
 * signed text only — never trust anything else of the input — NUL-terminated, and
 * the fingerprint of the (first) good signature's key.
 */
int sig_verify_clearsigned(struct sig_keyring *k, const void *data, size_t size, char **ret_text,
			   size_t *ret_text_size, char **ret_fingerprint, char **ret_error);

/* Verifies a detached signature (binary or armored) over data. */
int sig_verify_detached(struct sig_keyring *k, const void *data, size_t size, const void *sig,
			size_t sig_size, char **ret_fingerprint, char **ret_error);
