/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger format and its writer (lib/ledger.c): canonical serialisation, chaining,
 * checkpoint signatures, rotation, recovery from a torn final record, and a writer that
 * cannot write (RLIMIT_FSIZE) leaving no partial record behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/path.h"
#include "core/strv.h"
#include "ledger.h"

static struct ed25519_key *test_key; /* TEST-ONLY, made afresh for each run */
static struct ed25519_key *other_key;

static int setup(void **state)
{
	(void)state;
	if (ed25519_key_generate(&test_key) < 0 || ed25519_key_generate(&other_key) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_key = ed25519_key_free(test_key);
	other_key = ed25519_key_free(other_key);
	return 0;
}

static char *make_dir(void)
{
	char *d = NULL;
	assert_int_equal(mkdtemp_in(NULL, "airlock-test-ledger-", &d), 0);
	return d;
}

static char *memdup(const void *p, size_t n)
{
	char *r = malloc(n);
	assert_non_null(r);
	memcpy(r, p, n);
	return r;
}

static struct ledger_actor test_actor = { .uid = 1000, .gid = 100, .pid = 4242, .unit = NULL };

static struct json_object *payload_i(int64_t i)
{
	struct json_object *p = json_object_new_object();
	assert_non_null(p);
	assert_int_equal(json_add_int(p, "i", i), 0);
	assert_int_equal(json_add_string(p, "what", "a test record"), 0);
	return p;
}

/* Appends n records, committing every `batch`. */
static void append_n(struct ledger_writer *w, unsigned n, unsigned batch)
{
	for (unsigned i = 0; i < n; i++) {
		_cleanup_json_ struct json_object *p = payload_i(i);
		uint64_t seq = 0;
		assert_int_equal(ledger_writer_add(w, "test.record", &test_actor, p, &seq, NULL),
				 0);
		assert_true(seq > 0);
		if ((i + 1) % batch == 0)
			assert_int_equal(ledger_writer_commit(w), 0);
	}
	assert_int_equal(ledger_writer_commit(w), 0);
}

static struct ledger_writer *open_writer(const char *dir, const struct ledger_writer_opts *o,
					 struct ledger_open_info *info)
{
	struct ledger_writer *w = NULL;
	_cleanup_free_ char *err = NULL;
	struct ledger_actor self = { .uid = 0, .gid = 0, .pid = 1, .unit = (char *)"test.service" };
	int r = ledger_writer_open(dir, test_key, o, &self, &w, info, &err);
	if (r < 0)
		print_error("ledger_writer_open: %s (%s)\n", strerror(-r), strna(err));
	assert_int_equal(r, 0);
	return w;
}

static int verify(const char *dir, struct ed25519_key *pub, struct ledger_verify_result *res)
{
	struct ledger_verify_opts o = { .pubkey = pub };
	return ledger_verify(dir, &o, res);
}

static void assert_verifies(const char *dir)
{
	_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
	int r = verify(dir, test_key, &res);
	if (r < 0)
		print_error("verify: %s\n", strna(res.error));
	assert_int_equal(r, 0);
}

/* All lines of one file. */
static char **file_lines(const char *dir, const char *name)
{
	_cleanup_free_ char *p = path_join(dir, name), *text = NULL;
	char **l = NULL;
	assert_int_equal(read_full_file(p, 1 << 28, &text, NULL), 0);
	assert_int_equal(strv_split(text, "\n", &l), 0);
	return l;
}

/* Replaces the hash of a line whose body was changed, so that only the change is seen. */
static char *rehash(const char *line)
{
	const char *h = strstr(line, ",\"hash\":\"");
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	char *r = NULL;

	assert_non_null(h);
	assert_int_equal(sha256_buf(line, (size_t)(h - line), d), 0);
	sha256_hex(d, hex);
	assert_true(asprintf(&r, "%.*s,\"hash\":\"%s%s", (int)(h - line), line, hex,
			     h + strlen(",\"hash\":\"") + 64) > 0);
	return r;
}

static int parse_line(const char *line, struct ledger_record **ret, char **why)
{
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	assert_int_equal(ledger_parser_new(&p), 0);
	return ledger_parser_parse(p, line, strlen(line), ret, why);
}

static void assert_refused(const char *line, const char *why_part)
{
	_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
	_cleanup_free_ char *why = NULL;

	assert_int_equal(parse_line(line, &rec, &why), -EBADMSG);
	if (!strstr(strna(why), why_part))
		print_error("'%s': expected '%s', got '%s'\n", line, why_part, strna(why));
	assert_non_null(strstr(strna(why), why_part));
}

static void test_canonical(void **state)
{
	_cleanup_(sha256_hasher_freep) struct sha256_hasher *h = NULL;
	_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
	_cleanup_json_ struct json_object *payload = NULL;
	_cleanup_free_ char *line = NULL, *line2 = NULL, *why = NULL, *expect = NULL;
	_cleanup_free_ char *bad = NULL;
	struct ledger_actor actor = { .uid = 0, .gid = 0, .pid = 77, .unit = (char *)"a.service" };
	struct ledger_entry e = {
		.seq = 42,
		.time = "2026-03-01T12:34:56.000123Z",
		.type = "install.disk",
		.actor = &actor,
	};
	uint8_t hash[LEDGER_HASH_SIZE], d[LEDGER_HASH_SIZE];
	char hex[LEDGER_HASH_HEX_SIZE];
	const char *body;
	size_t n = 0, n2 = 0;
	(void)state;

	/* Strings with quotes, backslashes, control characters, '/', and UTF-8. */
	assert_int_equal(
		json_parse("{\"disk\":\"/dev/vda\",\"note\":\"a \\\"b\\\" \\\\ \\n\\u0001 é\","
			   "\"n\":-5,\"ok\":true,\"none\":null,\"list\":[1,{\"x\":[]}]}",
			   strlen("{\"disk\":\"/dev/vda\",\"note\":\"a \\\"b\\\" \\\\ \\n\\u0001 "
				  "é\",\"n\":-5,\"ok\":true,\"none\":null,\"list\":[1,{"
				  "\"x\":[]}]}"),
			   &payload, NULL),
		0);
	e.payload = payload;
	memset(e.prev, 0xab, sizeof(e.prev));

	assert_int_equal(sha256_hasher_new(&h), 0);
	assert_int_equal(ledger_line_format(&e, h, NULL, &line, &n, hash), 0);

	/* The canonical form, written out by hand as airlock-ledger(5) documents it. */
	body = "{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"install.disk\","
	       "\"actor\":{\"uid\":0,\"gid\":0,\"pid\":77,\"unit\":\"a.service\"},"
	       "\"payload\":{\"disk\":\"/dev/vda\",\"note\":\"a \\\"b\\\" \\\\ \\n\\u0001 é\","
	       "\"n\":-5,\"ok\":true,\"none\":null,\"list\":[1,{\"x\":[]}]},"
	       "\"prev\":\"abababababababababababababababababababababababababababababababab\"";
	assert_int_equal(sha256_buf(body, strlen(body), d), 0);
	assert_memory_equal(d, hash, sizeof(d));
	sha256_hex(d, hex);
	assert_true(asprintf(&expect, "%s,\"hash\":\"%s\"}\n", body, hex) > 0);
	assert_int_equal(n, strlen(expect));
	assert_string_equal(line, expect);

	/* Parsing gives the same record back, and formatting that gives the same line. */
	line[n - 1] = '\0';
	assert_int_equal(parse_line(line, &rec, &why), 0);
	assert_int_equal(rec->seq, 42);
	assert_string_equal(rec->time, e.time);
	assert_string_equal(rec->type, "install.disk");
	assert_int_equal(rec->actor.pid, 77);
	assert_string_equal(rec->actor.unit, "a.service");
	assert_memory_equal(rec->hash, hash, sizeof(hash));
	assert_memory_equal(rec->prev, e.prev, sizeof(e.prev));
	assert_false(rec->has_sig);
	{
		struct ledger_entry e2 = { .seq = rec->seq,
					   .time = rec->time,
					   .type = rec->type,
					   .actor = &rec->actor,
					   .payload = rec->payload };
		memcpy(e2.prev, rec->prev, sizeof(e2.prev));
		assert_int_equal(ledger_line_format(&e2, h, NULL, &line2, &n2, d), 0);
		assert_int_equal(n2, n);
		assert_memory_equal(line2, line, n - 1);
	}

	/* Every escaping rule airlock-ledger(5) states, pinned. */
	{
		_cleanup_json_ struct json_object *pe = json_object_new_object();
		_cleanup_free_ char *l4 = NULL;
		const char raw[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9";
		const char *want = "\"payload\":{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f"
				   "\x7f\xc3\xa9\",\"n\":-12,\"big\":9007199254740993}";
		assert_int_equal(json_add_string(pe, "s", raw), 0);
		assert_int_equal(json_add_int(pe, "n", -12), 0);
		assert_int_equal(json_add_int(pe, "big", 9007199254740993LL), 0);
		e.payload = pe;
		assert_int_equal(ledger_line_format(&e, h, NULL, &l4, &n2, d), 0);
		if (!strstr(l4, want))
			print_error("%s\n", l4);
		assert_non_null(strstr(l4, want));
		e.payload = payload;
	}

	/* A null unit is written as null. */
	{
		_cleanup_free_ char *l3 = NULL;
		struct ledger_actor a = { .uid = 1, .gid = 2, .pid = 3 };
		e.actor = &a;
		assert_int_equal(ledger_line_format(&e, h, NULL, &l3, &n2, d), 0);
		assert_non_null(
			strstr(l3, "\"actor\":{\"uid\":1,\"gid\":2,\"pid\":3,\"unit\":null}"));
		e.actor = &actor;
	}

	/* Anything else, even with a correct hash, is refused. */
	bad = rehash(
		"{\"seq\": 42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "does not begin with a \"seq\"");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{\"a\": 1},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "canonical");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":\"x\","
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "\"prev\" field");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"extra\":1,"
		"\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "in this order");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{\"f\":1.5},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "floating-point");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01 12:34:56\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "\"time\"");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"Bad Type\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "\"type\"");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"pid\":1,\"gid\":0,\"unit\":null},\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "\"actor\"");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{},"
		"\"prev\":\"00000000000000000000000000000000000000000000000000000000000000AA\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "\"prev\"");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"extra\":1,"
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	assert_refused(bad, "\"prev\" field");
	bad = mfree(bad);
	bad = rehash(
		"{\"seq\":42,\"time\":\"2026-03-01T12:34:56.000123Z\",\"type\":\"t\","
		"\"actor\":{\"uid\":0,\"gid\":0,\"pid\":1,\"unit\":null},\"payload\":{},"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	{
		/* A correct hash in upper case is not canonical either. */
		char *u = strstr(bad, "\"hash\":\"") + 8;
		for (char *c = u; *c != '"'; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
		assert_refused(bad, "\"hash\" is not 64 lower-case");
	}
	/* A changed byte without a new hash. */
	strstr(line, "/dev/vda")[5] = 'X';
	assert_refused(line, "hash mismatch");
	assert_refused("{\"seq\":1}", "does not end with");
	{
		char nul[] = "{\"seq\":1,\"x\":\"\0\"}";
		_cleanup_(ledger_record_freep) struct ledger_record *r2 = NULL;
		_cleanup_free_ char *w2 = NULL;
		_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
		assert_int_equal(ledger_parser_new(&p), 0);
		assert_int_equal(ledger_parser_parse(p, nul, sizeof(nul) - 1, &r2, &w2), -EBADMSG);
		assert_non_null(strstr(w2, "NUL"));
	}
}

static void test_format_refuses(void **state)
{
	_cleanup_(sha256_hasher_freep) struct sha256_hasher *h = NULL;
	_cleanup_json_ struct json_object *p = payload_i(1), *arr = json_object_new_array();
	_cleanup_json_ struct json_object *fl = json_object_new_object();
	_cleanup_free_ char *line = NULL, *why = NULL;
	struct ledger_entry e = { .seq = 1,
				  .time = "2026-03-01T12:34:56.000123Z",
				  .type = "x",
				  .actor = &test_actor,
				  .payload = p };
	uint8_t hash[LEDGER_HASH_SIZE];
	size_t n;
	(void)state;

	assert_int_equal(sha256_hasher_new(&h), 0);
	e.type = "Upper";
	assert_int_equal(ledger_line_format(&e, h, NULL, &line, &n, hash), -EINVAL);
	e.type = "x";
	e.seq = 0;
	assert_int_equal(ledger_line_format(&e, h, NULL, &line, &n, hash), -EINVAL);
	e.seq = 1;
	e.payload = arr;
	assert_int_equal(ledger_line_format(&e, h, NULL, &line, &n, hash), -EINVAL);
	assert_int_equal(json_add(fl, "f", json_object_new_double(0.5)), 0);
	assert_int_equal(ledger_payload_check(fl, &why), -EINVAL);
	assert_non_null(strstr(why, "floating-point"));
	/* Only checkpoints are signed, and they always are. */
	e.payload = p;
	assert_int_equal(ledger_line_format(&e, h, test_key, &line, &n, hash), -EINVAL);
	e.type = LEDGER_TYPE_CHECKPOINT;
	assert_int_equal(ledger_line_format(&e, h, NULL, &line, &n, hash), -EINVAL);

	assert_true(ledger_type_is_valid("update.refused-signature_2"));
	assert_false(ledger_type_is_valid(""));
	assert_false(ledger_type_is_valid(".x"));
	assert_false(ledger_type_is_valid("a b"));
	assert_false(ledger_type_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 33 */
	assert_true(ledger_type_is_reserved("ledger.start"));
	assert_false(ledger_type_is_reserved("ledgerx"));
	{
		/* Too big a payload. */
		_cleanup_json_ struct json_object *big = json_object_new_object();
		_cleanup_free_ char *s = malloc(LEDGER_PAYLOAD_MAX + 1);
		memset(s, 'a', LEDGER_PAYLOAD_MAX);
		s[LEDGER_PAYLOAD_MAX] = '\0';
		assert_int_equal(json_add_string(big, "s", s), 0);
		why = mfree(why);
		assert_int_equal(ledger_payload_check(big, &why), -E2BIG);
	}
}

static void test_time(void **state)
{
	char t[LEDGER_TIME_SIZE];
	(void)state;

	assert_int_equal(ledger_time_format(0, t), 0);
	assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
	assert_int_equal(ledger_time_format(1772368496123456LL, t), 0);
	assert_string_equal(t, "2026-03-01T12:34:56.123456Z");
	assert_int_equal(ledger_time_parse("2026-03-01", t), 0);
	assert_string_equal(t, "2026-03-01T00:00:00.000000Z");
	assert_int_equal(ledger_time_parse("2026-03-01T12:34:56Z", t), 0);
	assert_string_equal(t, "2026-03-01T12:34:56.000000Z");
	assert_int_equal(ledger_time_parse("2026-03-01 12:34", t), 0);
	assert_string_equal(t, "2026-03-01T12:34:00.000000Z");
	assert_int_equal(ledger_time_parse("@1772368496", t), 0);
	assert_string_equal(t, "2026-03-01T12:34:56.000000Z");
	assert_int_equal(ledger_time_parse("yesterday", t), -EINVAL);
	assert_int_equal(ledger_time_parse("2026-03-01T12:34:56+02:00", t), -EINVAL);
	assert_int_equal(ledger_time_format(-1, t), -ERANGE);
}

static void check_unit(const char *cgroup, const char *unit)
{
	_cleanup_free_ char *u = NULL;
	int r = ledger_unit_from_cgroup(cgroup, &u);
	if (!unit) {
		assert_int_equal(r, -ENODATA);
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(u, unit);
}

static void test_unit_from_cgroup(void **state)
{
	(void)state;
	check_unit("0::/system.slice/airlock-update.service\n", "airlock-update.service");
	check_unit("0::/system.slice/foo.service/payload\n", "foo.service");
	check_unit("0::/init.scope\n", "init.scope");
	/* A user's own units are inside its user@.service: that is what is recorded. */
	check_unit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
		   "airlock-update.service\n",
		   "user@1000.service");
	check_unit("0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope");
	check_unit("0::/\n", NULL);
	check_unit("", NULL);
	/* cgroup v1 with the named systemd hierarchy. */
	check_unit("12:pids:/\n1:name=systemd:/system.slice/sshd.service\n0::/\n", "sshd.service");
	check_unit("0::/system.slice/bad name.service\n", NULL);
	check_unit("0::/system.slice/nodot\n", NULL);
}

static void test_chain_and_reader(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	uint8_t prev[LEDGER_HASH_SIZE] = {};
	struct ledger_line l;
	uint64_t seq = 0;
	(void)state;

	w = open_writer(dir, NULL, &info);
	assert_true(info.created);
	assert_int_equal(ledger_writer_head_seq(w), 1); /* the genesis record */
	append_n(w, 20, 7);
	assert_int_equal(ledger_writer_head_seq(w), 21);
	assert_int_equal(ledger_dir_is_live(dir), 1);
	{
		/* One writer at a time. */
		struct ledger_writer *w2 = NULL;
		struct ledger_actor self = {};
		assert_int_equal(ledger_writer_open(dir, test_key, NULL, &self, &w2, NULL, NULL),
				 -EBUSY);
	}
	w = ledger_writer_free(w);
	assert_int_equal(ledger_dir_is_live(dir), 0);
	assert_verifies(dir);

	/* Every record chains to the one before: seq and prev, read back line by line. */
	assert_int_equal(ledger_parser_new(&p), 0);
	assert_int_equal(ledger_reader_open(dir, 1, false, &rd), 0);
	while (ledger_reader_next(rd, &l) > 0) {
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		assert_true(l.complete);
		assert_int_equal(ledger_parser_parse(p, l.line, l.size, &rec, NULL), 0);
		assert_int_equal(rec->seq, ++seq);
		assert_memory_equal(rec->prev, prev, sizeof(prev));
		memcpy(prev, rec->hash, sizeof(prev));
		if (seq == 1) {
			assert_string_equal(rec->type, LEDGER_TYPE_GENESIS);
			assert_string_equal(rec->actor.unit, "test.service");
		} else {
			assert_string_equal(rec->type, "test.record");
			assert_int_equal(rec->actor.uid, 1000);
			assert_null(rec->actor.unit);
		}
	}
	assert_int_equal(seq, 21);

	/* Reopening continues the chain; the ledger did not end cleanly (no shutdown). */
	ledger_open_info_done(&info);
	w = open_writer(dir, NULL, &info);
	assert_false(info.created);
	assert_false(info.clean);
	assert_int_equal(info.head_seq, 21);
	append_n(w, 3, 3);
	assert_int_equal(ledger_writer_checkpoint(w, "shutdown"), 0);
	assert_int_equal(ledger_writer_commit(w), 0);
	w = ledger_writer_free(w);
	ledger_open_info_done(&info);
	w = open_writer(dir, NULL, &info);
	assert_true(info.clean);
	assert_int_equal(info.head_seq, 25);
	w = ledger_writer_free(w);
	assert_verifies(dir);

	/* Another key is refused by the writer. */
	{
		struct ledger_writer *w2 = NULL;
		_cleanup_free_ char *err = NULL;
		struct ledger_actor self = {};
		assert_int_equal(ledger_writer_open(dir, other_key, NULL, &self, &w2, NULL, &err),
				 -EKEYREJECTED);
		assert_non_null(strstr(err, "was created with key"));
	}
	assert_int_equal(rm_rf(dir), 0);
}

static void test_checkpoints(void **state)
{
	_cleanup_free_ char *dir = make_dir(), *name = NULL;
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	struct ledger_writer_opts o = { .checkpoint_every = 5 };
	_cleanup_strv_free_ char **lines = NULL;
	unsigned n_cp = 0, first_cp = 0, second_cp = 0;
	(void)state;

	w = open_writer(dir, &o, NULL);
	append_n(w, 12, 4);
	w = ledger_writer_free(w);

	{
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		assert_int_equal(verify(dir, test_key, &res), 0);
		/* genesis, 4 records, checkpoint, 5 records, checkpoint, 3 records */
		assert_int_equal(res.n_checkpoints, 2);
		assert_int_equal(res.last_checkpoint_seq, 12);
		assert_int_equal(res.n_records, 15);
		assert_false(res.key_from_ledger);
	}
	{
		/* Without a public key: the genesis record's key. */
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		char fp[LEDGER_HASH_HEX_SIZE];
		assert_int_equal(verify(dir, NULL, &res), 0);
		assert_true(res.key_from_ledger);
		assert_int_equal(ledger_key_fingerprint(test_key, fp), 0);
		assert_string_equal(res.key_fingerprint, fp);
	}
	{
		/* Another public key: refused, naming the first record. */
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		assert_int_equal(verify(dir, other_key, &res), -EBADMSG);
		assert_int_equal(res.bad_seq, 1);
		assert_non_null(strstr(res.error, "created with key"));
	}

	/* Checkpoints are every 5 unsigned records, signed, and verify with openssl's view. */
	assert_int_equal(asprintf(&name, "ledger-%016d.jsonl", 1) > 0, true);
	lines = file_lines(dir, name);
	for (unsigned i = 0; lines[i]; i++) {
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		_cleanup_free_ char *msg = NULL;
		assert_int_equal(parse_line(lines[i], &rec, NULL), 0);
		if (!rec->has_sig)
			continue;
		n_cp++;
		if (!first_cp)
			first_cp = i;
		else if (!second_cp)
			second_cp = i;
		assert_int_equal(ledger_checkpoint_message(rec->hash, &msg), 0);
		assert_int_equal(ed25519_verify(test_key, msg, strlen(msg), rec->sig), 0);
		assert_int_equal(ed25519_verify(other_key, msg, strlen(msg), rec->sig), -EBADMSG);
	}
	assert_int_equal(n_cp, 2);
	assert_int_equal(first_cp, 5);
	assert_int_equal(second_cp, 11);

	/* A checkpoint whose signature is another checkpoint's: caught, at that record. */
	{
		_cleanup_free_ char *p = path_join(dir, name), *text = NULL;
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		const char *s1 = strstr(lines[first_cp], "\"sig\":\"") + 7;
		char *s2 = strstr(lines[second_cp], "\"sig\":\"") + 7;
		memcpy(s2, s1, 88);
		text = strv_join(lines, "\n");
		assert_non_null(text);
		{
			_cleanup_free_ char *t2 = NULL;
			assert_true(asprintf(&t2, "%s\n", text) > 0);
			assert_int_equal(write_file_atomic(p, t2, strlen(t2), 0640), 0);
		}
		assert_int_equal(verify(dir, test_key, &res), -EBADMSG);
		assert_int_equal(res.bad_seq, second_cp + 1);
		assert_non_null(strstr(res.error, "signature does not verify"));
	}
	assert_int_equal(rm_rf(dir), 0);
}

static void test_rotation(void **state)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	struct ledger_writer_opts o = { .max_file_size = 2000, .checkpoint_every = 1000 };
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	struct ledger_file *files = NULL;
	size_t n_files = 0;
	uint8_t last_hash[LEDGER_HASH_SIZE] = {};
	uint64_t last_seq = 0;
	(void)state;

	w = open_writer(dir, &o, NULL);
	append_n(w, 60, 5);
	w = ledger_writer_free(w);
	assert_verifies(dir);

	assert_int_equal(ledger_parser_new(&p), 0);
	assert_int_equal(ledger_dir_list(dir, &files, &n_files), 0);
	assert_true(n_files >= 5);
	for (size_t i = 0; i < n_files; i++) {
		_cleanup_strv_free_ char **lines = file_lines(dir, files[i].name);
		size_t n = strv_length(lines);
		struct stat st;
		_cleanup_free_ char *path = path_join(dir, files[i].name);

		assert_true(n > 0);
		assert_int_equal(stat(path, &st), 0);
		for (size_t j = 0; j < n; j++) {
			_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
			assert_int_equal(
				ledger_parser_parse(p, lines[j], strlen(lines[j]), &rec, NULL), 0);
			if (j == 0) {
				/* The file is named after its first record, which chains to the
				 * last record of the file before. */
				assert_int_equal(rec->seq, files[i].first_seq);
				assert_int_equal(rec->seq, last_seq + 1);
				assert_memory_equal(rec->prev, last_hash, sizeof(last_hash));
			}
			if (j == n - 1 && i + 1 < n_files) {
				/* A full file is closed with a signed checkpoint. */
				const char *reason = NULL;
				assert_true(rec->has_sig);
				assert_int_equal(json_get_string(rec->payload, "reason", &reason),
						 0);
				assert_string_equal(reason, "rotate");
				/* and only once it reached its size */
				assert_true((uint64_t)st.st_size >= 2000);
			}
			last_seq = rec->seq;
			memcpy(last_hash, rec->hash, sizeof(last_hash));
		}
	}

	/* A deleted middle file is a gap. */
	{
		_cleanup_free_ char *path = path_join(dir, files[2].name);
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		assert_int_equal(unlink(path), 0);
		assert_int_equal(verify(dir, test_key, &res), -EBADMSG);
		assert_int_equal(res.bad_seq, files[3].first_seq);
		assert_non_null(strstr(res.error, "sequence gap"));
	}
	ledger_files_free(files, n_files);
	assert_int_equal(rm_rf(dir), 0);
}

/* Writes a ledger file with the given content into a fresh directory. */
static char *dir_with_file(const char *name, const char *data, size_t n)
{
	char *dir = make_dir();
	_cleanup_free_ char *p = path_join(dir, name);
	assert_int_equal(write_file_atomic(p, data, n, 0640), 0);
	return dir;
}

static void test_torn_tail(void **state)
{
	_cleanup_free_ char *dir = make_dir(), *name = NULL, *path = NULL, *content = NULL;
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	size_t size = 0, last_start;
	unsigned checked = 0;
	(void)state;

	w = open_writer(dir, NULL, NULL);
	append_n(w, 6, 6);
	w = ledger_writer_free(w);
	assert_true(asprintf(&name, "ledger-%016d.jsonl", 1) > 0);
	path = path_join(dir, name);
	assert_int_equal(read_full_file(path, 1 << 20, &content, &size), 0);
	assert_true(size > 2 && content[size - 1] == '\n');
	last_start = size - 1;
	while (last_start > 0 && content[last_start - 1] != '\n')
		last_start--;

	/* Cut at every byte offset inside the last record (seq 7). */
	for (size_t cut = last_start; cut < size; cut++) {
		_cleanup_free_ char *d = dir_with_file(name, content, cut), *p2 = NULL,
				    *after = NULL;
		_cleanup_free_ char *saved = NULL, *saved_data = NULL;
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res2 = {};
		_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
		_cleanup_strv_free_ char **lines = NULL;
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		size_t after_size = 0, saved_size = 0;
		int64_t v = 0;

		if (cut == last_start) {
			/* Exactly one whole record less: a valid, shorter ledger. */
			assert_int_equal(verify(d, test_key, &res), 0);
			assert_int_equal(res.last_seq, 6);
			w = open_writer(d, NULL, &info);
			assert_false(info.repaired);
			w = ledger_writer_free(w);
			assert_int_equal(rm_rf(d), 0);
			continue;
		}

		/* verify reports it, naming the record. */
		assert_int_equal(verify(d, test_key, &res), -EBADMSG);
		assert_true(res.torn);
		assert_int_equal(res.bad_seq, 7);
		assert_int_equal(res.bad_offset, last_start);
		assert_non_null(strstr(res.error, "incomplete final record"));

		/* The writer drops exactly the torn bytes, keeps them aside, and says so. */
		w = open_writer(d, NULL, &info);
		assert_true(info.repaired);
		assert_int_equal(info.repair_offset, last_start);
		assert_int_equal(info.repair_bytes, cut - last_start);
		assert_int_equal(info.head_seq, 6);
		w = ledger_writer_free(w);

		saved = path_join(d, info.repair_saved);
		assert_int_equal(read_full_file(saved, 1 << 20, &saved_data, &saved_size), 0);
		assert_int_equal(saved_size, cut - last_start);
		assert_memory_equal(saved_data, content + last_start, saved_size);

		p2 = path_join(d, name);
		assert_int_equal(read_full_file(p2, 1 << 20, &after, &after_size), 0);
		assert_memory_equal(after, content, last_start); /* nothing before it changed */
		lines = file_lines(d, name);
		assert_int_equal(strv_length(lines), 7);
		assert_int_equal(parse_line(lines[6], &rec, NULL), 0);
		assert_int_equal(rec->seq, 7);
		assert_string_equal(rec->type, LEDGER_TYPE_REPAIR);
		assert_int_equal(json_get_int(rec->payload, "bytes", &v), 0);
		assert_int_equal(v, (int64_t)(cut - last_start));
		assert_int_equal(json_get_int(rec->payload, "offset", &v), 0);
		assert_int_equal(v, (int64_t)last_start);

		assert_int_equal(verify(d, test_key, &res2), 0);
		assert_int_equal(res2.last_seq, 7);
		assert_int_equal(rm_rf(d), 0);
		checked++;
	}
	assert_int_equal(checked, size - 1 - last_start);

	/* Zeros where the last record should be (a file extended but not written). */
	{
		_cleanup_free_ char *z = memdup(content, size);
		_cleanup_free_ char *d = NULL;
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
		memset(z + last_start + 10, 0, 40);
		d = dir_with_file(name, z, size);
		assert_int_equal(verify(d, test_key, &res), -EBADMSG);
		assert_int_equal(res.bad_seq, 7);
		w = open_writer(d, NULL, &info);
		assert_true(info.repaired);
		assert_int_equal(info.repair_bytes, size - last_start);
		w = ledger_writer_free(w);
		assert_verifies(d);
		assert_int_equal(rm_rf(d), 0);
	}

	/* A changed last record without zeros is no torn write: the writer refuses it. */
	{
		_cleanup_free_ char *z = memdup(content, size);
		_cleanup_free_ char *d = NULL, *err = NULL;
		struct ledger_writer *w2 = NULL;
		struct ledger_actor self = {};
		z[last_start + 30] ^= 1;
		d = dir_with_file(name, z, size);
		assert_int_equal(ledger_writer_open(d, test_key, NULL, &self, &w2, NULL, &err),
				 -EBADMSG);
		assert_non_null(strstr(err, "not a torn write"));
		assert_int_equal(rm_rf(d), 0);
	}
	assert_int_equal(rm_rf(dir), 0);
}

static void test_tamper(void **state)
{
	_cleanup_free_ char *dir = make_dir(), *name = NULL, *path = NULL;
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	(void)state;

	w = open_writer(dir, NULL, NULL);
	append_n(w, 9, 9);
	w = ledger_writer_free(w);
	assert_true(asprintf(&name, "ledger-%016d.jsonl", 1) > 0);
	path = path_join(dir, name);
	lines = file_lines(dir, name);
	assert_int_equal(strv_length(lines), 10);

	struct {
		const char *what;
		int a, b; /* line indexes */
		uint64_t seq;
		const char *msg;
	} cases[] = {
		{ "edit", 4, -1, 5, "hash mismatch" },
		{ "delete", 4, -1, 6, "sequence gap" },
		{ "swap", 4, 5, 6, "sequence gap" },
		{ "duplicate", 4, -1, 5, "out of order" },
	};
	for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
		_cleanup_strv_free_ char **l = strv_copy(lines);
		_cleanup_free_ char *text = NULL, *t2 = NULL;
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};

		if (streq(cases[c].what, "edit")) {
			char *x = strstr(l[4], "a test record");
			x[0] = 'A';
		} else if (streq(cases[c].what, "delete")) {
			free(l[4]);
			memmove(l + 4, l + 5, (strv_length(l) - 4) * sizeof(char *));
		} else if (streq(cases[c].what, "swap")) {
			char *t = l[4];
			l[4] = l[5];
			l[5] = t;
		} else {
			assert_int_equal(strv_extend(&l, l[9]), 0);
			free(l[5]);
			l[5] = strdup(l[4]);
		}
		text = strv_join(l, "\n");
		assert_true(asprintf(&t2, "%s\n", text) > 0);
		assert_int_equal(write_file_atomic(path, t2, strlen(t2), 0640), 0);
		assert_int_equal(verify(dir, test_key, &res), -EBADMSG);
		if (res.bad_seq != cases[c].seq || !strstr(res.error, cases[c].msg))
			print_error("%s: %s\n", cases[c].what, res.error);
		assert_int_equal(res.bad_seq, cases[c].seq);
		assert_non_null(strstr(res.error, cases[c].msg));
		assert_non_null(strstr(res.error, name));
	}
	/* --from: records before it are not checked, the first one checked is chained to. */
	{
		_cleanup_strv_free_ char **l = strv_copy(lines);
		_cleanup_free_ char *text = NULL, *t2 = NULL;
		struct ledger_verify_opts o = { .pubkey = test_key, .from_seq = 7 };

		strstr(l[4], "a test record")[0] = 'A'; /* record 5 */
		text = strv_join(l, "\n");
		assert_true(asprintf(&t2, "%s\n", text) > 0);
		assert_int_equal(write_file_atomic(path, t2, strlen(t2), 0640), 0);
		{
			_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
			assert_int_equal(ledger_verify(dir, &o, &res), 0);
			assert_int_equal(res.first_seq, 7);
			assert_int_equal(res.last_seq, 10);
			assert_int_equal(res.n_records, 4);
		}
		{
			_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
			o.from_seq = 5;
			assert_int_equal(ledger_verify(dir, &o, &res), -EBADMSG);
			assert_int_equal(res.bad_seq, 5);
		}
		{
			/* record 6 changed: from 7 on, only its stored hash is used (as the
			 * anchor of 7's prev), so that passes; from 6 on, it is caught */
			_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
			free(l[4]);
			l[4] = strdup(lines[4]);
			strstr(l[5], "a test record")[0] = 'A';
			free(text);
			free(t2);
			text = strv_join(l, "\n");
			assert_true(asprintf(&t2, "%s\n", text) > 0);
			assert_int_equal(write_file_atomic(path, t2, strlen(t2), 0640), 0);
			o.from_seq = 7;
			assert_int_equal(ledger_verify(dir, &o, &res), 0);
			o.from_seq = 6;
			ledger_verify_result_done(&res);
			assert_int_equal(ledger_verify(dir, &o, &res), -EBADMSG);
			assert_int_equal(res.bad_seq, 6);
		}
		{
			_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
			o.from_seq = 11;
			assert_int_equal(ledger_verify(dir, &o, &res), -EBADMSG);
			assert_non_null(strstr(res.error, "no records from 11"));
		}
	}

	/* A last record with a valid hash but not in canonical form: only --deep sees it. */
	{
		_cleanup_strv_free_ char **l = strv_copy(lines);
		_cleanup_free_ char *text = NULL, *t2 = NULL, *spaced = NULL;
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
		_cleanup_(ledger_verify_result_done) struct ledger_verify_result res2 = {};
		struct ledger_verify_opts o = { .pubkey = test_key, .deep = true };
		char *x = strstr(l[9], "\"what\":");

		assert_non_null(x);
		assert_true(asprintf(&spaced, "%.*s\"what\": %s", (int)(x - l[9]), l[9],
				     x + strlen("\"what\":")) > 0);
		free(l[9]);
		l[9] = rehash(spaced);
		text = strv_join(l, "\n");
		assert_true(asprintf(&t2, "%s\n", text) > 0);
		assert_int_equal(write_file_atomic(path, t2, strlen(t2), 0640), 0);
		assert_int_equal(verify(dir, test_key, &res), 0);
		assert_int_equal(ledger_verify(dir, &o, &res2), -EBADMSG);
		assert_int_equal(res2.bad_seq, 10);
		assert_non_null(strstr(res2.error, "canonical"));
	}
	assert_int_equal(rm_rf(dir), 0);
}

