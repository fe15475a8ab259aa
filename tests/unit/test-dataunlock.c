/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dataunlock.c without a TPM or device-mapper: choosing the data partition, reading
 * a typed line (lib/core/secret.c) from several descriptors, and the recovery-key prompt
 * driven through pipes and a pseudo-terminal against a real LUKS2 header in an image
 * file (keys are checked, nothing is mapped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <termios.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "core/secret.h"
#include "core/strv.h"
#include "dataunlock.h"
#include "ext/luks.h"
#include "gpt.h"
#include "recovery.h"

static const struct luks_pbkdf fast = { .type = LUKS_PBKDF_PBKDF2, .iterations = 1000 };

/* ---- data_partition_find ---- */

static void test_partition_find(void **state)
{
	struct partition_info parts[4] = {
		{ .number = 1, .type_uuid = (char *)GPT_TYPE_ESP },
		{ .number = 2, .type_uuid = (char *)GPT_TYPE_ROOT_X86_64 },
		{ .number = 3, .type_uuid = (char *)GPT_TYPE_ROOT_X86_64_VERITY },
		{ .number = 6, .type_uuid = (char *)GPT_TYPE_VAR },
	};
	struct disk_info d = { .node = (char *)"/dev/vda", .partitions = parts, .n_partitions = 4 };
	_cleanup_free_ char *error = NULL;
	size_t idx = 99;
	(void)state;

	assert_int_equal(data_partition_find(&d, &idx, &error), 0);
	assert_int_equal(idx, 3);
	assert_null(error);

	/* the installer medium: ESP, root-a, verity-a only */
	d.n_partitions = 3;
	idx = 99;
	assert_int_equal(data_partition_find(&d, &idx, &error), -ENOENT);
	assert_int_equal(idx, 99);
	assert_null(error);

	/* no partition table at all */
	d.n_partitions = 0;
	assert_int_equal(data_partition_find(&d, &idx, &error), -ENOENT);

	/* two data partitions: never guess */
	parts[1].type_uuid = (char *)GPT_TYPE_VAR;
	d.n_partitions = 4;
	assert_int_equal(data_partition_find(&d, &idx, &error), -ENOTUNIQ);
	assert_non_null(error);
	assert_non_null(strstr(error, "/dev/vda"));
	assert_non_null(strstr(error, "2 and 6"));
	assert_int_equal(idx, 99);

	/* the type decides, not the name; a missing type is no match */
	parts[1].type_uuid = NULL;
	parts[3].name = (char *)"something";
	assert_int_equal(data_partition_find(&d, &idx, NULL), 0);
	assert_int_equal(idx, 3);

	assert_string_equal(data_unlock_method_to_string(DATA_UNLOCK_NONE), "none");
	assert_string_equal(data_unlock_method_to_string(DATA_UNLOCK_TPM), "tpm");
	assert_string_equal(data_unlock_method_to_string(DATA_UNLOCK_RECOVERY), "recovery");
	assert_null(data_unlock_method_to_string(_DATA_UNLOCK_METHOD_MAX));
}

/* ---- secret_read_line ---- */

static void write_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_read_line(void **state)
{
	int a[2], b[2], fds[2];
	char *line = NULL;
	size_t idx = 99;
	(void)state;

	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	fds[0] = a[0];
	fds[1] = b[0];

	/* a partial line on one console, a whole one on the other: the whole one wins */
	write_str(a[1], "half a li");
	write_str(b[1], "whole\r\n");
	assert_int_equal(secret_read_line(fds, 2, 16, &line, &idx), 0);
	assert_string_equal(line, "whole");
	assert_int_equal(idx, 1);
	line = secret_free(line);

	/* the rest of "\r\n" is an empty line; the next line is read whole */
	assert_int_equal(secret_read_line(fds, 2, 16, &line, &idx), 0);
	assert_true(line[0] == '\0' || streq(line, "half a li"));
	line = secret_free(line);

	/* longer than the limit: read to its end, dropped, and the next line is intact */
	write_str(b[1], "0123456789abcdefXYZ\nnext\n");
	assert_int_equal(secret_read_line(&b[0], 1, 16, &line, NULL), -E2BIG);
	assert_null(line);
	assert_int_equal(secret_read_line(&b[0], 1, 16, &line, NULL), 0);
	assert_string_equal(line, "next");
	line = secret_free(line);

	/* exactly at the limit is fine */
	write_str(b[1], "0123456789abcdef\n");
	assert_int_equal(secret_read_line(&b[0], 1, 16, &line, NULL), 0);
	assert_string_equal(line, "0123456789abcdef");
	line = secret_free(line);

	/* one console closed: the other still answers; both closed: -EPIPE */
	close(a[1]);
	write_str(b[1], "still\n");
	assert_int_equal(secret_read_line(fds, 2, 16, &line, &idx), 0);
	assert_string_equal(line, "still");
	assert_int_equal(idx, 1);
	line = secret_free(line);
	write_str(b[1], "unfinished");
	close(b[1]);
	assert_int_equal(secret_read_line(fds, 2, 16, &line, NULL), -EPIPE);
	assert_null(line);
	assert_int_equal(secret_read_line(fds, 0, 16, &line, NULL), -EPIPE);
	close(a[0]);
	close(b[0]);
}

/* ---- the recovery-key prompt ---- */

struct fixture {
	char *dir;
	char *image;
	char *key; /* the recovery key, canonical, secret memory */
	char **said; /* every line said */
	int pty_slave; /* when set: ECHO must be off on it whenever a line is said after the
			* first prompt */
	unsigned echo_on_seen;
};

static void say(const char *line, void *userdata)
{
	struct fixture *f = userdata;
	struct termios t;

	assert_int_equal(strv_extend(&f->said, line), 0);
	if (f->pty_slave >= 0 && tcgetattr(f->pty_slave, &t) == 0 && (t.c_lflag & ECHO))
		f->echo_on_seen++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct luks_format_params p = { .label = "TEST-ONLY", .pbkdf = &fast };
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	int fd, slot = -1;

	if (!f || mkdtemp_in(NULL, "airlock-test-dataunlock.", &f->dir) < 0)
		return -1;
	f->pty_slave = -1;
	f->image = path_join(f->dir, "data.img");
	fd = open(f->image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 32 * 1024 * 1024) < 0)
		return -1;
	close(fd);
	if (recovery_key_generate(&f->key) < 0 || luks_format(f->image, &p, &v) < 0 ||
	    luks_keyslot_add(v, NULL, 0, "TEST-ONLY another passphrase", 28, NULL, &slot) < 0 ||
	    luks_keyslot_add(v, NULL, 0, f->key, strlen(f->key), NULL, &slot) < 0 || slot != 1)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	(void)rm_rf(f->dir);
	free(f->dir);
	free(f->image);
	secret_free(f->key);
	strv_free(f->said);
	free(f);
	return 0;
}

