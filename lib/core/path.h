/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Path strings: joining and lexical checks. Nothing here touches the file system. */

#include "macro.h"

char *path_join_internal(const char *first, ...);
/* Joins components with exactly one '/' between them; NULL on ENOMEM. */
#define path_join(...) path_join_internal(__VA_ARGS__, NULL)

/*
 * In place: drops leading "./", collapses "//" and "/./", drops a trailing "/" and
 * a lone ".". Leaves ".." alone (see path_has_dotdot()). "./" and "." become "".
 */
char *path_simplify(char *p);
/* True if any component is "..". */
bool path_has_dotdot(const char *p);
static inline bool path_is_absolute(const char *p)
{
	return p && p[0] == '/';
}
/* The last component (after the last '/'); "" for "" or "/". */
const char *path_last(const char *p);
/* Copy of p without its last component; "" if there is none. */
int path_parent(const char *p, char **ret);
/* True if p equals prefix or lies below it ("usr/lib" is under "usr"). */
bool path_startswith_dir(const char *p, const char *prefix);
/*
 * Glob match of a whole path with fnmatch(3) semantics plus "**" matching any
 * number of components (including none): "usr/share/doc/ **" (no space).
 */
bool path_glob_match(const char *pattern, const char *p);
