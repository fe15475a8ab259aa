/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/strv.h"
#include "debdep.h"
#include "debrepo.h"
#include "resolve.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A Packages paragraph with the fields every record needs, plus extra lines. */
#define PKG_A(name, version, arch, extra)                                                       \
	"Package: " name "\nVersion: " version "\nArchitecture: " arch "\nFilename: pool/" name \
	"_" version ".deb\nSize: 1000\nInstalled-Size: 4\nSHA256: " SHA "\n" extra "\n\n"
#define PKG(name, version, extra) PKG_A(name, version, "amd64", extra)

struct world {
	struct debrepo_packages pk[2];
	const struct debrepo_package **u;
	size_t n;
	char *suites[3];
	struct resolve_result *res;
	char **errors;
};

static void world_done(struct world *w)
{
	debrepo_packages_done(&w->pk[0]);
	debrepo_packages_done(&w->pk[1]);
	free(w->u);
	resolve_result_free(w->res);
	strv_free(w->errors);
	*w = (struct world){};
}

/* Two suites: bookworm, bookworm-security (either text may be NULL). */
static void world_load(struct world *w, const char *main_text, const char *security_text)
{
	const char *texts[2] = { main_text, security_text };
	char *error = NULL;

	*w = (struct world){ .suites = { (char *)"bookworm", (char *)"bookworm-security" } };
	for (int i = 0; i < 2; i++) {
		if (!texts[i])
			continue;
		if (debrepo_packages_parse(texts[i], strlen(texts[i]), w->suites[i],
					   i == 0 ? "main.Packages" : "security.Packages",
					   &w->pk[i], &error) < 0)
			fail_msg("parse: %s", error);
	}
	w->u = calloc(w->pk[0].n_items + w->pk[1].n_items + 1, sizeof(*w->u));
	assert_non_null(w->u);
	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < w->pk[i].n_items; j++)
			w->u[w->n++] = &w->pk[i].items[j];
}

/* Resolves the space-separated roots (root k is on manifest line k + 1). */
static int world_resolve(struct world *w, const char *roots)
{
	_cleanup_strv_free_ char **names = NULL;
	struct resolve_root rr[16];
	size_t n = 0;

	assert_int_equal(strv_split(roots, " ", &names), 0);
	STRV_FOREACH(s, names)
		rr[n++] = (struct resolve_root){ .name = *s, .line = (unsigned)n + 1 };
	w->res = resolve_result_free(w->res);
	w->errors = strv_free(w->errors);
	return resolve_packages(
		&(const struct resolve_request){
			.universe = w->u,
			.n_universe = w->n,
			.architecture = "amd64",
			.suites = w->suites,
			.manifest = "m.manifest",
			.roots = rr,
			.n_roots = n,
		},
		&w->res, &w->errors);
}

/* "name=version name=version ..." of the result, sorted by name */
static char *result_string(const struct world *w)
{
	_cleanup_strv_free_ char **l = NULL;

	for (size_t i = 0; i < w->res->n_items; i++)
		assert_int_equal(strv_extendf(&l, "%s=%s", w->res->items[i].package->name,
					      w->res->items[i].package->version),
				 0);
	return strv_join(l, " ");
}

static void expect_result(struct world *w, const char *roots, const char *expected)
{
	_cleanup_free_ char *got = NULL, *errs = NULL;
	int r = world_resolve(w, roots);

	if (r < 0) {
		errs = strv_join(w->errors, "\n");
		fail_msg("resolving '%s' failed: %s", roots, errs);
	}
	got = result_string(w);
	if (!streq(got, expected))
		fail_msg("resolving '%s': got '%s', expected '%s'", roots, got, expected);
}

/* Resolution must fail, and some error must contain each fragment. */
static void expect_errors(struct world *w, const char *roots, const char *const *fragments)
{
	_cleanup_free_ char *all = NULL;

	assert_int_equal(world_resolve(w, roots), -ENOPKG);
	assert_null(w->res);
	all = strv_join(w->errors, "\n");
	for (const char *const *f = fragments; *f; f++)
		if (!strstr(all, *f))
			fail_msg("errors '%s' do not contain '%s'", all, *f);
}

