/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "core/fileio.h"
#include "ext/json.h"

static int json_parse_flags(const char *s, size_t n, int flags, struct json_object **ret,
			    char **ret_error)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	enum json_tokener_error e;
	size_t off;

	if (!tok)
		return -ENOMEM;
	if (n > INT32_MAX) {
		json_tokener_free(tok);
		return -EFBIG;
	}
	json_tokener_set_flags(tok, flags);
	o = json_tokener_parse_ex(tok, s, (int)n);
	e = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (!o && e == json_tokener_continue)
		e = json_tokener_error_parse_eof;
	if (e == json_tokener_success && off < n) {
		/* Only white space may follow the value. */
		for (size_t i = off; i < n; i++)
			if (!strchr(" \t\r\n", s[i])) {
				e = json_tokener_error_parse_unexpected;
				off = i;
				break;
			}
	}
	json_tokener_free(tok);
	if (e != json_tokener_success || !o) {
		if (o)
			json_object_put(o);
		if (ret_error) {
			size_t line = 1;
			for (size_t i = 0; i < off && i < n; i++)
				line += s[i] == '\n';
			if (asprintf(ret_error, "line %zu: %s", line, json_tokener_error_desc(e)) <
			    0)
				*ret_error = NULL;
		}
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

int json_parse(const char *s, size_t n, struct json_object **ret, char **ret_error)
{
	return json_parse_flags(s, n, 0, ret, ret_error);
}

/*
 * json-c's strict mode still takes single-quoted object keys ({'a': 1}): find any
 * single quote outside a double-quoted string.
 */
static size_t find_single_quote(const char *s, size_t n)
{
	bool in_string = false;

	for (size_t i = 0; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
		} else if (s[i] == '"')
			in_string = true;
		else if (s[i] == '\'')
			return i;
	}
	return n;
}

int json_parse_strict(const char *s, size_t n, struct json_object **ret, char **ret_error)
{
	size_t q = find_single_quote(s, n);

	if (q < n) {
		if (ret_error) {
			size_t line = 1;
			for (size_t i = 0; i < q; i++)
				line += s[i] == '\n';
			if (asprintf(ret_error, "line %zu: single quote outside a string", line) <
			    0)
				*ret_error = NULL;
		}
		return -EBADMSG;
	}
	/* Trailing white space is still checked (and allowed) by json_parse_flags(). */
	return json_parse_flags(s, n,
				JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					JSON_TOKENER_VALIDATE_UTF8,
				ret, ret_error);
}

int json_load_file(const char *path, size_t max_size, struct json_object **ret, char **ret_error)
{
	_cleanup_free_ char *buf = NULL;
	size_t n;
	int r = read_full_file(path, max_size, &buf, &n);

	if (r < 0)
		return r;
	return json_parse(buf, n, ret, ret_error);
}

char *json_format_pretty(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_SPACED |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	char *r = NULL;

	if (!s || asprintf(&r, "%s\n", s) < 0)
		return NULL;
	return r;
}

const char *json_format_compact(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
}

int json_write_file_atomic(const char *path, struct json_object *o)
{
	_cleanup_free_ char *s = json_format_pretty(o);
	if (!s)
		return -ENOMEM;
	return write_file_atomic(path, s, strlen(s), 0644);
}

int json_add(struct json_object *o, const char *key, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	if (json_object_object_add(o, key, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

int json_add_string(struct json_object *o, const char *key, const char *value)
{
	return json_add(o, key, json_object_new_string(value));
}

int json_add_int(struct json_object *o, const char *key, int64_t value)
{
	return json_add(o, key, json_object_new_int64(value));
}

int json_add_bool(struct json_object *o, const char *key, bool value)
{
	return json_add(o, key, json_object_new_boolean(value));
}

int json_array_add(struct json_object *a, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	if (json_object_array_add(a, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

int json_array_add_string(struct json_object *a, const char *value)
{
	return json_array_add(a, json_object_new_string(value));
}

static int get_typed(struct json_object *o, const char *key, enum json_type t,
		     struct json_object **ret)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (!json_object_object_get_ex(o, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, t))
		return -EINVAL;
	*ret = v;
	return 0;
}

int json_get_string(struct json_object *o, const char *key, const char **ret)
{
	struct json_object *v;
	int r = get_typed(o, key, json_type_string, &v);
	if (r < 0)
		return r;
	*ret = json_object_get_string(v);
	return 0;
}

int json_get_int(struct json_object *o, const char *key, int64_t *ret)
{
	struct json_object *v;
	int r = get_typed(o, key, json_type_int, &v);
	if (r < 0)
		return r;
	errno = 0;
	*ret = json_object_get_int64(v);
	return errno == EINVAL ? -ERANGE : 0;
}

int json_get_uint64(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;
	int r = get_typed(o, key, json_type_int, &v);
	if (r < 0)
		return r;
	if (json_object_get_int64(v) < 0)
		return -ERANGE;
	*ret = json_object_get_uint64(v);
	return 0;
}

int json_get_bool(struct json_object *o, const char *key, bool *ret)
{
	struct json_object *v;
	int r = get_typed(o, key, json_type_boolean, &v);
	if (r < 0)
		return r;
	*ret = json_object_get_boolean(v);
	return 0;
}

int json_get_object(struct json_object *o, const char *key, struct json_object **ret)
{
	return get_typed(o, key, json_type_object, ret);
}

int json_get_array(struct json_object *o, const char *key, struct json_object **ret)
{
	return get_typed(o, key, json_type_array, ret);
}
