/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-console hash-passphrase: reads an operator passphrase (twice on a terminal,
 * without echo; once from a pipe) and prints its yescrypt hash. The passphrase never
 * appears anywhere.
 */
#include <getopt.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "core/log.h"
#include "core/secret.h"
#include "core/verb.h"
#include "operator.h"
#include "verbs.h"

static int read_one(const char *prompt, bool tty, char **ret)
{
	const int fds[] = { STDIN_FILENO };
	struct termios saved;
	bool echo_off = false;
	int r;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		echo_off = secret_echo_off(STDIN_FILENO, &saved) == 0;
	}
	r = secret_read_line(fds, 1, OPERATOR_PASSPHRASE_MAX, ret, NULL);
	if (echo_off) {
		(void)secret_echo_restore(STDIN_FILENO, &saved);
		fputc('\n', stderr);
	}
	return r;
}

int verb_hash_passphrase(int argc, char **argv)
{
	static const struct option options[] = { { "help", no_argument, NULL, 'h' }, {} };
	_cleanup_secret_ char *a = NULL, *b = NULL;
	_cleanup_free_ char *hash = NULL;
	const char *why;
	bool tty = isatty(STDIN_FILENO);
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			printf("Usage: airlock-console hash-passphrase\n"
			       "\n"
			       "Reads an operator passphrase from standard input (twice, without\n"
			       "echo, on a terminal) and prints its yescrypt hash, the form in which\n"
			       "the console keeps it. At least %d and at most %d printable\n"
			       "characters.\n",
			       OPERATOR_PASSPHRASE_MIN, OPERATOR_PASSPHRASE_MAX);
			return EXIT_SUCCESS;
		default:
			return EXIT_USAGE;
		}
	if (optind < argc)
		return usage_error("hash-passphrase", "unexpected argument '%s'", argv[optind]);

	r = read_one("Operator passphrase: ", tty, &a);
	if (r == -E2BIG)
		return log_error("the passphrase is too long: at most %d characters",
				 OPERATOR_PASSPHRASE_MAX),
		       EXIT_FAILURE;
	if (r < 0)
		return log_error_errno(r, "reading the passphrase: %m"), EXIT_FAILURE;
	why = operator_passphrase_refusal(a);
	if (why)
		return log_error("the passphrase is refused: %s", why), EXIT_FAILURE;
	if (tty) {
		r = read_one("The same again: ", tty, &b);
		if (r < 0)
			return log_error_errno(r, "reading the passphrase: %m"), EXIT_FAILURE;
		if (!streq(a, b))
			return log_error("the two passphrases differ; nothing printed"),
			       EXIT_FAILURE;
	}
	r = operator_hash_new(a, &hash);
	if (r < 0)
		return log_error_errno(r, "hashing the passphrase: %m"), EXIT_FAILURE;
	printf("%s\n", hash);
	return EXIT_SUCCESS;
}
