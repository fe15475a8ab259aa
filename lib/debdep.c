/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "debdep.h"
#include "debversion.h"

static const char *const op_names[_DEBDEP_OP_MAX] = {
	[DEBDEP_OP_ANY] = "", [DEBDEP_OP_LT] = "<<", [DEBDEP_OP_LE] = "<=",
	[DEBDEP_OP_EQ] = "=", [DEBDEP_OP_GE] = ">=", [DEBDEP_OP_GT] = ">>",
};

const char *debdep_op_to_string(enum debdep_op op)
{
	if (op < 0 || op >= _DEBDEP_OP_MAX)
		return NULL;
	return op_names[op];
}

bool debdep_name_is_valid(const char *s, size_t n)
{
	if (n < 2 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!islower(c) && !isdigit(c) && c != '+' && c != '-' && c != '.')
			return false;
	}
	return true;
}

bool debdep_version_satisfies(const char *version, enum debdep_op op, const char *ref)
{
	int c;

	if (op == DEBDEP_OP_ANY)
		return true;
	c = debversion_compare(version, ref);
	switch (op) {
	case DEBDEP_OP_LT:
		return c < 0;
	case DEBDEP_OP_LE:
		return c <= 0;
	case DEBDEP_OP_EQ:
		return c == 0;
	case DEBDEP_OP_GE:
		return c >= 0;
	case DEBDEP_OP_GT:
		return c > 0;
	default:
		return false;
	}
}

static void atom_done(struct debdep_atom *a)
{
	free(a->name);
	free(a->arch);
	free(a->version);
}

struct debdep_list *debdep_list_free(struct debdep_list *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n_clauses; i++) {
		for (size_t j = 0; j < l->clauses[i].n_atoms; j++)
			atom_done(&l->clauses[i].atoms[j]);
		free(l->clauses[i].atoms);
	}
	free(l->clauses);
	free(l);
	return NULL;
}

struct cursor {
	const char *s;
	const char *start;
	char *error;
};

static int perr(struct cursor *c, const char *fmt, ...) _printf_(2, 3);
static int perr(struct cursor *c, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(c->error);
	if (asprintf(&c->error, "%s at column %zu of '%s'", msg, (size_t)(c->s - c->start) + 1,
		     c->start) < 0)
		c->error = NULL;
	return -EBADMSG;
}

static void skip_space(struct cursor *c)
{
	while (*c->s && isspace((unsigned char)*c->s))
		c->s++;
}

static size_t word_len(const char *s, const char *stop)
{
	size_t n = 0;
	while (s[n] && !isspace((unsigned char)s[n]) && !strchr(stop, s[n]))
		n++;
	return n;
}

static int parse_atom(struct cursor *c, enum debdep_field field, struct debdep_atom *ret)
{
	struct debdep_atom a = {};
	size_t n;

	skip_space(c);
	n = word_len(c->s, ":(),|[<");
	if (n == 0)
		return perr(c, "expected a package name");
	if (!debdep_name_is_valid(c->s, n))
		return perr(c, "'%.*s' is not a package name", (int)n, c->s);
	a.name = strndup(c->s, n);
	if (!a.name)
		return -ENOMEM;
	c->s += n;
	if (*c->s == ':') {
		c->s++;
		n = word_len(c->s, ":(),|[<");
		if (n == 0) {
			atom_done(&a);
			return perr(c, "expected an architecture after ':'");
		}
		a.arch = strndup(c->s, n);
		if (!a.arch) {
			atom_done(&a);
			return -ENOMEM;
		}
		c->s += n;
	}
	skip_space(c);
	if (*c->s == '(') {
		static const struct {
			const char *text;
			enum debdep_op op;
		} ops[] = {
			/* longest first */
			{ "<<", DEBDEP_OP_LT }, { "<=", DEBDEP_OP_LE }, { ">=", DEBDEP_OP_GE },
			{ ">>", DEBDEP_OP_GT }, { "=", DEBDEP_OP_EQ },	{ "<", DEBDEP_OP_LE },
			{ ">", DEBDEP_OP_GE },
		};
		bool found = false;

		c->s++;
		skip_space(c);
		for (size_t i = 0; i < ELEMENTSOF(ops); i++)
			if (startswith(c->s, ops[i].text)) {
				a.op = ops[i].op;
				c->s += strlen(ops[i].text);
				found = true;
				break;
			}
		if (!found) {
			atom_done(&a);
			return perr(c, "expected a relation (<<, <=, =, >=, >>)");
		}
		if (field == DEBDEP_FIELD_PROVIDES && a.op != DEBDEP_OP_EQ) {
			atom_done(&a);
			return perr(c, "Provides allows only '='");
		}
		skip_space(c);
		n = word_len(c->s, "()");
		if (n == 0 || !(a.version = strndup(c->s, n))) {
			atom_done(&a);
			return n == 0 ? perr(c, "expected a version") : -ENOMEM;
		}
		if (!debversion_is_valid(a.version)) {
			int r = perr(c, "'%s' is not a version", a.version);
			atom_done(&a);
			return r;
		}
		c->s += n;
		skip_space(c);
		if (*c->s != ')') {
			atom_done(&a);
			return perr(c, "expected ')'");
		}
		c->s++;
		skip_space(c);
	}
	if (*c->s == '[' || *c->s == '<') {
		atom_done(&a);
		return perr(c, "architecture restrictions and build profiles are not allowed in "
			       "binary package relationships");
	}
	*ret = a;
	return 0;
}

