/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel command-line splitter and the airlock.* reader (lib/cmdline.c), as
 * airlock-init, the banner and airlock-boot-complete run them on /proc/cmdline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdline *c = NULL;
	struct boot_args a;
	enum boot_failure_action action;
	char *text, *error = NULL;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cmdline_parse(text, &c) == 0) {
		(void)cmdline_get(c, "airlock.slot");
		if (boot_args_parse(c, &a, &error, &action) == 0) {
			if ((a.slot != 'a' && a.slot != 'b') || strlen(a.root_hash_hex) != 64)
				abort();
		} else if (!error)
			abort(); /* every refusal says why */
		free(error);
		cmdline_free(c);
	} else if (c)
		abort(); /* written only on success */
	free(text);
	return 0;
}
