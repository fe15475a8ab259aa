/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "core/secret.h"
#include "ext/crypto.h"
#include "recovery.h"

static const char alphabet[] = RECOVERY_KEY_ALPHABET;

static int letter_value(char c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -EINVAL;
}

/* Writes 64 letters (values 0..15) in canonical form into a new secret buffer. */
static int format_letters(const uint8_t *values, char **ret)
{
	char *k = secret_alloc(RECOVERY_KEY_LENGTH + 1);
	size_t j = 0;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < RECOVERY_KEY_LETTERS; i++) {
		if (i > 0 && i % RECOVERY_KEY_GROUP == 0)
			k[j++] = '-';
		k[j++] = alphabet[values[i] & 15];
	}
	k[j] = '\0';
	*ret = k;
	return 0;
}

int recovery_key_from_bytes(const uint8_t bytes[RECOVERY_KEY_BYTES], char **ret)
{
	_cleanup_secret_ uint8_t *values = secret_alloc(RECOVERY_KEY_LETTERS);

	if (!values)
		return -ENOMEM;
	for (size_t i = 0; i < RECOVERY_KEY_BYTES; i++) {
		values[2 * i] = bytes[i] >> 4;
		values[2 * i + 1] = bytes[i] & 15;
	}
	return format_letters(values, ret);
}

int recovery_key_generate(char **ret)
{
	_cleanup_secret_ uint8_t *bytes = secret_alloc(RECOVERY_KEY_BYTES);
	int r;

	if (!bytes)
		return -ENOMEM;
	r = crypto_random_bytes(bytes, RECOVERY_KEY_BYTES);
	if (r < 0)
		return r;
	return recovery_key_from_bytes(bytes, ret);
}

int recovery_key_normalize(const char *input, char **ret, char **ret_error)
{
	_cleanup_secret_ uint8_t *values = secret_alloc(RECOVERY_KEY_LETTERS);
	size_t n = 0;

	if (!values)
		return -ENOMEM;
	for (size_t i = 0; input[i]; i++) {
		int v;

		if (strchr(" \t\r\n-", input[i]))
			continue;
		v = letter_value(input[i]);
		if (v < 0)
			return error_set(ret_error, -EINVAL,
					 "character %zu is not one of the letters "
					 "c b d e f g h i j k l n r t u v",
					 i + 1);
		if (n < RECOVERY_KEY_LETTERS)
			values[n] = (uint8_t)v;
		n++;
	}
	if (n != RECOVERY_KEY_LETTERS)
		return error_set(ret_error, -ERANGE,
				 "%zu letters typed; a recovery key has %d (8 groups of 8)", n,
				 RECOVERY_KEY_LETTERS);
	return format_letters(values, ret);
}

bool recovery_key_is_canonical(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= RECOVERY_KEY_LENGTH)
			return false;
		if ((i + 1) % (RECOVERY_KEY_GROUP + 1) == 0) {
			if (s[i] != '-')
				return false;
		} else if (!(s[i] >= 'a' && s[i] <= 'z' && letter_value(s[i]) >= 0))
			return false;
	}
	return i == RECOVERY_KEY_LENGTH;
}
