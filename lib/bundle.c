/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Update bundles: the member and policy rules and the streaming verifier (see bundle.h;
 * the manifest parser is bundle-manifest.c). Behaviour follows what RAUC checks of its bundles: the
 * signature is checked before anything it covers is used, every member is named and
 * sized by the signed manifest, and the payload is hashed as it streams.
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "bundle.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/archive.h"
#include "ext/json.h"
#include "ext/sig.h"
#include "version.h"
#include "ustar.h"

static const char *const member_names[_BUNDLE_MEMBER_MAX] = {
	[BUNDLE_MEMBER_MANIFEST] = "manifest.json",
	[BUNDLE_MEMBER_SIGNATURE] = "manifest.json.sig",
	[BUNDLE_MEMBER_ROOT] = "root.squashfs",
	[BUNDLE_MEMBER_VERITY] = "root.verity",
	[BUNDLE_MEMBER_UKI] = "uki.efi",
	[BUNDLE_MEMBER_SBOM] = "sbom.spdx.json",
};

static const char *const refusal_names[_BUNDLE_REFUSAL_MAX] = {
	[BUNDLE_REFUSAL_MALFORMED] = "malformed",
	[BUNDLE_REFUSAL_TRUNCATED] = "truncated",
	[BUNDLE_REFUSAL_TRAILING_DATA] = "trailing-data",
	[BUNDLE_REFUSAL_NOT_REGULAR] = "not-a-regular-file",
	[BUNDLE_REFUSAL_BAD_PATH] = "bad-path",
	[BUNDLE_REFUSAL_UNEXPECTED_MEMBER] = "unexpected-member",
	[BUNDLE_REFUSAL_EXTRA_MEMBER] = "extra-member",
	[BUNDLE_REFUSAL_TOO_LARGE] = "too-large",
	[BUNDLE_REFUSAL_TOO_SMALL] = "too-small",
	[BUNDLE_REFUSAL_NO_SIGNATURE] = "no-signature",
	[BUNDLE_REFUSAL_BAD_SIGNATURE] = "bad-signature",
	[BUNDLE_REFUSAL_UNKNOWN_KEY] = "unknown-key",
	[BUNDLE_REFUSAL_REVOKED_KEY] = "revoked-key",
	[BUNDLE_REFUSAL_BAD_MANIFEST] = "bad-manifest",
	[BUNDLE_REFUSAL_INCOMPATIBLE] = "incompatible",
	[BUNDLE_REFUSAL_SAME_VERSION] = "same-version",
	[BUNDLE_REFUSAL_DOWNGRADE] = "downgrade",
	[BUNDLE_REFUSAL_BELOW_FLOOR] = "below-floor",
	[BUNDLE_REFUSAL_BELOW_VERSION_FLOOR] = "below-version-floor",
	[BUNDLE_REFUSAL_DIGEST_MISMATCH] = "digest-mismatch",
	[BUNDLE_REFUSAL_DEBUG_BUILD] = "debug-build",
};

const char *bundle_member_to_string(enum bundle_member m)
{
	return m >= 0 && m < _BUNDLE_MEMBER_MAX ? member_names[m] : NULL;
}

const char *bundle_refusal_to_string(enum bundle_refusal r)
{
	return r >= 0 && r < _BUNDLE_REFUSAL_MAX ? refusal_names[r] : NULL;
}

enum bundle_refusal bundle_refusal_from_string(const char *s)
{
	for (int i = 0; s && i < _BUNDLE_REFUSAL_MAX; i++)
		if (streq(refusal_names[i], s))
			return (enum bundle_refusal)i;
	return _BUNDLE_REFUSAL_INVALID;
}

void bundle_error_done(struct bundle_error *e)
{
	if (!e)
		return;
	e->message = mfree(e->message);
	e->refusal = _BUNDLE_REFUSAL_INVALID;
	e->member = _BUNDLE_MEMBER_INVALID;
}

static int error_vset(struct bundle_error *e, int r, enum bundle_refusal refusal,
		      enum bundle_member member, const char *fmt, va_list ap) _printf_(5, 0);
static int error_vset(struct bundle_error *e, int r, enum bundle_refusal refusal,
		      enum bundle_member member, const char *fmt, va_list ap)
{
	char *m = NULL;