static void test_chain_and_cycle(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("app", "1", "Depends: libb (>= 1), libc6\nRecommends: docs\n")
			   PKG("libb", "1", "Pre-Depends: libc6\nDepends: libcycle\n")
				   PKG("libcycle", "1", "Depends: libb\nSuggests: app\n")
					   PKG("libc6", "2.36", "") PKG("docs", "1", ""),
		   NULL);
	/* Recommends and Suggests are not followed; the cycle ends */
	expect_result(&w, "app", "app=1 libb=1 libc6=2.36 libcycle=1");
	for (size_t i = 0; i < w.res->n_items; i++) {
		const struct resolve_item *it = &w.res->items[i];
		if (streq(it->package->name, "app"))
			assert_null(it->needed_by);
		if (streq(it->package->name, "libcycle"))
			assert_string_equal(it->needed_by->name, "libb");
		assert_int_equal(it->manifest_line, 2);
	}
	world_done(&w);
}

static void test_versions(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("lib", "1.0", "") PKG("lib", "3.0", "") PKG("app", "1",
								   "Depends: lib (<< 3)")
			   PKG("tool", "1", "Depends: lib (>= 2)") PKG("same", "1", "Depends: dup")
				   PKG_A("dup", "1", "all", "Depends: lib"),
		   PKG("lib", "2.0", "") PKG("lib", "1:0.1", "Breaks: nothing")
			   PKG_A("dup", "1", "all", "Depends: app"));
	/* the highest version across the suites (an epoch wins) */
	expect_result(&w, "lib", "lib=1:0.1");
	/* the highest that satisfies the constraint */
	expect_result(&w, "app", "app=1 lib=2.0");
	/* a later constraint rules out the version chosen first: the highest that satisfies both */
	expect_result(&w, "lib app", "app=1 lib=2.0");
	expect_result(&w, "tool app", "app=1 lib=2.0 tool=1");
	/* equal versions: the earlier suite's record */
	assert_int_equal(world_resolve(&w, "same"), 0);
	for (size_t i = 0; i < w.res->n_items; i++)
		if (streq(w.res->items[i].package->name, "dup"))
			assert_string_equal(w.res->items[i].package->suite, "bookworm");
	expect_result(&w, "same", "dup=1 lib=1:0.1 same=1");
	world_done(&w);
}

static void test_alternatives(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("app", "1", "Depends: mta-a | mta-b, gone | there")
			   PKG("mta-a", "1", "Depends: liba") PKG("liba", "1", "")
				   PKG("mta-b", "1", "") PKG("there", "1", "")
					   PKG("other", "1", "Depends: mta-b")
						   PKG("picky", "1", "Depends: mta-a | mta-b")
							   PKG("hater", "1", "Conflicts: mta-a"),
		   NULL);
	/* the first satisfiable alternative; an unavailable one is skipped */
	expect_result(&w, "app", "app=1 liba=1 mta-a=1 there=1");
	/* one the manifest names wins */
	expect_result(&w, "app mta-b", "app=1 mta-b=1 there=1");
	/* one a mandatory dependency brings in wins, even when met later */
	expect_result(&w, "app other", "app=1 mta-b=1 other=1 there=1");
	/* one that conflicts with a chosen package is passed over */
	expect_result(&w, "hater picky", "hater=1 mta-b=1 picky=1");
	world_done(&w);
}

static void test_provides(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("app", "1", "Depends: virt") PKG("impl", "1", "Provides: virt")
			   PKG("vapp", "1", "Depends: api (>= 2)") PKG("api-old", "1",
								       "Provides: api (= 1)")
				   PKG("api-new", "1", "Provides: api (= 2.5), other")
					   PKG("api-unversioned", "1",
					       "Provides: api") PKG("amb", "1", "Depends: shared")
						   PKG("s1", "1", "Provides: shared")
							   PKG("s2", "1", "Provides: shared"),
		   NULL);
	expect_result(&w, "app", "app=1 impl=1");
	/* a versioned Provides satisfies a versioned dependency, an unversioned one never */
	expect_result(&w, "vapp", "api-new=1 vapp=1");
	/* several providers and none chosen: the manifest must say which */
	expect_errors(&w, "amb",
		      (const char *const[]){ "shared, needed by amb (m.manifest:2), is a virtual "
					     "package provided by s1, s2",
					     NULL });
	expect_result(&w, "amb s2", "amb=1 s2=1");
	/* a manifest names real packages */
	expect_errors(&w, "virt",
		      (const char *const[]){ "virt (m.manifest:2) is a virtual package, provided "
					     "by impl",
					     NULL });
	world_done(&w);
}