static struct data_unlock_params params(struct fixture *f, const int *fds, size_t n)
{
	return (struct data_unlock_params){
		.node = f->image,
		.name = NULL, /* check only */
		.tcti = NULL,
		.no_tpm_reason = "TEST: no TPM here",
		.cap_pcr = true,
		.key_fds = fds,
		.n_key_fds = n,
		.say = say,
		.userdata = f,
	};
}

/* The key as a person might type it: upper case, groups split by spaces, no dashes. */
static char *typed(const char *key)
{
	char *s = secret_alloc(2 * strlen(key) + 2);
	size_t n = 0;

	assert_non_null(s);
	for (size_t i = 0; key[i]; i++)
		if (key[i] == '-')
			s[n++] = ' ';
		else
			s[n++] = (char)(key[i] - 'a' + 'A');
	s[n++] = '\n';
	return s;
}

static void assert_no_key_said(struct fixture *f)
{
	char group[RECOVERY_KEY_GROUP + 1] = {};

	memcpy(group, f->key, RECOVERY_KEY_GROUP);
	STRV_FOREACH(l, f->said) {
		assert_null(strstr(*l, f->key));
		assert_null(strstr(*l, group));
	}
}

static size_t count_said(struct fixture *f, const char *needle)
{
	size_t n = 0;

	STRV_FOREACH(l, f->said)
		n += strstr(*l, needle) != NULL;
	return n;
}

static void test_prompt_third_try(void **state)
{
	struct fixture *f = *state;
	_cleanup_secret_ char *good = typed(f->key);
	struct data_unlock_result res = {};
	_cleanup_free_ char *error = NULL;
	char wrong[RECOVERY_KEY_LENGTH + 2];
	int p[2], fds[1];
	struct data_unlock_params dp;

	/* a well-formed key that is not this volume's: flip the first letter */
	snprintf(wrong, sizeof(wrong), "%s\n", f->key);
	wrong[0] = wrong[0] == 'c' ? 'b' : 'c';

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	/* Enter alone (no try), a malformed line, the wrong key, then the right one typed
	 * loosely: opened on the third try */
	write_str(p[1], "\n");
	write_str(p[1], "hello there\n");
	write_str(p[1], wrong);
	write_str(p[1], good);
	fds[0] = p[0];
	dp = params(f, fds, 1);
	assert_int_equal(data_unlock(&dp, &res, &error), 0);
	assert_null(error);
	assert_int_equal(res.method, DATA_UNLOCK_RECOVERY);
	assert_int_equal(res.keyslot, 1);
	assert_false(res.capped);

	/* one line says why the TPM did not open it, then exactly these failures */
	assert_int_equal(count_said(f, "the TPM did not open the data volume: TEST: no TPM here"),
			 1);
	assert_int_equal(count_said(f, "(try 1 of 3"), 2); /* Enter alone asked again */
	assert_int_equal(count_said(f, "(try 2 of 3"), 1);
	assert_int_equal(count_said(f, "(try 3 of 3"), 1);
	assert_int_equal(count_said(f, "that is not a recovery key: character 5 is not one of"), 1);
	assert_int_equal(count_said(f, "wrong recovery key"), 1);
	assert_int_equal(count_said(f, "(1 try left)"), 1);
	assert_no_key_said(f);
	/* no TPM is not a policy mismatch: no re-seal advice */
	assert_int_equal(res.refusal, TPM_REFUSAL_NO_TPM);
	assert_int_equal(count_said(f, "airlock-tpm reseal"), 0);
	close(p[0]);
	close(p[1]);
}

