/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wire protocol (lib/ledger-client.c): requests as clients send them and as the
 * daemon accepts them, replies both ways, and a client over a real socket pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "core/fs.h"
#include "core/path.h"
#include "ledger-client.h"

static void request_bad(const char *req, int error, const char *what)
{
	_cleanup_free_ char *type = NULL, *why = NULL;
	_cleanup_json_ struct json_object *payload = NULL;
	int r = ledger_request_parse(req, strlen(req), &type, &payload, &why);

	if (r != error || !strstr(strna(why), what))
		print_error("'%s': %d '%s'\n", req, r, strna(why));
	assert_int_equal(r, error);
	assert_non_null(strstr(strna(why), what));
	assert_null(type);
	assert_null(payload);
}

static void test_request(void **state)
{
	_cleanup_json_ struct json_object *p = json_object_new_object(), *back = NULL;
	_cleanup_free_ char *req = NULL, *type = NULL, *why = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(json_add_string(p, "disk", "/dev/vda"), 0);
	assert_int_equal(ledger_request_format("install.disk", p, &req, &n), 0);
	assert_string_equal(req, "{\"type\":\"install.disk\",\"payload\":{\"disk\":\"/dev/vda\"}}");
	assert_int_equal(ledger_request_parse(req, n, &type, &back, &why), 0);
	assert_string_equal(type, "install.disk");
	assert_string_equal(json_format_compact(back), "{\"disk\":\"/dev/vda\"}");

	/* A client cannot say who it is: any field but type and payload is refused. */
	request_bad("{\"type\":\"a\",\"payload\":{},\"actor\":{\"uid\":0}}", -EBADMSG,
		    "field 'actor'");
	request_bad("{\"type\":\"a\",\"payload\":{},\"uid\":0}", -EBADMSG, "field 'uid'");
	request_bad("{\"type\":\"ledger.checkpoint\",\"payload\":{}}", -EPERM, "reserved");
	request_bad("{\"type\":\"Not Valid\",\"payload\":{}}", -EBADMSG, "not valid");
	request_bad("{\"type\":\"a\",\"payload\":[1]}", -EBADMSG, "no \"payload\" object");
	request_bad("{\"type\":\"a\"}", -EBADMSG, "no \"payload\" object");
	request_bad("{\"payload\":{}}", -EBADMSG, "no \"type\"");
	request_bad("{\"type\":\"a\",\"payload\":{\"x\":1.5}}", -EINVAL, "floating-point");
	request_bad("{'type':'a'}", -EBADMSG, "not valid JSON");
	request_bad("{\"type\":\"a\",\"payload\":{}} trailing", -EBADMSG, "not valid JSON");
	request_bad("[]", -EBADMSG, "not a JSON object");
	request_bad("{\"type\":\"a\",\"payload\":{\"s\":\"\xff\xfe\"}}", -EBADMSG,
		    "not valid JSON");
	{
		char nul[] = "{\"type\":\"a\",\"payload\":{}}";
		_cleanup_free_ char *t = NULL, *w = NULL;
		_cleanup_json_ struct json_object *pl = NULL;
		nul[3] = '\0';
		assert_int_equal(ledger_request_parse(nul, sizeof(nul) - 1, &t, &pl, &w), -EBADMSG);
	}
	{
		_cleanup_free_ char *big = malloc(LEDGER_PACKET_MAX + 2);
		memset(big, ' ', LEDGER_PACKET_MAX + 1);
		big[LEDGER_PACKET_MAX + 1] = '\0';
		request_bad(big, -E2BIG, "larger than");
	}
}

static void test_reply(void **state)
{
	_cleanup_free_ char *ok = NULL, *bad = NULL, *msg = NULL;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t seq = 0;
	size_t n = 0;
	(void)state;

	memset(hash, 0x11, sizeof(hash));
	assert_int_equal(ledger_reply_format(0, NULL, 42, hash, &ok, &n), 0);
	assert_int_equal(ledger_reply_parse(ok, n, &seq, &msg), 0);
	assert_int_equal(seq, 42);
	assert_null(msg);
	assert_int_equal(ledger_reply_format(-EACCES, "not you", 0, NULL, &bad, &n), 0);
	assert_int_equal(ledger_reply_parse(bad, n, &seq, &msg), -EACCES);
	assert_string_equal(msg, "not you");
	assert_int_equal(ledger_reply_parse("{\"ok\":true}", 11, &seq, NULL), -EBADMSG);
	assert_int_equal(ledger_reply_parse("{\"ok\":false,\"errno\":0,\"error\":\"\"}", 34, &seq,
					    NULL),
			 -EBADMSG);
	assert_int_equal(ledger_reply_parse("nonsense", 8, &seq, NULL), -EBADMSG);
}

/* A stand-in daemon on a real SOCK_SEQPACKET socket: answers requests in order. */
static void test_client_socket(void **state)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, pid;
	(void)state;

	assert_int_equal(mkdtemp_in(NULL, "airlock-test-client-", &dir), 0);
	path = path_join(dir, "sock");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[LEDGER_PACKET_MAX + 1];
		int fd = accept(lfd, NULL, NULL);
		uint64_t seq = 0;
		ssize_t k;
		while ((k = recv(fd, buf, sizeof(buf), 0)) > 0) {
			_cleanup_free_ char *type = NULL, *why = NULL, *rep = NULL;
			_cleanup_json_ struct json_object *p = NULL;
			uint8_t h[LEDGER_HASH_SIZE] = {};
			size_t n = 0;
			int r = ledger_request_parse(buf, (size_t)k, &type, &p, &why);
			if (r >= 0 && streq(type, "refuse.me"))
				r = -EACCES, why = strdup("refused for the test");
			ledger_reply_format(r, why, ++seq, h, &rep, &n);
			send(fd, rep, n, 0);
		}
		_exit(0);
	}
	close(lfd);

	{
		_cleanup_(ledger_client_freep) struct ledger_client *c = NULL;
		_cleanup_json_ struct json_object *p = json_object_new_object();
		_cleanup_free_ char *why = NULL;
		uint64_t seq = 0;

		assert_int_equal(ledger_client_connect(path, &c), 0);
		/* pipelined: three requests, then three replies, in order */
		assert_int_equal(ledger_client_send(c, "a.one", p), 0);
		assert_int_equal(ledger_client_send(c, "refuse.me", p), 0);
		assert_int_equal(ledger_client_send(c, "a.three", p), 0);
		assert_int_equal(ledger_client_receive(c, &seq, &why), 0);
		assert_int_equal(seq, 1);
		assert_int_equal(ledger_client_receive(c, &seq, &why), -EACCES);
		assert_string_equal(why, "refused for the test");
		assert_int_equal(ledger_client_receive(c, &seq, NULL), 0);
		assert_int_equal(seq, 3);
		/* a type the client can tell is invalid never leaves it */
		assert_int_equal(ledger_client_send(c, "Bad Type", p), -EINVAL);
	}
	waitpid(pid, NULL, 0);
	{
		_cleanup_json_ struct json_object *p = json_object_new_object();
		/* nobody listening any more */
		assert_int_equal(ledger_client_append(path, "a.b", p, NULL, NULL), -ECONNREFUSED);
	}
	assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_client_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
