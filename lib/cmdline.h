/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The kernel command line (/proc/cmdline, the UKI's .cmdline): splitting it into
 * words as the kernel does, and reading Airlock's own airlock.* keys. Pure: no I/O.
 *
 * Words are separated by white space; double quotes protect white space and are
 * removed ("a=\"b c\"" and "\"a=b c\"" both give key a, value "b c"). A word without
 * '=' is a key with no value. When a key repeats, the last one counts, as the kernel
 * does for its own parameters.
 */

#include <stdint.h>

#include "core/macro.h"

#define CMDLINE_MAX_SIZE 4096

struct cmdline_word {
	char *key;
	char *value; /* NULL: the word had no '=' */
};

struct cmdline {
	struct cmdline_word *words;
	size_t n_words;
};

/* -EINVAL for an unterminated quote or a control character; -E2BIG if too long. */
int cmdline_parse(const char *text, struct cmdline **ret);
struct cmdline *cmdline_free(struct cmdline *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cmdline *, cmdline_free);

/* The last word with this key, or NULL. */
const struct cmdline_word *cmdline_find(const struct cmdline *c, const char *key);
/* Its value ("" for a key without '=') or NULL when absent. */
const char *cmdline_get(const struct cmdline *c, const char *key);

enum boot_failure_action {
	BOOT_FAILURE_HALT,
	BOOT_FAILURE_REBOOT,
	_BOOT_FAILURE_MAX,
	_BOOT_FAILURE_INVALID = -EINVAL,
};

const char *boot_failure_action_to_string(enum boot_failure_action a);

#define BOOT_ROOT_HASH_SIZE 32
#define BOOT_DEVICE_TIMEOUT_DEFAULT_SEC 30
#define BOOT_DEVICE_TIMEOUT_MAX_SEC 3600

/*
 * airlock.roothash=<64 hex digits>, the one place that reads it: -ENOENT when absent,
 * -EBADMSG when it is not a sha256 in hex. (roothash=, systemd's, is not ours.)
 */
int cmdline_root_hash(const struct cmdline *c, uint8_t ret[BOOT_ROOT_HASH_SIZE]);
/* The same from a command line's text (a UKI's .cmdline, /proc/cmdline). */
int cmdline_text_root_hash(const char *text, uint8_t ret[BOOT_ROOT_HASH_SIZE]);

/* What airlock-init, the banner and the boot-complete unit read from the command line. */
struct boot_args {
	char slot; /* 'a' or 'b' */
	uint8_t root_hash[BOOT_ROOT_HASH_SIZE];
	char root_hash_hex[2 * BOOT_ROOT_HASH_SIZE + 1]; /* lower case */
	enum boot_failure_action on_failure;
	bool debug;
	unsigned device_timeout_sec;
};

/*
 * Reads airlock.slot=a|b and airlock.roothash=<64 hex> (both required),
 * airlock.on_failure=halt|reboot (default halt; parsed first, so that a failure in
 * the others still knows what to do, see below), airlock.debug[=bool] and
 * airlock.device_timeout=SECONDS (default 30). An unknown airlock.* key is refused:
 * a typo must not be ignored silently.
 *
 * On failure returns -EINVAL and, if given, a one-line *ret_error naming the key
 * and what is wrong. *ret_on_failure (optional) always receives the failure action
 * that could be read (halt when it could not), even when parsing fails.
 */
int boot_args_parse(const struct cmdline *c, struct boot_args *ret, char **ret_error,
		    enum boot_failure_action *ret_on_failure);

/* Reads a command-line file (normally /proc/cmdline) and parses it as above. */
int boot_args_load(const char *path, struct boot_args *ret, char **ret_error);

/*
 * The slot airlock-init booted. airlock.slot= names the slot it tries first; when that
 * slot is missing or does not match the root hash it boots the other one (see
 * airlock-init(8)), and writes the slot it booted, "a\n" or "b\n", to this file on the
 * /run it hands to systemd.
 */
#define BOOT_SLOT_PATH "/run/airlock/slot"

/* "a" or "b", optionally followed by one newline; -EINVAL for anything else. */
int boot_slot_parse(const char *text, char *ret);
/* Reads and parses such a file: -ENOENT when it does not exist (then the command line's
 * airlock.slot= is the slot booted: an initramfs that always boots it). */
int boot_slot_load(const char *path, char *ret);