/* What airlock-init leaves for airlock-tpm boot-report, and which refusals are mismatches. */
static void test_report(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = path_join(f->dir, "tpm-unlock.json"), *error = NULL;
	struct data_unlock_result r = { .method = DATA_UNLOCK_RECOVERY,
					.refusal = TPM_REFUSAL_PCR_CHANGED },
				  back = {};

	snprintf(r.reason, sizeof(r.reason), "token 0: PCR 7 \"differs\"");
	assert_int_equal(data_unlock_report_write(path, &r), 0);
	assert_int_equal(data_unlock_report_read(path, &back, &error), 0);
	assert_int_equal(back.method, DATA_UNLOCK_RECOVERY);
	assert_int_equal(back.refusal, TPM_REFUSAL_PCR_CHANGED);
	assert_string_equal(back.reason, r.reason);

	r = (struct data_unlock_result){ .method = DATA_UNLOCK_TPM };
	assert_int_equal(data_unlock_report_write(path, &r), 0);
	assert_int_equal(data_unlock_report_read(path, &back, &error), 0);
	assert_int_equal(back.method, DATA_UNLOCK_TPM);

	assert_int_equal(write_file_atomic(path, "{\"method\":\"recovery\"}", 21, 0644), 0);
	assert_int_equal(data_unlock_report_read(path, &back, &error), -EBADMSG);
	assert_non_null(strstr(error, "\"refusal\""));
	error = mfree(error);
	assert_int_equal(write_file_atomic(path, "{\"method\":\"magic\"}", 18, 0644), 0);
	assert_int_equal(data_unlock_report_read(path, &back, &error), -EBADMSG);
	assert_non_null(strstr(error, "\"method\""));

	assert_true(data_unlock_policy_mismatch(TPM_REFUSAL_PCR_CHANGED));
	assert_true(data_unlock_policy_mismatch(TPM_REFUSAL_NOT_SIGNED));
	assert_true(data_unlock_policy_mismatch(TPM_REFUSAL_OTHER_KEY));
	assert_true(data_unlock_policy_mismatch(TPM_REFUSAL_BAD_SIGNATURE));
	assert_false(data_unlock_policy_mismatch(TPM_REFUSAL_LOCKOUT));
	assert_false(data_unlock_policy_mismatch(TPM_REFUSAL_NO_TPM));
	assert_false(data_unlock_policy_mismatch(TPM_REFUSAL_WRONG_SRK));
	assert_int_equal(data_unlock_refusal_pcrs(TPM_REFUSAL_PCR_CHANGED, 1U << 7, 1U << 11),
			 1U << 7);
	assert_int_equal(data_unlock_refusal_pcrs(TPM_REFUSAL_NOT_SIGNED, 1U << 7, 1U << 11),
			 1U << 11);
	assert_int_equal(data_unlock_refusal_pcrs(TPM_REFUSAL_LOCKOUT, 1U << 7, 1U << 11), 0);
	for (int i = 0; i < _TPM_REFUSAL_MAX; i++)
		assert_int_equal(tpm_refusal_from_name(tpm_refusal_to_name(i)), i);
	assert_int_equal(tpm_refusal_from_name("nope"), _TPM_REFUSAL_INVALID);
}

