/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "ledger-client.h"

int ledger_request_format(const char *type, struct json_object *payload, char **ret,
			  size_t *ret_size)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	const char *s;
	char *c;

	if (!ledger_type_is_valid(type) || ledger_payload_check(payload, NULL) < 0)
		return -EINVAL;
	if (!o || json_add_string(o, "type", type) < 0 ||
	    json_add(o, "payload", json_object_get(payload)) < 0)
		return -ENOMEM;
	s = json_format_compact(o);
	if (!s)
		return -ENOMEM;
	if (strlen(s) > LEDGER_PACKET_MAX)
		return -E2BIG;
	c = strdup(s);
	if (!c)
		return -ENOMEM;
	*ret_size = strlen(c);
	*ret = c;
	return 0;
}

int ledger_request_parse(const char *buf, size_t n, char **ret_type,
			 struct json_object **ret_payload, char **ret_error)
{
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *jerr = NULL, *why = NULL, *type = NULL;
	struct json_object *payload = NULL;
	const char *t = NULL;
	int r;

	if (n > LEDGER_PACKET_MAX)
		return error_set(ret_error, -E2BIG, "request is larger than %u bytes",
				 LEDGER_PACKET_MAX);
	if (memchr(buf, '\0', n))
		return error_set(ret_error, -EBADMSG, "request contains a NUL byte");
	r = json_parse_strict(buf, n, &o, &jerr);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return error_set(ret_error, -EBADMSG, "request is not valid JSON: %s", strna(jerr));
	if (!json_object_is_type(o, json_type_object))
		return error_set(ret_error, -EBADMSG, "request is not a JSON object");
	json_object_object_foreach(o, k, v) {
		(void)v;
		if (streq(k, "type") || streq(k, "payload"))
			continue;
		return error_set(ret_error, -EBADMSG,
				 "request has a field '%.64s': only \"type\" and \"payload\" are "
				 "accepted; who you are is taken from the kernel",
				 k);
	}
	if (json_get_string(o, "type", &t) < 0)
		return error_set(ret_error, -EBADMSG, "request has no \"type\" string");
	if (!ledger_type_is_valid(t))
		return error_set(ret_error, -EBADMSG,
				 "type '%.64s' is not valid: 1 to %d of a-z, 0-9, '.', '_', '-', "
				 "beginning with a letter or digit",
				 t, LEDGER_TYPE_MAX);
	if (ledger_type_is_reserved(t) && !streq(t, LEDGER_TYPE_ROLLBACK_ACK))
		return error_set(
			ret_error, -EPERM,
			"type '%s' is reserved: types beginning with '" LEDGER_TYPE_PREFIX_RESERVED
			"' are written by the ledger itself",
			t);
	if (json_get_object(o, "payload", &payload) < 0)
		return error_set(ret_error, -EBADMSG, "request has no \"payload\" object");
	r = ledger_payload_check(payload, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return error_set(ret_error, r, "%s", strna(why));
	type = strdup(t);
	if (!type)
		return -ENOMEM;
	*ret_payload = json_object_get(payload);
	*ret_type = TAKE_PTR(type);
	return 0;
}

int ledger_reply_format(int error, const char *message, uint64_t seq,
			const uint8_t hash[LEDGER_HASH_SIZE], char **ret, size_t *ret_size)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	char hex[LEDGER_HASH_HEX_SIZE];
	const char *s;
	char *c;

	if (!o)
		return -ENOMEM;
	if (error == 0) {
		sha256_hex(hash, hex);
		if (json_add_bool(o, "ok", true) < 0 || json_add_int(o, "seq", (int64_t)seq) < 0 ||
		    json_add_string(o, "hash", hex) < 0)
			return -ENOMEM;
	} else if (json_add_bool(o, "ok", false) < 0 ||
		   json_add_int(o, "errno", error < 0 ? -error : error) < 0 ||
		   json_add_string(o, "error", strempty(message)) < 0)
		return -ENOMEM;
	s = json_format_compact(o);
	c = s ? strdup(s) : NULL;
	if (!c)
		return -ENOMEM;
	*ret_size = strlen(c);
	*ret = c;
	return 0;
}

