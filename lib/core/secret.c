/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/mman.h>

#include "secret.h"

struct secret_header {
	size_t map_size;
	size_t size;
};

#define HEADER_SIZE ALIGN_TO(sizeof(struct secret_header), 16)

void *secret_alloc(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t map_size = ALIGN_TO(HEADER_SIZE + size, (size_t)(page > 0 ? page : 4096));
	struct secret_header *h;

	h = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	/* Locking can fail without CAP_IPC_LOCK beyond RLIMIT_MEMLOCK; the rest still holds. */
	(void)mlock(h, map_size);
	(void)madvise(h, map_size, MADV_DONTDUMP);
	(void)madvise(h, map_size, MADV_WIPEONFORK);
	h->map_size = map_size;
	h->size = size;
	return (uint8_t *)h + HEADER_SIZE;
}

size_t secret_size(const void *p)
{
	const struct secret_header *h = (const void *)((const uint8_t *)p - HEADER_SIZE);
	return p ? h->size : 0;
}

void *secret_free(void *p)
{
	struct secret_header *h;
	size_t map_size;

	if (!p)
		return NULL;
	h = (void *)((uint8_t *)p - HEADER_SIZE);
	map_size = h->map_size;
	explicit_bzero(h, map_size);
	(void)munlock(h, map_size);
	munmap(h, map_size);
	return NULL;
}
