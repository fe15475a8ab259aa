/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "core/strv.h"
#include "debdep.h"
#include "debversion.h"
#include "resolve.h"

enum {
	REL_PRE_DEPENDS,
	REL_DEPENDS,
	REL_CONFLICTS,
	REL_BREAKS,
	_REL_MAX,
};

static const char *const rel_names[_REL_MAX] = {
	[REL_PRE_DEPENDS] = "Pre-Depends",
	[REL_DEPENDS] = "Depends",
	[REL_CONFLICTS] = "Conflicts",
	[REL_BREAKS] = "Breaks",
};

#define NO_GROUP UINT32_MAX

/* A name some package provides: the virtual name, the provider, the provided version. */
struct offer {
	const char *name;
	uint32_t pkg;
	const char *version; /* NULL: unversioned */
};

/* A chosen package and why it was chosen. */
struct pick {
	uint32_t pkg;
	int32_t parent; /* index into picks; -1 for a package the manifest names */
	unsigned line; /* manifest line of the root of the chain */
};

struct deferred {
	uint32_t pick;
	const struct debdep_clause *clause;
};

struct resolver {
	const struct resolve_request *req;
	const struct debrepo_package *const *u;
	size_t n;

	uint32_t *by_name; /* usable records by name, highest version first, then universe order */
	size_t n_by_name;
	uint32_t *group_of; /* per record: its name's first position in by_name, or NO_GROUP */
	struct offer *offers; /* sorted by name, provider name, provider version (highest first) */
	size_t n_offers;
	struct debdep_list **provides; /* per record */
	char **provides_error; /* per record */
	struct debdep_list **rels; /* per record * _REL_MAX, parsed when first needed */
	bool *rels_parsed;
	bool *rels_reported;
	bool *excluded; /* versions ruled out; kept across attempts */

	/* one attempt */
	int32_t *group_pick; /* per by_name position: index into picks, or -1 */
	struct pick *picks;
	size_t n_picks;
	struct deferred *deferred;
	size_t n_deferred;
	char **errors;
	bool restart;
};

static const struct debrepo_package *P(const struct resolver *rs, uint32_t i)
{
	return rs->u[i];
}

/* ---- indexes --------------------------------------------------------------------------- */

