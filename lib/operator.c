/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/parse.h"
#include "ext/xcrypt.h"
#include "operator.h"

#define YESCRYPT_PREFIX "$y$"

int operator_hash_new(const char *passphrase, char **ret)
{
	if (operator_passphrase_refusal(passphrase))
		return -EINVAL;
	return xcrypt_hash_new(YESCRYPT_PREFIX, passphrase, ret);
}

int operator_hash_check(const char *hash, const char **ret_why)
{
	const char *why = NULL;

	if (!hash || !startswith(hash, YESCRYPT_PREFIX))
		why = "not a yescrypt hash (it must begin with $y$; make one with "
		      "airlock-console hash-passphrase)";
	else if (strlen(hash) > OPERATOR_HASH_MAX)
		why = "longer than a yescrypt hash can be";
	else if (strcspn(hash, " \t\r\n:") != strlen(hash))
		why = "contains white space or ':'";
	else if (xcrypt_hash_usable(hash) < 0)
		why = "not a hash libxcrypt accepts (malformed parameters or salt)";
	if (ret_why)
		*ret_why = why;
	return why ? -EINVAL : 0;
}

int operator_hash_verify(const char *hash, const char *passphrase)
{
	if (operator_hash_check(hash, NULL) < 0)
		return -EBADMSG;
	return xcrypt_verify(hash, passphrase);
}

const char *operator_passphrase_refusal(const char *passphrase)
{
	size_t n = passphrase ? strlen(passphrase) : 0;

	if (n < OPERATOR_PASSPHRASE_MIN)
		return "too short: at least 8 characters";
	if (n > OPERATOR_PASSPHRASE_MAX)
		return "too long: at most 256 characters";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)passphrase[i] < 0x20 || passphrase[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

int operator_hash_load(const char *path, char **ret)
{
	_cleanup_free_ char *line = NULL;
	int r;

	r = read_line_file(path, OPERATOR_HASH_MAX + 2, &line);
	if (r < 0)
		return r;
	if (operator_hash_check(line, NULL) < 0)
		return -EBADMSG;
	*ret = TAKE_PTR(line);
	return 0;
}

int operator_hash_save(const char *path, const char *hash)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (operator_hash_check(hash, NULL) < 0)
		return -EINVAL;
	r = mkdir_parents(path, 0700);
	if (r < 0)
		return r;
	if (asprintf(&text, "%s\n", hash) < 0)
		return -ENOMEM;
	return write_file_atomic(path, text, strlen(text), 0600);
}

int operator_attempts_load(const char *path, struct operator_attempts *ret)
{
	_cleanup_free_ char *line = NULL;
	unsigned failures;
	int64_t last;
	int r, n = 0;

	*ret = (struct operator_attempts){ 0 };
	r = read_line_file(path, 64, &line);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (sscanf(line, "%u %" SCNd64 "%n", &failures, &last, &n) != 2 || line[n] != '\0' ||
	    last < 0)
		return -EBADMSG;
	*ret = (struct operator_attempts){ .failures = failures, .last_failure = last };
	return 0;
}

int operator_attempts_save(const char *path, const struct operator_attempts *a)
{
	char text[64];
	int r;

	r = mkdir_parents(path, 0700);
	if (r < 0)
		return r;
	(void)snprintf(text, sizeof(text), "%u %" PRId64 "\n", a->failures, a->last_failure);
	return write_file_atomic(path, text, strlen(text), 0600);
}

unsigned operator_delay(unsigned failures)
{
	if (failures == 0)
		return 0;
	if (failures >= OPERATOR_LOCKOUT_FAILURES)
		return OPERATOR_LOCKOUT_SEC;
	if (failures > 6)
		return OPERATOR_DELAY_MAX;
	return MIN(1U << (failures - 1), OPERATOR_DELAY_MAX);
}

bool operator_locked_out(const struct operator_attempts *a, int64_t now)
{
	return a->failures >= OPERATOR_LOCKOUT_FAILURES && operator_wait(a, now) > 0;
}

unsigned operator_wait(const struct operator_attempts *a, int64_t now)
{
	int64_t until = a->last_failure + (int64_t)operator_delay(a->failures);

	/* A clock set back must not stretch the wait: never more than the delay itself. */
	if (now < a->last_failure)
		return operator_delay(a->failures);
	return until > now ? (unsigned)(until - now) : 0;
}
