/* SPDX-License-Identifier: Apache-2.0 */
/* Who may append (lib/ledger-policy.c): parsing, errors naming file:line, matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ledger-policy.h"

static struct ledger_policy *parse_ok(const char *text)
{
	struct ledger_policy *p = NULL;
	_cleanup_free_ char *err = NULL;
	int r = ledger_policy_parse("test.policy", text, &p, &err);
	if (r < 0)
		print_error("%s\n", strna(err));
	assert_int_equal(r, 0);
	return p;
}

static void parse_bad(const char *text, const char *what)
{
	struct ledger_policy *p = NULL;
	_cleanup_free_ char *err = NULL;

	assert_int_equal(ledger_policy_parse("test.policy", text, &p, &err), -EBADMSG);
	assert_null(p);
	if (!strstr(strna(err), what))
		print_error("'%s': expected '%s', got '%s'\n", text, what, strna(err));
	assert_non_null(strstr(strna(err), what));
}

static int check(const struct ledger_policy *p, uint32_t uid, uint32_t gid, const char *unit,
		 const char *type, unsigned *line)
{
	struct ledger_actor a = { .uid = uid, .gid = gid, .pid = 99, .unit = (char *)unit };
	uint32_t groups[] = { 4000, 4001 };
	return ledger_policy_check(p, &a, groups, ELEMENTSOF(groups), type, line);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_bad("allow\n", "test.policy:1: 'allow' alone");
	parse_bad("# c\n\ndeny uid=0\n", "test.policy:3: 'deny'");
	parse_bad("allow uid=x\n", "uid=x: not a number");
	parse_bad("allow uid=0 uid=1\n", "given twice");
	parse_bad("allow type=a.*\n", "names nobody");
	parse_bad("allow uid=0 colour=red\n", "unknown condition 'colour'");
	parse_bad("allow uid=0 type=\n", "is not KEY=VALUE");
	parse_bad("allow user=airlock-no-such-user-x\n", "no such user");
	parse_bad("allow group=airlock-no-such-group-x\n", "no such group");
	parse_bad("allow uid=0\nallow uid=1 =x\n", "test.policy:2:");
}

static void test_match(void **state)
{
	_cleanup_(ledger_policy_freep) struct ledger_policy *p = NULL;
	unsigned line = 0;
	(void)state;

	p = parse_ok("# who may append\n"
		     "allow uid=0   # root\n"
		     "allow uid=1001 type=test.*\n"
		     "allow gid=4001 type=group.thing\n"
		     "allow unit=airlock-*.service type=update.*\n"
		     "allow user=root type=never.reached\n");
	assert_int_equal(p->n_rules, 5);

	assert_int_equal(check(p, 0, 0, NULL, "anything", &line), 0);
	assert_int_equal(line, 2);
	assert_int_equal(check(p, 1001, 1001, NULL, "test.x", &line), 0);
	assert_int_equal(line, 3);
	assert_int_equal(check(p, 1001, 1001, NULL, "install.x", &line), -EACCES);
	/* a supplementary group */
	assert_int_equal(check(p, 5000, 5000, NULL, "group.thing", &line), 0);
	assert_int_equal(line, 4);
	assert_int_equal(check(p, 5000, 5000, NULL, "group.other", &line), -EACCES);
	/* the unit, as the kernel's cgroup says; unknown units match no unit rule */
	assert_int_equal(check(p, 7, 7, "airlock-update.service", "update.done", &line), 0);
	assert_int_equal(line, 5);
	assert_int_equal(check(p, 7, 7, "other.service", "update.done", &line), -EACCES);
	assert_int_equal(check(p, 7, 7, NULL, "update.done", &line), -EACCES);
	assert_int_equal(check(p, 4321, 4321, NULL, "test.x", &line), -EACCES);
}

static void test_empty(void **state)
{
	_cleanup_(ledger_policy_freep) struct ledger_policy *p = parse_ok("# nobody\n\n");
	(void)state;

	assert_int_equal(p->n_rules, 0);
	assert_int_equal(check(p, 0, 0, NULL, "x", NULL), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