static int cmp_by_name(const void *a, const void *b, void *userdata)
{
	const struct resolver *rs = userdata;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(P(rs, x)->name, P(rs, y)->name);

	if (c != 0)
		return c;
	c = debversion_compare(P(rs, y)->version, P(rs, x)->version);
	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

static int cmp_offer(const void *a, const void *b, void *userdata)
{
	const struct resolver *rs = userdata;
	const struct offer *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	c = strcmp(P(rs, x->pkg)->name, P(rs, y->pkg)->name);
	if (c != 0)
		return c;
	c = debversion_compare(P(rs, y->pkg)->version, P(rs, x->pkg)->version);
	if (c != 0)
		return c;
	return x->pkg < y->pkg ? -1 : x->pkg > y->pkg;
}

static bool usable(const struct resolver *rs, const struct debrepo_package *p)
{
	return streq(p->architecture, rs->req->architecture) || streq(p->architecture, "all");
}

/* First position in by_name holding name, or -1. */
static ssize_t group_find(const struct resolver *rs, const char *name)
{
	size_t lo = 0, hi = rs->n_by_name;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(P(rs, rs->by_name[mid])->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < rs->n_by_name && streq(P(rs, rs->by_name[lo])->name, name))
		return (ssize_t)lo;
	return -1;
}

static size_t group_end(const struct resolver *rs, size_t start)
{
	const char *name = P(rs, rs->by_name[start])->name;
	size_t i = start;

	while (i < rs->n_by_name && streq(P(rs, rs->by_name[i])->name, name))
		i++;
	return i;
}

/* The offers of a virtual name: [*ret_first, *ret_first + count). */
static size_t offers_find(const struct resolver *rs, const char *name, size_t *ret_first)
{
	size_t lo = 0, hi = rs->n_offers, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(rs->offers[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < rs->n_offers && streq(rs->offers[end].name, name); end++)
		;
	*ret_first = lo;
	return end - lo;
}

static int index_build(struct resolver *rs)
{
	size_t n = rs->n, cap = 0;

	rs->by_name = new0(uint32_t, n);
	rs->group_of = new0(uint32_t, n);
	rs->provides = new0(struct debdep_list *, n);
	rs->provides_error = new0(char *, n);
	rs->rels = new0(struct debdep_list *, n * _REL_MAX);
	rs->rels_parsed = new0(bool, n);
	rs->rels_reported = new0(bool, n);
	rs->excluded = new0(bool, n);
	rs->group_pick = new0(int32_t, n);
	if (!rs->by_name || !rs->group_of || !rs->provides || !rs->provides_error || !rs->rels ||
	    !rs->rels_parsed || !rs->rels_reported || !rs->excluded || !rs->group_pick)
		return -ENOMEM;

	for (uint32_t i = 0; i < n; i++) {
		rs->group_of[i] = NO_GROUP;
		if (usable(rs, P(rs, i)))
			rs->by_name[rs->n_by_name++] = i;
	}
	qsort_r(rs->by_name, rs->n_by_name, sizeof(uint32_t), cmp_by_name, rs);
	for (size_t i = 0, start = 0; i < rs->n_by_name; i++) {
		if (i > 0 && !streq(P(rs, rs->by_name[i])->name, P(rs, rs->by_name[i - 1])->name))
			start = i;
		rs->group_of[rs->by_name[i]] = (uint32_t)start;
	}

	for (size_t k = 0; k < rs->n_by_name; k++) {
		uint32_t i = rs->by_name[k];
		const struct debrepo_package *p = P(rs, i);
		_cleanup_free_ char *why = NULL;
		struct debdep_list *l;
		int r;

		if (!p->provides)
			continue;
		r = debdep_parse(p->provides, DEBDEP_FIELD_PROVIDES, &l, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			/* reported only if this package is ever chosen */
			if (asprintf(&rs->provides_error[i], "%s:%u: package %s %s: Provides: %s",
				     p->origin, p->line, p->name, p->version, strna(why)) < 0)
				return -ENOMEM;
			continue;
		}
		rs->provides[i] = l;
		for (size_t c = 0; c < l->n_clauses; c++) {
			const struct debdep_atom *a = &l->clauses[c].atoms[0];
			if (rs->n_offers == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				struct offer *o = reallocarray(rs->offers, ncap, sizeof(*o));
				if (!o)
					return -ENOMEM;
				rs->offers = o;
				cap = ncap;
			}
			rs->offers[rs->n_offers++] = (struct offer){
				.name = a->name,
				.pkg = i,
				.version = a->op == DEBDEP_OP_EQ ? a->version : NULL,
			};
		}
	}
	if (rs->n_offers > 0)
		qsort_r(rs->offers, rs->n_offers, sizeof(struct offer), cmp_offer, rs);
	return 0;
}

static void resolver_done(struct resolver *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->provides)
			debdep_list_free(rs->provides[i]);
		if (rs->provides_error)
			free(rs->provides_error[i]);
		if (rs->rels)
			for (size_t k = 0; k < _REL_MAX; k++)
				debdep_list_free(rs->rels[i * _REL_MAX + k]);
	}
	free(rs->by_name);
	free(rs->group_of);
	free(rs->offers);
	free(rs->provides);
	free(rs->provides_error);
	free(rs->rels);
	free(rs->rels_parsed);
	free(rs->rels_reported);
	free(rs->excluded);
	free(rs->group_pick);
	free(rs->picks);
	free(rs->deferred);
	strv_free(rs->errors);
}

/* ---- messages -------------------------------------------------------------------------- */

static int add_error(struct resolver *rs, const char *fmt, ...) _printf_(2, 3);
static int add_error(struct resolver *rs, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	/* the same problem met twice (e.g. from two packages) is one message */
	if (strv_contains(rs->errors, m)) {
		free(m);
		return 0;
	}
	return strv_push(&rs->errors, m);
}

