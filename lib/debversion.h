/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Debian package versions ([epoch:]upstream_version[-debian_revision]) and their
 * ordering as Debian policy §5.6.12 defines it: epochs numerically, then the upstream
 * version and the revision each compared as alternating non-digit and digit parts,
 * where '~' sorts before everything (even the end of the string), letters before
 * other characters, and digit parts compare as numbers. A missing revision equals
 * "0"; a missing epoch equals 0.
 */

#include "core/macro.h"

/* True if v is a well-formed version by policy §5.6.12. */
bool debversion_is_valid(const char *v);

/* <0, 0 or >0 as a sorts before, equal to or after b. Both should be valid. */
int debversion_compare(const char *a, const char *b);
