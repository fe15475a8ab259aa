/* SPDX-License-Identifier: Apache-2.0 */
#include "hashmap.h"

struct bucket {
	const char *key; /* NULL: empty; TOMBSTONE: deleted */
	void *value;
	uint64_t hash;
};

struct hashmap {
	struct bucket *buckets;
	size_t n_buckets; /* power of two */
	size_t n_entries;
	size_t n_used; /* entries + tombstones */
};

static const char tombstone[1];
#define TOMBSTONE (&tombstone[0])

static uint64_t hash_str(const char *s)
{
	/* FNV-1a, then a final mix. */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct hashmap *hashmap_new(void)
{
	struct hashmap *h = new0(struct hashmap, 1);

	if (!h)
		return NULL;
	h->n_buckets = 64;
	h->buckets = calloc(h->n_buckets, sizeof(struct bucket));
	if (!h->buckets)
		return mfree(h);
	return h;
}

struct hashmap *hashmap_free(struct hashmap *h)
{
	if (!h)
		return NULL;
	free(h->buckets);
	free(h);
	return NULL;
}

static struct bucket *find(const struct hashmap *h, const char *key, uint64_t hash)
{
	size_t mask = h->n_buckets - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct bucket *b = &h->buckets[i];
		if (!b->key)
			return NULL;
		if (b->key != TOMBSTONE && b->hash == hash && streq(b->key, key))
			return b;
	}
}

static void insert_fresh(struct bucket *buckets, size_t n, const char *key, void *value,
			 uint64_t hash)
{
	size_t mask = n - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask)
		if (!buckets[i].key || buckets[i].key == TOMBSTONE) {
			buckets[i] = (struct bucket){ .key = key, .value = value, .hash = hash };
			return;
		}
}

static int grow(struct hashmap *h)
{
	size_t n = h->n_entries * 4 > h->n_buckets ? h->n_buckets * 2 : h->n_buckets;
	struct bucket *nb = calloc(n, sizeof(struct bucket));

	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_buckets; i++) {
		struct bucket *b = &h->buckets[i];
		if (b->key && b->key != TOMBSTONE)
			insert_fresh(nb, n, b->key, b->value, b->hash);
	}
	free(h->buckets);
	h->buckets = nb;
	h->n_buckets = n;
	h->n_used = h->n_entries;
	return 0;
}

int hashmap_replace(struct hashmap *h, const char *key, void *value, void **ret_old)
{
	uint64_t hash = hash_str(key);
	struct bucket *b = find(h, key, hash);

	if (b) {
		if (ret_old)
			*ret_old = b->value;
		b->key = key;
		b->value = value;
		return 0;
	}
	if ((h->n_used + 1) * 4 >= h->n_buckets * 3) {
		int r = grow(h);
		if (r < 0)
			return r;
	}
	{
		size_t mask = h->n_buckets - 1;
		for (size_t i = hash & mask;; i = (i + 1) & mask) {
			struct bucket *e = &h->buckets[i];
			if (!e->key || e->key == TOMBSTONE) {
				if (!e->key)
					h->n_used++;
				*e = (struct bucket){ .key = key, .value = value, .hash = hash };
				break;
			}
		}
	}
	h->n_entries++;
	if (ret_old)
		*ret_old = NULL;
	return 0;
}

int hashmap_put(struct hashmap *h, const char *key, void *value)
{
	if (find(h, key, hash_str(key)))
		return -EEXIST;
	return hashmap_replace(h, key, value, NULL);
}

void *hashmap_get(const struct hashmap *h, const char *key)
{
	struct bucket *b = find(h, key, hash_str(key));
	return b ? b->value : NULL;
}

void *hashmap_remove(struct hashmap *h, const char *key)
{
	struct bucket *b = find(h, key, hash_str(key));
	void *v;

	if (!b)
		return NULL;
	v = b->value;
	b->key = TOMBSTONE;
	b->value = NULL;
	h->n_entries--;
	return v;
}

size_t hashmap_size(const struct hashmap *h)
{
	return h ? h->n_entries : 0;
}

bool hashmap_iterate(const struct hashmap *h, size_t *i, const char **ret_key, void **ret_value)
{
	for (; *i < h->n_buckets; (*i)++) {
		struct bucket *b = &h->buckets[*i];
		if (b->key && b->key != TOMBSTONE) {
			if (ret_key)
				*ret_key = b->key;
			if (ret_value)
				*ret_value = b->value;
			(*i)++;
			return true;
		}
	}
	return false;
}
