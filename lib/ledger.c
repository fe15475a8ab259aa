/* SPDX-License-Identifier: Apache-2.0 */
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
#include "ledger.h"

#define LOCK_FILE ".lock"
#define FILE_PREFIX "ledger-"
#define FILE_SUFFIX ".jsonl"
#define FILE_DIGITS 16
#define HASH_HEX_LEN (2 * LEDGER_HASH_SIZE)
#define SIG_B64_LEN 88 /* base64 of 64 bytes */
#define TIME_LEN (LEDGER_TIME_SIZE - 1)
/* ,"hash":"<64>"}  and  ,"hash":"<64>","sig":"<88>"} */
#define HASH_OPEN ",\"hash\":\""
#define SIG_OPEN "\",\"sig\":\""
#define SUFFIX_PLAIN_LEN (sizeof(HASH_OPEN) - 1 + HASH_HEX_LEN + 2)
#define SUFFIX_SIG_LEN \
	(sizeof(HASH_OPEN) - 1 + HASH_HEX_LEN + sizeof(SIG_OPEN) - 1 + SIG_B64_LEN + 2)
#define PAYLOAD_DEPTH_MAX 64
#define READ_CHUNK (1024U * 1024U)

static const uint8_t zero_hash[LEDGER_HASH_SIZE];
static const char zero_hex[] = "0000000000000000000000000000000000000000000000000000000000000000";

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

struct ledger_parser {
	struct sha256_hasher *hasher;
};

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

