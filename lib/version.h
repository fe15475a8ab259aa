/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Airlock image versions (IMAGE_VERSION, manifest.json's version and min_version):
 * digits separated by single dots, compared field by field as numbers, so that 1.10 is
 * newer than 1.9. Pure. (Debian package versions are lib/debversion.)
 */

#include <stdbool.h>

/* True if s is a version: digits separated by single dots ("1", "2026.11.1"). */
bool version_is_valid(const char *s);
/* Compares two valid versions numerically, field by field; missing fields are 0. */
int version_compare(const char *a, const char *b);