int debdep_parse(const char *s, enum debdep_field field, struct debdep_list **ret, char **ret_error)
{
	_cleanup_(debdep_list_freep) struct debdep_list *l = new0(struct debdep_list, 1);
	struct cursor c = { .s = s ?: "", .start = s ?: "" };
	int r;

	if (!l)
		return -ENOMEM;
	skip_space(&c);
	while (*c.s) {
		struct debdep_clause cl = {};
		struct debdep_clause *nc;

		for (;;) {
			struct debdep_atom *na, a;

			r = parse_atom(&c, field, &a);
			if (r < 0)
				goto fail_clause;
			na = reallocarray(cl.atoms, cl.n_atoms + 1, sizeof(*na));
			if (!na) {
				atom_done(&a);
				r = -ENOMEM;
				goto fail_clause;
			}
			cl.atoms = na;
			cl.atoms[cl.n_atoms++] = a;
			if (*c.s != '|')
				break;
			if (field != DEBDEP_FIELD_DEPENDS) {
				r = perr(&c, "alternatives ('|') are not allowed in this field");
				goto fail_clause;
			}
			c.s++;
		}
		nc = reallocarray(l->clauses, l->n_clauses + 1, sizeof(*nc));
		if (!nc) {
			r = -ENOMEM;
			goto fail_clause;
		}
		l->clauses = nc;
		l->clauses[l->n_clauses++] = cl;
		if (*c.s == ',') {
			c.s++;
			skip_space(&c);
			if (!*c.s) {
				r = perr(&c, "empty relation after ','");
				goto fail;
			}
		} else if (*c.s) {
			r = perr(&c, "expected ',' or '|'");
			goto fail;
		}
		continue;
fail_clause:
		for (size_t j = 0; j < cl.n_atoms; j++)
			atom_done(&cl.atoms[j]);
		free(cl.atoms);
		goto fail;
	}
	*ret = TAKE_PTR(l);
	return 0;

fail:
	if (ret_error)
		*ret_error = TAKE_PTR(c.error);
	free(c.error);
	return r;
}

char *debdep_atom_to_string(const struct debdep_atom *a)
{
	char *s = NULL;
	int r;

	if (a->op == DEBDEP_OP_ANY)
		r = asprintf(&s, "%s%s%s", a->name, a->arch ? ":" : "", strempty(a->arch));
	else
		r = asprintf(&s, "%s%s%s (%s %s)", a->name, a->arch ? ":" : "", strempty(a->arch),
			     debdep_op_to_string(a->op), a->version);
	return r < 0 ? NULL : s;
}

char *debdep_clause_to_string(const struct debdep_clause *c)
{
	_cleanup_free_ char *out = strdup("");

	if (!out)
		return NULL;
	for (size_t i = 0; i < c->n_atoms; i++) {
		_cleanup_free_ char *a = debdep_atom_to_string(&c->atoms[i]);
		char *t = NULL;
		if (!a || asprintf(&t, "%s%s%s", out, i > 0 ? " | " : "", a) < 0)
			return NULL;
		free_and_replace(out, t);
	}
	return TAKE_PTR(out);
}
