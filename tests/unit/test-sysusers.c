/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sysusers.h"

static const char basic[] = "# from systemd's basic.conf (Debian)\n"
			    "g tty        5     -\n"
			    "g shadow     42    -\n"
			    "g nogroup    65534 -\n"
			    "u root       0       - /root                /bin/bash\n"
			    "u daemon     1       - /usr/sbin            /usr/sbin/nologin\n"
			    "u sync       4:65534 - /bin                 /bin/sync\n"
			    "u nobody     65534:65534 - /nonexistent     /usr/sbin/nologin\n";

static void render(struct sysusers *s, char **pw, char **gr, char **sh, char **gs)
{
	assert_int_equal(sysusers_render(s, 86400 * 10, pw, gr, sh, gs), 0);
}

static void test_basic(void **state)
{
	_cleanup_(sysusers_freep) struct sysusers *s = NULL;
	_cleanup_free_ char *pw = NULL, *gr = NULL, *sh = NULL, *gs = NULL, *error = NULL;
	uid_t uid;
	gid_t gid;
	(void)state;

	assert_int_equal(sysusers_new(&s), 0);
	assert_int_equal(sysusers_add_text(s, basic, "basic.conf", &error), 0);
	assert_int_equal(sysusers_add_line(s, "u haproxy - \"HAProxy proxy\" /var/lib/haproxy",
					   "manifest", &error),
			 0);
	assert_int_equal(sysusers_add_line(s, "g kvm -", "manifest", &error), 0);
	assert_int_equal(sysusers_add_line(s, "u svc - \"Service\"", "manifest", &error), 0);
	assert_int_equal(sysusers_add_line(s, "m svc kvm", "manifest", &error), 0);
	/* a second declaration of a name keeps the first */
	assert_int_equal(sysusers_add_line(s, "u root 77", "late", &error), 0);
	assert_int_equal(sysusers_allocate(s, &error), 0);
	render(s, &pw, &gr, &sh, &gs);

	assert_int_equal(sysusers_uid(s, "root", &uid), 0);
	assert_int_equal(uid, 0);
	/* allocation: explicit groups first, then users from 999 down, uid == gid */
	assert_int_equal(sysusers_gid(s, "kvm", &gid), 0);
	assert_int_equal(gid, 999);
	assert_int_equal(sysusers_uid(s, "haproxy", &uid), 0);
	assert_int_equal(uid, 998);
	assert_int_equal(sysusers_gid(s, "haproxy", &gid), 0);
	assert_int_equal(gid, 998);
	assert_int_equal(sysusers_uid(s, "svc", &uid), 0);
	assert_int_equal(uid, 997);
	assert_int_equal(sysusers_uid(s, "nope", &uid), -ENOENT);

	assert_string_equal(pw,
			    "root:x:0:0::/root:/bin/bash\n"
			    "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
			    "sync:x:4:65534::/bin:/bin/sync\n"
			    "svc:x:997:997:Service:/:/usr/sbin/nologin\n"
			    "haproxy:x:998:998:HAProxy proxy:/var/lib/haproxy:/usr/sbin/nologin\n"
			    "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n");
	assert_non_null(strstr(gr, "kvm:x:999:svc\n"));
	assert_non_null(strstr(gr, "root:x:0:\n"));
	assert_non_null(strstr(sh, "root:!*:10::::::\n"));
	assert_non_null(strstr(gs, "kvm:!*::svc\n"));
}

static void test_deterministic(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	(void)state;

	for (int i = 0; i < 2; i++) {
		_cleanup_(sysusers_freep) struct sysusers *s = NULL;
		_cleanup_free_ char *pw = NULL, *gr = NULL, *sh = NULL, *gs = NULL;
		assert_int_equal(sysusers_new(&s), 0);
		assert_int_equal(sysusers_add_text(s, basic, "basic.conf", NULL), 0);
		assert_int_equal(sysusers_add_line(s, "u a -", "m", NULL), 0);
		assert_int_equal(sysusers_add_line(s, "u b -", "m", NULL), 0);
		assert_int_equal(sysusers_allocate(s, NULL), 0);
		render(s, &pw, &gr, &sh, &gs);
		if (i == 0)
			a = strdup(pw);
		else
			b = strdup(pw);
	}
	assert_string_equal(a, b);
}

static void expect(const char *text, int ret_add, int ret_alloc, const char *message)
{
	_cleanup_(sysusers_freep) struct sysusers *s = NULL;
	_cleanup_free_ char *error = NULL;
	int r;

	assert_int_equal(sysusers_new(&s), 0);
	r = sysusers_add_text(s, text, "f.conf", &error);
	assert_int_equal(r, ret_add);
	if (r == 0)
		assert_int_equal(sysusers_allocate(s, &error), ret_alloc);
	if (message) {
		assert_non_null(error);
		if (!strstr(error, message))
			fail_msg("'%s' does not contain '%s'", error, message);
	}
}

static void test_errors(void **state)
{
	(void)state;
	expect("x foo\n", -EBADMSG, 0, "f.conf:1: unknown line type 'x'");
	expect("u\n", -EBADMSG, 0, "expected 2 to 6 fields");
	expect("\nu 9bad\n", -EBADMSG, 0, "f.conf:2: '9bad' is not a valid user");
	expect("u a 12x\n", -EBADMSG, 0, "'12x' is not a user id");
	expect("u a \"unterminated\n", -EBADMSG, 0, "unterminated quote");
	expect("u a %U\n", -EBADMSG, 0, "specifiers");
	expect("u a 5\nu b 5\n", 0, -EBADMSG, "f.conf:2: uid 5 of b is already taken by a");
	expect("g a 7\ng b 7\n", 0, -EBADMSG, "gid 7 of b is already taken by a");
	expect("u a 5:nosuch\n", 0, -EBADMSG, "primary group nosuch of user a is not declared");
	expect("m x y\n", 0, -EBADMSG, "'m x y' names an undeclared user or group");
	expect("r - 900-901\nu a -\nu b -\nu c -\n", 0, -EBADMSG, "no free user id left for c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
