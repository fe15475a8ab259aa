/* SPDX-License-Identifier: Apache-2.0 */
/* The ledger's format: actors, types, canonical lines, parsing, files (ledger.h). */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/error.h"
#include "ledger-internal.h"
#include "ledger.h"

const uint8_t ledger_zero_hash[LEDGER_HASH_SIZE];
const char ledger_zero_hex[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* ---- actors ----------------------------------------------------------------------------- */

void ledger_actor_done(struct ledger_actor *a)
{
	a->unit = mfree(a->unit);
}

static bool unit_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr(":-_.\\@", c);
}

/* The first component of a cgroup path that is not a slice, if it looks like a unit. */
static int unit_from_path(const char *p, size_t n, char **ret)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i, k;
		char *u;

		while (j < n && p[j] != '/')
			j++;
		k = j - i;
		if (k == 0 || (k > 6 && memcmp(p + j - 6, ".slice", 6) == 0)) {
			i = j + 1;
			continue;
		}
		if (k > 255 || !memchr(p + i, '.', k))
			return -ENODATA;
		for (size_t m = i; m < j; m++)
			if (!unit_char_ok(p[m]))
				return -ENODATA;
		u = strndup(p + i, k);
		if (!u)
			return -ENOMEM;
		*ret = u;
		return 0;
	}
	return -ENODATA;
}

int ledger_unit_from_cgroup(const char *text, char **ret)
{
	const char *unified = NULL, *named = NULL;
	size_t unified_n = 0, named_n = 0;
	int r;

	for (const char *l = text; l && *l;) {
		const char *eol = strchrnul(l, '\n'), *c;

		if ((c = startswith(l, "0::")) && c <= eol) {
			unified = c;
			unified_n = (size_t)(eol - c);
		} else if ((c = strstr(l, ":name=systemd:")) && c < eol) {
			named = c + strlen(":name=systemd:");
			named_n = (size_t)(eol - named);
		}
		l = *eol ? eol + 1 : eol;
	}
	if (unified) {
		r = unit_from_path(unified, unified_n, ret);
		if (r != -ENODATA)
			return r;
	}
	if (named)
		return unit_from_path(named, named_n, ret);
	return -ENODATA;
}

int ledger_unit_of_pid(pid_t pid, char **ret)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	int r;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	r = read_full_file(path, 64 * 1024, &text, NULL);
	if (r < 0)
		return r;
	return ledger_unit_from_cgroup(text, ret);
}

int ledger_actor_self(struct ledger_actor *ret)
{
	char *unit = NULL;
	int r = ledger_unit_of_pid(getpid(), &unit);

	if (r == -ENOMEM)
		return r;
	*ret = (struct ledger_actor){
		.uid = (uint32_t)getuid(),
		.gid = (uint32_t)getgid(),
		.pid = (uint32_t)getpid(),
		.unit = r >= 0 ? unit : NULL,
	};
	return 0;
}

/* ---- types, payloads, times ----------------------------------------------------------- */

static bool type_char_ok(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '-');
}

static bool type_is_valid_n(const char *t, size_t n)
{
	if (n == 0 || n > LEDGER_TYPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!type_char_ok(t[i], i == 0))
			return false;
	return true;
}

bool ledger_type_is_valid(const char *type)
{
	return type && type_is_valid_n(type, strlen(type));
}

bool ledger_type_is_reserved(const char *type)
{
	return type && startswith(type, LEDGER_TYPE_PREFIX_RESERVED);
}

static int payload_walk(struct json_object *o, unsigned depth, char **ret_error)
{
	if (depth > PAYLOAD_DEPTH_MAX)
		return asprintf(ret_error, "payload is nested deeper than %d levels",
				PAYLOAD_DEPTH_MAX) < 0 ?
			       -ENOMEM :
			       -EINVAL;
	switch (json_object_get_type(o)) {
	case json_type_double:
		return asprintf(ret_error,
				"payload has a floating-point number (%s): use an integer or "
				"a string",
				json_object_get_string(o)) < 0 ?
			       -ENOMEM :
			       -EINVAL;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			int r;
			(void)k;
			if (!v)
				continue;
			r = payload_walk(v, depth + 1, ret_error);
			if (r < 0)
				return r;
		}
		return 0;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			struct json_object *v = json_object_array_get_idx(o, i);
			int r;
			if (!v)
				continue;
			r = payload_walk(v, depth + 1, ret_error);
			if (r < 0)
				return r;
		}
		return 0;
	default:
		return 0;
	}
}