static int fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *fmt, ...)
{
	va_list ap;

	if (ret_error) {
		va_start(ap, fmt);
		if (vasprintf(ret_error, fmt, ap) < 0)
			*ret_error = NULL;
		va_end(ap);
	}
	return -EBADMSG;
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
		return fail(ret_error, "record is longer than %u bytes", LEDGER_LINE_MAX);
	if (memchr(l, '\0', n))
		return fail(ret_error, "record contains NUL bytes (torn write?)");
	if (!line_suffix(l, n, &f))
		return fail(ret_error, "record does not end with a \"hash\" field");
	if (!lowerhex(f.hash_hex, HASH_HEX_LEN))
		return fail(ret_error, "\"hash\" is not 64 lower-case hex digits");
	if (f.sig_b64) {
		for (size_t k = 0; k < SIG_B64_LEN - 2; k++)
			if (!b64char(f.sig_b64[k]))
				return fail(ret_error, "\"sig\" is not base64");
		if (f.sig_b64[SIG_B64_LEN - 2] != '=' || f.sig_b64[SIG_B64_LEN - 1] != '=')
			return fail(ret_error, "\"sig\" is not base64");
	}

	/* {"seq":N,"time":"...","type":"...","actor":{"uid": */
	if (!lit(l, f.body_size, &i, "{\"seq\":") || i >= f.body_size || l[i] < '1' || l[i] > '9')
		return fail(ret_error, "record does not begin with a \"seq\" field");
	for (; i < f.body_size && l[i] >= '0' && l[i] <= '9'; i++) {
		if (f.seq > (INT64_MAX - 9) / 10)
			return fail(ret_error, "\"seq\" is too large");
		f.seq = f.seq * 10 + (uint64_t)(l[i] - '0');
	}
	if (!lit(l, f.body_size, &i, ",\"time\":\"") || f.body_size - i < TIME_LEN ||
	    !time_is_valid(l + i, TIME_LEN))
		return fail(ret_error, "\"time\" is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
	i += TIME_LEN;
	if (!lit(l, f.body_size, &i, "\",\"type\":\""))
		return fail(ret_error, "no \"type\" after \"time\"");
	for (t = i; i < f.body_size && l[i] != '"'; i++)
		;
	if (!type_is_valid_n(l + t, i - t))
		return fail(ret_error, "\"type\" is not a valid record type");
	f.type = l + t;
	f.type_size = i - t;
	if (!lit(l, f.body_size, &i, "\",\"actor\":{\"uid\":"))
		return fail(ret_error, "no \"actor\" after \"type\"");

	/* ...},"prev":"<64>" */
	if (f.body_size - i < strlen(prev_open) + HASH_HEX_LEN + 1 || l[f.body_size - 1] != '"' ||
	    memcmp(l + f.body_size - 1 - HASH_HEX_LEN - strlen(prev_open), prev_open,
		   strlen(prev_open)) != 0)
		return fail(ret_error, "record does not end with a \"prev\" field");
	f.prev_hex = l + f.body_size - 1 - HASH_HEX_LEN;
	if (!lowerhex(f.prev_hex, HASH_HEX_LEN))
		return fail(ret_error, "\"prev\" is not 64 lower-case hex digits");
	if (!!f.sig_b64 != ledger_frame_type_is(&f, LEDGER_TYPE_CHECKPOINT))
		return fail(ret_error, f.sig_b64 ? "only checkpoints carry a signature" :
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
		return fail(ret_error,
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
		return fail(ret_error, "not valid JSON: %s", strna(jerr));
	if (!keys_are(o, f.sig_b64 ? keys_sig : keys_plain,
		      f.sig_b64 ? ELEMENTSOF(keys_sig) : ELEMENTSOF(keys_plain)))
		return fail(ret_error, "fields are not seq, time, type, actor, payload, prev, "
				       "hash[, sig] in this order");

	if (json_get_uint64(o, "seq", &seq) < 0 || seq == 0 || seq > INT64_MAX)
		return fail(ret_error, "\"seq\" is not a positive integer");
	rec->seq = seq;
	if (json_get_string(o, "time", &s) < 0 || !time_is_valid(s, strlen(s)))
		return fail(ret_error, "\"time\" is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
	memcpy(rec->time, s, LEDGER_TIME_SIZE);
	if (json_get_string(o, "type", &s) < 0 || !ledger_type_is_valid(s))
		return fail(ret_error, "\"type\" is not a valid record type");
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
		return fail(ret_error, "\"actor\" is not {uid, gid, pid, unit}");
	if (unit) {
		rec->actor.unit = strdup(json_object_get_string(unit));
		if (!rec->actor.unit)
			return -ENOMEM;
	}

	if (json_get_object(o, "payload", &payload) < 0)
		return fail(ret_error, "\"payload\" is not an object");
	{
		_cleanup_free_ char *why = NULL;
		r = ledger_payload_check(payload, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return fail(ret_error, "%s", strna(why));
	}

	if (json_get_string(o, "prev", &s) < 0 || strlen(s) != HASH_HEX_LEN ||
	    hash_from_hex(s, rec->prev) < 0)
		return fail(ret_error, "\"prev\" is not 64 lower-case hex digits");

	if (f.sig_b64) {
		_cleanup_free_ uint8_t *sig = NULL;
		size_t sig_size = 0;
		if (json_get_string(o, "sig", &s) < 0 || base64_decode(s, &sig, &sig_size) < 0 ||
		    sig_size != ED25519_SIGNATURE_SIZE)
			return fail(ret_error, "\"sig\" is not a base64 Ed25519 signature");
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
		return fail(ret_error, "record is not in canonical form");

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

static int file_name_make(uint64_t first_seq, char **ret)
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

static struct flock whole_file_lock(short type)
{
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
}

int ledger_dir_is_live(const char *dir)
{
	_cleanup_free_ char *p = path_join(dir, LOCK_FILE);
	_cleanup_close_ int fd = -EBADF;
	struct flock fl = whole_file_lock(F_WRLCK);

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

/* ---- reading ---------------------------------------------------------------------------- */

struct ledger_reader {
	char *dir;
	struct ledger_file *files;
	size_t n_files;
	size_t index; /* current file */
	int fd;
	bool follow;
	int inotify_fd;

	char *buf;
	size_t cap, start, end;
	uint64_t base_offset; /* file offset of buf[0] */
	uint64_t line_number;
	bool tail_reported; /* the incomplete tail was returned since the last read */
	bool broken; /* an over-long line: nothing more can be read */
};

struct ledger_reader *ledger_reader_free(struct ledger_reader *r)
{
	if (!r)
		return NULL;
	safe_close(r->fd);
	safe_close(r->inotify_fd);
	ledger_files_free(r->files, r->n_files);
	free(r->buf);
	free(r->dir);
	return mfree(r);
}

int ledger_reader_open(const char *dir, uint64_t from_seq, bool follow, struct ledger_reader **ret)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *r = new0(struct ledger_reader, 1);
	int k;

	if (!r)
		return -ENOMEM;
	r->fd = r->inotify_fd = -EBADF;
	r->follow = follow;
	r->dir = strdup(dir);
	if (!r->dir)
		return -ENOMEM;
	if (follow) {
		/* Watch before listing, so that nothing created in between is missed. */
		r->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (r->inotify_fd < 0)
			return -errno;
		if (inotify_add_watch(r->inotify_fd, dir,
				      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
					      IN_DELETE_SELF | IN_MOVE_SELF) < 0)
			return -errno;
	}
	k = ledger_dir_list(dir, &r->files, &r->n_files);
	if (k < 0)
		return k;
	for (size_t i = 0; i < r->n_files; i++)
		if (r->files[i].first_seq <= from_seq)
			r->index = i;
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf)
		return -ENOMEM;
	*ret = TAKE_PTR(r);
	return 0;
}

static int reader_rescan(struct ledger_reader *r)
{
	struct ledger_file *files = NULL;
	size_t n = 0;
	uint64_t last = r->n_files > 0 ? r->files[r->n_files - 1].first_seq : 0;
	int k = ledger_dir_list(r->dir, &files, &n);

	if (k < 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		struct ledger_file *nf;

		if (files[i].first_seq <= last)
			continue;
		nf = realloc(r->files, (r->n_files + 1) * sizeof(*nf));
		if (!nf) {
			ledger_files_free(files, n);
			return -ENOMEM;
		}
		r->files = nf;
		r->files[r->n_files++] = files[i];
		files[i].name = NULL;
	}
	ledger_files_free(files, n);
	return 0;
}

static void reader_fill_line(struct ledger_reader *r, size_t size, bool complete,
			     struct ledger_line *ret)
{
	*ret = (struct ledger_line){
		.line = r->buf + r->start,
		.size = size,
		.complete = complete,
		.file = r->files[r->index].name,
		.file_first_seq = r->files[r->index].first_seq,
		.first_in_file = r->line_number == 0,
		.last_file = r->index + 1 >= r->n_files,
		.line_number = r->line_number + 1,
		.offset = r->base_offset + r->start,
	};
}

int ledger_reader_next(struct ledger_reader *r, struct ledger_line *ret)
{
	int k;

	if (r->broken)
		return -EBADMSG;
	for (;;) {
		const char *nl;
		ssize_t n;

		if (r->fd < 0) {
			_cleanup_free_ char *p = NULL;

			if (r->index >= r->n_files)
				return 0;
			p = path_join(r->dir, r->files[r->index].name);
			if (!p)
				return -ENOMEM;
			r->fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (r->fd < 0)
				return -errno;
			(void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
			r->start = r->end = 0;
			r->base_offset = 0;
			r->line_number = 0;
			r->tail_reported = false;
		}

		nl = r->start < r->end ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		if (nl) {
			size_t size = (size_t)(nl - (r->buf + r->start));
			reader_fill_line(r, size, true, ret);
			r->start += size + 1;
			r->line_number++;
			return 1;
		}
		if (r->end - r->start > LEDGER_LINE_MAX) {
			/* No newline where one must have been: report it and stop here. */
			reader_fill_line(r, r->end - r->start, false, ret);
			r->broken = true;
			return 1;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->base_offset += r->start;
			r->end -= r->start;
			r->start = 0;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n > 0) {
			r->end += (size_t)n;
			r->tail_reported = false;
			continue;
		}

		/* End of this file. */
		if (r->follow && r->index + 1 >= r->n_files) {
			k = reader_rescan(r);
			if (k < 0)
				return k;
		}
		if (r->end > r->start && !r->tail_reported) {
			reader_fill_line(r, r->end - r->start, false, ret);
			r->tail_reported = true;
			return 1;
		}
		if (r->index + 1 >= r->n_files)
			return 0;
		r->fd = safe_close(r->fd);
		r->index++;
	}
}

int ledger_reader_wait(struct ledger_reader *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->inotify_fd, .events = POLLIN };
	uint8_t buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool gone = false;
	ssize_t n;
	int k;

	if (r->inotify_fd < 0)
		return -EINVAL;
	k = poll(&pfd, 1, timeout_ms);
	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	if (k == 0)
		return 0;
	while ((n = read(r->inotify_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *e = (const void *)(buf + i);
			if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
				gone = true;
			i += (ssize_t)sizeof(*e) + e->len;
		}
	/* Nothing more will ever be written where we look. */
	return gone ? -ENOENT : 1;
}

/* ---- verification ----------------------------------------------------------------------- */

void ledger_verify_result_done(struct ledger_verify_result *r)
{
	r->error = mfree(r->error);
	r->bad_file = mfree(r->bad_file);
}

static int verify_bad(struct ledger_verify_result *res, const struct ledger_line *l, uint64_t seq,
		      const char *fmt, ...) _printf_(4, 5);
static int verify_bad(struct ledger_verify_result *res, const struct ledger_line *l, uint64_t seq,
		      const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	res->bad_seq = seq;
	if (l) {
		res->bad_file = strdup(l->file);
		res->bad_line = l->line_number;
		res->bad_offset = l->offset;
		if (asprintf(&res->error, "%s:%" PRIu64 ": record %" PRIu64 ": %s", l->file,
			     l->line_number, seq, strna(msg)) < 0)
			res->error = NULL;
	} else {
		res->error = TAKE_PTR(msg);
	}
	return -EBADMSG;
}

/* The first line of a file, complete, into *ret. */
static int read_first_line(const char *dir, const char *name, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *p = path_join(dir, name), *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;
	char *nl;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(LEDGER_LINE_MAX + 2);
	if (!buf)
		return -ENOMEM;
	n = loop_read(fd, buf, LEDGER_LINE_MAX + 1);
	if (n < 0)
		return (int)n;
	nl = memchr(buf, '\n', (size_t)n);
	if (!nl)
		return -EBADMSG;
	*nl = '\0';
	*ret_size = (size_t)(nl - buf);
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The key a genesis record announces; checks that its fingerprint matches. */
static int genesis_key(const struct ledger_record *g, struct ed25519_key **ret, char **ret_error)
{
	_cleanup_free_ uint8_t *raw = NULL;
	char fp[LEDGER_HASH_HEX_SIZE];
	const char *b64, *want;
	size_t n = 0;
	int r;

	if (!streq(g->type, LEDGER_TYPE_GENESIS))
		return fail(ret_error, "the first record is not a %s record", LEDGER_TYPE_GENESIS);
	if (json_get_string(g->payload, "public_key", &b64) < 0 ||
	    json_get_string(g->payload, "key", &want) < 0 || base64_decode(b64, &raw, &n) < 0 ||
	    n != ED25519_PUBLIC_KEY_SIZE)
		return fail(ret_error,
			    "the genesis record has no valid \"key\" and \"public_key\"");
	r = ed25519_key_from_raw_public(raw, ret);
	if (r < 0)
		return fail(ret_error, "the genesis record's public key is not an Ed25519 key");
	r = ledger_key_fingerprint(*ret, fp);
	if (r < 0)
		return r;
	if (!streq(fp, want)) {
		*ret = ed25519_key_free(*ret);
		return fail(ret_error, "the genesis record's \"key\" is not the fingerprint of its "
				       "\"public_key\"");
	}
	return 0;
}

static int read_genesis(struct ledger_parser *p, const char *dir, const struct ledger_file *first,
			struct ledger_record **ret, char **ret_error)
{
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	int r;

	if (first->first_seq != 1)
		return fail(ret_error, "the first file is %s: records 1 to %" PRIu64 " are missing",
			    first->name, first->first_seq - 1);
	r = read_first_line(dir, first->name, &line, &n);
	if (r == -EBADMSG)
		return fail(ret_error, "%s: the genesis record is incomplete", first->name);
	if (r < 0)
		return r;
	return ledger_parser_parse(p, line, n, ret, ret_error);
}

static int verify_checkpoint(struct ledger_verify_result *res, const struct ledger_line *l,
			     const struct ledger_record *rec, struct ed25519_key *key,
			     const char *fp)
{
	_cleanup_free_ char *msg = NULL;
	const char *kfp, *reason;
	int r;

	if (json_get_string(rec->payload, "key", &kfp) < 0 ||
	    json_get_string(rec->payload, "reason", &reason) < 0)
		return verify_bad(res, l, rec->seq, "checkpoint without \"key\" and \"reason\"");
	if (!streq(kfp, fp))
		return verify_bad(res, l, rec->seq,
				  "checkpoint names key %s, but the ledger's key is %s", kfp, fp);
	r = ledger_checkpoint_message(rec->hash, &msg);
	if (r < 0)
		return r;
	r = ed25519_verify(key, msg, strlen(msg), rec->sig);
	if (r == -EBADMSG)
		return verify_bad(res, l, rec->seq,
				  "checkpoint signature does not verify with key %s", fp);
	return r;
}

int ledger_verify(const char *dir, const struct ledger_verify_opts *o,
		  struct ledger_verify_result *res)
{
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_(ed25519_key_freep) struct ed25519_key *own_key = NULL;
	_cleanup_(ledger_record_freep) struct ledger_record *genesis = NULL;
	struct ledger_file *files = NULL;
	struct ed25519_key *key = o ? o->pubkey : NULL;
	uint64_t from = o && o->from_seq > 1 ? o->from_seq : 1;
	uint64_t expect = 0;
	char last_hex[HASH_HEX_LEN];
	bool anchored = false;
	const char *last_file = NULL;
	size_t n_files = 0;
	int r;

	*res = (struct ledger_verify_result){};

	r = ledger_dir_list(dir, &files, &n_files);
	if (r < 0) {
		if (asprintf(&res->error, "%s: %s", dir, strerror(-r)) < 0)
			res->error = NULL;
		return r;
	}
	if (n_files == 0) {
		ledger_files_free(files, n_files);
		if (asprintf(&res->error, "%s: no ledger files (" FILE_PREFIX "*" FILE_SUFFIX ")",
			     dir) < 0)
			res->error = NULL;
		return -ENOENT;
	}
	res->live = ledger_dir_is_live(dir) > 0;

	r = ledger_parser_new(&p);
	if (r < 0)
		goto finish;

	/* The key: the one given, which must be the one the ledger was created with. */
	{
		_cleanup_free_ char *why = NULL;
		r = read_genesis(p, dir, &files[0], &genesis, &why);
		if (r == -EBADMSG && !(key && from > 1)) {
			r = verify_bad(res, NULL, 1, "%s: %s", dir, strna(why));
			goto finish;
		}
		if (r < 0 && r != -EBADMSG)
			goto finish;
		if (genesis) {
			why = mfree(why);
			r = genesis_key(genesis, &own_key, &why);
			if (r == -EBADMSG) {
				r = verify_bad(res, NULL, 1, "%s:1: record 1: %s", files[0].name,
					       strna(why));
				goto finish;
			}
			if (r < 0)
				goto finish;
		}
	}
	if (key) {
		r = ledger_key_fingerprint(key, res->key_fingerprint);
		if (r < 0)
			goto finish;
		if (own_key) {
			char gfp[LEDGER_HASH_HEX_SIZE];
			r = ledger_key_fingerprint(own_key, gfp);
			if (r < 0)
				goto finish;
			if (!streq(gfp, res->key_fingerprint)) {
				r = verify_bad(
					res, NULL, 1,
					"%s:1: record 1: the ledger was created with key %s, "
					"not with the given key %s",
					files[0].name, gfp, res->key_fingerprint);
				goto finish;
			}
		}
	} else {
		key = own_key;
		res->key_from_ledger = true;
		r = ledger_key_fingerprint(key, res->key_fingerprint);
		if (r < 0)
			goto finish;
	}

	r = ledger_reader_open(dir, from, false, &rd);
	if (r < 0)
		goto finish;
	if (from == 1)
		expect = 1;

	for (;;) {
		_cleanup_free_ char *why = NULL;
		struct ledger_frame f;
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			goto finish;
		if (r == 0)
			break;
		if (!last_file || !streq(last_file, l.file)) {
			res->n_files++;
			last_file = l.file;
		}

		if (!l.complete) {
			uint64_t s = expect ?: from;
			if (l.last_file && res->live) {
				/* Being written right now: not a record yet. */
				res->in_progress_bytes = l.size;
				break;
			}
			res->torn = l.last_file;
			r = verify_bad(res, &l, s,
				       l.last_file ?
					       "incomplete final record (%zu bytes without an "
					       "end of line): torn write or truncation" :
					       "incomplete record (%zu bytes without an end "
					       "of line) before the end of the file",
				       l.size);
			goto finish;
		}

		r = ledger_frame_parse(l.line, l.size, &f, &why);
		/* Before --from: only follow the chain, to anchor the first record checked. */
		if (expect == 0) {
			if (r < 0 || f.seq + 1 < from)
				continue;
			if (f.seq + 1 == from) {
				memcpy(last_hex, f.hash_hex, HASH_HEX_LEN);
				anchored = true;
				expect = from;
				continue;
			}
			expect = from;
		}
		if (r < 0) {
			r = verify_bad(res, &l, expect, "%s", strna(why));
			goto finish;
		}
		r = ledger_frame_hash_ok(p->hasher, l.line, &f);
		if (r < 0)
			goto finish;
		if (r == 0) {
			r = verify_bad(
				res, &l, f.seq == expect ? f.seq : expect,
				"hash mismatch: the record was changed after it was written");
			goto finish;
		}

		if (f.seq != expect) {
			r = verify_bad(res, &l, f.seq,
				       f.seq > expect ? "sequence gap: expected record %" PRIu64
							" here (records deleted or reordered)" :
							"out of order: expected record %" PRIu64
							" here (records duplicated or reordered)",
				       expect);
			goto finish;
		}
		if (l.first_in_file && f.seq != l.file_first_seq) {
			r = verify_bad(res, &l, f.seq,
				       "the file's name says it begins with record %" PRIu64,
				       l.file_first_seq);
			goto finish;
		}
		if (f.seq == 1) {
			if (!ledger_frame_type_is(&f, LEDGER_TYPE_GENESIS)) {
				r = verify_bad(res, &l, 1, "the first record is not a %s record",
					       LEDGER_TYPE_GENESIS);
				goto finish;
			}
			if (memcmp(f.prev_hex, zero_hex, HASH_HEX_LEN) != 0) {
				r = verify_bad(res, &l, 1,
					       "the first record's \"prev\" is not zero");
				goto finish;
			}
		} else if (ledger_frame_type_is(&f, LEDGER_TYPE_GENESIS)) {
			r = verify_bad(res, &l, f.seq, "a %s record after the first",
				       LEDGER_TYPE_GENESIS);
			goto finish;
		} else if (anchored && memcmp(f.prev_hex, last_hex, HASH_HEX_LEN) != 0) {
			r = verify_bad(res, &l, f.seq,
				       "chain broken: \"prev\" is not the hash of record %" PRIu64,
				       f.seq - 1);
			goto finish;
		}

		if (f.sig_b64 || f.seq == 1 || (o && o->deep)) {
			_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;

			why = mfree(why);
			r = ledger_parser_parse(p, l.line, l.size, &rec, &why);
			if (r == -EBADMSG) {
				r = verify_bad(res, &l, f.seq, "%s", strna(why));
				goto finish;
			}
			if (r < 0)
				goto finish;
			if (rec->has_sig) {
				r = verify_checkpoint(res, &l, rec, key, res->key_fingerprint);
				if (r < 0)
					goto finish;
				res->n_checkpoints++;
				res->last_checkpoint_seq = rec->seq;
			}
		}

		if (res->n_records == 0)
			res->first_seq = f.seq;
		res->n_records++;
		res->last_seq = f.seq;
		memcpy(last_hex, f.hash_hex, HASH_HEX_LEN);
		anchored = true;
		expect = f.seq + 1;
	}

	if (res->n_records == 0)
		r = verify_bad(res, NULL, from, "%s: no records from %" PRIu64 " on", dir, from);
	else
		r = 0;
finish:
	if (r < 0 && r != -EBADMSG && !res->error &&
	    asprintf(&res->error, "%s: %s", dir, strerror(-r)) < 0)
		res->error = NULL;
	ledger_files_free(files, n_files);
	return r;
}

/* ---- writing ---------------------------------------------------------------------------- */

struct ledger_writer {
	char *dir;
	int lock_fd;
	int fd; /* the current file, O_APPEND */
	char *file_name;
	uint64_t file_size; /* durable bytes of the current file */
	struct ed25519_key *key;
	char fp[LEDGER_HASH_HEX_SIZE];
	struct ledger_actor self;
	struct sha256_hasher *hasher;
	uint64_t max_file_size;
	uint64_t checkpoint_every;

	/* the durable head */
	uint64_t seq;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t n_unsigned;

	/* the batch: records built but not yet written */
	char *batch;
	size_t batch_size, batch_cap;
	uint64_t batch_seq;
	uint8_t batch_hash[LEDGER_HASH_SIZE];
	uint64_t batch_unsigned;

	bool broken;
};

void ledger_open_info_done(struct ledger_open_info *i)
{
	i->repair_file = mfree(i->repair_file);
	i->repair_saved = mfree(i->repair_saved);
}

struct ledger_writer *ledger_writer_free(struct ledger_writer *w)
{
	if (!w)
		return NULL;
	safe_close(w->fd);
	safe_close(w->lock_fd);
	free(w->file_name);
	ledger_actor_done(&w->self);
	sha256_hasher_free(w->hasher);
	free(w->batch);
	free(w->dir);
	return mfree(w);
}

uint64_t ledger_writer_unsigned(const struct ledger_writer *w)
{
	return w->batch_unsigned;
}

uint64_t ledger_writer_head_seq(const struct ledger_writer *w)
{
	return w->seq;
}

uint64_t ledger_writer_last_seq(const struct ledger_writer *w)
{
	return w->batch_seq;
}

void ledger_writer_rollback(struct ledger_writer *w)
{
	w->batch_size = 0;
	w->batch_seq = w->seq;
	memcpy(w->batch_hash, w->hash, LEDGER_HASH_SIZE);
	w->batch_unsigned = w->n_unsigned;
}

static int now_time(char out[LEDGER_TIME_SIZE])
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	return ledger_time_format((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, out);
}

static int writer_stage(struct ledger_writer *w, const char *type, const struct ledger_actor *actor,
			struct json_object *payload, bool sign, uint64_t *ret_seq,
			uint8_t *ret_hash)
{
	_cleanup_free_ char *line = NULL;
	char t[LEDGER_TIME_SIZE];
	struct ledger_entry e = {
		.seq = w->batch_seq + 1,
		.time = t,
		.type = type,
		.actor = actor,
		.payload = payload,
	};
	uint8_t hash[LEDGER_HASH_SIZE];
	size_t n = 0;
	int r = now_time(t);

	if (r < 0)
		return r;
	memcpy(e.prev, w->batch_hash, LEDGER_HASH_SIZE);
	r = ledger_line_format(&e, w->hasher, sign ? w->key : NULL, &line, &n, hash);
	if (r < 0)
		return r;
	if (w->batch_size + n > w->batch_cap) {
		size_t cap = MAX(w->batch_cap * 2, w->batch_size + n + 4096);
		char *b = realloc(w->batch, cap);
		if (!b)
			return -ENOMEM;
		w->batch = b;
		w->batch_cap = cap;
	}
	memcpy(w->batch + w->batch_size, line, n);
	w->batch_size += n;
	w->batch_seq = e.seq;
	memcpy(w->batch_hash, hash, LEDGER_HASH_SIZE);
	w->batch_unsigned = sign ? 0 : w->batch_unsigned + 1;
	if (ret_seq)
		*ret_seq = e.seq;
	if (ret_hash)
		memcpy(ret_hash, hash, LEDGER_HASH_SIZE);
	return 0;
}

static int writer_stage_checkpoint(struct ledger_writer *w, const char *reason)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();

	if (!p || json_add_string(p, "reason", reason) < 0 || json_add_string(p, "key", w->fp) < 0)
		return -ENOMEM;
	return writer_stage(w, LEDGER_TYPE_CHECKPOINT, &w->self, p, true, NULL, NULL);
}

/* Cuts the file back to its last durable record after a failed write. */
static int writer_cut_back(struct ledger_writer *w)
{
	if (ftruncate(w->fd, (off_t)w->file_size) < 0 || fdatasync(w->fd) < 0) {
		w->broken = true;
		return -EIO;
	}
	return 0;
}

int ledger_writer_commit(struct ledger_writer *w)
{
	int r, k;

	if (w->broken)
		return -EIO;
	if (w->batch_size == 0)
		return 0;
	r = loop_write(w->fd, w->batch, w->batch_size);
	if (r >= 0 && fdatasync(w->fd) < 0)
		r = -errno;
	if (r < 0) {
		k = writer_cut_back(w);
		ledger_writer_rollback(w);
		return k < 0 ? k : r;
	}
	w->file_size += w->batch_size;
	w->seq = w->batch_seq;
	memcpy(w->hash, w->batch_hash, LEDGER_HASH_SIZE);
	w->n_unsigned = w->batch_unsigned;
	w->batch_size = 0;
	return 0;
}

static int writer_open_file(struct ledger_writer *w, uint64_t first_seq, bool create)
{
	_cleanup_free_ char *name = NULL, *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r = file_name_make(first_seq, &name);

	if (r < 0)
		return r;
	p = path_join(w->dir, name);
	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY | (create ? O_CREAT | O_EXCL : 0),
		  0640);
	if (fd < 0)
		return -errno;
	if (create) {
		/* The new name must be durable before anything in it is acknowledged. */
		r = fsync_directory_of(p);
		if (r < 0)
			return r;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	safe_close(w->fd);
	w->fd = TAKE_FD(fd);
	free_and_replace(w->file_name, name);
	w->file_size = (uint64_t)st.st_size;
	return 0;
}

static int writer_rotate(struct ledger_writer *w)
{
	int r;

	if (w->batch_unsigned > 0) {
		r = writer_stage_checkpoint(w, "rotate");
		if (r < 0)
			return r;
	}
	r = ledger_writer_commit(w);
	if (r < 0)
		return r;
	return writer_open_file(w, w->seq + 1, true);
}

int ledger_writer_add(struct ledger_writer *w, const char *type, const struct ledger_actor *actor,
		      struct json_object *payload, uint64_t *ret_seq,
		      uint8_t ret_hash[LEDGER_HASH_SIZE])
{
	uint8_t hash[LEDGER_HASH_SIZE];
	size_t saved_size;
	uint64_t saved_seq, saved_unsigned, seq = 0;
	uint8_t saved_hash[LEDGER_HASH_SIZE];
	int r;

	if (w->broken)
		return -EIO;
	if (!ledger_type_is_valid(type) || streq(type, LEDGER_TYPE_CHECKPOINT) || !actor)
		return -EINVAL;
	if (w->file_size + w->batch_size >= w->max_file_size) {
		r = writer_rotate(w);
		if (r < 0) {
			ledger_writer_rollback(w);
			return r;
		}
	}
	saved_size = w->batch_size;
	saved_seq = w->batch_seq;
	saved_unsigned = w->batch_unsigned;
	memcpy(saved_hash, w->batch_hash, LEDGER_HASH_SIZE);

	r = writer_stage(w, type, actor, payload, false, &seq, hash);
	if (r >= 0 && w->batch_unsigned >= w->checkpoint_every)
		r = writer_stage_checkpoint(w, "interval");
	if (r < 0) {
		w->batch_size = saved_size;
		w->batch_seq = saved_seq;
		w->batch_unsigned = saved_unsigned;
		memcpy(w->batch_hash, saved_hash, LEDGER_HASH_SIZE);
		return r;
	}
	if (ret_seq)
		*ret_seq = seq;
	if (ret_hash)
		memcpy(ret_hash, hash, LEDGER_HASH_SIZE);
	return 0;
}

int ledger_writer_checkpoint(struct ledger_writer *w, const char *reason)
{
	if (w->broken)
		return -EIO;
	return writer_stage_checkpoint(w, reason);
}

/* What the last file says about the head of the ledger. */
struct scan {
	bool have; /* a valid record was found in the file */
	uint64_t seq;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t n_unsigned;
	bool clean;
	bool torn;
	uint64_t torn_offset;
};

static int scan_last_file(struct ledger_parser *p, struct sha256_hasher *h, const char *dir,
			  const struct ledger_file *f, struct scan *s, char **ret_error)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_free_ char *last_checkpoint = NULL;
	size_t last_checkpoint_size = 0;
	char last_hex[HASH_HEX_LEN];
	int r = ledger_reader_open(dir, f->first_seq, false, &rd);

	if (r < 0)
		return r;
	*s = (struct scan){};
	for (;;) {
		_cleanup_free_ char *why = NULL;
		struct ledger_frame fr;
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			return r;
		if (r == 0 || l.file_first_seq != f->first_seq)
			break;
		if (!l.complete || memchr(l.line, '\0', l.size)) {
			/* Cut short, or zeros where a record was being written: a torn write. */
			s->torn = true;
			s->torn_offset = l.offset;
			break;
		}
		r = ledger_frame_parse(l.line, l.size, &fr, &why);
		if (r >= 0) {
			r = ledger_frame_hash_ok(h, l.line, &fr);
			if (r < 0)
				return r;
			if (r == 0) {
				free(why);
				why = strdup("hash mismatch");
				r = -EBADMSG;
			}
		}
		if (r == -EBADMSG)
			return fail(ret_error,
				    "%s:%" PRIu64 ": %s; this is not a torn write: check the "
				    "ledger with 'airlock-ledger verify'",
				    l.file, l.line_number, strna(why));
		if (r < 0)
			return r;
		if (s->have ? fr.seq != s->seq + 1 || memcmp(fr.prev_hex, last_hex, HASH_HEX_LEN) :
			      fr.seq != f->first_seq)
			return fail(ret_error,
				    "%s:%" PRIu64 ": record %" PRIu64 " does not follow the record "
				    "before it; check the ledger with 'airlock-ledger verify'",
				    l.file, l.line_number, fr.seq);
		s->have = true;
		s->seq = fr.seq;
		memcpy(last_hex, fr.hash_hex, HASH_HEX_LEN);
		s->n_unsigned = fr.sig_b64 ? 0 : s->n_unsigned + 1;
		last_checkpoint = mfree(last_checkpoint);
		if (fr.sig_b64) {
			last_checkpoint = strndup(l.line, l.size);
			if (!last_checkpoint)
				return -ENOMEM;
			last_checkpoint_size = l.size;
		}
	}
	if (s->have) {
		char buf[LEDGER_HASH_HEX_SIZE];
		memcpy(buf, last_hex, HASH_HEX_LEN);
		buf[HASH_HEX_LEN] = '\0';
		r = unhex_exact(buf, s->hash, LEDGER_HASH_SIZE);
		if (r < 0)
			return r;
	}
	if (last_checkpoint) {
		/* A ledger that ends with a shutdown checkpoint was closed cleanly. */
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		_cleanup_free_ char *why = NULL;
		const char *reason;

		r = ledger_parser_parse(p, last_checkpoint, last_checkpoint_size, &rec, &why);
		if (r == -EBADMSG)
			return fail(ret_error, "%s: record %" PRIu64 ": %s", f->name, s->seq,
				    strna(why));
		if (r < 0)
			return r;
		s->clean = json_get_string(rec->payload, "reason", &reason) >= 0 &&
			   (streq(reason, "shutdown") || streq(reason, "migrate"));
	}
	return 0;
}

/* The last record of a file that is not the last one. */
static int last_record_of(struct ledger_parser *p, const char *dir, const struct ledger_file *f,
			  struct scan *s, char **ret_error)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_free_ char *last = NULL;
	size_t last_size = 0;
	int r = ledger_reader_open(dir, f->first_seq, false, &rd);

	if (r < 0)
		return r;
	for (;;) {
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			return r;
		if (r == 0 || l.file_first_seq != f->first_seq)
			break;
		if (!l.complete)
			return fail(ret_error, "%s ends with an incomplete record", f->name);
		free(last);
		last = strndup(l.line, l.size);
		if (!last)
			return -ENOMEM;
		last_size = l.size;
	}
	if (!last)
		return fail(ret_error, "%s is empty", f->name);
	{
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		_cleanup_free_ char *why = NULL;
		r = ledger_parser_parse(p, last, last_size, &rec, &why);
		if (r == -EBADMSG)
			return fail(ret_error, "%s: last record: %s", f->name, strna(why));
		if (r < 0)
			return r;
		*s = (struct scan){ .have = true, .seq = rec->seq };
		memcpy(s->hash, rec->hash, LEDGER_HASH_SIZE);
	}
	return 0;
}

/* Drops a torn tail: saves the bytes beside the file, then cuts the file. */
static int writer_repair(struct ledger_writer *w, uint64_t offset, struct ledger_open_info *info,
			 char ret_sha256[LEDGER_HASH_HEX_SIZE])
{
	_cleanup_free_ char *data = NULL, *saved = NULL, *saved_path = NULL;
	uint8_t d[LEDGER_HASH_SIZE];
	uint64_t n = w->file_size - offset;
	char t[LEDGER_TIME_SIZE];
	ssize_t k;
	int r;

	if (offset > w->file_size || n > SIZE_MAX - 1)
		return -EINVAL;
	data = malloc(n + 1);
	if (!data)
		return -ENOMEM;
	k = pread(w->fd, data, n, (off_t)offset);
	if (k < 0)
		return -errno;
	if ((uint64_t)k != n)
		return -EIO;
	r = now_time(t);
	if (r < 0)
		return r;
	/* "<file>.torn-<offset>-<YYYYMMDDTHHMMSSuuuuuu>" */
	if (asprintf(&saved, "%s.torn-%" PRIu64 "-%.4s%.2s%.2sT%.2s%.2s%.2s%.6s", w->file_name,
		     offset, t, t + 5, t + 8, t + 11, t + 14, t + 17, t + 20) < 0)
		return -ENOMEM;
	saved_path = path_join(w->dir, saved);
	if (!saved_path)
		return -ENOMEM;
	r = write_file_atomic(saved_path, data, n, 0640);
	if (r < 0)
		return r;
	r = sha256_buf(data, n, d);
	if (r < 0)
		return r;
	sha256_hex(d, ret_sha256);
	if (ftruncate(w->fd, (off_t)offset) < 0 || fsync(w->fd) < 0)
		return -errno;
	w->file_size = offset;

	info->repaired = true;
	info->repair_offset = offset;
	info->repair_bytes = n;
	info->repair_file = strdup(w->file_name);
	info->repair_saved = TAKE_PTR(saved);
	if (!info->repair_file)
		return -ENOMEM;
	return 0;
}

static int writer_add_genesis(struct ledger_writer *w)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();
	_cleanup_free_ char *b64 = NULL;
	uint8_t raw[ED25519_PUBLIC_KEY_SIZE];
	int r = ed25519_key_raw_public(w->key, raw);

	if (r < 0)
		return r;
	b64 = base64_encode(raw, sizeof(raw));
	if (!p || !b64 || json_add_int(p, "format", LEDGER_FORMAT) < 0 ||
	    json_add_string(p, "key", w->fp) < 0 || json_add_string(p, "public_key", b64) < 0)
		return -ENOMEM;
	return writer_stage(w, LEDGER_TYPE_GENESIS, &w->self, p, false, NULL, NULL);
}

static int writer_add_repair(struct ledger_writer *w, const struct ledger_open_info *info,
			     const char *sha256)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();

	if (!p || json_add_string(p, "file", info->repair_file) < 0 ||
	    json_add_int(p, "offset", (int64_t)info->repair_offset) < 0 ||
	    json_add_int(p, "bytes", (int64_t)info->repair_bytes) < 0 ||
	    json_add_string(p, "sha256", sha256) < 0 ||
	    json_add_string(p, "saved_as", info->repair_saved) < 0)
		return -ENOMEM;
	return writer_stage(w, LEDGER_TYPE_REPAIR, &w->self, p, false, NULL, NULL);
}

static int writer_lock(struct ledger_writer *w)
{
	_cleanup_free_ char *p = path_join(w->dir, LOCK_FILE);
	struct flock fl = whole_file_lock(F_WRLCK);

	if (!p)
		return -ENOMEM;
	w->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (w->lock_fd < 0)
		return -errno;
	if (fcntl(w->lock_fd, F_OFD_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
	return 0;
}

int ledger_writer_open(const char *dir, struct ed25519_key *key, const struct ledger_writer_opts *o,
		       const struct ledger_actor *self, struct ledger_writer **ret,
		       struct ledger_open_info *ret_info, char **ret_error)
{
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
	_cleanup_(ledger_record_freep) struct ledger_record *genesis = NULL;
	char repair_sha[LEDGER_HASH_HEX_SIZE] = "";
	struct ledger_file *files = NULL;
	struct scan s = {};
	size_t n_files = 0;
	bool need_genesis = false;
	int r;

	if (!key || !ed25519_key_is_private(key) || !self)
		return -EINVAL;
	w = new0(struct ledger_writer, 1);
	if (!w)
		return -ENOMEM;
	w->fd = w->lock_fd = -EBADF;
	w->key = key;
	w->max_file_size = o && o->max_file_size ? o->max_file_size : LEDGER_FILE_SIZE_DEFAULT;
	w->checkpoint_every = o && o->checkpoint_every ? o->checkpoint_every :
							 LEDGER_CHECKPOINT_EVERY_DEFAULT;
	w->dir = strdup(dir);
	if (!w->dir)
		return -ENOMEM;
	w->self = (struct ledger_actor){ .uid = self->uid, .gid = self->gid, .pid = self->pid };
	if (self->unit) {
		w->self.unit = strdup(self->unit);
		if (!w->self.unit)
			return -ENOMEM;
	}
	r = ledger_key_fingerprint(key, w->fp);
	if (r < 0)
		return r;
	r = sha256_hasher_new(&w->hasher);
	if (r < 0)
		return r;
	r = ledger_parser_new(&p);
	if (r < 0)
		return r;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		fail(ret_error, "%s: cannot create the directory: %s", dir, strerror(-r));
		return r;
	}
	r = writer_lock(w);
	if (r == -EBUSY)
		fail(ret_error, "in use by another writer (is airlock-ledger serve running?)");
	if (r < 0)
		return r;

	r = ledger_dir_list(dir, &files, &n_files);
	if (r < 0)
		return r;

	if (n_files == 0) {
		r = writer_open_file(w, 1, true);
		if (r < 0)
			goto finish;
		need_genesis = true;
		info.created = true;
	} else {
		const struct ledger_file *last = &files[n_files - 1];
		_cleanup_free_ char *why = NULL;

		r = writer_open_file(w, last->first_seq, false);
		if (r < 0)
			goto finish;
		r = scan_last_file(p, w->hasher, dir, last, &s, ret_error);
		if (r < 0)
			goto finish;
		if (s.torn) {
			r = writer_repair(w, s.torn_offset, &info, repair_sha);
			if (r < 0)
				goto finish;
		}
		if (!s.have && n_files > 1) {
			r = last_record_of(p, dir, &files[n_files - 2], &s, ret_error);
			if (r < 0)
				goto finish;
			if (s.seq + 1 != last->first_seq) {
				r = fail(ret_error,
					 "%s ends with record %" PRIu64 " but %s follows it",
					 files[n_files - 2].name, s.seq, last->name);
				goto finish;
			}
		}
		if (!s.have && n_files == 1) {
			/* Nothing survived of the genesis record: begin again. */
			need_genesis = true;
			info.created = true;
		} else {
			r = read_genesis(p, dir, &files[0], &genesis, &why);
			if (r == -EBADMSG) {
				r = fail(ret_error, "%s: %s", dir, strna(why));
				goto finish;
			}
			if (r < 0)
				goto finish;
			if (!streq(genesis->type, LEDGER_TYPE_GENESIS)) {
				r = fail(ret_error, "%s: the first record is not a %s record",
					 files[0].name, LEDGER_TYPE_GENESIS);
				goto finish;
			}
			{
				const char *gfp = NULL;
				if (json_get_string(genesis->payload, "key", &gfp) < 0 ||
				    !streq(gfp, w->fp)) {
					r = -EKEYREJECTED;
					if (ret_error &&
					    asprintf(ret_error,
						     "the ledger was created with key %s, not with "
						     "this key (%s)",
						     strna(gfp), w->fp) < 0)
						*ret_error = NULL;
					goto finish;
				}
			}
		}
		info.clean = s.clean && !s.torn;
	}

	w->seq = s.seq;
	memcpy(w->hash, s.have ? s.hash : zero_hash, LEDGER_HASH_SIZE);
	w->n_unsigned = s.n_unsigned;
	ledger_writer_rollback(w);
	info.head_seq = w->seq;

	if (need_genesis) {
		r = writer_add_genesis(w);
		if (r < 0)
			goto finish;
	}
	if (info.repaired) {
		r = writer_add_repair(w, &info, repair_sha);
		if (r < 0)
			goto finish;
	}
	r = ledger_writer_commit(w);
	if (r < 0)
		goto finish;

	if (ret_info) {
		*ret_info = info;
		info = (struct ledger_open_info){};
	}
	*ret = TAKE_PTR(w);
	r = 0;
finish:
	ledger_files_free(files, n_files);
	return r;
}
