/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* airlock-update: one file per verb; what they share. */

#include "core/macro.h"

/* Exit statuses (airlock-update(8)). */
#define EXIT_USAGE 2 /* unknown option, missing argument */
#define EXIT_REFUSED 3 /* the bundle was refused; the reason is printed */

int verb_verify(int argc, char **argv);

/* Logs a usage error naming the verb and returns EXIT_USAGE. */
int usage_error(const char *verb, const char *fmt, ...) _printf_(2, 3);
