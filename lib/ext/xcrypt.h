/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Passphrase hashes through libxcrypt (the only file that includes <crypt.h>). The
 * working memory (struct crypt_data) is secret memory, wiped when done.
 */

#include "core/macro.h"

/* A fresh hash of passphrase with the method of prefix ("$y$": yescrypt) at its
 * default cost and a random salt; *ret is malloc'd. */
int xcrypt_hash_new(const char *prefix, const char *passphrase, char **ret);
/* 0 when hash is a whole hash libxcrypt can verify with (not a bare setting), -EINVAL
 * when not. */
int xcrypt_hash_usable(const char *hash);
/* 1 when passphrase hashes to hash (compared in constant time), 0 when not,
 * -EBADMSG when hash is unusable. */
int xcrypt_verify(const char *hash, const char *passphrase);
