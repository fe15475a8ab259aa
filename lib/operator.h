/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The operator passphrase of an installed appliance (airlock-console(8)): a yescrypt
 * hash (libxcrypt, "$y$...") in OPERATOR_HASH_FILE on the data volume (root, 0600),
 * written by the installer from the passphrase typed twice or the hash an answer file
 * gives, and by the console's passphrase screen. The passphrase itself is never
 * stored, logged or shown.
 *
 * Failed attempts are kept in OPERATOR_ATTEMPTS_FILE, so that neither a restart of the
 * console nor a reboot resets them: after failure n the next attempt is taken only
 * operator_delay(n) seconds later (1, 2, 4, ... up to OPERATOR_DELAY_MAX), and after
 * OPERATOR_LOCKOUT_FAILURES failures in a row no attempt is taken for
 * OPERATOR_LOCKOUT_SEC seconds. A success clears the count.
 */

#include <stdint.h>

#include "core/macro.h"

#define OPERATOR_DIR "/var/lib/airlock/console"
#define OPERATOR_HASH_FILE OPERATOR_DIR "/operator.hash"
#define OPERATOR_ATTEMPTS_FILE OPERATOR_DIR "/attempts"
#define OPERATOR_PASSPHRASE_MIN 8
#define OPERATOR_PASSPHRASE_MAX 256
#define OPERATOR_HASH_MAX 256
#define OPERATOR_DELAY_MAX 30U
#define OPERATOR_LOCKOUT_FAILURES 10U
#define OPERATOR_LOCKOUT_SEC 900U

/* A fresh yescrypt hash of passphrase (random salt); *ret is a malloc'd string. */
int operator_hash_new(const char *passphrase, char **ret);
/* Whether hash is a yescrypt hash libxcrypt accepts: 0, or -EINVAL with *ret_why. */
int operator_hash_check(const char *hash, const char **ret_why);
/* 1 when passphrase matches hash, 0 when not, -errno when hash is unusable. */
int operator_hash_verify(const char *hash, const char *passphrase);
/* Why a new passphrase is refused (too short, too long, not printable), or NULL. */
const char *operator_passphrase_refusal(const char *passphrase);

/* Reads the hash from path: -ENOENT when none is set, -EBADMSG when it is no hash. */
int operator_hash_load(const char *path, char **ret);
/* Writes hash to path atomically (0600), the directory made 0700 if missing. */
int operator_hash_save(const char *path, const char *hash);

struct operator_attempts {
	unsigned failures; /* in a row since the last success */
	int64_t last_failure; /* CLOCK_REALTIME seconds, 0: none */
};

/* A missing or unreadable file reads as no failures... except an unreadable one,
 * which is -errno: the caller refuses attempts rather than forget the count. */
int operator_attempts_load(const char *path, struct operator_attempts *ret);
int operator_attempts_save(const char *path, const struct operator_attempts *a);
/* Seconds the next attempt must wait after n failures in a row. */
unsigned operator_delay(unsigned failures);
/* Seconds from now until an attempt is taken (0: now). */
unsigned operator_wait(const struct operator_attempts *a, int64_t now);
/* Whether the attempts are at the lockout (then operator_wait is the lockout's rest). */
bool operator_locked_out(const struct operator_attempts *a, int64_t now);