int ledger_payload_check(struct json_object *payload, char **ret_error)
{
	_cleanup_free_ char *why = NULL;
	const char *s;
	int r;

	if (!payload || !json_object_is_type(payload, json_type_object)) {
		if (ret_error)
			*ret_error = strdup("payload is not a JSON object");
		return -EINVAL;
	}
	r = payload_walk(payload, 0, &why);
	if (r < 0) {
		if (ret_error)
			*ret_error = TAKE_PTR(why);
		return r;
	}
	s = json_format_compact(payload);
	if (!s)
		return -ENOMEM;
	if (strlen(s) > LEDGER_PAYLOAD_MAX) {
		if (ret_error && asprintf(ret_error, "payload is %zu bytes, more than %u",
					  strlen(s), LEDGER_PAYLOAD_MAX) < 0)
			*ret_error = NULL;
		return -E2BIG;
	}
	return 0;
}

int ledger_time_format(int64_t usec, char out[LEDGER_TIME_SIZE])
{
	char buf[96];
	time_t sec;
	struct tm tm;

	if (usec < 0)
		return -ERANGE;
	sec = (time_t)(usec / 1000000);
	if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999)
		return -ERANGE;
	if (snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(usec % 1000000)) != TIME_LEN)
		return -ERANGE;
	memcpy(out, buf, LEDGER_TIME_SIZE);
	return 0;
}

static bool digits(const char *s, size_t n, unsigned lo, unsigned hi)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v >= lo && v <= hi;
}

static bool time_is_valid(const char *s, size_t n)
{
	/* 0123456789012345678901234567
	 * YYYY-MM-DDTHH:MM:SS.uuuuuuZ */
	return n == TIME_LEN && digits(s, 4, 0, 9999) && s[4] == '-' && digits(s + 5, 2, 1, 12) &&
	       s[7] == '-' && digits(s + 8, 2, 1, 31) && s[10] == 'T' && digits(s + 11, 2, 0, 23) &&
	       s[13] == ':' && digits(s + 14, 2, 0, 59) && s[16] == ':' &&
	       digits(s + 17, 2, 0, 60) && s[19] == '.' && digits(s + 20, 6, 0, 999999) &&
	       s[26] == 'Z';
}

int ledger_time_parse(const char *s, char out[LEDGER_TIME_SIZE])
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d %H:%M",    "%Y-%m-%d",
	};
	const char *at;
	uint64_t u;

	if (isempty(s))
		return -EINVAL;
	if ((at = startswith(s, "@"))) {
		if (safe_atou64(at, &u) < 0 || u > INT64_MAX / 1000000)
			return -EINVAL;
		return ledger_time_format((int64_t)u * 1000000, out);
	}
	for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
		struct tm tm = {};
		const char *end = strptime(s, formats[i], &tm);
		time_t t;

		if (!end || !(*end == '\0' || streq(end, "Z")))
			continue;
		t = timegm(&tm);
		if (t == (time_t)-1 || t < 0)
			return -EINVAL;
		return ledger_time_format((int64_t)t * 1000000, out);
	}
	return -EINVAL;
}

/* ---- canonical lines -------------------------------------------------------------------- */

static struct json_object *actor_to_json(const struct ledger_actor *a)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || json_add_int(o, "uid", a->uid) < 0 || json_add_int(o, "gid", a->gid) < 0 ||
	    json_add_int(o, "pid", a->pid) < 0)
		return NULL;
	if (a->unit) {
		if (json_add_string(o, "unit", a->unit) < 0)
			return NULL;
	} else if (json_object_object_add(o, "unit", NULL) < 0)
		return NULL;
	return TAKE_PTR(o);
}

int ledger_checkpoint_message(const uint8_t hash[LEDGER_HASH_SIZE], char **ret)
{
	char hex[LEDGER_HASH_HEX_SIZE];

	sha256_hex(hash, hex);
	return asprintf(ret, "%s%s", LEDGER_CHECKPOINT_SIG_PREFIX, hex) < 0 ? -ENOMEM : 0;
}

