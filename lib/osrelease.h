/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * os-release(5) reading: KEY=VALUE lines, values optionally in single or double
 * quotes (backslash escapes \" \\ \$ \` inside double quotes), '#' comments. Pure.
 */

#include "core/macro.h"

/* The value of key, unquoted; -ENOENT if absent, -EBADMSG if its line is malformed. */
int osrelease_get(const char *text, const char *key, char **ret);

/* The os-release VARIANT_ID of a debug build (airlock-build build --debug), and of a
 * release build. */
#define OSRELEASE_VARIANT_DEBUG "airlock-debug"
#define OSRELEASE_VARIANT_RELEASE "airlock"

/* The version floor's epoch an image carries (lib/tpmfloor.h), written by airlock-build. */
#define OSRELEASE_SECURITY_VERSION "AIRLOCK_SECURITY_VERSION"
/*
 * The image's security version: 0 when the key is absent (images built before the
 * version floor), -EBADMSG when it is not a whole number.
 */
int osrelease_security_version(const char *text, uint64_t *ret);
