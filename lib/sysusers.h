/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Users and groups for an image that no maintainer script ran in: sysusers.d(5)
 * lines in (from the image's sysusers.d files, then the manifest), /etc/passwd,
 * /etc/group, /etc/shadow and /etc/gshadow out. Supported: "u" (with "-", UID,
 * UID:GID or UID:GROUP), "g", "m" and "r" lines. Allocation is deterministic:
 * fixed ids first, then free ids from the top of the system range downwards, in
 * the order the lines came; a user without a fixed group gets a group of its own
 * name, with the uid as gid when that is free. All passwords are locked.
 */

#include <stdint.h>
#include <sys/types.h>

#include "core/macro.h"

struct sysusers;

int sysusers_new(struct sysusers **ret);
struct sysusers *sysusers_free(struct sysusers *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sysusers *, sysusers_free);

/*
 * Adds one line; origin ("FILE:LINE") is used in errors. Blank and comment lines
 * are accepted and ignored. A name already declared keeps its first declaration.
 * -EBADMSG with *ret_error on a malformed line.
 */
int sysusers_add_line(struct sysusers *s, const char *line, const char *origin, char **ret_error);
/* Adds every line of a text (a sysusers.d file). */
int sysusers_add_text(struct sysusers *s, const char *text, const char *file, char **ret_error);
/* Assigns ids; -EBADMSG with *ret_error when a fixed id is taken or a range runs out. */
int sysusers_allocate(struct sysusers *s, char **ret_error);
/* Renders the four files (sorted by id), shadow dates from epoch. */
int sysusers_render(const struct sysusers *s, int64_t epoch, char **ret_passwd, char **ret_group,
		    char **ret_shadow, char **ret_gshadow);
/* Looks up an allocated id; -ENOENT if unknown. */
int sysusers_uid(const struct sysusers *s, const char *user, uid_t *ret);
int sysusers_gid(const struct sysusers *s, const char *group, gid_t *ret);
