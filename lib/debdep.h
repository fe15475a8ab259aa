/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Package relationship fields of binary package indexes (Debian policy §7.1):
 * Depends and Pre-Depends (clauses separated by ',', alternatives by '|'),
 * Provides, Conflicts and Breaks (no alternatives). An atom is
 *
 *     name[:archqual] [(op version)]
 *
 * with op one of << <= = >= >> (the obsolete < and > mean <= and >=). Architecture
 * restrictions "[...]" and build profiles "<...>" belong to source packages and are
 * refused here.
 */

#include "core/macro.h"

enum debdep_op {
	DEBDEP_OP_ANY, /* no version constraint */
	DEBDEP_OP_LT,
	DEBDEP_OP_LE,
	DEBDEP_OP_EQ,
	DEBDEP_OP_GE,
	DEBDEP_OP_GT,
	_DEBDEP_OP_MAX,
	_DEBDEP_OP_INVALID = -EINVAL,
};

enum debdep_field {
	DEBDEP_FIELD_DEPENDS, /* Depends, Pre-Depends: alternatives allowed */
	DEBDEP_FIELD_PROVIDES, /* no alternatives, only "=" */
	DEBDEP_FIELD_CONFLICTS, /* Conflicts, Breaks: no alternatives */
	_DEBDEP_FIELD_MAX,
	_DEBDEP_FIELD_INVALID = -EINVAL,
};

struct debdep_atom {
	char *name;
	char *arch; /* qualifier after ':' ("any", "native", an architecture), or NULL */
	enum debdep_op op;
	char *version; /* NULL with DEBDEP_OP_ANY */
};

struct debdep_clause {
	struct debdep_atom *atoms; /* alternatives, in the order given */
	size_t n_atoms;
};

struct debdep_list {
	struct debdep_clause *clauses;
	size_t n_clauses;
};

/*
 * Parses a relationship field. NULL or an empty string gives an empty list. On a
 * syntax error returns -EBADMSG and, if ret_error is given, what is wrong.
 */
int debdep_parse(const char *s, enum debdep_field field, struct debdep_list **ret,
		 char **ret_error);
struct debdep_list *debdep_list_free(struct debdep_list *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct debdep_list *, debdep_list_free);

const char *debdep_op_to_string(enum debdep_op op);
/* True if version satisfies "op ref" (always with DEBDEP_OP_ANY). */
bool debdep_version_satisfies(const char *version, enum debdep_op op, const char *ref);
/* "name[:arch] [(op version)]" */
char *debdep_atom_to_string(const struct debdep_atom *a);
/* Alternatives joined with " | ". */
char *debdep_clause_to_string(const struct debdep_clause *c);
/* Package names: lower-case letters, digits, '+', '-', '.', at least two, starting alnum. */
bool debdep_name_is_valid(const char *s, size_t n);
