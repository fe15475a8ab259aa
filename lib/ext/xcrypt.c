/* SPDX-License-Identifier: Apache-2.0 */
#include <crypt.h>

#include "core/secret.h"
#include "ext/xcrypt.h"

/* crypt_rn() into secret memory: the output, or NULL on failure ("*" outputs too). */
static char *hash_with(const char *passphrase, const char *setting, struct crypt_data *cd)
{
	char *out = crypt_rn(passphrase, setting, cd, sizeof(*cd));

	return out && out[0] != '*' ? out : NULL;
}

int xcrypt_hash_new(const char *prefix, const char *passphrase, char **ret)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *out;

	/* count 0: the method's default cost; rbytes NULL: the salt from getrandom(). */
	if (!crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)))
		return errno > 0 ? -errno : -EINVAL;
	cd = secret_alloc(sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	out = hash_with(passphrase, setting, cd);
	*ret = out ? strdup(out) : NULL;
	secret_free(cd);
	if (!out)
		return -EINVAL;
	return *ret ? 0 : -ENOMEM;
}

int xcrypt_hash_usable(const char *hash)
{
	struct crypt_data *cd = secret_alloc(sizeof(*cd));
	int r;

	if (!cd)
		return -ENOMEM;
	/* Hashing anything with it as the setting fails unless it is well formed; and a
	 * whole hash (not a bare setting, which no passphrase would ever match) gives an
	 * output as long as itself, differing only after its last '$'. */
	{
		const char *out = hash_with("", hash, cd), *dollar = strrchr(hash, '$');
		size_t keep = dollar ? (size_t)(dollar - hash) + 1 : 0;

		r = out && strlen(out) == strlen(hash) && keep > 0 && keep < strlen(hash) &&
				    strncmp(out, hash, keep) == 0 ?
			    0 :
			    -EINVAL;
	}
	secret_free(cd);
	return r;
}

int xcrypt_verify(const char *hash, const char *passphrase)
{
	struct crypt_data *cd = secret_alloc(sizeof(*cd));
	const char *out;
	int r;

	if (!cd)
		return -ENOMEM;
	out = hash_with(passphrase, hash, cd);
	if (!out)
		r = -EBADMSG;
	else {
		size_t n = strlen(hash);
		unsigned char d = 0;

		if (strlen(out) != n)
			d = 1;
		else
			for (size_t i = 0; i < n; i++) /* constant time in the hash's length */
				d |= (unsigned char)(out[i] ^ hash[i]);
		r = d == 0;
	}
	secret_free(cd);
	return r;
}