static void test_prompt_three_failures(void **state)
{
	struct fixture *f = *state;
	_cleanup_secret_ char *good = typed(f->key);
	struct data_unlock_result res = { .method = _DATA_UNLOCK_METHOD_INVALID };
	_cleanup_free_ char *error = NULL;
	char longline[DATA_KEY_LINE_MAX + 10];
	int p[2], fds[1];
	struct data_unlock_params dp;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	/* too few letters, a line too long, a key with one letter too many: three tries
	 * gone; the right key after them is never read */
	write_str(p[1], "cbdefghi-jklnrtuv\n");
	memset(longline, 'c', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	write_str(p[1], longline);
	write_str(p[1], f->key);
	write_str(p[1], "c\n");
	write_str(p[1], good);
	fds[0] = p[0];
	dp = params(f, fds, 1);
	assert_int_equal(data_unlock(&dp, &res, &error), -EPERM);
	assert_non_null(error);
	assert_non_null(strstr(error, "in 3 tries"));
	assert_int_equal(res.method, _DATA_UNLOCK_METHOD_INVALID); /* untouched */
	assert_int_equal(count_said(f, "16 letters typed; a recovery key has 64"), 1);
	assert_int_equal(count_said(f, "the line is longer than"), 1);
	assert_int_equal(count_said(f, "65 letters typed"), 1);
	assert_int_equal(count_said(f, "wrong recovery key"), 0);
	assert_int_equal(count_said(f, "(no tries left)"), 1);
	assert_no_key_said(f);

	/* the right key was left unread in the pipe */
	{
		char buf[256];
		ssize_t k = read(p[0], buf, sizeof(buf));
		assert_true(k > 0);
		explicit_bzero(buf, sizeof(buf));
	}
	close(p[0]);
	close(p[1]);
}

static void test_prompt_input_closed(void **state)
{
	struct fixture *f = *state;
	struct data_unlock_result res = {};
	_cleanup_free_ char *error = NULL;
	int p[2], fds[1];
	struct data_unlock_params dp;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	write_str(p[1], "nonsense\n");
	close(p[1]);
	fds[0] = p[0];
	dp = params(f, fds, 1);
	assert_int_equal(data_unlock(&dp, &res, &error), -EPIPE);
	assert_non_null(strstr(error, "the input was closed"));
	close(p[0]);
}

static void test_prompt_pty_echo_off(void **state)
{
	struct fixture *f = *state;
	_cleanup_secret_ char *good = typed(f->key);
	struct data_unlock_result res = {};
	_cleanup_free_ char *error = NULL;
	struct termios t;
	int master, slave, fds[1];
	struct data_unlock_params dp;
	char echoed[512];
	ssize_t k;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(slave >= 0);
	assert_int_equal(tcgetattr(slave, &t), 0);
	assert_true(t.c_lflag & ECHO);

	/* typed into the terminal before the prompt: the line discipline holds it */
	write_str(master, good);
	f->pty_slave = slave;
	fds[0] = slave;
	dp = params(f, fds, 1);
	assert_int_equal(data_unlock(&dp, &res, &error), 0);
	assert_int_equal(res.method, DATA_UNLOCK_RECOVERY);
	/* the first line (why the TPM refused) comes before echo is turned off */
	assert_int_equal(f->echo_on_seen, 1);
	/* echo is back on afterwards */
	assert_int_equal(tcgetattr(slave, &t), 0);
	assert_true(t.c_lflag & ECHO);
	f->pty_slave = -1;

	/* typed while echo is off: nothing comes back on the terminal */
	assert_int_equal(fcntl(master, F_SETFL, O_NONBLOCK), 0);
	while (read(master, echoed, sizeof(echoed)) > 0)
		; /* whatever the line discipline echoed before the prompt */
	assert_int_equal(secret_echo_off(slave, &t), 0);
	write_str(master, "secret\n");
	{
		char *line = NULL;
		assert_int_equal(secret_read_line(&slave, 1, 64, &line, NULL), 0);
		assert_string_equal(line, "secret");
		secret_free(line);
	}
	k = read(master, echoed, sizeof(echoed));
	assert_true(k < 0 && errno == EAGAIN);
	assert_int_equal(secret_echo_restore(slave, &t), 0);

	/* not a terminal */
	{
		int p[2];
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(secret_echo_off(p[0], &t), -ENOTTY);
		close(p[0]);
		close(p[1]);
	}
	close(slave);
	close(master);
}

static void test_no_header(void **state)
{
	struct fixture *f = *state;
	struct data_unlock_result res = {};
	_cleanup_free_ char *error = NULL, *plain = path_join(f->dir, "plain.img");
	int fd, fds[1] = { -1 };
	struct data_unlock_params dp;

	fd = open(plain, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 * 1024 * 1024), 0);
	close(fd);
	dp = params(f, fds, 1);
	dp.node = plain;
	assert_true(data_unlock(&dp, &res, &error) < 0);
	assert_non_null(strstr(error, "holds no LUKS2 header"));
	assert_null(f->said); /* nothing asked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partition_find),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_third_try, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_three_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_input_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_pty_echo_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_header, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