int ledger_reply_parse(const char *buf, size_t n, uint64_t *ret_seq, char **ret_message)
{
	_cleanup_json_ struct json_object *o = NULL;
	const char *msg = NULL;
	int64_t e = 0;
	uint64_t seq = 0;
	bool ok = false;
	int r = json_parse_strict(buf, n, &o, NULL);

	if (r == -ENOMEM)
		return r;
	if (r < 0 || json_get_bool(o, "ok", &ok) < 0)
		return -EBADMSG;
	if (ok) {
		if (json_get_uint64(o, "seq", &seq) < 0 || seq == 0)
			return -EBADMSG;
		if (ret_seq)
			*ret_seq = seq;
		return 0;
	}
	if (json_get_int(o, "errno", &e) < 0 || e <= 0 || e > 4095 ||
	    json_get_string(o, "error", &msg) < 0)
		return -EBADMSG;
	if (ret_message) {
		*ret_message = strdup(msg);
		if (!*ret_message)
			return -ENOMEM;
	}
	return -(int)e;
}

struct ledger_client {
	int fd;
	char *buf;
};

struct ledger_client *ledger_client_free(struct ledger_client *c)
{
	if (!c)
		return NULL;
	safe_close(c->fd);
	free(c->buf);
	return mfree(c);
}

int ledger_client_connect(const char *socket_path, struct ledger_client **ret)
{
	_cleanup_(ledger_client_freep) struct ledger_client *c = new0(struct ledger_client, 1);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = LEDGER_CLIENT_TIMEOUT_SEC };
	const char *p = socket_path ?: LEDGER_SOCKET_DEFAULT;

	if (!c)
		return -ENOMEM;
	c->fd = -EBADF;
	if (strlen(p) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, p, strlen(p) + 1);
	c->buf = malloc(LEDGER_PACKET_MAX + 1);
	if (!c->buf)
		return -ENOMEM;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	*ret = TAKE_PTR(c);
	return 0;
}

int ledger_client_send(struct ledger_client *c, const char *type, struct json_object *payload)
{
	_cleanup_free_ char *req = NULL;
	size_t n = 0;
	ssize_t k;
	int r = ledger_request_format(type, payload, &req, &n);

	if (r < 0)
		return r;
	do
		k = send(c->fd, req, n, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return (size_t)k == n ? 0 : -EIO;
}

int ledger_client_receive(struct ledger_client *c, uint64_t *ret_seq, char **ret_error)
{
	ssize_t k;

	do
		k = recv(c->fd, c->buf, LEDGER_PACKET_MAX + 1, MSG_TRUNC);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (k == 0)
		return -ECONNRESET; /* the daemon went away before answering */
	if ((size_t)k > LEDGER_PACKET_MAX)
		return -EBADMSG;
	return ledger_reply_parse(c->buf, (size_t)k, ret_seq, ret_error);
}

int ledger_client_append(const char *socket_path, const char *type, struct json_object *payload,
			 uint64_t *ret_seq, char **ret_error)
{
	_cleanup_(ledger_client_freep) struct ledger_client *c = NULL;
	int r = ledger_client_connect(socket_path, &c);

	if (r < 0)
		return r;
	r = ledger_client_send(c, type, payload);
	if (r < 0)
		return r;
	return ledger_client_receive(c, ret_seq, ret_error);
}

int ledger_client_probe(const char *socket_path, const char *unrecorded, const char **ret_path)
{
	const char *path = socket_path ?: LEDGER_SOCKET_DEFAULT;
	struct stat st;

	if (ret_path)
		*ret_path = path;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return log_error_errno(errno, "ledger: '%s': %m", path);
		log_notice("ledger: no ledger daemon here (no socket at %s): %s", path, unrecorded);
		return 0;
	}
	if (!S_ISSOCK(st.st_mode))
		return log_error_errno(ENOTSOCK, "ledger: '%s' is not a socket", path);
	return 1;
}

int ledger_recorder_open(struct ledger_recorder *rec, const char *socket_path,
			 const char *unrecorded)
{
	int r = ledger_client_probe(socket_path, unrecorded, &rec->socket);

	if (r < 0)
		return r;
	rec->up = r > 0;
	return 0;
}

int ledger_recorder_append(struct ledger_recorder *rec, const char *type,
			   struct json_object *payload)
{
	_cleanup_(json_object_putp) struct json_object *p = payload;
	_cleanup_free_ char *error = NULL;
	uint64_t seq = 0;
	int r;

	if (!p)
		return log_oom();
	if (!rec->up) {
		log_info("ledger (not recorded): %s %s", type,
			 json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	r = ledger_client_append(rec->socket, type, p, &seq, &error);
	if (r < 0)
		return log_error_errno(r, "ledger: %s was not recorded at %s: %s", type,
				       rec->socket, error ?: strerror(-r));
	log_debug("ledger: %s recorded as record %" PRIu64, type, seq);
	return 0;
}