	if (!e)
		return r;
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	free(e->message);
	e->message = m;
	e->refusal = refusal;
	e->member = member;
	return r;
}

/* Refuses the bundle: returns -EPERM. */
static int refuse(struct bundle_error *e, enum bundle_refusal refusal, enum bundle_member member,
		  const char *fmt, ...) _printf_(4, 5);
static int refuse(struct bundle_error *e, enum bundle_refusal refusal, enum bundle_member member,
		  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_vset(e, -EPERM, refusal, member, fmt, ap);
	va_end(ap);
	return r;
}

/* Cannot check the bundle (I/O, memory, the sink): returns r. */
static int failure(struct bundle_error *e, int r, enum bundle_member member, const char *fmt, ...)
	_printf_(4, 5);
static int failure(struct bundle_error *e, int r, enum bundle_member member, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = error_vset(e, r, _BUNDLE_REFUSAL_INVALID, member, fmt, ap);
	va_end(ap);
	return r;
}

/* A member name from the archive, quoted and with anything unprintable escaped. */
static char *name_quote(const char *s)
{
	size_t n = s ? strlen(s) : 0, shown = MIN(n, (size_t)200);
	char *q, *p;

	if (!s)
		return strdup("(no name)");
	q = p = malloc(shown * 4 + 8);
	if (!q)
		return NULL;
	*p++ = '\'';
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			p += snprintf(p, 5, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	*p++ = '\'';
	if (shown < n) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p = '\0';
	return q;
}

/* ---- rules ------------------------------------------------------------------------------------- */

int bundle_policy_check(const struct bundle_policy *p, const struct bundle_manifest *m,
			struct bundle_error *ret_error)
{
	int c;

	if (!p || !version_is_valid(p->running_version) || isempty(p->compatible))
		return failure(ret_error, -EINVAL, _BUNDLE_MEMBER_INVALID,
			       "the running version '%s' is not a version, or no product given",
			       strna(p ? p->running_version : NULL));
	if (!streq(m->compatible, p->compatible))
		return refuse(ret_error, BUNDLE_REFUSAL_INCOMPATIBLE, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: version %s is for %s, this system is %s", m->version,
			      m->compatible, p->compatible);
	c = version_compare(m->version, p->running_version);
	if (c == 0)
		return refuse(ret_error, BUNDLE_REFUSAL_SAME_VERSION, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: version %s is the running version (a replay); an "
			      "update must be newer",
			      m->version);
	if (c < 0)
		return refuse(ret_error, BUNDLE_REFUSAL_DOWNGRADE, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: version %s is older than the running version %s "
			      "(a downgrade)",
			      m->version, p->running_version);
	if (version_compare(p->running_version, m->min_version) < 0)
		return refuse(ret_error, BUNDLE_REFUSAL_BELOW_FLOOR, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: version %s may only replace %s or newer; this "
			      "system runs %s (install the versions in between first)",
			      m->version, m->min_version, p->running_version);
	if (m->debug && !p->running_debug)
		return refuse(ret_error, BUNDLE_REFUSAL_DEBUG_BUILD, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: version %s is a debug build (a root shell on the "
			      "console); this system is not one, and takes release builds only",
			      m->version);
	if (p->has_version_floor && m->security_version < p->version_floor)
		return refuse(ret_error, BUNDLE_REFUSAL_BELOW_VERSION_FLOOR, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: version %s has security version %" PRIu64
			      ", below the version floor %" PRIu64
			      " this appliance's TPM keeps: the TPM would not open the data volume "
			      "for it",
			      m->version, m->security_version, p->version_floor);
	return 0;
}

static const char *kind_to_string(const struct archive_member *h)
{
	static const char *const kinds[] = {
		[ARCHIVE_KIND_DIR] = "a directory",
		[ARCHIVE_KIND_REG] = "a regular file",
		[ARCHIVE_KIND_SYMLINK] = "a symbolic link",
		[ARCHIVE_KIND_HARDLINK] = "a hard link",
		[ARCHIVE_KIND_CHR] = "a character device",
		[ARCHIVE_KIND_BLK] = "a block device",
		[ARCHIVE_KIND_FIFO] = "a fifo",
		[ARCHIVE_KIND_OTHER] = "of an unknown type",
	};
	return h->kind <= ARCHIVE_KIND_OTHER ? kinds[h->kind] : "of an unknown type";
}

static bool member_name_is_plain(const char *s)
{
	if (isempty(s) || streq(s, ".") || streq(s, "..") || strlen(s) > 255)
		return false;
	for (const char *c = s; *c; c++)
		if (*c == '/' || (unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			return false;
	return true;
}

int bundle_member_check(enum bundle_member expected, const struct archive_member *h,
			const struct bundle_manifest *m, struct bundle_error *ret_error)
{
	const char *due = bundle_member_to_string(expected);
	_cleanup_free_ char *q = NULL;
	uint64_t want;

	assert(due);
	q = name_quote(h->path);
	if (!q)
		return -ENOMEM;
	if (h->kind != ARCHIVE_KIND_REG || h->sparse)
		return refuse(ret_error, BUNDLE_REFUSAL_NOT_REGULAR, expected,
			      "member %s is %s%s%s%s, not a regular file", q,
			      h->sparse ? "a sparse file" : kind_to_string(h),
			      h->link ? " (to '" : "", h->link ? h->link : "", h->link ? "')" : "");
	if (!member_name_is_plain(h->path))
		return refuse(ret_error, BUNDLE_REFUSAL_BAD_PATH, expected,
			      "member %s where %s is due: a member name must be a plain file name "
			      "(no '/', no '..')",
			      q, due);
	if (!streq(h->path, due)) {
		for (int i = 0; i < _BUNDLE_MEMBER_MAX; i++)
			if (streq(h->path, member_names[i]))
				return refuse(ret_error, BUNDLE_REFUSAL_UNEXPECTED_MEMBER, expected,
					      "member %s where %s is due: the members are out of "
					      "order",
					      q, due);
		return refuse(ret_error, BUNDLE_REFUSAL_UNEXPECTED_MEMBER, expected,
			      "member %s where %s is due: no such member belongs in a bundle", q,
			      due);
	}
	if (expected == BUNDLE_MEMBER_MANIFEST || expected == BUNDLE_MEMBER_SIGNATURE) {
		want = expected == BUNDLE_MEMBER_MANIFEST ? BUNDLE_MANIFEST_MAX_BYTES :
							    BUNDLE_SIGNATURE_MAX_BYTES;
		if (h->size > want)
			return refuse(ret_error, BUNDLE_REFUSAL_TOO_LARGE, expected,
				      "%s: %" PRIu64 " bytes, more than the %" PRIu64 " allowed",
				      due, h->size, want);
		if (h->size == 0)
			return refuse(ret_error,
				      expected == BUNDLE_MEMBER_SIGNATURE ?
					      BUNDLE_REFUSAL_NO_SIGNATURE :
					      BUNDLE_REFUSAL_TOO_SMALL,
				      expected, "%s is empty", due);
		return 0;
	}
	assert(m);
	want = bundle_manifest_artifact(m, expected)->size_bytes;
	if (h->size > want)
		return refuse(ret_error, BUNDLE_REFUSAL_TOO_LARGE, expected,
			      "%s: %" PRIu64
			      " bytes in the archive, the manifest declares %" PRIu64,
			      due, h->size, want);
	if (h->size < want)
		return refuse(ret_error, BUNDLE_REFUSAL_TOO_SMALL, expected,
			      "%s: %" PRIu64
			      " bytes in the archive, the manifest declares %" PRIu64,
			      due, h->size, want);
	return 0;
}

/* ---- the reader -------------------------------------------------------------------------------- */

struct bundle_reader {
	struct archive_stream *stream;
	int fd;
	bool is_file; /* a regular file: nothing but zero padding may follow the archive */
	uint64_t start; /* offset of the archive in the file */
	uint64_t file_size;
	enum bundle_member next; /* the member due */
	char *error; /* libarchive's words */
	struct ustar_check check; /* the strict form, over the same bytes libarchive reads */
};

struct bundle_reader *bundle_reader_free(struct bundle_reader *r)
{
	if (!r)
		return NULL;
	archive_stream_free(r->stream);
	ustar_check_done(&r->check);
	free(r->error);
	free(r);
	return NULL;
}

static void reader_observe(const void *buf, size_t n, void *userdata)
{
	struct bundle_reader *r = userdata;

	ustar_check_feed(&r->check, buf, n);
}

/* A header at or before offset that is not of the strict form, as a refusal. */
static int form_violated(struct bundle_reader *r, uint64_t offset, enum bundle_member due,
			 const char *path, struct bundle_error *ret_error)
{
	_cleanup_free_ char *q = NULL;
	const char *why;

	if (!ustar_check_violation(&r->check, offset, &why))
		return 0;
	q = path ? name_quote(path) : NULL;
	if (q)
		return refuse(ret_error, BUNDLE_REFUSAL_MALFORMED, due, "member %s: %s", q, why);
	return refuse(ret_error, BUNDLE_REFUSAL_MALFORMED, due, "%s: %s",
		      bundle_member_to_string(due) ?: "the end of the archive", why);
}

int bundle_reader_open(int fd, struct bundle_reader **ret, struct bundle_error *ret_error)
{
	_cleanup_(bundle_reader_freep) struct bundle_reader *r = new0(struct bundle_reader, 1);
	struct stat st;
	off_t pos;
	int k;

	if (!r)
		return -ENOMEM;
	if (fstat(fd, &st) < 0)
		return failure(ret_error, -errno, _BUNDLE_MEMBER_INVALID, "cannot stat: %m");
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return failure(ret_error, -EINVAL, _BUNDLE_MEMBER_INVALID,
			       "not a regular file or a block device");
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0)
		return failure(ret_error, -errno, _BUNDLE_MEMBER_INVALID, "cannot seek: %m");
	r->fd = fd;
	r->is_file = S_ISREG(st.st_mode);
	r->start = (uint64_t)pos;
	r->file_size = (uint64_t)st.st_size;
	r->next = BUNDLE_MEMBER_MANIFEST;
	ustar_check_init(&r->check);
	k = archive_stream_open(fd, BUNDLE_BLOCK_BYTES, reader_observe, r, &r->stream);
	if (k < 0)
		return failure(ret_error, k, _BUNDLE_MEMBER_INVALID, "cannot read: %s",
			       strerror(-k));
	*ret = TAKE_PTR(r);
	return 0;
}

/* A failure of the tar stream while expecting member 'due', as a refusal where it is one. */
static int stream_failed(struct bundle_reader *r, int k, enum bundle_member due, const char *what,
			 struct bundle_error *ret_error)
{
	const char *name = bundle_member_to_string(due);

	if (k == -EPIPE)
		return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, due,
			      "%s: the input ends inside the archive (%s): truncated", name,
			      strna(r->error));
	if (k == -EBADMSG)
		return refuse(ret_error, BUNDLE_REFUSAL_MALFORMED, due, "%s: %s: %s", name, what,
			      strna(r->error));
	if (k == -ENOMEM)
		return failure(ret_error, k, due, "out of memory");
	return failure(ret_error, k, due, "%s: cannot read the bundle: %s", name,
		       r->error ? r->error : strerror(-k));
}

/* Reads the header of the member due; -EPERM at the end of the archive (truncated). */
static int next_header(struct bundle_reader *r, struct archive_member *h,
		       const struct bundle_manifest *m, struct bundle_error *ret_error)
{
	enum bundle_member due = r->next;
	_cleanup_free_ char *q = NULL;
	int k;

	k = archive_stream_next(r->stream, h, &r->error);
	if (k < 0) {
		/* libarchive gave up on a header (and where it stands then is no offset to
		 * go by): a violation the strict form saw in what was read says why better */
		int v = form_violated(r, UINT64_MAX, due, NULL, ret_error);
		if (v < 0)
			return v;
		return stream_failed(r, k, due, "not a readable tar header", ret_error);
	}
	if (k > 0) {
		int v = form_violated(r, h->offset, due, h->path, ret_error);
		if (v < 0)
			return v;
	}
	if (k == 0) {
		uint64_t end, marker;

		archive_stream_end(r->stream, &end, &marker);
		k = form_violated(r, end, due, NULL, ret_error);
		if (k < 0)
			return k;
		if (marker < 1024)
			return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, due,
				      "the input ends before %s, without an end-of-archive marker: "
				      "truncated",
				      bundle_member_to_string(due));
		if (due == BUNDLE_MEMBER_SIGNATURE)
			return refuse(ret_error, BUNDLE_REFUSAL_NO_SIGNATURE, due,
				      "the archive ends after manifest.json: the bundle is not "
				      "signed");
		if (due == BUNDLE_MEMBER_MANIFEST)
			return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, due,
				      "the archive is empty: no manifest.json");
		return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, due,
			      "the archive ends before %s: truncated",
			      bundle_member_to_string(due));
	}
	if (!h->posix) {
		q = name_quote(h->path);
		return refuse(ret_error, BUNDLE_REFUSAL_MALFORMED, due,
			      "member %s has a GNU or old tar header; a bundle is a POSIX "
			      "(ustar or pax) tar",
			      strna(q));
	}
	k = bundle_member_check(due, h, m, ret_error);
	if (k == -EPERM && due == BUNDLE_MEMBER_SIGNATURE && ret_error &&
	    ret_error->refusal == BUNDLE_REFUSAL_UNEXPECTED_MEMBER) {
		q = name_quote(h->path);
		return refuse(ret_error, BUNDLE_REFUSAL_NO_SIGNATURE, due,
			      "member %s follows manifest.json where manifest.json.sig is due: "
			      "the bundle is not signed",
			      strna(q));
	}
	return k;
}