static void test_missing_with_chain(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("baz", "1", "Depends: bar") PKG("bar", "1", "Depends: libfoo (>= 2)")
			   PKG("libfoo", "1.5", "")
				   PKG("alt", "1", "Depends: nope1 | nope2 (>= 3)"),
		   PKG("libfoo", "1.6", ""));
	expect_errors(
		&w, "x baz",
		(const char *const[]){
			"x (m.manifest:2) is not available in bookworm, bookworm-security for "
			"amd64",
			"libfoo (>= 2), needed by bar <- baz (m.manifest:3), is not available "
			"in bookworm, bookworm-security for amd64 (there is 1.6 in "
			"bookworm-security, 1.5 in bookworm)",
			NULL });
	expect_errors(&w, "alt",
		      (const char *const[]){ "nope1 | nope2 (>= 3), needed by alt (m.manifest:2), "
					     "is not available",
					     NULL });
	world_done(&w);
}

static void test_conflicts(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("aa", "1", "Conflicts: bb") PKG("bb", "1", "")
			   PKG("cc", "1", "Breaks: dd (<< 2)") PKG("dd", "1", "") PKG("dd", "2", "")
				   PKG("ee", "1", "Depends: dd (<< 2)")
					   PKG("mta", "1",
					       "Provides: mail-transport-agent\n"
					       "Conflicts: mail-transport-agent")
						   PKG("ff", "1", "Conflicts: virt")
							   PKG("gg", "1", "Provides: virt"),
		   NULL);
	expect_errors(
		&w, "aa bb",
		(const char *const[]){ "aa 1 and bb 1 cannot be installed together (aa has "
				       "'Conflicts: bb'); aa comes from aa (m.manifest:2), bb "
				       "from bb (m.manifest:3)",
				       NULL });
	/* versioned Breaks: only the broken version is an error */
	expect_result(&w, "cc dd", "cc=1 dd=2");
	expect_errors(&w, "cc ee",
		      (const char *const[]){ "cc 1 and dd 1 cannot be installed together (cc has "
					     "'Breaks: dd (<< 2)')",
					     NULL });
	/* conflicting with a name one provides oneself is no conflict */
	expect_result(&w, "mta", "mta=1");
	/* a conflict through Provides */
	expect_errors(&w, "ff gg", (const char *const[]){ "ff 1 and gg 1 cannot", NULL });
	world_done(&w);
}

static void test_architectures(void **state)
{
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("py", "3", "Multi-Arch: allowed") PKG("fr", "1", "Multi-Arch: foreign")
			   PKG("use-any", "1", "Depends: py:any") PKG("use-any-foreign", "1",
								      "Depends: fr:any")
				   PKG("use-native", "1", "Depends: fr:native, py:amd64")
					   PKG("use-i386", "1", "Depends: fr:i386") PKG_A(
						   "only-i386", "1", "i386", "")
						   PKG("use-only-i386", "1", "Depends: only-i386")
							   PKG_A("ind", "1", "all", ""),
		   NULL);
	expect_result(&w, "use-any", "py=3 use-any=1");
	/* ":any" needs Multi-Arch: allowed */
	expect_errors(&w, "use-any-foreign",
		      (const char *const[]){ "fr:any, needed by use-any-foreign (m.manifest:2)",
					     NULL });
	expect_result(&w, "use-native ind", "fr=1 ind=1 py=3 use-native=1");
	expect_errors(&w, "use-i386", (const char *const[]){ "fr:i386, needed by", NULL });
	/* records of other architectures are not candidates */
	expect_errors(&w, "use-only-i386",
		      (const char *const[]){ "only-i386, needed by use-only-i386", NULL });
	world_done(&w);
}

static void test_malformed_relation(void **state)
{
	struct world w;
	(void)state;

	world_load(&w, PKG("bad", "1", "Depends: foo (>> )") PKG("ok", "1", "Depends: foo (>> 1"),
		   NULL);
	expect_errors(&w, "bad",
		      (const char *const[]){ "main.Packages:1: package bad 1: Depends: ", NULL });
	expect_errors(&w, "ok",
		      (const char *const[]){ "main.Packages:10: package ok 1: Depends: ", NULL });
	world_done(&w);
}

