/* SPDX-License-Identifier: Apache-2.0 */
/*
 * installer/console.c: of the installers started on several consoles, one takes the
 * lock; the others are told where it runs. Interactively, nothing is claimed before
 * Enter, and the end of input claims nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "../../installer/installer.h"
#include "core/fs.h"
#include "core/path.h"

static char *tmp_lock(char **dir)
{
	char t[] = "/tmp/test-install-console.XXXXXX";
	assert_non_null(mkdtemp(t));
	*dir = strdup(t);
	return path_join(t, "install.lock");
}

static FILE *input(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	return f;
}

static void test_unattended_first_wins(void **state)
{
	_cleanup_free_ char *dir = NULL, *lock = tmp_lock(&dir);
	int fd1 = -1, fd2 = -1;
	(void)state;

	assert_int_equal(console_claim(lock, true, stdin, &fd1), 0);
	assert_true(fd1 >= 0);
	/* A second installer (its own open file description) is refused, not blocked. */
	assert_int_equal(console_claim(lock, true, stdin, &fd2), -EBUSY);
	assert_int_equal(fd2, -1);
	/* Once the first exits, the lock is free again. */
	close(fd1);
	assert_int_equal(console_claim(lock, true, stdin, &fd2), 0);
	close(fd2);
	(void)rm_rf(dir);
}

static void test_interactive_waits_for_enter(void **state)
{
	_cleanup_free_ char *dir = NULL, *lock = tmp_lock(&dir);
	FILE *eof = input(""), *enter = input("\n");
	int fd = -1, other = -1;
	(void)state;

	/* End of input before Enter: nothing claimed, the lock is free. */
	assert_int_equal(console_claim(lock, false, eof, &fd), -ECANCELED);
	assert_int_equal(fd, -1);
	assert_int_equal(console_claim(lock, true, stdin, &other), 0);
	close(other);
	assert_int_equal(console_claim(lock, false, enter, &fd), 0);
	assert_true(fd >= 0);
	{
		char holder[64] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		assert_true(n > 0); /* the holder's console, for the others' message */
	}
	close(fd);
	fclose(eof);
	fclose(enter);
	(void)rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unattended_first_wins),
		cmocka_unit_test(test_interactive_waits_for_enter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
