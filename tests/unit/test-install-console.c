/* SPDX-License-Identifier: Apache-2.0 */
/*
 * installer/console.c: of the installers started on several consoles, one takes the
 * lock; the others are told where it runs and then show its result. Interactively,
 * nothing is claimed before Enter, and the end of input claims nothing.
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
	/* A second installer (its own open file description) is refused, not blocked,
	 * and given the lock to follow. */
	assert_int_equal(console_claim(lock, true, stdin, &fd2), -EBUSY);
	assert_true(fd2 >= 0);
	close(fd2);
	fd2 = -1;
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

static char *follow(int fd)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	assert_int_equal(console_follow(fd, out), 0);
	fclose(out);
	return text;
}

static void test_follower_shows_result(void **state)
{
	_cleanup_free_ char *dir = NULL, *lock = tmp_lock(&dir), *shown = NULL, *gone = NULL;
	int holder = -1, follower = -1;
	(void)state;

	assert_int_equal(console_claim(lock, true, stdin, &holder), 0);
	assert_int_equal(console_claim(lock, true, stdin, &follower), -EBUSY);
	/* The result is shown once it is recorded, while the holder still runs (it may be
	 * about to reboot); a second report replaces the first. */
	console_report(holder, "first");
	console_report(holder, "installed; the machine reboots now");
	shown = follow(follower);
	assert_non_null(strstr(shown, "ended: installed; the machine reboots now\n"));
	assert_null(strstr(shown, "first"));
	close(follower);

	/* A holder that ends without a result: said so, not waited for forever. */
	assert_int_equal(console_claim(lock, true, stdin, &follower), -EBUSY);
	assert_int_equal(ftruncate(holder, 0), 0); /* as if killed before any report */
	close(holder);
	gone = follow(follower);
	assert_non_null(strstr(gone, "it left no result"));
	close(follower);
	(void)rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unattended_first_wins),
		cmocka_unit_test(test_interactive_waits_for_enter),
		cmocka_unit_test(test_follower_shows_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
