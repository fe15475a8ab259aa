/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hashmap.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/run.h"
#include "core/secret.h"
#include "core/strv.h"
#include "core/verb.h"
#include "ext/crypto.h"

static void test_strv(void **state)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *j = NULL;
	(void)state;

	assert_int_equal(strv_split("  b a\tc  a ", " \t", &l), 0);
	assert_int_equal(strv_length(l), 4);
	strv_sort(l);
	strv_uniq(l);
	j = strv_join(l, ",");
	assert_string_equal(j, "a,b,c");
	assert_true(strv_contains(l, "b"));
	assert_false(strv_contains(l, "d"));
	assert_int_equal(strv_extendf(&l, "x%d", 1), 0);
	assert_string_equal(l[3], "x1");
}

static void check_simplify(const char *in, const char *out)
{
	_cleanup_free_ char *p = strdup(in);
	assert_string_equal(path_simplify(p), out);
}

static void test_path(void **state)
{
	_cleanup_free_ char *a = path_join("a/", "/b", "c");
	_cleanup_free_ char *parent = NULL;
	(void)state;

	assert_string_equal(a, "a/b/c");
	check_simplify("./usr//bin/./x/", "usr/bin/x");
	check_simplify("/usr/", "/usr");
	check_simplify("./", "");
	check_simplify("a/../b", "a/../b");
	assert_true(path_has_dotdot("a/../b"));
	assert_true(path_has_dotdot(".."));
	assert_false(path_has_dotdot("a/..b/c.."));
	assert_string_equal(path_last("usr/bin/x"), "x");
	assert_int_equal(path_parent("usr/bin/x", &parent), 0);
	assert_string_equal(parent, "usr/bin");
	assert_true(path_startswith_dir("usr/lib/x", "usr/lib"));
	assert_false(path_startswith_dir("usr/lib64", "usr/lib"));

	assert_true(path_glob_match("usr/share/doc/**", "usr/share/doc/a/b"));
	assert_false(path_glob_match("usr/share/doc/**", "usr/share/doc"));
	assert_false(path_glob_match("usr/share/doc/**", "usr/share/docs/x"));
	assert_true(path_glob_match("**/*.mo", "usr/share/locale/de/LC_MESSAGES/x.mo"));
	assert_true(path_glob_match("usr/**/man/*", "usr/local/share/man/man1"));
	assert_true(path_glob_match("usr/share/doc/*/copyright", "usr/share/doc/bash/copyright"));
	assert_false(path_glob_match("usr/share/doc/*/copyright", "usr/share/doc/a/b/copyright"));
	assert_true(path_glob_match("usr/share/doc/*", "usr/share/doc/.hidden"));
}

