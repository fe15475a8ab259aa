/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Memory for secrets (volume keys, recovery keys, TPM auth values): its own
 * mapping, locked against swapping, excluded from core dumps, and wiped with
 * explicit_bzero() when freed. Never log, print or pass a secret in argv or env.
 */

#include <stdint.h>

#include "macro.h"

void *secret_alloc(size_t size);
/* Wipes and unmaps; NULL-safe; returns NULL. */
void *secret_free(void *p);
size_t secret_size(const void *p);
static inline void secret_freep(void *p)
{
	secret_free(*(void **)p);
}
#define _cleanup_secret_ _cleanup_(secret_freep)