/* Reads the current (small, bounded) member into memory. */
static int read_small(struct bundle_reader *r, const struct archive_member *h, char **ret,
		      size_t *ret_size, struct bundle_error *ret_error)
{
	enum bundle_member due = r->next;
	_cleanup_free_ char *buf = malloc(h->size + 1);
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		const void *p;
		size_t k;
		int x = archive_stream_read(r->stream, &p, &k, &r->error);

		if (x < 0)
			return stream_failed(r, x, due, "cannot read the member", ret_error);
		if (x == 0)
			break;
		if (k > h->size - n)
			return refuse(ret_error, BUNDLE_REFUSAL_TOO_LARGE, due,
				      "%s: more data than its header's %" PRIu64 " bytes",
				      bundle_member_to_string(due), h->size);
		memcpy(buf + n, p, k);
		n += k;
	}
	if (n != h->size)
		return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, due,
			      "%s: %zu of its %" PRIu64 " bytes", bundle_member_to_string(due), n,
			      h->size);
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

int bundle_reader_read_head(struct bundle_reader *r, char **ret_manifest, size_t *ret_manifest_size,
			    char **ret_signature, size_t *ret_signature_size,
			    struct bundle_error *ret_error)
{
	_cleanup_free_ char *manifest = NULL, *sig = NULL;
	size_t manifest_size, sig_size;
	struct archive_member h;
	int k;

