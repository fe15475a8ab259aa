/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * os-release(5) reading: KEY=VALUE lines, values optionally in single or double
 * quotes (backslash escapes \" \\ \$ \` inside double quotes), '#' comments. Pure.
 */

#include "core/macro.h"

/* The value of key, unquoted; -ENOENT if absent, -EBADMSG if its line is malformed. */
int osrelease_get(const char *text, const char *key, char **ret);
