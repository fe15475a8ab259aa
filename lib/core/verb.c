/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "verb.h"

void verb_list(const struct verb *verbs, size_t n)
{
	int width = 0;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(verbs[i].name) > width)
			width = (int)strlen(verbs[i].name);
	for (size_t i = 0; i < n; i++)
		printf("  %-*s %s\n", width, verbs[i].name, verbs[i].summary);
}

int verb_dispatch(const struct verb *verbs, size_t n, int argc, char **argv)
{
	if (argc < 1 || !argv[0]) {
		log_error("no command given (see '%s --help')", log_get_program_name());
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		if (streq(argv[0], verbs[i].name)) {
			int r = verbs[i].run(argc, argv);
			return r < 0 ? EXIT_FAILURE : r;
		}
	log_error("unknown command '%s' (see '%s --help')", argv[0], log_get_program_name());
	return EXIT_USAGE;
}

int usage_error(const char *verb, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_error("%s: %s (see '%s %s --help')", verb, buf, log_get_program_name(), verb);
	return EXIT_USAGE;
}