	assert(r->next == BUNDLE_MEMBER_MANIFEST);
	k = next_header(r, &h, NULL, ret_error);
	if (k < 0)
		return k;
	k = read_small(r, &h, &manifest, &manifest_size, ret_error);
	if (k < 0)
		return k;
	r->next = BUNDLE_MEMBER_SIGNATURE;
	k = next_header(r, &h, NULL, ret_error);
	if (k < 0)
		return k;
	k = read_small(r, &h, &sig, &sig_size, ret_error);
	if (k < 0)
		return k;
	r->next = BUNDLE_FIRST_ARTIFACT;
	*ret_manifest = TAKE_PTR(manifest);
	*ret_manifest_size = manifest_size;
	*ret_signature = TAKE_PTR(sig);
	*ret_signature_size = sig_size;
	return 0;
}

static int sink_failed(int k, const struct bundle_artifact *a, char **sink_error,
		       struct bundle_error *ret_error)
{
	return failure(ret_error, k, a ? a->member : _BUNDLE_MEMBER_INVALID, "%s%s%s",
		       a ? a->name : "", a ? ": " : "", *sink_error ?: strerror(-k));
}

static int stream_member(struct bundle_reader *r, const struct bundle_artifact *a,
			 const struct bundle_sink *sink, struct bundle_error *ret_error)
{
	_cleanup_free_ char *sink_error = NULL;
	struct sha256_ctx hash = {};
	uint8_t digest[SHA256_DIGEST_SIZE];
	char got[SHA256_HEX_SIZE], want[SHA256_HEX_SIZE];
	uint64_t total = 0;
	int k;

	if (sink && sink->member_begin) {
		k = sink->member_begin(sink->userdata, a, &sink_error);
		if (k < 0)
			return sink_failed(k, a, &sink_error, ret_error);
	}
	k = sha256_init(&hash);
	if (k < 0)
		return failure(ret_error, k, a->member, "%s: cannot hash: %s", a->name,
			       strerror(-k));
	for (;;) {
		const void *p;
		size_t n;

		k = archive_stream_read(r->stream, &p, &n, &r->error);
		if (k < 0) {
			sha256_done(&hash);
			return stream_failed(r, k, a->member, "cannot read the member", ret_error);
		}
		if (k == 0)
			break;
		/* Never more than the declared size (the header said so already; a
		 * reader that believed it would stop here at the first byte too many). */
		if (n > a->size_bytes - total) {
			sha256_done(&hash);
			return refuse(ret_error, BUNDLE_REFUSAL_TOO_LARGE, a->member,
				      "%s: more than the %" PRIu64 " bytes the manifest declares",
				      a->name, a->size_bytes);
		}
		total += n;
		k = sha256_update(&hash, p, n);
		if (k < 0) {
			sha256_done(&hash);
			return failure(ret_error, k, a->member, "%s: cannot hash: %s", a->name,
				       strerror(-k));
		}
		if (sink && sink->member_data) {
			k = sink->member_data(sink->userdata, a, p, n, &sink_error);
			if (k < 0) {
				sha256_done(&hash);
				return sink_failed(k, a, &sink_error, ret_error);
			}
		}
	}
	k = sha256_final(&hash, digest);
	if (k < 0)
		return failure(ret_error, k, a->member, "%s: cannot hash: %s", a->name,
			       strerror(-k));
	if (total != a->size_bytes)
		return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, a->member,
			      "%s: %" PRIu64 " of the %" PRIu64 " bytes the manifest declares",
			      a->name, total, a->size_bytes);
	if (memcmp(digest, a->sha256, sizeof(digest)) != 0) {
		sha256_hex(digest, got);
		sha256_hex(a->sha256, want);
		return refuse(ret_error, BUNDLE_REFUSAL_DIGEST_MISMATCH, a->member,
			      "%s: sha256 %s, the manifest declares %s: the member was altered",
			      a->name, got, want);
	}
	if (sink && sink->member_end) {
		k = sink->member_end(sink->userdata, a, &sink_error);
		if (k < 0)
			return sink_failed(k, a, &sink_error, ret_error);
	}
	return 0;
}