/* "bar <- baz (airlock.manifest:31)": the pick, then what needed it, up to the manifest. */
static char *chain(const struct resolver *rs, int32_t pick)
{
	char *s = strdup("");

	for (int32_t i = pick; s && i >= 0; i = rs->picks[i].parent) {
		char *t = NULL;
		const struct pick *k = &rs->picks[i];

		if (k->parent >= 0) {
			if (asprintf(&t, "%s%s <- ", s, P(rs, k->pkg)->name) < 0)
				t = NULL;
		} else if (asprintf(&t, "%s%s (%s:%u)", s, P(rs, k->pkg)->name, rs->req->manifest,
				    k->line) < 0)
			t = NULL;
		free(s);
		s = t;
	}
	return s;
}

/* " (there is 1.5 in bookworm, 1.6 in bookworm-security)", or "" */
static char *available_note(const struct resolver *rs, const char *name)
{
	ssize_t g = group_find(rs, name);
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *j = NULL;
	char *s = NULL;

	if (g < 0)
		return strdup("");
	for (size_t i = (size_t)g, end = group_end(rs, (size_t)g); i < end; i++) {
		const struct debrepo_package *p = P(rs, rs->by_name[i]);
		if (strv_extendf(&l, "%s in %s", p->version, p->suite) < 0)
			return NULL;
	}
	j = strv_join(l, ", ");
	if (!j || asprintf(&s, " (there is %s)", j) < 0)
		return NULL;
	return s;
}

static int error_unavailable(struct resolver *rs, const char *what, int32_t pick,
			     const char *note_name)
{
	_cleanup_free_ char *suites = strv_join(rs->req->suites, ", ");
	_cleanup_free_ char *c = chain(rs, pick);
	_cleanup_free_ char *note = note_name ? available_note(rs, note_name) : strdup("");

	if (!suites || !c || !note)
		return -ENOMEM;
	return add_error(rs, "%s, needed by %s, is not available in %s for %s%s", what, c, suites,
			 rs->req->architecture, note);
}

/* ---- matching -------------------------------------------------------------------------- */

static bool arch_ok(const struct resolver *rs, const struct debrepo_package *p, const char *qual,
		    bool conflict)
{
	if (!qual)
		return true; /* the depending package's own (native) architecture */
	if (streq(qual, "any"))
		return conflict || p->multi_arch == DEBREPO_MULTI_ARCH_ALLOWED;
	return streq(qual, "native") || streq(qual, rs->req->architecture);
}

static bool atom_matches_record(const struct resolver *rs, const struct debdep_atom *a,
				uint32_t pkg, bool conflict)
{
	const struct debrepo_package *p = P(rs, pkg);

	return streq(a->name, p->name) && arch_ok(rs, p, a->arch, conflict) &&
	       debdep_version_satisfies(p->version, a->op, a->version);
}

static bool atom_matches_offer(const struct resolver *rs, const struct debdep_atom *a,
			       const struct offer *o, bool conflict)
{
	if (!arch_ok(rs, P(rs, o->pkg), a->arch, conflict))
		return false;
	if (a->op == DEBDEP_OP_ANY)
		return true;
	/* an unversioned Provides never satisfies a versioned relation */
	return o->version && debdep_version_satisfies(o->version, a->op, a->version);
}

/* Does a record (as itself or through its Provides) match the atom? */
static bool atom_matches_package(const struct resolver *rs, const struct debdep_atom *a,
				 uint32_t pkg, bool conflict)
{
	const struct debdep_list *pl = rs->provides[pkg];

	if (atom_matches_record(rs, a, pkg, conflict))
		return true;
	for (size_t c = 0; pl && c < pl->n_clauses; c++) {
		const struct debdep_atom *pa = &pl->clauses[c].atoms[0];
		struct offer o = {
			.name = pa->name,
			.pkg = pkg,
			.version = pa->op == DEBDEP_OP_EQ ? pa->version : NULL,
		};
		if (streq(pa->name, a->name) && atom_matches_offer(rs, a, &o, conflict))
			return true;
	}
	return false;
}

static int32_t pick_of(const struct resolver *rs, uint32_t pkg)
{
	uint32_t g = rs->group_of[pkg];
	int32_t k;

	if (g == NO_GROUP)
		return -1;
	k = rs->group_pick[g];
	return k >= 0 && rs->picks[k].pkg == pkg ? k : -1;
}