int ledger_key_fingerprint(struct ed25519_key *k, char ret[LEDGER_HASH_HEX_SIZE])
{
	uint8_t raw[ED25519_PUBLIC_KEY_SIZE], d[LEDGER_HASH_SIZE];
	int r = ed25519_key_raw_public(k, raw);

	if (r < 0)
		return r;
	r = sha256_buf(raw, sizeof(raw), d);
	if (r < 0)
		return r;
	sha256_hex(d, ret);
	return 0;
}

int ledger_line_format(const struct ledger_entry *e, struct sha256_hasher *h,
		       struct ed25519_key *signer, char **ret, size_t *ret_size,
		       uint8_t ret_hash[LEDGER_HASH_SIZE])
{
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *b64 = NULL, *line = NULL;
	char hex[LEDGER_HASH_HEX_SIZE];
	uint8_t hash[LEDGER_HASH_SIZE];
	const char *s;
	size_t body, n, k;
	int r;

	if (e->seq == 0 || e->seq > INT64_MAX || !ledger_type_is_valid(e->type) || !e->time ||
	    !time_is_valid(e->time, strlen(e->time)) || !e->actor)
		return -EINVAL;
	if (!!signer != streq(e->type, LEDGER_TYPE_CHECKPOINT))
		return -EINVAL;
	r = ledger_payload_check(e->payload, NULL);
	if (r < 0)
		return r;

	sha256_hex(e->prev, hex);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	if (json_add_int(o, "seq", (int64_t)e->seq) < 0 ||
	    json_add_string(o, "time", e->time) < 0 || json_add_string(o, "type", e->type) < 0 ||
	    json_add(o, "actor", actor_to_json(e->actor)) < 0 ||
	    json_add(o, "payload", json_object_get(e->payload)) < 0 ||
	    json_add_string(o, "prev", hex) < 0)
		return -ENOMEM;
	s = json_format_compact(o);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n < 2 || s[n - 1] != '}')
		return -EIO;
	body = n - 1;
	r = sha256_hasher_digest(h, s, body, hash);
	if (r < 0)
		return r;
	sha256_hex(hash, hex);

	if (signer) {
		_cleanup_free_ char *msg = NULL;
		uint8_t sig[ED25519_SIGNATURE_SIZE];

		r = ledger_checkpoint_message(hash, &msg);
		if (r < 0)
			return r;
		r = ed25519_sign(signer, msg, strlen(msg), sig);
		if (r < 0)
			return r;
		b64 = base64_encode(sig, sizeof(sig));
		if (!b64)
			return -ENOMEM;
		assert(strlen(b64) == SIG_B64_LEN);
	}

	n = body + (signer ? SUFFIX_SIG_LEN : SUFFIX_PLAIN_LEN);
	if (n > LEDGER_LINE_MAX)
		return -E2BIG;
	line = malloc(n + 2);
	if (!line)
		return -ENOMEM;
	memcpy(line, s, body);
	k = body;
	memcpy(line + k, HASH_OPEN, strlen(HASH_OPEN));
	k += strlen(HASH_OPEN);
	memcpy(line + k, hex, HASH_HEX_LEN);
	k += HASH_HEX_LEN;
	if (signer) {
		memcpy(line + k, SIG_OPEN, strlen(SIG_OPEN));
		k += strlen(SIG_OPEN);
		memcpy(line + k, b64, SIG_B64_LEN);
		k += SIG_B64_LEN;
	}
	memcpy(line + k, "\"}\n", 4);
	k += 3;
	assert(k == n + 1);

	memcpy(ret_hash, hash, LEDGER_HASH_SIZE);
	*ret_size = k;
	*ret = TAKE_PTR(line);
	return 0;
}

/* ---- parsing ---------------------------------------------------------------------------- */

struct ledger_record *ledger_record_free(struct ledger_record *r)
{
	if (!r)
		return NULL;
	free(r->type);
	ledger_actor_done(&r->actor);
	if (r->payload)
		json_object_put(r->payload);
	free(r->line);
	return mfree(r);
}