int bundle_reader_read_payload(struct bundle_reader *r, const struct bundle_manifest *m,
			       const struct bundle_sink *sink, struct bundle_error *ret_error)
{
	int k;

	assert(r->next == BUNDLE_FIRST_ARTIFACT);
	for (int i = BUNDLE_FIRST_ARTIFACT; i < _BUNDLE_MEMBER_MAX; i++) {
		const struct bundle_artifact *a =
			bundle_manifest_artifact(m, (enum bundle_member)i);
		struct archive_member h;

		r->next = (enum bundle_member)i;
		k = next_header(r, &h, m, ret_error);
		if (k < 0)
			return k;
		k = stream_member(r, a, sink, ret_error);
		if (k < 0)
			return k;
	}
	r->next = _BUNDLE_MEMBER_MAX;
	return 0;
}

/* In a regular file, what follows the end-of-archive marker: zero padding to a record. */
static int check_file_tail(struct bundle_reader *r, uint64_t end, struct bundle_error *ret_error)
{
	const char *last = member_names[_BUNDLE_MEMBER_MAX - 1];
	uint64_t file_end = r->file_size, record_end;
	uint8_t buf[BUNDLE_TAR_RECORD_BYTES];

	if (file_end <= end)
		return 0;
	record_end = r->start + ALIGN_TO(end - r->start, (uint64_t)BUNDLE_TAR_RECORD_BYTES);
	if (file_end > record_end)
		return refuse(ret_error, BUNDLE_REFUSAL_TRAILING_DATA, _BUNDLE_MEMBER_MAX - 1,
			      "%" PRIu64 " bytes follow the end of the archive (after %s, the "
			      "last member)",
			      file_end - end, last);
	for (uint64_t off = end; off < file_end;) {
		size_t n = (size_t)MIN((uint64_t)sizeof(buf), file_end - off);
		ssize_t k = pread(r->fd, buf, n, (off_t)off);

		if (k < 0)
			return failure(ret_error, -errno, _BUNDLE_MEMBER_INVALID,
				       "cannot read the end of the bundle: %m");
		if (k == 0)
			break; /* the file shrank: nothing follows any more */
		for (ssize_t i = 0; i < k; i++)
			if (buf[i] != 0)
				return refuse(
					ret_error, BUNDLE_REFUSAL_TRAILING_DATA,
					_BUNDLE_MEMBER_MAX - 1,
					"data follows the end of the archive at offset %" PRIu64
					" (after %s, the last member)",
					off + (uint64_t)i - r->start, last);
		off += (uint64_t)k;
	}
	return 0;
}