static void test_deterministic(void **state)
{
	_cleanup_free_ char *first = NULL, *second = NULL;
	struct world w;
	(void)state;

	world_load(&w,
		   PKG("app", "1", "Depends: aa | bb, cc | dd, ee") PKG("aa", "1", "Depends: dd")
			   PKG("bb", "1", "") PKG("cc", "1", "") PKG("dd", "1", "Depends: bb | cc")
				   PKG("ee", "1", "Depends: cc"),
		   NULL);
	assert_int_equal(world_resolve(&w, "app"), 0);
	first = result_string(&w);
	assert_int_equal(world_resolve(&w, "app"), 0);
	second = result_string(&w);
	assert_string_equal(first, second);
	/* alternatives are decided after the clauses without: ee brings cc, which meets "cc | dd"
	 * and dd's "bb | cc" */
	assert_string_equal(first, "aa=1 app=1 cc=1 dd=1 ee=1");
	world_done(&w);
}

static void test_debdep_parse(void **state)
{
	_cleanup_(debdep_list_freep) struct debdep_list *l = NULL;
	_cleanup_free_ char *s = NULL, *error = NULL;
	(void)state;

	assert_int_equal(
		debdep_parse(" libc6 (>= 2.34), perl:any |python3(<<3.12) ,xy:native (= 1:2-3)",
			     DEBDEP_FIELD_DEPENDS, &l, &error),
		0);
	assert_int_equal(l->n_clauses, 3);
	assert_int_equal(l->clauses[1].n_atoms, 2);
	assert_string_equal(l->clauses[1].atoms[0].arch, "any");
	assert_int_equal(l->clauses[1].atoms[1].op, DEBDEP_OP_LT);
	s = debdep_clause_to_string(&l->clauses[1]);
	assert_string_equal(s, "perl:any | python3 (<< 3.12)");
	l = debdep_list_free(l);

	/* the obsolete < and > mean <= and >= */
	assert_int_equal(debdep_parse("aa (< 1), bb (> 2)", DEBDEP_FIELD_DEPENDS, &l, NULL), 0);
	assert_int_equal(l->clauses[0].atoms[0].op, DEBDEP_OP_LE);
	assert_int_equal(l->clauses[1].atoms[0].op, DEBDEP_OP_GE);
	l = debdep_list_free(l);
	assert_int_equal(debdep_parse("", DEBDEP_FIELD_DEPENDS, &l, NULL), 0);
	assert_int_equal(l->n_clauses, 0);
	l = debdep_list_free(l);

	assert_int_equal(debdep_parse("aa | bb", DEBDEP_FIELD_PROVIDES, &l, &error), -EBADMSG);
	assert_non_null(strstr(error, "alternatives"));
	error = mfree(error);
	assert_int_equal(debdep_parse("aa (>= 1)", DEBDEP_FIELD_PROVIDES, &l, &error), -EBADMSG);
	error = mfree(error);
	assert_int_equal(debdep_parse("aa,", DEBDEP_FIELD_DEPENDS, &l, &error), -EBADMSG);
	error = mfree(error);
	assert_int_equal(debdep_parse("aa [amd64]", DEBDEP_FIELD_DEPENDS, &l, &error), -EBADMSG);
	error = mfree(error);
	assert_int_equal(debdep_parse("Foo", DEBDEP_FIELD_DEPENDS, &l, &error), -EBADMSG);
	assert_non_null(strstr(error, "'Foo' is not a package name"));
	error = mfree(error);
	assert_int_equal(debdep_parse("aa (== 1)", DEBDEP_FIELD_DEPENDS, &l, &error), -EBADMSG);
	error = mfree(error);
	assert_int_equal(debdep_parse("aa (>= 1", DEBDEP_FIELD_DEPENDS, &l, &error), -EBADMSG);
	assert_non_null(strstr(error, "expected ')'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_and_cycle),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_alternatives),
		cmocka_unit_test(test_provides),
		cmocka_unit_test(test_missing_with_chain),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_architectures),
		cmocka_unit_test(test_malformed_relation),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_debdep_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
