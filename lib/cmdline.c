/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "cmdline.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/hex.h"
#include "core/parse.h"

static int push_word(struct cmdline *c, const char *w, size_t n)
{
	_cleanup_free_ char *key = strndup(w, n);
	struct cmdline_word *words;
	char *eq, *value = NULL;

	if (!key)
		return -ENOMEM;
	eq = strchr(key, '=');
	if (eq) {
		value = strdup(eq + 1);
		if (!value)
			return -ENOMEM;
		*eq = '\0';
	}
	words = reallocarray(c->words, c->n_words + 1, sizeof(*words));
	if (!words) {
		free(value);
		return -ENOMEM;
	}
	c->words = words;
	words[c->n_words++] = (struct cmdline_word){ .key = TAKE_PTR(key), .value = value };
	return 0;
}

int cmdline_parse(const char *text, struct cmdline **ret)
{
	_cleanup_(cmdline_freep) struct cmdline *c = new0(struct cmdline, 1);
	_cleanup_free_ char *word = NULL;
	size_t len, n = 0;
	bool quoted = false;
	int r;

	if (!c)
		return -ENOMEM;
	len = strlen(text);
	if (len > CMDLINE_MAX_SIZE)
		return -E2BIG;
	word = malloc(len + 1);
	if (!word)
		return -ENOMEM;

	for (const char *p = text;; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\0' || (!quoted && isspace(ch))) {
			if (ch == '\0' && quoted)
				return -EINVAL;
			if (n > 0) {
				r = push_word(c, word, n);
				if (r < 0)
					return r;
				n = 0;
			}
			if (ch == '\0')
				break;
			continue;
		}
		if (ch == '"') {
			quoted = !quoted;
			continue;
		}
		/* Tabs and newlines are white space above; other control bytes are refused. */
		if (iscntrl(ch))
			return -EINVAL;
		word[n++] = (char)ch;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

struct cmdline *cmdline_free(struct cmdline *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_words; i++) {
		free(c->words[i].key);
		free(c->words[i].value);
	}
	free(c->words);
	free(c);
	return NULL;
}

const struct cmdline_word *cmdline_find(const struct cmdline *c, const char *key)
{
	if (!c)
		return NULL;
	for (size_t i = c->n_words; i > 0; i--)
		if (streq(c->words[i - 1].key, key))
			return &c->words[i - 1];
	return NULL;
}

const char *cmdline_get(const struct cmdline *c, const char *key)
{
	const struct cmdline_word *w = cmdline_find(c, key);

	if (!w)
		return NULL;
	return w->value ?: "";
}

const char *boot_failure_action_to_string(enum boot_failure_action a)
{
	switch (a) {
	case BOOT_FAILURE_HALT:
		return "halt";
	case BOOT_FAILURE_REBOOT:
		return "reboot";
	default:
		return NULL;
	}
}

static const char *const known_keys[] = {
	"airlock.slot",	 "airlock.roothash",	   "airlock.on_failure",
	"airlock.debug", "airlock.device_timeout",
};

int cmdline_root_hash(const struct cmdline *c, uint8_t ret[BOOT_ROOT_HASH_SIZE])
{
	const char *v = cmdline_get(c, "airlock.roothash");

	if (!v)
		return -ENOENT;
	if (strlen(v) != 2 * BOOT_ROOT_HASH_SIZE || unhex_exact(v, ret, BOOT_ROOT_HASH_SIZE) < 0)
		return -EBADMSG;
	return 0;
}

int cmdline_text_root_hash(const char *text, uint8_t ret[BOOT_ROOT_HASH_SIZE])
{
	_cleanup_(cmdline_freep) struct cmdline *c = NULL;
	int r = cmdline_parse(text, &c);

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -EBADMSG;
	return cmdline_root_hash(c, ret);
}

int boot_args_parse(const struct cmdline *c, struct boot_args *ret, char **ret_error,
		    enum boot_failure_action *ret_on_failure)
{
	struct boot_args a = {
		.on_failure = BOOT_FAILURE_HALT,
		.device_timeout_sec = BOOT_DEVICE_TIMEOUT_DEFAULT_SEC,
	};
	const struct cmdline_word *w;
	const char *v;
	int r;

