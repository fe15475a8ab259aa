/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * deb822 control data (Packages, Release, dpkg status, our lock files):
 * paragraphs of "Field: value" lines separated by blank lines; continuation lines
 * start with white space. Field names compare case-insensitively. A continuation
 * line's value keeps its line break and loses its first space character; a line
 * holding only " ." stands for an empty line (as in Description).
 */

#include <stdio.h>

#include "core/macro.h"

struct deb822_field {
	char *name;
	char *value;
	unsigned line;
};

struct deb822_para {
	struct deb822_field *fields;
	size_t n_fields;
	unsigned line; /* of its first field */
};

/* Called for each paragraph; a negative return stops the parse and is returned. */
typedef int (*deb822_cb)(const struct deb822_para *p, void *userdata);

/*
 * Parses text (not NUL-terminated necessarily). On a syntax error returns
 * -EBADMSG with *ret_error_line (optional) set to the offending line.
 */
int deb822_parse(const char *text, size_t size, deb822_cb cb, void *userdata,
		 unsigned *ret_error_line);

/* The value of a field, or NULL. */
const char *deb822_get(const struct deb822_para *p, const char *name);
const struct deb822_field *deb822_get_field(const struct deb822_para *p, const char *name);

/* Writes "Name: value\n", folding a multi-line value into continuation lines. */
int deb822_write_field(FILE *f, const char *name, const char *value);

/* Deep copy of a paragraph, for callers that keep some. */
int deb822_para_copy(const struct deb822_para *p, struct deb822_para **ret);
struct deb822_para *deb822_para_free(struct deb822_para *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct deb822_para *, deb822_para_free);
