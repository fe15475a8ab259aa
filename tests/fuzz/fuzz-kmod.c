/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modules.dep, modules.builtin and the initramfs's module list (lib/kmod.c): parse,
 * then take the dependency closure of every module the input names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"
#include "kmod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmod_dep *d = NULL;
	char *text, **names = NULL, **order = NULL, **list = NULL, **builtin = NULL;
	char *missing = NULL;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kmod_dep_parse(text, &d, NULL) == 0) {
		for (size_t i = 0; i < d->n_entries && i < 64; i++)
			(void)strv_extend(&names, d->entries[i].name);
		if (kmod_dep_closure(d, names, NULL, &order, &missing) == 0) {
			/* every module once */
			for (size_t i = 0; order[i]; i++)
				for (size_t j = i + 1; order[j]; j++)
					if (strcmp(order[i], order[j]) == 0)
						abort();
		}
		strv_free(order);
		free(missing);
		strv_free(names);
		kmod_dep_free(d);
	}
	if (kmod_list_parse(text, &list, NULL) == 0)
		strv_free(list);
	if (kmod_builtin_parse(text, &builtin) == 0)
		strv_free(builtin);
	free(text);
	return 0;
}