int ledger_parser_new(struct ledger_parser **ret)
{
	_cleanup_free_ struct ledger_parser *p = new0(struct ledger_parser, 1);
	int r;

	if (!p)
		return -ENOMEM;
	r = sha256_hasher_new(&p->hasher);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

struct ledger_parser *ledger_parser_free(struct ledger_parser *p)
{
	if (!p)
		return NULL;
	sha256_hasher_free(p->hasher);
	return mfree(p);
}

/* 1 for 0-9 and a-f. A table, not comparisons: verify checks 128 of these a record,
 * and branching on each random digit costs more than hashing the record. */
static const uint8_t lowerhex_table[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

static bool lowerhex(const char *s, size_t n)
{
	unsigned ok = 1;

	for (size_t i = 0; i < n; i++)
		ok &= lowerhex_table[(uint8_t)s[i]];
	return ok;
}

static int hash_from_hex(const char *s, uint8_t out[LEDGER_HASH_SIZE])
{
	char buf[LEDGER_HASH_HEX_SIZE];

	if (!lowerhex(s, HASH_HEX_LEN))
		return -EINVAL;
	memcpy(buf, s, HASH_HEX_LEN);
	buf[HASH_HEX_LEN] = '\0';
	return unhex_exact(buf, out, LEDGER_HASH_SIZE);
}

static bool b64char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Where the hash (and signature) of a line are; the body is what precedes them. */
static bool line_suffix(const char *l, size_t n, struct ledger_frame *f)
{
	const char *s;

	if (n < SUFFIX_PLAIN_LEN + 2 || memcmp(l + n - 2, "\"}", 2) != 0)
		return false;
	if (n >= SUFFIX_SIG_LEN + 2) {
		s = l + n - SUFFIX_SIG_LEN;
		if (memcmp(s, HASH_OPEN, strlen(HASH_OPEN)) == 0 &&
		    memcmp(s + strlen(HASH_OPEN) + HASH_HEX_LEN, SIG_OPEN, strlen(SIG_OPEN)) == 0) {
			f->body_size = n - SUFFIX_SIG_LEN;
			f->hash_hex = s + strlen(HASH_OPEN);
			f->sig_b64 = f->hash_hex + HASH_HEX_LEN + strlen(SIG_OPEN);
			return true;
		}
	}
	s = l + n - SUFFIX_PLAIN_LEN;
	if (memcmp(s, HASH_OPEN, strlen(HASH_OPEN)) != 0)
		return false;
	f->body_size = n - SUFFIX_PLAIN_LEN;
	f->hash_hex = s + strlen(HASH_OPEN);
	f->sig_b64 = NULL;
	return true;
}

/* Consumes a literal at *i. */
static bool lit(const char *l, size_t n, size_t *i, const char *s)
{
	size_t k = strlen(s);

	if (n - *i < k || memcmp(l + *i, s, k) != 0)
		return false;
	*i += k;
	return true;
}

int ledger_frame_parse(const char *l, size_t n, struct ledger_frame *ret, char **ret_error)
{
	static const char prev_open[] = "},\"prev\":\"";
	struct ledger_frame f = {};
	size_t i = 0, t;

	if (n > LEDGER_LINE_MAX)
		return error_set(ret_error, -EBADMSG, "record is longer than %u bytes",
				 LEDGER_LINE_MAX);
	if (memchr(l, '\0', n))
		return error_set(ret_error, -EBADMSG, "record contains NUL bytes (torn write?)");
	if (!line_suffix(l, n, &f))
		return error_set(ret_error, -EBADMSG, "record does not end with a \"hash\" field");
	if (!lowerhex(f.hash_hex, HASH_HEX_LEN))
		return error_set(ret_error, -EBADMSG, "\"hash\" is not 64 lower-case hex digits");
	if (f.sig_b64) {
		for (size_t k = 0; k < SIG_B64_LEN - 2; k++)
			if (!b64char(f.sig_b64[k]))
				return error_set(ret_error, -EBADMSG, "\"sig\" is not base64");
		if (f.sig_b64[SIG_B64_LEN - 2] != '=' || f.sig_b64[SIG_B64_LEN - 1] != '=')
			return error_set(ret_error, -EBADMSG, "\"sig\" is not base64");
	}

	/* {"seq":N,"time":"...","type":"...","actor":{"uid": */
	if (!lit(l, f.body_size, &i, "{\"seq\":") || i >= f.body_size || l[i] < '1' || l[i] > '9')
		return error_set(ret_error, -EBADMSG, "record does not begin with a \"seq\" field");
	for (; i < f.body_size && l[i] >= '0' && l[i] <= '9'; i++) {
		if (f.seq > (INT64_MAX - 9) / 10)
			return error_set(ret_error, -EBADMSG, "\"seq\" is too large");
		f.seq = f.seq * 10 + (uint64_t)(l[i] - '0');
	}
	if (!lit(l, f.body_size, &i, ",\"time\":\"") || f.body_size - i < TIME_LEN ||
	    !time_is_valid(l + i, TIME_LEN))
		return error_set(ret_error, -EBADMSG,
				 "\"time\" is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
	i += TIME_LEN;
	if (!lit(l, f.body_size, &i, "\",\"type\":\""))
		return error_set(ret_error, -EBADMSG, "no \"type\" after \"time\"");
	for (t = i; i < f.body_size && l[i] != '"'; i++)
		;
	if (!type_is_valid_n(l + t, i - t))
		return error_set(ret_error, -EBADMSG, "\"type\" is not a valid record type");
	f.type = l + t;
	f.type_size = i - t;
	if (!lit(l, f.body_size, &i, "\",\"actor\":{\"uid\":"))
		return error_set(ret_error, -EBADMSG, "no \"actor\" after \"type\"");

	/* ...},"prev":"<64>" */
	if (f.body_size - i < strlen(prev_open) + HASH_HEX_LEN + 1 || l[f.body_size - 1] != '"' ||
	    memcmp(l + f.body_size - 1 - HASH_HEX_LEN - strlen(prev_open), prev_open,
		   strlen(prev_open)) != 0)
		return error_set(ret_error, -EBADMSG, "record does not end with a \"prev\" field");
	f.prev_hex = l + f.body_size - 1 - HASH_HEX_LEN;
	if (!lowerhex(f.prev_hex, HASH_HEX_LEN))
		return error_set(ret_error, -EBADMSG, "\"prev\" is not 64 lower-case hex digits");
	if (!!f.sig_b64 != ledger_frame_type_is(&f, LEDGER_TYPE_CHECKPOINT))
		return error_set(ret_error, -EBADMSG,
				 f.sig_b64 ? "only checkpoints carry a signature" :
					     "checkpoint without a signature");
	*ret = f;
	return 0;
}

bool ledger_frame_type_is(const struct ledger_frame *f, const char *type)
{
	return f->type_size == strlen(type) && memcmp(f->type, type, f->type_size) == 0;
}

int ledger_frame_hash_ok(struct sha256_hasher *h, const char *line, const struct ledger_frame *f)
{
	uint8_t d[LEDGER_HASH_SIZE];
	char hex[LEDGER_HASH_HEX_SIZE];
	int r = sha256_hasher_digest(h, line, f->body_size, d);

	if (r < 0)
		return r;
	sha256_hex(d, hex);
	return memcmp(hex, f->hash_hex, HASH_HEX_LEN) == 0;
}

static int get_u32(struct json_object *o, const char *key, uint32_t *ret)
{
	uint64_t v;
	int r = json_get_uint64(o, key, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

static bool keys_are(struct json_object *o, const char *const *keys, size_t n)
{
	size_t i = 0;

	if (!json_object_is_type(o, json_type_object) || (size_t)json_object_object_length(o) != n)
		return false;
	json_object_object_foreach(o, k, v) {
		(void)v;
		if (i >= n || !streq(k, keys[i]))
			return false;
		i++;
	}
	return i == n;
}

int ledger_parser_parse(struct ledger_parser *p, const char *line, size_t n,
			struct ledger_record **ret, char **ret_error)
{
	static const char *const keys_plain[] = { "seq",     "time", "type", "actor",
						  "payload", "prev", "hash" };
	static const char *const keys_sig[] = { "seq",	   "time", "type", "actor",
						"payload", "prev", "hash", "sig" };
	static const char *const keys_actor[] = { "uid", "gid", "pid", "unit" };
	_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *jerr = NULL;
	struct json_object *actor, *payload, *unit;
	const char *s;
	struct ledger_frame f;
	uint64_t seq;
	int r;

	r = ledger_frame_parse(line, n, &f, ret_error);
	if (r < 0)
		return r;
	r = ledger_frame_hash_ok(p->hasher, line, &f);
	if (r < 0)
		return r;
	if (r == 0)
		return error_set(ret_error, -EBADMSG,
				 "hash mismatch: the record was changed after it was written");

	rec = new0(struct ledger_record, 1);
	if (!rec)
		return -ENOMEM;
	if (hash_from_hex(f.hash_hex, rec->hash) < 0)
		return -EBADMSG;

	r = json_parse_strict(line, n, &o, &jerr);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return error_set(ret_error, -EBADMSG, "not valid JSON: %s", strna(jerr));
	if (!keys_are(o, f.sig_b64 ? keys_sig : keys_plain,
		      f.sig_b64 ? ELEMENTSOF(keys_sig) : ELEMENTSOF(keys_plain)))
		return error_set(ret_error, -EBADMSG,
				 "fields are not seq, time, type, actor, payload, prev, "
				 "hash[, sig] in this order");

	if (json_get_uint64(o, "seq", &seq) < 0 || seq == 0 || seq > INT64_MAX)
		return error_set(ret_error, -EBADMSG, "\"seq\" is not a positive integer");
	rec->seq = seq;
	if (json_get_string(o, "time", &s) < 0 || !time_is_valid(s, strlen(s)))
		return error_set(ret_error, -EBADMSG,
				 "\"time\" is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
	memcpy(rec->time, s, LEDGER_TIME_SIZE);
	if (json_get_string(o, "type", &s) < 0 || !ledger_type_is_valid(s))
		return error_set(ret_error, -EBADMSG, "\"type\" is not a valid record type");
	rec->type = strdup(s);
	if (!rec->type)
		return -ENOMEM;

	if (json_get_object(o, "actor", &actor) < 0 ||
	    !keys_are(actor, keys_actor, ELEMENTSOF(keys_actor)) ||
	    get_u32(actor, "uid", &rec->actor.uid) < 0 ||
	    get_u32(actor, "gid", &rec->actor.gid) < 0 ||
	    get_u32(actor, "pid", &rec->actor.pid) < 0 ||
	    !json_object_object_get_ex(actor, "unit", &unit) ||
	    !(unit == NULL || json_object_is_type(unit, json_type_string)))
		return error_set(ret_error, -EBADMSG, "\"actor\" is not {uid, gid, pid, unit}");
	if (unit) {
		rec->actor.unit = strdup(json_object_get_string(unit));
		if (!rec->actor.unit)
			return -ENOMEM;
	}

	if (json_get_object(o, "payload", &payload) < 0)
		return error_set(ret_error, -EBADMSG, "\"payload\" is not an object");
	{
		_cleanup_free_ char *why = NULL;
		r = ledger_payload_check(payload, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return error_set(ret_error, -EBADMSG, "%s", strna(why));
	}

	if (json_get_string(o, "prev", &s) < 0 || strlen(s) != HASH_HEX_LEN ||
	    hash_from_hex(s, rec->prev) < 0)
		return error_set(ret_error, -EBADMSG, "\"prev\" is not 64 lower-case hex digits");

	if (f.sig_b64) {
		_cleanup_free_ uint8_t *sig = NULL;
		size_t sig_size = 0;
		if (json_get_string(o, "sig", &s) < 0 || base64_decode(s, &sig, &sig_size) < 0 ||
		    sig_size != ED25519_SIGNATURE_SIZE)
			return error_set(ret_error, -EBADMSG,
					 "\"sig\" is not a base64 Ed25519 signature");
		memcpy(rec->sig, sig, ED25519_SIGNATURE_SIZE);
		rec->has_sig = true;
	}

	/* Canonical: serialising what was parsed, without hash and sig, gives the body. */
	json_object_object_del(o, "hash");
	json_object_object_del(o, "sig");
	s = json_format_compact(o);
	if (!s)
		return -ENOMEM;
	if (strlen(s) != f.body_size + 1 || memcmp(s, line, f.body_size) != 0)
		return error_set(ret_error, -EBADMSG, "record is not in canonical form");

	rec->payload = json_object_get(payload);
	rec->line = strndup(line, n);
	if (!rec->line)
		return -ENOMEM;
	rec->line_size = n;
	*ret = TAKE_PTR(rec);
	return 0;
}

/* ---- files and directories -------------------------------------------------------------- */

bool ledger_file_name_parse(const char *name, uint64_t *ret_first_seq)
{
	const char *d = startswith(name, FILE_PREFIX);
	char buf[FILE_DIGITS + 1];
	uint64_t v;

	if (!d || strlen(d) != FILE_DIGITS + strlen(FILE_SUFFIX) ||
	    !streq(d + FILE_DIGITS, FILE_SUFFIX))
		return false;
	for (size_t i = 0; i < FILE_DIGITS; i++)
		if (d[i] < '0' || d[i] > '9')
			return false;
	memcpy(buf, d, FILE_DIGITS);
	buf[FILE_DIGITS] = '\0';
	if (safe_atou64(buf, &v) < 0 || v == 0)
		return false;
	if (ret_first_seq)
		*ret_first_seq = v;
	return true;
}

int ledger_file_name_make(uint64_t first_seq, char **ret)
{
	return asprintf(ret, FILE_PREFIX "%0*" PRIu64 FILE_SUFFIX, FILE_DIGITS, first_seq) < 0 ?
		       -ENOMEM :
		       0;
}

void ledger_files_free(struct ledger_file *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++)
		free(f[i].name);
	free(f);
}

static int file_cmp(const void *a, const void *b)
{
	const struct ledger_file *x = a, *y = b;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

int ledger_dir_list(const char *dir, struct ledger_file **ret, size_t *ret_n)
{
	struct ledger_file *files = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d))) {
		struct ledger_file *nf;
		uint64_t first;

		if (!ledger_file_name_parse(de->d_name, &first))
			continue;
		nf = realloc(files, (n + 1) * sizeof(*files));
		if (!nf) {
			r = -ENOMEM;
			break;
		}
		files = nf;
		files[n].name = strdup(de->d_name);
		if (!files[n].name) {
			r = -ENOMEM;
			break;
		}
		files[n++].first_seq = first;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	if (r < 0) {
		ledger_files_free(files, n);
		return r;
	}
	if (n > 0)
		qsort(files, n, sizeof(*files), file_cmp);
	*ret = files;
	*ret_n = n;
	return 0;
}

struct flock ledger_whole_file_lock(short type)
{
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
}

int ledger_dir_is_live(const char *dir)
{
	_cleanup_free_ char *p = path_join(dir, LOCK_FILE);
	_cleanup_close_ int fd = -EBADF;
	struct flock fl = ledger_whole_file_lock(F_WRLCK);

	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* A query only: readers never take the lock, so they never keep a writer out. */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

const char *ledger_dir_default(void)
{
	struct stat st;

	if (stat(LEDGER_DIR_DEFAULT, &st) == 0 && S_ISDIR(st.st_mode))
		return LEDGER_DIR_DEFAULT;
	return LEDGER_DIR_RUNTIME;
}

int ledger_key_path_default(const char *dir, char **ret)
{
	_cleanup_free_ char *d = strdup(dir), *parent = NULL;
	char *p;
	int r;

	if (!d)
		return -ENOMEM;
	path_simplify(d);
	if (isempty(d))
		return -EINVAL;
	r = path_parent(d, &parent);
	if (r < 0)
		return r;
	p = isempty(parent) ? strdup("ledger-key/ledger.key") :
			      path_join(parent, "ledger-key", "ledger.key");
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

int ledger_pubkey_path(const char *key_path, char **ret)
{
	size_t n = strlen(key_path);
	char *p;

	if (n == 0)
		return -EINVAL;
	if (endswith(key_path, ".key")) {
		if (asprintf(&p, "%.*s.pub", (int)(n - 4), key_path) < 0)
			return -ENOMEM;
	} else if (asprintf(&p, "%s.pub", key_path) < 0)
		return -ENOMEM;
	*ret = p;
	return 0;
}