int bundle_reader_finish(struct bundle_reader *r, uint64_t *ret_archive_bytes,
			 struct bundle_error *ret_error)
{
	const char *last = member_names[_BUNDLE_MEMBER_MAX - 1];
	_cleanup_free_ char *q = NULL;
	struct archive_member h;
	uint64_t end, marker;
	int k;

	assert(r->next == _BUNDLE_MEMBER_MAX);
	k = archive_stream_next(r->stream, &h, &r->error);
	if (k == -EPIPE)
		return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, _BUNDLE_MEMBER_MAX - 1,
			      "the input ends inside what follows %s: truncated", last);
	if (k == -EBADMSG)
		return refuse(ret_error, BUNDLE_REFUSAL_TRAILING_DATA, _BUNDLE_MEMBER_MAX - 1,
			      "after %s, the last member, follows something that is neither a "
			      "member nor the end-of-archive marker (%s)",
			      last, strna(r->error));
	if (k < 0)
		return stream_failed(r, k, _BUNDLE_MEMBER_MAX - 1, "", ret_error);
	if (k > 0) {
		q = name_quote(h.path);
		return refuse(ret_error, BUNDLE_REFUSAL_EXTRA_MEMBER, _BUNDLE_MEMBER_MAX - 1,
			      "member %s follows %s, the last member of a bundle", strna(q), last);
	}
	archive_stream_end(r->stream, &end, &marker);
	k = form_violated(r, end, _BUNDLE_MEMBER_MAX - 1, NULL, ret_error);
	if (k < 0)
		return k;
	end += r->start;
	if (marker < 1024) {
		/* The input ended inside the marker, or something other than zeros is where
		 * the marker should be. */
		uint8_t buf[1024];
		ssize_t n = 0;

		if (r->is_file) {
			n = pread(r->fd, buf, sizeof(buf), (off_t)end);
			if (n < 0)
				return failure(ret_error, -errno, _BUNDLE_MEMBER_INVALID,
					       "cannot read the end of the bundle: %m");
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != 0)
				return refuse(ret_error, BUNDLE_REFUSAL_TRAILING_DATA,
					      _BUNDLE_MEMBER_MAX - 1,
					      "after %s, the last member, data stands where the "
					      "end-of-archive marker belongs",
					      last);
		return refuse(ret_error, BUNDLE_REFUSAL_TRUNCATED, _BUNDLE_MEMBER_MAX - 1,
			      "the archive ends after %s without its end-of-archive marker: "
			      "truncated",
			      last);
	}
	if (r->is_file) {
		k = check_file_tail(r, end + marker, ret_error);
		if (k < 0)
			return k;
	}
	if (ret_archive_bytes)
		*ret_archive_bytes = end + marker - r->start;
	return 0;
}

