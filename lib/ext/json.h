/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * JSON through json-c. Objects keep insertion order, so output is deterministic
 * when callers add keys in a fixed order; numbers are integers only (no floats
 * in anything we sign or hash).
 */

#include <json-c/json.h>
#include <stdint.h>

#include "core/macro.h"

static inline void json_object_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Parses a whole string; on error *ret_error (optional) says where and why. */
int json_parse(const char *s, size_t n, struct json_object **ret, char **ret_error);
/*
 * As json_parse(), for untrusted input: strict RFC 8259 (no comments, single quotes,
 * trailing commas or bare words) and valid UTF-8 only.
 */
int json_parse_strict(const char *s, size_t n, struct json_object **ret, char **ret_error);
int json_load_file(const char *path, size_t max_size, struct json_object **ret, char **ret_error);
/* Pretty (two-space indented) text with a final newline; no escaping of '/'. */
char *json_format_pretty(struct json_object *o);
/* Compact text, no spaces, no escaping of '/'. */
const char *json_format_compact(struct json_object *o);
int json_write_file_atomic(const char *path, struct json_object *o);

/* Adders: -ENOMEM on failure. */
int json_add_string(struct json_object *o, const char *key, const char *value);
int json_add_int(struct json_object *o, const char *key, int64_t value);
int json_add_bool(struct json_object *o, const char *key, bool value);
/* Takes ownership of value, also on failure. */
int json_add(struct json_object *o, const char *key, struct json_object *value);
int json_array_add(struct json_object *a, struct json_object *value);
int json_array_add_string(struct json_object *a, const char *value);

/* Getters: -ENOENT if missing, -EINVAL if of another type. */
int json_get_string(struct json_object *o, const char *key, const char **ret);
int json_get_int(struct json_object *o, const char *key, int64_t *ret);
int json_get_uint64(struct json_object *o, const char *key, uint64_t *ret);
int json_get_bool(struct json_object *o, const char *key, bool *ret);
int json_get_object(struct json_object *o, const char *key, struct json_object **ret);
int json_get_array(struct json_object *o, const char *key, struct json_object **ret);
