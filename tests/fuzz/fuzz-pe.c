/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PE32+ parser (lib/pe.c) on untrusted input, as an update's UKI is: parse,
 * read every section, append one and checksum the result.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_image *img = NULL;

	if (pe_parse(data, size, &img) < 0) {
		if (img)
			abort(); /* written only on success */
		return 0;
	}
	for (size_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];
		uint8_t *c = NULL;
		size_t n = 0;

		/* Sections that are mostly zero fill are legal but slow to read. */
		if (s->virtual_size > s->raw_size + 65536U)
			continue;
		if (pe_section_read(img, s->name, &c, &n) == 0) {
			if (n != s->virtual_size)
				abort();
			free(c);
		}
	}
	if (pe_section_append(img, ".cmdline", "a=b", 3, PE_SECTION_DATA_RO) == 0 &&
	    !pe_section_find(img, ".cmdline"))
		abort();
	(void)pe_checksum(img);
	pe_image_free(img);
	return 0;
}