/* ---- the whole verification -------------------------------------------------------------------- */

void bundle_result_done(struct bundle_result *r)
{
	if (!r)
		return;
	r->manifest = bundle_manifest_free(r->manifest);
	r->signer = mfree(r->signer);
	r->archive_bytes = 0;
}

static int signature_failed(int k, const char *why, struct bundle_error *ret_error)
{
	switch (k) {
	case -ENODATA:
		return refuse(ret_error, BUNDLE_REFUSAL_NO_SIGNATURE, BUNDLE_MEMBER_SIGNATURE,
			      "manifest.json.sig: %s", strna(why));
	case -ENOKEY:
		return refuse(ret_error, BUNDLE_REFUSAL_UNKNOWN_KEY, BUNDLE_MEMBER_SIGNATURE,
			      "manifest.json.sig: %s", strna(why));
	case -EKEYREVOKED:
		return refuse(ret_error, BUNDLE_REFUSAL_REVOKED_KEY, BUNDLE_MEMBER_SIGNATURE,
			      "manifest.json.sig: %s", strna(why));
	case -EBADMSG:
	case -EKEYEXPIRED:
		return refuse(ret_error, BUNDLE_REFUSAL_BAD_SIGNATURE, BUNDLE_MEMBER_SIGNATURE,
			      "manifest.json.sig: %s", strna(why));
	default:
		return failure(ret_error, k, BUNDLE_MEMBER_SIGNATURE,
			       "cannot check manifest.json.sig: %s", why ?: strerror(-k));
	}
}

