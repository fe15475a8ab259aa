/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ELF reader of the initramfs stage (lib/elfinfo.c): every file it meets comes
 * from the image tree, i.e. from packages.
 */
#include <stdint.h>
#include <stdlib.h>

#include "elfinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_info *e = NULL;

	if (elf_info_parse(data, size, &e) == 0) {
		if (!e->needed)
			abort();
		elf_info_free(e);
	} else if (e)
		abort(); /* written only on success */
	return 0;
}
