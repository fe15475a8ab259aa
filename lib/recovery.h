/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Recovery keys for the data volume, typed on whatever console a server has.
 *
 * 256 random bits written in the 16-letter "modhex" alphabet
 * (c b d e f g h i j k l n r t u v: four bits a letter, low nibble's letter last)
 * that systemd-cryptenroll's recovery keys also use: these letters sit on the
 * same keys on QWERTY, QWERTZ and AZERTY keyboards, so a key typed under a
 * console's default (US) keymap matches whatever the key caps say, and none of
 * them is confused with a digit when read aloud. The canonical form is 8 groups
 * of 8 letters joined by '-' (71 characters), as systemd writes them; that exact
 * string is the keyslot passphrase, so a rescue system's `cryptsetup open` takes
 * the key typed as shown.
 *
 * Keys live in secret_alloc() memory (free with secret_free()); error messages
 * never contain a key or any character typed.
 */

#include <stdint.h>

#include "core/macro.h"

#define RECOVERY_KEY_BYTES 32
#define RECOVERY_KEY_LETTERS (2 * RECOVERY_KEY_BYTES)
#define RECOVERY_KEY_GROUP 8
#define RECOVERY_KEY_LENGTH (RECOVERY_KEY_LETTERS + RECOVERY_KEY_LETTERS / RECOVERY_KEY_GROUP - 1)
#define RECOVERY_KEY_ALPHABET "cbdefghijklnrtuv"

/* A fresh random key in canonical form, NUL-terminated, in secret memory. */
int recovery_key_generate(char **ret);
/* The canonical form of given bytes (RECOVERY_KEY_BYTES of them). */
int recovery_key_from_bytes(const uint8_t bytes[RECOVERY_KEY_BYTES], char **ret);
/*
 * The canonical form of what a person typed: any case; spaces, tabs, line breaks
 * and dashes anywhere are ignored. -EINVAL for a character outside the alphabet,
 * -ERANGE for the wrong number of letters; *ret_error (optional) then says which
 * position or how many, never what was typed.
 */
int recovery_key_normalize(const char *input, char **ret, char **ret_error);
/* True for a key in canonical form. */
bool recovery_key_is_canonical(const char *s);