/* A chosen package, other than skip, that matches the atom; -1 if none. */
static int32_t chosen_matching(const struct resolver *rs, const struct debdep_atom *a,
			       bool conflict, int64_t skip)
{
	ssize_t g = group_find(rs, a->name);
	size_t first, n;

	if (g >= 0) {
		int32_t k = rs->group_pick[g];
		if (k >= 0 && (int64_t)rs->picks[k].pkg != skip &&
		    atom_matches_record(rs, a, rs->picks[k].pkg, conflict))
			return k;
	}
	n = offers_find(rs, a->name, &first);
	for (size_t i = first; i < first + n; i++) {
		const struct offer *o = &rs->offers[i];
		int32_t k = pick_of(rs, o->pkg);
		if (k >= 0 && (int64_t)o->pkg != skip && atom_matches_offer(rs, a, o, conflict))
			return k;
	}
	return -1;
}

static bool clause_satisfied(const struct resolver *rs, const struct debdep_clause *c)
{
	for (size_t i = 0; i < c->n_atoms; i++)
		if (chosen_matching(rs, &c->atoms[i], false, -1) >= 0)
			return true;
	return false;
}

/* The parsed relationship field of a record; NULL if absent or malformed (reported once). */
static const struct debdep_list *rels_get(struct resolver *rs, uint32_t pkg, int kind)
{
	const struct debrepo_package *p = P(rs, pkg);

	if (!rs->rels_parsed[pkg]) {
		const char *text[_REL_MAX] = {
			[REL_PRE_DEPENDS] = p->pre_depends,
			[REL_DEPENDS] = p->depends,
			[REL_CONFLICTS] = p->conflicts,
			[REL_BREAKS] = p->breaks,
		};
		rs->rels_parsed[pkg] = true;
		for (int k = 0; k < _REL_MAX; k++) {
			_cleanup_free_ char *why = NULL;
			int r;

			if (!text[k])
				continue;
			r = debdep_parse(text[k],
					 k <= REL_DEPENDS ? DEBDEP_FIELD_DEPENDS :
							    DEBDEP_FIELD_CONFLICTS,
					 &rs->rels[pkg * _REL_MAX + k], &why);
			if (r < 0 && !rs->rels_reported[pkg]) {
				rs->rels_reported[pkg] = true;
				(void)add_error(rs, "%s:%u: package %s %s: %s: %s", p->origin,
						p->line, p->name, p->version, rel_names[k],
						strna(why));
			}
		}
	}
	return rs->rels[pkg * _REL_MAX + kind];
}

/* ---- choosing -------------------------------------------------------------------------- */

