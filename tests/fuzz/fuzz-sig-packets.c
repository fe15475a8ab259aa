/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The framing check of a detached OpenPGP signature (lib/ext/sig.c sig_detached_check),
 * which reads manifest.json.sig off the media before gpg sees it: any bytes, never a
 * read past the end, and every refusal with a reason.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ext/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees overreads */
	char *why = NULL;
	int r;

	if (!copy)
		return 0;
	for (size_t i = 0; i < size; i++)
		copy[i] = data[i];
	r = sig_detached_check(copy, size, &why);
	if (r < 0 && !why)
		abort();
	if (r == 0 && (why || size == 0))
		abort();
	free(why);
	free(copy);
	return 0;
}
