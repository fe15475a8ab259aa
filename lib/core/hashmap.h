/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A string-keyed hash map (open addressing). Keys are not copied: a key must stay
 * valid while its entry is in the map (typically it points into the value).
 */

#include "macro.h"

struct hashmap;

struct hashmap *hashmap_new(void);
/* Frees the map, not the keys or values. NULL-safe. */
struct hashmap *hashmap_free(struct hashmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hashmap *, hashmap_free);
/* -EEXIST if the key is present (the map is unchanged). */
int hashmap_put(struct hashmap *h, const char *key, void *value);
/* Replaces or inserts; returns the old value (or NULL) through ret_old. */
int hashmap_replace(struct hashmap *h, const char *key, void *value, void **ret_old);
void *hashmap_get(const struct hashmap *h, const char *key);
/* Removes and returns the value, or NULL. */
void *hashmap_remove(struct hashmap *h, const char *key);
size_t hashmap_size(const struct hashmap *h);
/* Iteration: start with *i = 0; returns false at the end. Order is unspecified. */
bool hashmap_iterate(const struct hashmap *h, size_t *i, const char **ret_key, void **ret_value);