static void test_parse(void **state)
{
	uint64_t v;
	unsigned u;
	int i;
	(void)state;

	assert_int_equal(safe_atou64("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(safe_atou64("-1", &v), -EINVAL);
	assert_int_equal(safe_atou64("12x", &v), -EINVAL);
	assert_int_equal(safe_atou64("", &v), -EINVAL);
	assert_int_equal(safe_atou64("99999999999999999999", &v), -ERANGE);
	assert_int_equal(safe_atou("4294967296", &u), -ERANGE);
	assert_int_equal(safe_atoi("-5", &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(safe_atomode("0755", &u), 0);
	assert_int_equal(u, 0755);
	assert_int_equal(parse_size("64M", &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(parse_size("2GiB", &v), -EINVAL);
	assert_int_equal(parse_size("2GB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_boolean("yes"), 1);
	assert_int_equal(parse_boolean("off"), 0);
	assert_int_equal(parse_boolean("maybe"), -EINVAL);
}

static void test_hex_base64_sha(void **state)
{
	uint8_t d[SHA256_DIGEST_SIZE], b[2];
	char hex[SHA256_HEX_SIZE];
	_cleanup_free_ char *h = hexmem("\x01\xab", 2), *b64 = base64_encode("hello", 5);
	_cleanup_free_ uint8_t *dec = NULL;
	size_t n;
	(void)state;

	assert_string_equal(h, "01ab");
	assert_int_equal(unhex_exact("01AB", b, 2), 0);
	assert_int_equal(b[1], 0xab);
	assert_int_equal(unhex_exact("01A", b, 2), -EINVAL);
	assert_int_equal(unhex_exact("zz00", b, 2), -EINVAL);
	assert_string_equal(b64, "aGVsbG8=");
	assert_int_equal(base64_decode(b64, &dec, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(dec, "hello", 5);
	assert_int_equal(sha256_buf("abc", 3, d), 0);
	sha256_hex(d, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_files(void **state)
{
	_cleanup_free_ char *dir = NULL, *f = NULL, *content = NULL, *sub = NULL;
	size_t n;
	(void)state;

	assert_int_equal(mkdtemp_in(NULL, "airlock-test-", &dir), 0);
	f = path_join(dir, "x");
	assert_int_equal(write_file_atomic(f, "abc", 3, 0600), 0);
	assert_int_equal(read_full_file(f, 100, &content, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(content, "abc");
	content = mfree(content);
	assert_int_equal(read_full_file(f, 2, &content, &n), -EFBIG);
	assert_int_equal(write_file_atomic(f, "8:16\nrest\n", 10, 0600), 0);
	assert_int_equal(read_line_file(f, 100, &content), 0);
	assert_string_equal(content, "8:16");
	content = mfree(content);
	assert_int_equal(read_line_file(f, 4, &content), -EFBIG);

	sub = path_join(dir, "a/b/c");
	assert_int_equal(mkdir_p(sub, 0755), 0);
	assert_int_equal(mkdir_p(sub, 0755), 0);
	assert_int_equal(rm_rf(dir), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(rm_rf("/"), -EPERM);
	assert_int_equal(rm_rf(""), -EINVAL);
}

static void test_atomic_file_abort(void **state)
{
	_cleanup_free_ char *dir = NULL, *f = NULL, *content = NULL;
	size_t n;
	(void)state;

	assert_int_equal(mkdtemp_in(NULL, "airlock-test-", &dir), 0);
	f = path_join(dir, "keep");
	assert_int_equal(write_file_atomic(f, "old", 3, 0644), 0);
	{
		_cleanup_atomic_file_ struct atomic_file af = ATOMIC_FILE_INIT;
		assert_int_equal(atomic_file_open(&af, f, 0644), 0);
		assert_int_equal(loop_write(af.fd, "new", 3), 0);
		/* not committed: dropped */
	}
	assert_int_equal(read_full_file(f, 100, &content, &n), 0);
	assert_string_equal(content, "old");
	assert_int_equal(rm_rf(dir), 0);
}

static void test_run(void **state)
{
	const char *ok[] = { "sh", "-c", "echo out; echo err >&2; printf %s \"$LC_ALL\"", NULL };
	const char *bad[] = { "sh", "-c", "echo something broke >&2; exit 3", NULL };
	const char *slow[] = { "sleep", "5", NULL };
	const char *missing[] = { "airlock-no-such-tool", NULL };
	struct run_opts capture = { .stdout_mode = RUN_STDIO_CAPTURE };
	struct run_opts timeout = { .timeout_sec = 1 };
	_cleanup_free_ char *out = NULL, *err = NULL;
	(void)state;

	assert_int_equal(run_argv(ok, &capture, &out, &err), 0);
	assert_string_equal(out, "out\nC");
	assert_null(err);

	assert_int_equal(run_argv(bad, NULL, NULL, &err), -EPROTO);
	assert_non_null(strstr(err, "exited with status 3"));
	assert_non_null(strstr(err, "something broke"));
	err = mfree(err);

	assert_int_equal(run_argv(slow, &timeout, NULL, &err), -ETIMEDOUT);
	assert_non_null(strstr(err, "did not finish"));
	err = mfree(err);

	assert_int_equal(run_argv(missing, NULL, NULL, &err), -ENOENT);
	assert_non_null(strstr(err, "not found"));
}

static void test_secret(void **state)
{
	_cleanup_secret_ uint8_t *s = secret_alloc(64);
	(void)state;

	assert_non_null(s);
	assert_int_equal(secret_size(s), 64);
	memset(s, 0xaa, 64);
}

static void test_hashmap(void **state)
{
	_cleanup_(hashmap_freep) struct hashmap *h = hashmap_new();
	char keys[2000][16];
	size_t i = 0, seen = 0;
	const char *k;
	void *v;
	(void)state;

	for (int n = 0; n < 2000; n++) {
		snprintf(keys[n], sizeof(keys[n]), "key-%d", n);
		assert_int_equal(hashmap_put(h, keys[n], keys[n]), 0);
	}
	assert_int_equal(hashmap_put(h, "key-7", NULL), -EEXIST);
	assert_int_equal(hashmap_size(h), 2000);
	assert_ptr_equal(hashmap_get(h, "key-1999"), keys[1999]);
	assert_null(hashmap_get(h, "key-2000"));
	for (int n = 0; n < 2000; n += 2)
		assert_ptr_equal(hashmap_remove(h, keys[n]), keys[n]);
	assert_int_equal(hashmap_size(h), 1000);
	assert_null(hashmap_get(h, "key-0"));
	assert_ptr_equal(hashmap_get(h, "key-1"), keys[1]);
	while (hashmap_iterate(h, &i, &k, &v)) {
		assert_ptr_equal(k, v);
		seen++;
	}
	assert_int_equal(seen, 1000);
	/* re-insert over tombstones */
	for (int n = 0; n < 2000; n += 2)
		assert_int_equal(hashmap_put(h, keys[n], keys[n]), 0);
	assert_int_equal(hashmap_size(h), 2000);
}

static void test_error(void **state)
{
	char *e = NULL;
	(void)state;

	/* Both say and return; without ret_error they only return. */
	assert_int_equal(error_set(&e, -EINVAL, "field '%s' at %d", "disk", 3), -EINVAL);
	assert_string_equal(e, "field 'disk' at 3");
	assert_int_equal(error_set(NULL, -ENOENT, "unused"), -ENOENT);
	/* error_replace frees a message from an earlier step (ASan: no leak). */
	assert_int_equal(error_replace(&e, -EBADMSG, "then %s", "this"), -EBADMSG);
	assert_string_equal(e, "then this");
	assert_int_equal(error_replace(NULL, 0, "unused"), 0);
	free(e);
}

static void test_log_sanitize(void **state)
{
	char out[128], path[] = "/tmp/airlock-test-log-XXXXXX", *text = NULL;
	int fd;
	(void)state;

	/* printable ASCII and UTF-8 pass; controls, C1 and broken UTF-8 are shown */
	log_sanitize("plain text, caf\xc3\xa9 \xe2\x9c\x93", out, sizeof(out));
	assert_string_equal(out, "plain text, caf\xc3\xa9 \xe2\x9c\x93");
	log_sanitize("a\nfake: record\r\x1b[31mred\x7f", out, sizeof(out));
	assert_string_equal(out, "a\\x0afake: record\\x0d\\x1b[31mred\\x7f");
	log_sanitize("c1 \xc2\x9b and \xff\xc3 and \xed\xa0\x80", out, sizeof(out));
	assert_string_equal(out, "c1 \\xc2\\x9b and \\xff\\xc3 and \\xed\\xa0\\x80");
	/* cut to fit, never mid-escape */
	assert_int_equal(log_sanitize("ab\ncd", out, 6), 2);
	assert_string_equal(out, "ab");

	/* and every log line goes through it: one line per record */
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	log_set_fd(fd);
	log_error("field 'x\ny': refused");
	log_set_fd(STDERR_FILENO);
	assert_int_equal(read_full_file(path, 4096, &text, NULL), 0);
	assert_non_null(strstr(text, "field 'x\\x0ay': refused\n"));
	assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text));
	free(text);
	close(fd);
	unlink(path);
}

static int verb_ok(int argc, char **argv)
{
	return argc == 2 && streq(argv[0], "ok") && streq(argv[1], "x") ? 0 : 9;
}

static int verb_oom(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return -ENOMEM; /* as a verb that ends in "return log_oom();" */
}

static int verb_refused(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 3;
}

static void test_verb(void **state)
{
	static const struct verb verbs[] = {
		{ "ok", verb_ok, "works" },
		{ "oom", verb_oom, "runs out of memory" },
		{ "refused", verb_refused, "refuses" },
	};
	char *ok[] = { (char *)"ok", (char *)"x", NULL }, *oom[] = { (char *)"oom", NULL },
	     *ref[] = { (char *)"refused", NULL }, *unknown[] = { (char *)"nope", NULL };
	(void)state;

	assert_int_equal(verb_dispatch(verbs, ELEMENTSOF(verbs), 2, ok), 0);
	/* a negative errno is a failure (1), never 256 - errno */
	assert_int_equal(verb_dispatch(verbs, ELEMENTSOF(verbs), 1, oom), 1);
	assert_int_equal(verb_dispatch(verbs, ELEMENTSOF(verbs), 1, ref), 3);
	assert_int_equal(verb_dispatch(verbs, ELEMENTSOF(verbs), 1, unknown), EXIT_USAGE);
	assert_int_equal(verb_dispatch(verbs, ELEMENTSOF(verbs), 0, unknown + 1), EXIT_USAGE);
	assert_int_equal(usage_error("ok", "--x %s: a number expected", "y"), EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strv),	     cmocka_unit_test(test_path),
		cmocka_unit_test(test_parse),	     cmocka_unit_test(test_hex_base64_sha),
		cmocka_unit_test(test_files),	     cmocka_unit_test(test_atomic_file_abort),
		cmocka_unit_test(test_run),	     cmocka_unit_test(test_secret),
		cmocka_unit_test(test_hashmap),	     cmocka_unit_test(test_error),
		cmocka_unit_test(test_log_sanitize), cmocka_unit_test(test_verb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