/* A write that fails half-way (file size limit) leaves no partial record behind. */
static void test_failed_write(void **state)
{
	_cleanup_free_ char *dir = make_dir(), *name = NULL, *path = NULL;
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	struct rlimit old, lim;
	struct stat st;
	uint64_t seq = 0;
	(void)state;

	w = open_writer(dir, NULL, NULL);
	append_n(w, 3, 3);
	assert_true(asprintf(&name, "ledger-%016d.jsonl", 1) > 0);
	path = path_join(dir, name);
	assert_int_equal(stat(path, &st), 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 100; /* room for a part of a record only */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	{
		_cleanup_json_ struct json_object *p = payload_i(99);
		assert_int_equal(ledger_writer_add(w, "test.record", &test_actor, p, &seq, NULL),
				 0);
		assert_int_equal(seq, 5);
		assert_int_equal(ledger_writer_commit(w), -EFBIG);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	{
		struct stat st2;
		assert_int_equal(stat(path, &st2), 0);
		assert_int_equal(st2.st_size, st.st_size);
	}
	/* The writer goes on where it was: the failed record's number is used again. */
	{
		_cleanup_json_ struct json_object *p = payload_i(100);
		assert_int_equal(ledger_writer_add(w, "test.record", &test_actor, p, &seq, NULL),
				 0);
		assert_int_equal(seq, 5);
		assert_int_equal(ledger_writer_commit(w), 0);
	}
	w = ledger_writer_free(w);
	assert_verifies(dir);
	assert_int_equal(rm_rf(dir), 0);
}

static void test_paths(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	uint64_t v;
	(void)state;

	assert_int_equal(ledger_key_path_default("/var/lib/airlock/ledger/", &a), 0);
	assert_string_equal(a, "/var/lib/airlock/ledger-key/ledger.key");
	assert_int_equal(ledger_pubkey_path(a, &b), 0);
	assert_string_equal(b, "/var/lib/airlock/ledger-key/ledger.pub");
	assert_int_equal(ledger_pubkey_path("/x/key.pem", &c), 0);
	assert_string_equal(c, "/x/key.pem.pub");
	assert_int_equal(ledger_key_path_default("ledger", &d), 0);
	assert_string_equal(d, "ledger-key/ledger.key");
	assert_true(ledger_file_name_parse("ledger-0000000000000042.jsonl", &v));
	assert_int_equal(v, 42);
	assert_false(ledger_file_name_parse("ledger-0000000000000000.jsonl", &v));
	assert_false(ledger_file_name_parse("ledger-42.jsonl", &v));
	assert_false(ledger_file_name_parse("ledger-0000000000000042.jsonl.torn-5-x", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),    cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_time),	     cmocka_unit_test(test_unit_from_cgroup),
		cmocka_unit_test(test_paths),	     cmocka_unit_test(test_chain_and_reader),
		cmocka_unit_test(test_checkpoints),  cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_torn_tail),    cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_failed_write),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