	if (ret_on_failure)
		*ret_on_failure = BOOT_FAILURE_HALT;

	/* First, so that every later error knows whether to halt or reboot. */
	w = cmdline_find(c, "airlock.on_failure");
	if (w) {
		if (streq_ptr(w->value, "halt"))
			a.on_failure = BOOT_FAILURE_HALT;
		else if (streq_ptr(w->value, "reboot"))
			a.on_failure = BOOT_FAILURE_REBOOT;
		else
			return error_set(
				ret_error, -EINVAL,
				"airlock.on_failure=%s is not valid (halt or reboot); halting",
				strempty(w->value));
		if (ret_on_failure)
			*ret_on_failure = a.on_failure;
	}

	for (size_t i = 0; c && i < c->n_words; i++) {
		bool known = false;

		if (!startswith(c->words[i].key, "airlock."))
			continue;
		for (size_t k = 0; k < ELEMENTSOF(known_keys); k++)
			known = known || streq(known_keys[k], c->words[i].key);
		if (!known)
			return error_set(ret_error, -EINVAL,
					 "unknown key %s on the kernel command line",
					 c->words[i].key);
	}

	w = cmdline_find(c, "airlock.slot");
	if (!w)
		return error_set(ret_error, -EINVAL,
				 "airlock.slot= is missing from the kernel command line");
	if (!streq_ptr(w->value, "a") && !streq_ptr(w->value, "b"))
		return error_set(ret_error, -EINVAL, "airlock.slot=%s is not valid (a or b)",
				 strempty(w->value));
	a.slot = w->value[0];

	r = cmdline_root_hash(c, a.root_hash);
	w = cmdline_find(c, "airlock.roothash");
	if (r == -ENOENT)
		return error_set(ret_error, -EINVAL,
				 "airlock.roothash= is missing from the kernel command line");
	if (r < 0)
		return error_set(
			ret_error, -EINVAL,
			"airlock.roothash=%.80s is not valid (64 hex digits, a sha256 root hash)",
			strempty(w->value));
	hex_to_buf(a.root_hash, BOOT_ROOT_HASH_SIZE, a.root_hash_hex);

	w = cmdline_find(c, "airlock.debug");
	if (w) {
		if (!w->value)
			a.debug = true;
		else {
			r = parse_boolean(w->value);
			if (r < 0)
				return error_set(ret_error, -EINVAL,
						 "airlock.debug=%s is not a boolean", w->value);
			a.debug = r;
		}
	}

	v = cmdline_get(c, "airlock.device_timeout");
	if (v && (safe_atou(v, &a.device_timeout_sec) < 0 || a.device_timeout_sec == 0 ||
		  a.device_timeout_sec > BOOT_DEVICE_TIMEOUT_MAX_SEC))
		return error_set(ret_error, -EINVAL,
				 "airlock.device_timeout=%s is not valid (seconds, 1 to %u)", v,
				 BOOT_DEVICE_TIMEOUT_MAX_SEC);

	*ret = a;
	return 0;
}

int boot_args_load(const char *path, struct boot_args *ret, char **ret_error)
{
	_cleanup_(cmdline_freep) struct cmdline *c = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_full_file(path, CMDLINE_MAX_SIZE + 1, &text, NULL);
	if (r < 0) {
		if (ret_error && asprintf(ret_error, "cannot read %s: %s", path, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	r = cmdline_parse(text, &c);
	if (r < 0) {
		if (ret_error && asprintf(ret_error,
					  "%s: cannot split into words (unbalanced quote, "
					  "control character or too long)",
					  path) < 0)
			*ret_error = NULL;
		return r;
	}
	return boot_args_parse(c, ret, ret_error, NULL);
}

int boot_slot_parse(const char *text, char *ret)
{
	if (!text || (text[0] != 'a' && text[0] != 'b') ||
	    !(text[1] == '\0' || (text[1] == '\n' && text[2] == '\0')))
		return -EINVAL;
	*ret = text[0];
	return 0;
}

int boot_slot_load(const char *path, char *ret)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	r = read_full_file(path, 16, &text, &size);
	if (r < 0)
		return r;
	if (strlen(text) != size)
		return -EINVAL;
	return boot_slot_parse(text, ret);
}