int bundle_verify(int fd, struct sig_keyring *keyring, const struct bundle_policy *policy,
		  const struct bundle_sink *sink, struct bundle_result *ret,
		  struct bundle_error *ret_error)
{
	_cleanup_(bundle_reader_freep) struct bundle_reader *r = NULL;
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	_cleanup_free_ char *text = NULL, *sig = NULL, *signer = NULL, *why = NULL,
			    *sink_error = NULL;
	size_t text_size, sig_size;
	uint64_t archive_bytes;
	int k;

	k = bundle_reader_open(fd, &r, ret_error);
	if (k < 0)
		return k;
	k = bundle_reader_read_head(r, &text, &text_size, &sig, &sig_size, ret_error);
	if (k < 0)
		return k;

	/* Nothing of the manifest is used before its signature is known to be good. */
	k = sig_verify_detached(keyring, text, text_size, sig, sig_size, &signer, &why);
	if (k < 0)
		return signature_failed(k, why, ret_error);
	k = bundle_manifest_parse(text, text_size, &m, &why);
	if (k == -EBADMSG)
		return refuse(ret_error, BUNDLE_REFUSAL_BAD_MANIFEST, BUNDLE_MEMBER_MANIFEST,
			      "manifest.json: %s", strna(why));
	if (k < 0)
		return failure(ret_error, k, BUNDLE_MEMBER_MANIFEST, "manifest.json: %s",
			       strerror(-k));
	if (policy) {
		k = bundle_policy_check(policy, m, ret_error);
		if (k < 0)
			return k;
	}
	log_debug("bundle: %s %s for %s, signed by %s", m->name, m->version, m->compatible, signer);
	if (sink && sink->begin) {
		k = sink->begin(sink->userdata, m, signer, &sink_error);
		if (k < 0)
			return sink_failed(k, NULL, &sink_error, ret_error);
	}
	k = bundle_reader_read_payload(r, m, sink, ret_error);
	if (k < 0)
		return k;
	k = bundle_reader_finish(r, &archive_bytes, ret_error);
	if (k < 0)
		return k;
	*ret = (struct bundle_result){
		.manifest = TAKE_PTR(m),
		.signer = TAKE_PTR(signer),
		.archive_bytes = archive_bytes,
	};
	return 0;
}

/* ---- the trusted keys -------------------------------------------------------------------------- */

int bundle_key_files(const char *dir, char ***ret, char **ret_error)
{
	_cleanup_strv_free_ char **l = NULL;
	struct dirent **entries = NULL;
	int n, r = 0;

	n = scandir(dir, &entries, NULL, alphasort);
	if (n < 0) {
		r = -errno;
		if (ret_error && asprintf(ret_error, "cannot read '%s': %s", dir, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	for (int i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;

		if (r >= 0 && name[0] != '.' &&
		    (endswith(name, ".asc") || endswith(name, ".gpg"))) {
			char *p = path_join(dir, name);
			r = p ? strv_push(&l, p) : -ENOMEM;
		}
		free(entries[i]);
	}
	free(entries);
	if (r < 0)
		return r;
	if (strv_length(l) == 0) {
		if (ret_error &&
		    asprintf(ret_error, "'%s' holds no key file (*.asc, *.gpg)", dir) < 0)
			*ret_error = NULL;
		return -ENOKEY;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int bundle_keyring_open(const char *path, struct sig_keyring **ret, char **ret_error)
{
	_cleanup_strv_free_ char **files = NULL;
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		r = -errno;
		if (ret_error && asprintf(ret_error, "'%s': %s", path, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	if (S_ISDIR(st.st_mode))
		r = bundle_key_files(path, &files, ret_error);
	else
		r = strv_extend(&files, path);
	if (r < 0)
		return r;
	return sig_keyring_open_many(files, SIG_KEYRING_IGNORE_TIME, ret, ret_error);
}
