/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "tree.h"

static void check_canonical(const char *member, const char *expected)
{
	_cleanup_free_ char *p = NULL;
	const char *reason = NULL;

	assert_int_equal(tree_path_canonicalize(member, &p, &reason), 0);
	assert_string_equal(p, expected);
}

static void check_refused(const char *member, const char *reason_part)
{
	_cleanup_free_ char *p = NULL;
	const char *reason = NULL;

	assert_int_equal(tree_path_canonicalize(member, &p, &reason), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(reason, reason_part));
}

static void test_canonicalize(void **state)
{
	(void)state;
	check_canonical("./usr/bin/x", "usr/bin/x");
	check_canonical("./lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6");
	check_canonical("./bin/sh", "usr/bin/sh");
	check_canonical("./sbin", "usr/sbin");
	check_canonical("lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2");
	check_canonical("./libexec/x", "libexec/x"); /* not a merged directory */
	check_canonical("./binaries/x", "binaries/x");
	check_canonical("./", "");
	check_canonical(".//etc/./passwd", "etc/passwd");
	check_refused("/etc/passwd", "absolute");
	check_refused("./../etc/passwd", "'..'");
	check_refused("usr/../../x", "'..'");
	check_refused("..", "'..'");
}

struct fixture {
	char *dir;
	struct tree *t;
	unsigned n;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(mkdtemp_in(NULL, "airlock-tree-", &f->dir), 0);
	assert_int_equal(tree_new(&f->t), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tree_free(f->t);
	rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct tree_node *reg(struct fixture *f, const char *path, const char *content,
			     const char *origin)
{
	struct tree_node *n = tree_node_new(path, TREE_REG, 0644, origin);
	assert_non_null(n);
	assert_true(asprintf(&n->source, "%s/%u", f->dir, f->n++) > 0);
	assert_int_equal(write_file_atomic(n->source, content, strlen(content), 0644), 0);
	n->size = strlen(content);
	return n;
}

static struct tree_node *link_node(const char *path, const char *target, const char *origin)
{
	struct tree_node *n = tree_node_new(path, TREE_SYMLINK, 0777, origin);
	assert_non_null(n);
	n->target = strdup(target);
	return n;
}

static int add(struct fixture *f, struct tree_node *n, enum tree_add_flags flags, char **error)
{
	return tree_add(f->t, n, flags, error);
}

static void test_add_and_parents(void **state)
{
	struct fixture *f = *state;
	struct tree_node *d;

	assert_int_equal(add(f, reg(f, "usr/bin/x", "x", "pkg-a"), 0, NULL), 0);
	d = tree_get(f->t, "usr/bin");
	assert_non_null(d);
	assert_int_equal(d->type, TREE_DIR);
	assert_int_equal(d->mode, 0755);
	assert_non_null(tree_get(f->t, "usr"));
	assert_non_null(tree_get(f->t, ""));
	assert_int_equal(tree_size(f->t), 4);
}

static void test_write_through_symlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(add(f, link_node("evil", "/tmp/outside", "pkg-evil"), 0, NULL), 0);
	assert_int_equal(add(f, reg(f, "evil/file", "boom", "pkg-evil"), 0, &error), -ELOOP);
	assert_non_null(strstr(error, "'evil/file' would be written through the symlink '/evil'"));
	assert_null(tree_get(f->t, "evil/file"));
}

static void test_below_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(add(f, reg(f, "etc/x", "x", "a"), 0, NULL), 0);
	assert_int_equal(add(f, reg(f, "etc/x/y", "y", "b"), 0, &error), -ENOTDIR);
	assert_non_null(strstr(error, "below the file '/etc/x'"));
}

static void test_conflicts(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(add(f, reg(f, "usr/bin/x", "same", "pkg-a"), 0, NULL), 0);
	/* identical content from another package: merged */
	assert_int_equal(add(f, reg(f, "usr/bin/x", "same", "pkg-b"), 0, NULL), 0);
	assert_string_equal(tree_get(f->t, "usr/bin/x")->origin, "pkg-a");
	/* different content: refused, naming both */
	assert_int_equal(add(f, reg(f, "usr/bin/x", "other", "pkg-c"), 0, &error), -EEXIST);
	assert_non_null(strstr(error, "'/usr/bin/x' (file from pkg-c) conflicts with the file "
				      "from pkg-a"));
	/* the overlay may replace */
	assert_int_equal(add(f, reg(f, "usr/bin/x", "overlay", "overlay"), TREE_ADD_REPLACE, NULL),
			 0);
	assert_string_equal(tree_get(f->t, "usr/bin/x")->origin, "overlay");
	/* a directory over a file is always a conflict */
	free(error);
	error = NULL;
	assert_int_equal(add(f, tree_node_new("usr/bin/x", TREE_DIR, 0755, "pkg-d"),
			     TREE_ADD_REPLACE, &error),
			 -EEXIST);
	/* directories merge, the first owner stays */
	assert_int_equal(add(f, tree_node_new("usr/bin", TREE_DIR, 0700, "pkg-e"), 0, NULL), 0);
	assert_int_equal(tree_get(f->t, "usr/bin")->mode, 0755);
}

static void test_hardlink(void **state)
{
	struct fixture *f = *state;
	struct tree_node *h;
	_cleanup_free_ char *error = NULL;

	h = reg(f, "usr/bin/b", "", "pkg");
	h->hardlink = strdup("usr/bin/a");
	assert_int_equal(add(f, h, 0, &error), -EINVAL);
	assert_non_null(strstr(error, "not an earlier regular file"));
	assert_int_equal(add(f, reg(f, "usr/bin/a", "a", "pkg"), 0, NULL), 0);
	h = reg(f, "usr/bin/b", "a", "pkg");
	h->hardlink = strdup("usr/bin/a");
	assert_int_equal(add(f, h, 0, NULL), 0);
}

static void test_resolve_and_sorted(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ struct tree_node **nodes = NULL;
	size_t n;

	assert_int_equal(add(f, reg(f, "usr/lib/os-release", "ID=x", "base-files"), 0, NULL), 0);
	assert_int_equal(add(f, link_node("etc/os-release", "../usr/lib/os-release", "base-files"),
			     0, NULL),
			 0);
	assert_int_equal(add(f, link_node("lib", "usr/lib", "gen"), 0, NULL), 0);
	assert_int_equal(add(f, link_node("loop1", "loop2", "gen"), 0, NULL), 0);
	assert_int_equal(add(f, link_node("loop2", "/loop1", "gen"), 0, NULL), 0);
	assert_int_equal(add(f, link_node("abs", "/lib/os-release", "gen"), 0, NULL), 0);

	assert_string_equal(tree_resolve(f->t, "etc/os-release")->path, "usr/lib/os-release");
	assert_string_equal(tree_resolve(f->t, "/lib/os-release")->path, "usr/lib/os-release");
	assert_string_equal(tree_resolve(f->t, "abs")->path, "usr/lib/os-release");
	assert_null(tree_resolve(f->t, "loop1"));
	assert_null(tree_resolve(f->t, "lib/missing"));

	assert_int_equal(tree_sorted(f->t, &nodes, &n), 0);
	assert_int_equal(n, tree_size(f->t));
	assert_string_equal(nodes[0]->path, "");
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(nodes[i - 1]->path, nodes[i]->path) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonicalize),
		cmocka_unit_test_setup_teardown(test_add_and_parents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_through_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_below_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_and_sorted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