static int choose(struct resolver *rs, uint32_t pkg, int32_t parent, unsigned line)
{
	struct pick *n = reallocarray(rs->picks, rs->n_picks + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	rs->picks = n;
	n[rs->n_picks] = (struct pick){
		.pkg = pkg,
		.parent = parent,
		.line = parent >= 0 ? rs->picks[parent].line : line,
	};
	rs->group_pick[rs->group_of[pkg]] = (int32_t)rs->n_picks;
	rs->n_picks++;
	if (rs->provides_error[pkg])
		return add_error(rs, "%s", rs->provides_error[pkg]);
	return 0;
}

enum candidate_result {
	CANDIDATE_NONE,
	CANDIDATE_FOUND,
	CANDIDATE_AMBIGUOUS, /* a virtual name with several providers */
	CANDIDATE_VERSION_CLASH, /* the name is chosen in a version the atom rules out */
};

/* The highest version of the record group at g that satisfies a and is not excluded. */
static int64_t best_in_group(const struct resolver *rs, size_t g, const struct debdep_atom *a)
{
	for (size_t i = g, end = group_end(rs, g); i < end; i++) {
		uint32_t k = rs->by_name[i];
		if (!rs->excluded[k] && (!a || atom_matches_record(rs, a, k, false)))
			return k;
	}
	return -1;
}

/*
 * What would satisfy an atom not yet satisfied. FOUND: *ret_pkg. VERSION_CLASH:
 * *ret_pkg is the chosen record that another version should replace.
 * AMBIGUOUS: *ret_providers lists the candidates. -ENOMEM on failure.
 */
static int candidate(const struct resolver *rs, const struct debdep_atom *a, uint32_t *ret_pkg,
		     char ***ret_providers)
{
	ssize_t g = group_find(rs, a->name);
	_cleanup_strv_free_ char **names = NULL;
	int64_t best = -1;
	size_t first, n;

	if (g >= 0) {
		int64_t k = best_in_group(rs, (size_t)g, a);
		int32_t chosen = rs->group_pick[g];

		if (k >= 0 && chosen >= 0) {
			*ret_pkg = rs->picks[chosen].pkg;
			return CANDIDATE_VERSION_CLASH;
		}
		if (k >= 0) {
			*ret_pkg = (uint32_t)k;
			return CANDIDATE_FOUND;
		}
	}

	n = offers_find(rs, a->name, &first);
	for (size_t i = first; i < first + n; i++) {
		const struct offer *o = &rs->offers[i];
		const char *pn = P(rs, o->pkg)->name;

		if (rs->excluded[o->pkg] || !atom_matches_offer(rs, a, o, false))
			continue;
		/* another version of this provider is already chosen */
		if (rs->group_pick[rs->group_of[o->pkg]] >= 0)
			continue;
		if (!strv_contains(names, pn) && strv_extend(&names, pn) < 0)
			return -ENOMEM;
		if (best < 0)
			best = o->pkg; /* offers are sorted: the highest version of the first name */
	}
	if (strv_length(names) == 1) {
		*ret_pkg = (uint32_t)best;
		return CANDIDATE_FOUND;
	}
	if (strv_length(names) > 1) {
		*ret_providers = TAKE_PTR(names);
		return CANDIDATE_AMBIGUOUS;
	}
	return CANDIDATE_NONE;
}

/* Would choosing pkg conflict with (or break) a chosen package, either way round? */
static bool conflicts_with_chosen(struct resolver *rs, uint32_t pkg)
{
	for (int kind = REL_CONFLICTS; kind <= REL_BREAKS; kind++) {
		const struct debdep_list *l = rels_get(rs, pkg, kind);
		for (size_t c = 0; l && c < l->n_clauses; c++)
			if (chosen_matching(rs, &l->clauses[c].atoms[0], true, pkg) >= 0)
				return true;
	}
	for (size_t i = 0; i < rs->n_picks; i++)
		for (int kind = REL_CONFLICTS; kind <= REL_BREAKS; kind++) {
			const struct debdep_list *l = rels_get(rs, rs->picks[i].pkg, kind);
			for (size_t c = 0; l && c < l->n_clauses; c++)
				if (atom_matches_package(rs, &l->clauses[c].atoms[0], pkg, true))
					return true;
		}
	return false;
}

static int restart_without(struct resolver *rs, uint32_t pkg)
{
	rs->excluded[pkg] = true;
	rs->restart = true;
	return 0;
}

static int error_ambiguous(struct resolver *rs, const char *what, int32_t pick,
			   char *const *providers)
{
	_cleanup_free_ char *c = chain(rs, pick), *l = strv_join(providers, ", ");

	if (!c || !l)
		return -ENOMEM;
	return add_error(rs,
			 "%s, needed by %s, is a virtual package provided by %s: name the one "
			 "to use in the manifest's [packages]",
			 what, c, l);
}

/* A clause without alternatives. */
static int follow_single(struct resolver *rs, int32_t pick, const struct debdep_atom *a)
{
	_cleanup_strv_free_ char **providers = NULL;
	_cleanup_free_ char *what = debdep_atom_to_string(a);
	uint32_t pkg;
	int r;

	if (!what)
		return -ENOMEM;
	r = candidate(rs, a, &pkg, &providers);
	if (r < 0)
		return r;
	switch (r) {
	case CANDIDATE_FOUND:
		return choose(rs, pkg, pick, 0);
	case CANDIDATE_VERSION_CLASH:
		return restart_without(rs, pkg);
	case CANDIDATE_AMBIGUOUS:
		return error_ambiguous(rs, what, pick, providers);
	default:
		return error_unavailable(rs, what, pick, a->name);
	}
}

/* A clause with alternatives, decided after every clause without. */
static int decide(struct resolver *rs, const struct deferred *d)
{
	const struct debdep_clause *cl = d->clause;
	_cleanup_strv_free_ char **ambiguous = NULL;
	_cleanup_free_ char *what = NULL;
	int64_t fallback = -1, clash = -1;

	if (clause_satisfied(rs, cl))
		return 0;
	for (size_t i = 0; i < cl->n_atoms; i++) {
		_cleanup_strv_free_ char **providers = NULL;
		uint32_t pkg;
		int r = candidate(rs, &cl->atoms[i], &pkg, &providers);

		if (r < 0)
			return r;
		switch (r) {
		case CANDIDATE_FOUND:
			if (!conflicts_with_chosen(rs, pkg))
				return choose(rs, pkg, (int32_t)d->pick, 0);
			if (fallback < 0)
				fallback = pkg;
			break;
		case CANDIDATE_VERSION_CLASH:
			if (clash < 0)
				clash = pkg;
			break;
		case CANDIDATE_AMBIGUOUS:
			if (strv_extend_strv(&ambiguous, providers) < 0)
				return -ENOMEM;
			break;
		default:
			break;
		}
	}
	/* Nothing fits cleanly: take the first that exists; the conflict is reported. */
	if (fallback >= 0)
		return choose(rs, (uint32_t)fallback, (int32_t)d->pick, 0);
	if (clash >= 0)
		return restart_without(rs, (uint32_t)clash);
	what = debdep_clause_to_string(cl);
	if (!what)
		return -ENOMEM;
	if (ambiguous)
		return error_ambiguous(rs, what, (int32_t)d->pick, ambiguous);
	return error_unavailable(rs, what, (int32_t)d->pick,
				 cl->n_atoms == 1 ? cl->atoms[0].name : NULL);
}

static int expand(struct resolver *rs, int32_t pick)
{
	uint32_t pkg = rs->picks[pick].pkg;

	for (int kind = REL_PRE_DEPENDS; kind <= REL_DEPENDS; kind++) {
		const struct debdep_list *l = rels_get(rs, pkg, kind);

		for (size_t c = 0; l && c < l->n_clauses; c++) {
			const struct debdep_clause *cl = &l->clauses[c];
			int r;

			if (clause_satisfied(rs, cl))
				continue;
			if (cl->n_atoms > 1) {
				struct deferred *n =
					reallocarray(rs->deferred, rs->n_deferred + 1, sizeof(*n));
				if (!n)
					return -ENOMEM;
				rs->deferred = n;
				n[rs->n_deferred++] =
					(struct deferred){ .pick = (uint32_t)pick, .clause = cl };
				continue;
			}
			r = follow_single(rs, pick, &cl->atoms[0]);
			if (r < 0 || rs->restart)
				return r;
		}
	}
	return 0;
}

static int add_root(struct resolver *rs, const struct resolve_root *root)
{
	_cleanup_free_ char *suites = NULL;
	ssize_t g = group_find(rs, root->name);
	size_t first, n;
	int64_t best;

	if (g >= 0) {
		if (rs->group_pick[g] >= 0)
			return 0;
		best = best_in_group(rs, (size_t)g, NULL);
		if (best >= 0)
			return choose(rs, (uint32_t)best, -1, root->line);
		return add_error(
			rs, "%s (%s:%u): no version satisfies every package that depends on it",
			root->name, rs->req->manifest, root->line);
	}
	n = offers_find(rs, root->name, &first);
	if (n > 0) {
		_cleanup_strv_free_ char **names = NULL;
		_cleanup_free_ char *l = NULL;
		for (size_t i = first; i < first + n; i++) {
			const char *pn = P(rs, rs->offers[i].pkg)->name;
			if (!strv_contains(names, pn) && strv_extend(&names, pn) < 0)
				return -ENOMEM;
		}
		l = strv_join(names, ", ");
		if (!l)
			return -ENOMEM;
		return add_error(
			rs,
			"%s (%s:%u) is a virtual package, provided by %s: name the package "
			"to use instead",
			root->name, rs->req->manifest, root->line, l);
	}
	suites = strv_join(rs->req->suites, ", ");
	if (!suites)
		return -ENOMEM;
	return add_error(rs, "%s (%s:%u) is not available in %s for %s", root->name,
			 rs->req->manifest, root->line, suites, rs->req->architecture);
}

static int check_conflicts(struct resolver *rs)
{
	for (size_t i = 0; i < rs->n_picks; i++) {
		uint32_t pkg = rs->picks[i].pkg;

		for (int kind = REL_CONFLICTS; kind <= REL_BREAKS; kind++) {
			const struct debdep_list *l = rels_get(rs, pkg, kind);

			for (size_t c = 0; l && c < l->n_clauses; c++) {
				const struct debdep_atom *a = &l->clauses[c].atoms[0];
				_cleanup_free_ char *what = NULL, *c1 = NULL, *c2 = NULL;
				int32_t k = chosen_matching(rs, a, true, pkg);
				const struct debrepo_package *p = P(rs, pkg), *q;
				int r;

				if (k < 0)
					continue;
				q = P(rs, rs->picks[k].pkg);
				what = debdep_atom_to_string(a);
				c1 = chain(rs, (int32_t)i);
				c2 = chain(rs, k);
				if (!what || !c1 || !c2)
					return -ENOMEM;
				r = add_error(
					rs,
					"%s %s and %s %s cannot be installed together (%s has "
					"'%s: %s'); %s comes from %s, %s from %s",
					p->name, p->version, q->name, q->version, p->name,
					rel_names[kind], what, p->name, c1, q->name, c2);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static int attempt(struct resolver *rs)
{
	size_t done = 0, decided = 0;
	int r;

	rs->n_picks = rs->n_deferred = 0;
	rs->errors = strv_free(rs->errors);
	rs->restart = false;
	for (size_t i = 0; i < rs->n; i++)
		rs->group_pick[i] = -1;

	for (size_t i = 0; i < rs->req->n_roots; i++) {
		r = add_root(rs, &rs->req->roots[i]);
		if (r < 0)
			return r;
	}
	for (;;) {
		while (done < rs->n_picks) {
			r = expand(rs, (int32_t)done++);
			if (r < 0 || rs->restart)
				return r;
		}
		if (decided >= rs->n_deferred)
			break;
		r = decide(rs, &rs->deferred[decided++]);
		if (r < 0 || rs->restart)
			return r;
	}
	return check_conflicts(rs);
}

static int cmp_item(const void *a, const void *b)
{
	const struct resolve_item *x = a, *y = b;
	return strcmp(x->package->name, y->package->name);
}

int resolve_packages(const struct resolve_request *req, struct resolve_result **ret,
		     char ***ret_errors)
{
	_cleanup_(resolve_result_freep) struct resolve_result *res = NULL;
	struct resolver rs = { .req = req, .u = req->universe, .n = req->n_universe };
	int r;

	if (req->n_universe >= INT32_MAX)
		return -E2BIG;
	r = index_build(&rs);
	if (r < 0)
		goto out;
	/* each restart excludes one more record, so this ends */
	do {
		r = attempt(&rs);
		if (r < 0)
			goto out;
	} while (rs.restart);

	if (rs.errors) {
		r = -ENOPKG;
		if (ret_errors)
			*ret_errors = TAKE_PTR(rs.errors);
		goto out;
	}
	res = new0(struct resolve_result, 1);
	if (!res || !(res->items = new0(struct resolve_item, rs.n_picks))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rs.n_picks; i++) {
		const struct pick *k = &rs.picks[i];
		res->items[i] = (struct resolve_item){
			.package = P(&rs, k->pkg),
			.needed_by = k->parent >= 0 ? P(&rs, rs.picks[k->parent].pkg) : NULL,
			.manifest_line = k->line,
		};
	}
	res->n_items = rs.n_picks;
	qsort(res->items, res->n_items, sizeof(*res->items), cmp_item);
	*ret = TAKE_PTR(res);
	r = 0;
out:
	resolver_done(&rs);
	return r;
}

struct resolve_result *resolve_result_free(struct resolve_result *r)
{
	if (!r)
		return NULL;
	free(r->items);
	free(r);
	return NULL;
}
