/* SPDX-License-Identifier: Apache-2.0 */
#include <gpgme.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "core/run.h"
#include "core/strv.h"
#include "ext/sig.h"

#define KEYRING_MAX_SIZE (16U * 1024U * 1024U)
/* No agent or dirmngr is ever started, no key is ever fetched: verifying needs none. */
#define GPG_CONF "no-autostart\nno-auto-key-retrieve\n"
/* Keys and signatures dated in the future (a machine whose clock is behind) are used. */
#define GPG_CONF_IGNORE_TIME "ignore-time-conflict\nignore-valid-from\n"
/* Signing homes need gpg-agent (it holds the secret key); nothing is ever fetched. */
#define GPG_CONF_SIGNING "no-auto-key-retrieve\n"
#define GPGCONF_TIMEOUT_SEC 30

struct sig_keyring {
	char *home;
	char *path; /* the keyring file(s), for messages */
	enum sig_keyring_flags flags;
};

struct sig_signer {
	char *home; /* the home as gpg sees it: the caller's, or its alias */
	char *alias_dir; /* the alias's directory, or NULL */
	char *fingerprint;
	gpgme_ctx_t ctx;
	gpgme_key_t key;
};

static void gpgme_ctx_releasep(gpgme_ctx_t *c)
{
	if (*c)
		gpgme_release(*c);
}
static void gpgme_data_releasep(gpgme_data_t *d)
{
	if (*d)
		gpgme_data_release(*d);
}
#define _cleanup_gpgme_ctx_ _cleanup_(gpgme_ctx_releasep)
#define _cleanup_gpgme_data_ _cleanup_(gpgme_data_releasep)

static int errno_of(gpgme_error_t e)
{
	gpgme_err_code_t c = gpgme_err_code(e);
	int s;

	switch (c) {
	case GPG_ERR_NO_ERROR:
		return 0;
	case GPG_ERR_BAD_SIGNATURE:
	case GPG_ERR_BAD_DATA:
	case GPG_ERR_INV_PACKET:
	case GPG_ERR_INV_ARMOR:
	case GPG_ERR_UNKNOWN_PACKET:
	case GPG_ERR_CHECKSUM:
		return -EBADMSG;
	case GPG_ERR_NO_PUBKEY:
		return -ENOKEY;
	case GPG_ERR_NO_DATA:
		return -ENODATA;
	case GPG_ERR_KEY_EXPIRED:
	case GPG_ERR_SIG_EXPIRED:
	case GPG_ERR_CERT_EXPIRED:
		return -EKEYEXPIRED;
	case GPG_ERR_CERT_REVOKED:
		return -EKEYREVOKED;
	case GPG_ERR_INV_ENGINE:
	case GPG_ERR_ENGINE_TOO_OLD:
		return -ENOPKG;
	default:
		s = gpgme_err_code_to_errno(c);
		return s > 0 ? -s : -EIO;
	}
}

static int ensure_initialized(void)
{
	static bool done;

	if (done)
		return 0;
	if (!gpgme_check_version(NULL))
		return -ENOPKG;
	done = true;
	return 0;
}

static int context_new(const char *home, gpgme_ctx_t *ret)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;

	e = gpgme_new(&ctx);
	if (e)
		return errno_of(e);
	e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (!e)
		e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
	if (e)
		return errno_of(e);
	/* never ask a key server or anything else on the network */
	gpgme_set_offline(ctx, 1);
	*ret = ctx;
	ctx = NULL;
	return 0;
}

struct sig_keyring *sig_keyring_free(struct sig_keyring *k)
{
	if (!k)
		return NULL;
	if (k->home) {
		int r = rm_rf(k->home);
		if (r < 0)
			log_debug_errno(r, "sig: cannot remove '%s': %m", k->home);
	}
	free(k->home);
	free(k->path);
	free(k);
	return NULL;
}

static int import_file(gpgme_ctx_t ctx, const char *path, char **ret_error)
{
	_cleanup_gpgme_data_ gpgme_data_t d = NULL;
	_cleanup_free_ char *keys = NULL;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	size_t size;
	int r;

	r = read_full_file(path, KEYRING_MAX_SIZE, &keys, &size);
	if (r < 0)
		return error_replace(ret_error, r, "keyring '%s': %s", path, strerror(-r));
	e = gpgme_data_new_from_mem(&d, keys, size, 0);
	if (e)
		return errno_of(e);
	e = gpgme_op_import(ctx, d);
	if (e) {
		r = errno_of(e);
		return error_replace(ret_error, r, "keyring '%s': %s", path, gpgme_strerror(e));
	}
	ir = gpgme_op_import_result(ctx);
	if (ir && ir->secret_read > 0)
		return error_replace(
			ret_error, -EKEYREJECTED,
			"keyring '%s' holds a secret key: a keyring is public keys only", path);
	if (!ir || ir->imported + ir->unchanged == 0)
		return error_replace(ret_error, -ENOKEY, "keyring '%s' holds no OpenPGP public key",
				     path);
	log_debug("sig: imported %d key(s) from '%s'", ir->imported, path);
	return 0;
}

int sig_keyring_open_many(char *const *paths, enum sig_keyring_flags flags,
			  struct sig_keyring **ret, char **ret_error)
{
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = new0(struct sig_keyring, 1);
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_free_ char *conf = NULL, *text = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	if (strv_length(paths) == 0)
		return error_replace(ret_error, -ENOKEY, "no keyring file given");
	k->flags = flags;
	k->path = strv_join(paths, ", ");
	if (!k->path)
		return -ENOMEM;
	r = ensure_initialized();
	if (r < 0)
		return error_replace(ret_error, r, "gpgme cannot find a usable gpg");

	r = mkdtemp_in(NULL, "airlock-gnupg-", &k->home);
	if (r < 0)
		return error_replace(ret_error, r, "cannot create a GnuPG home: %s", strerror(-r));
	conf = path_join(k->home, "gpg.conf");
	if (!conf || asprintf(&text, "%s%s", GPG_CONF,
			      flags & SIG_KEYRING_IGNORE_TIME ? GPG_CONF_IGNORE_TIME : "") < 0)
		return -ENOMEM;
	r = write_file_atomic(conf, text, strlen(text), 0600);
	if (r < 0)
		return error_replace(ret_error, r, "cannot write '%s': %s", conf, strerror(-r));

	r = context_new(k->home, &ctx);
	if (r < 0)
		return error_replace(ret_error, r, "gpgme: %s", strerror(-r));
	STRV_FOREACH(p, paths) {
		r = import_file(ctx, *p, ret_error);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(k);
	return 0;
}

int sig_keyring_open(const char *keyring_path, struct sig_keyring **ret, char **ret_error)
{
	char *paths[] = { (char *)keyring_path, NULL };

	return sig_keyring_open_many(paths, 0, ret, ret_error);
}

/* Primary-key fingerprints of the public (secret: of the secret) keys in a home. */
static int list_fingerprints(gpgme_ctx_t ctx, bool secret, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	gpgme_error_t e;
	int r;

	e = gpgme_op_keylist_start(ctx, NULL, secret);
	if (e)
		return errno_of(e);
	for (;;) {
		gpgme_key_t key = NULL;

		e = gpgme_op_keylist_next(ctx, &key);
		if (gpgme_err_code(e) == GPG_ERR_EOF)
			break;
		if (e) {
			gpgme_op_keylist_end(ctx);
			return errno_of(e);
		}
		r = key->subkeys && key->subkeys->fpr ? strv_extend(&l, key->subkeys->fpr) : 0;
		gpgme_key_unref(key);
		if (r < 0) {
			gpgme_op_keylist_end(ctx);
			return r;
		}
	}
	strv_sort(l);
	strv_uniq(l);
	*ret = TAKE_PTR(l);
	return 0;
}

int sig_keyring_fingerprints(struct sig_keyring *k, char ***ret)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	int r = context_new(k->home, &ctx);

	if (r < 0)
		return r;
	return list_fingerprints(ctx, false, ret);
}

/*
 * What the keyring says of the (sub)key with fingerprint fpr, whatever a signature's own
 * status claims: gpg reports a signature that expired as EXPSIG and a revocation only on
 * a separate status line, so an expired signature by a revoked key would pass as merely
 * expired. 0 when the key and that subkey are neither revoked, disabled nor invalid
 * (expiry is not judged here); -EKEYREVOKED, -EKEYREJECTED (disabled, invalid) or
 * -ENOKEY (not in the keyring) otherwise, with the reason in *ret_why.
 */
static int key_check(const struct sig_keyring *k, const char *fpr, char **ret_why)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_subkey_t sub = NULL;
	gpgme_error_t e;
	int r;

	/* a context of its own: a new operation would invalidate the verify result */
	r = context_new(k->home, &ctx);
	if (r < 0)
		return r;
	e = gpgme_get_key(ctx, fpr, &key, 0);
	if (gpgme_err_code(e) == GPG_ERR_EOF || (!e && !key))
		return error_replace(ret_why, -ENOKEY, "key %s is not in the keyring", fpr);
	if (gpgme_err_code(e) == GPG_ERR_AMBIGUOUS_NAME)
		return error_replace(ret_why, -EKEYREJECTED, "key %s is ambiguous in the keyring",
				     fpr);
	if (e)
		return errno_of(e);
	for (gpgme_subkey_t s = key->subkeys; s; s = s->next)
		if (s->fpr && strcasecmp(s->fpr, fpr) == 0)
			sub = s;
	if (!sub)
		r = error_replace(ret_why, -ENOKEY, "key %s is not in the keyring", fpr);
	else if (key->revoked || sub->revoked)
		r = error_replace(ret_why, -EKEYREVOKED, "%s %s is revoked",
				  key->revoked || sub == key->subkeys ? "key" : "subkey", fpr);
	else if (key->disabled || sub->disabled)
		r = error_replace(ret_why, -EKEYREJECTED, "key %s is disabled", fpr);
	else if (key->invalid || sub->invalid)
		r = error_replace(ret_why, -EKEYREJECTED, "key %s is invalid", fpr);
	else if (!sub->can_sign)
		r = error_replace(ret_why, -EKEYREJECTED, "key %s is not a signing key", fpr);
	else
		r = 0;
	gpgme_key_unref(key);
	return r;
}

/* Sorts the signatures of a verification into an outcome, as sig.h describes. */
static int judge(const struct sig_keyring *k, gpgme_verify_result_t vr, bool has_signature,
		 char **ret_fingerprint, char **ret_error)
{
	bool ignore_time = k->flags & SIG_KEYRING_IGNORE_TIME;
	_cleanup_strv_free_ char **unknown = NULL, **expired = NULL, **revoked = NULL,
				 **other = NULL;
	_cleanup_free_ char *list = NULL;
	const char *good = NULL;
	int r;

	if ((!vr || !vr->signatures) && has_signature)
		return error_replace(ret_error, -EBADMSG,
				     "corrupt signature: gpg finds no valid signature in it");
	if (!vr || !vr->signatures)
		return error_replace(ret_error, -ENODATA, "no OpenPGP signature found");

	for (gpgme_signature_t s = vr->signatures; s; s = s->next) {
		const char *fpr = s->fpr ?: "(unknown)";
		gpgme_err_code_t c = gpgme_err_code(s->status);
		_cleanup_free_ char *why = NULL;

		if (c == GPG_ERR_BAD_SIGNATURE)
			return error_replace(ret_error, -EBADMSG,
					     "bad signature by key %s: the signed data or "
					     "the signature was altered",
					     fpr);
		if (c == GPG_ERR_NO_PUBKEY || (s->summary & GPGME_SIGSUM_KEY_MISSING))
			r = strv_extend(&unknown, fpr);
		else if (c == GPG_ERR_CERT_REVOKED || (s->summary & GPGME_SIGSUM_KEY_REVOKED))
			r = strv_extend(&revoked, fpr);
		else if (!ignore_time &&
			 (c == GPG_ERR_KEY_EXPIRED || c == GPG_ERR_SIG_EXPIRED ||
			  (s->summary & (GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED))))
			r = strv_extend(&expired, fpr);
		else if (c == GPG_ERR_NO_ERROR ||
			 (ignore_time && (c == GPG_ERR_KEY_EXPIRED || c == GPG_ERR_SIG_EXPIRED))) {
			/* expiry is a statement about the clock, which ignore_time does not
			 * trust; the key's own state in the keyring is not, and decides */
			r = s->fpr ? key_check(k, s->fpr, &why) : -ENOKEY;
			if (r == 0) {
				if (!good)
					good = fpr;
			} else if (r == -EKEYREVOKED)
				r = strv_extend(&revoked, fpr);
			else if (r == -ENOKEY)
				r = strv_extend(&unknown, fpr);
			else if (r == -EKEYREJECTED)
				r = strv_extendf(&other, "%s (%s)", fpr, why);
		} else
			r = strv_extendf(&other, "%s (%s)", fpr, gpgme_strerror(s->status));
		if (r < 0)
			return r;
	}
	if (good) {
		log_debug("sig: good signature by %s (keyring '%s')", good, k->path);
		if (ret_fingerprint && !(*ret_fingerprint = strdup(good)))
			return -ENOMEM;
		return 0;
	}
	if (revoked) {
		list = strv_join(revoked, ", ");
		return error_replace(ret_error, -EKEYREVOKED, "signed only by revoked key(s) %s",
				     strna(list));
	}
	if (expired) {
		list = strv_join(expired, ", ");
		return error_replace(ret_error, -EKEYEXPIRED,
				     "signed only by expired key(s) or expired signature(s): %s",
				     strna(list));
	}
	if (unknown) {
		list = strv_join(unknown, ", ");
		return error_replace(ret_error, -ENOKEY,
				     "signed only by key(s) not in keyring '%s': %s", k->path,
				     strna(list));
	}
	list = strv_join(other, ", ");
	return error_replace(ret_error, -EBADMSG, "no valid signature: %s", strna(list));
}

/*
 * gpgme_op_verify() itself failed. gpg says "no data" both for input without any
 * signature and for a signature it cannot read: what claims to carry a signature
 * (has_signature) but yields none is a corrupt signature.
 */
static int verify_failed(gpgme_error_t e, bool has_signature, char **ret_error)
{
	int r = errno_of(e);

	if (r == -ENODATA && has_signature) {
		(void)error_replace(ret_error, 0,
				    "corrupt signature: gpg finds no valid signature data in it");
		return -EBADMSG;
	}
	if (r == -ENODATA)
		(void)error_replace(ret_error, 0, "no OpenPGP signature found");
	else if (r == -EBADMSG)
		(void)error_replace(ret_error, 0, "corrupt signature: %s", gpgme_strerror(e));
	else
		(void)error_replace(ret_error, 0, "gpgme: %s", gpgme_strerror(e));
	return r;
}

int sig_verify_clearsigned(struct sig_keyring *k, const void *data, size_t size, char **ret_text,
			   size_t *ret_text_size, char **ret_fingerprint, char **ret_error)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_gpgme_data_ gpgme_data_t in = NULL, out = NULL;
	_cleanup_free_ char *text = NULL, *fpr = NULL;
	/* input that has the clear-signed armor claims a signature */
	bool claims = memmem(data, size, "-----BEGIN PGP SIGNED MESSAGE-----", 34);
	char *mem;
	size_t n = 0;
	gpgme_error_t e;
	int r;

	r = context_new(k->home, &ctx);
	if (r < 0)
		return error_replace(ret_error, r, "gpgme: %s", strerror(-r));
	e = gpgme_data_new_from_mem(&in, (const char *)data, size, 0);
	if (!e)
		e = gpgme_data_new(&out);
	if (e)
		return errno_of(e);
	e = gpgme_op_verify(ctx, in, NULL, out);
	if (e)
		return verify_failed(e, claims, ret_error);
	r = judge(k, gpgme_op_verify_result(ctx), claims, &fpr, ret_error);
	if (r < 0)
		return r;

	mem = gpgme_data_release_and_get_mem(out, &n);
	out = NULL;
	text = malloc(n + 1);
	if (!text) {
		gpgme_free(mem);
		return -ENOMEM;
	}
	if (n > 0)
		memcpy(text, mem, n);
	text[n] = '\0';
	gpgme_free(mem);

	*ret_text = TAKE_PTR(text);
	if (ret_text_size)
		*ret_text_size = n;
	if (ret_fingerprint)
		*ret_fingerprint = TAKE_PTR(fpr);
	return 0;
}

static const char *packet_tag_name(unsigned tag)
{
	switch (tag) {
	case 1:
		return "an encrypted session key";
	case 2:
		return "a signature";
	case 4:
		return "a one-pass signature header";
	case 5:
	case 7:
		return "a secret key";
	case 6:
		return "a public key";
	case 8:
		return "compressed data";
	case 10:
		return "a marker";
	case 11:
		return "literal data";
	case 13:
		return "a user id";
	case 14:
		return "a public subkey";
	default:
		return "an unexpected packet";
	}
}

int sig_detached_check(const void *sig, size_t size, char **ret_error)
{
	const uint8_t *p = sig;
	size_t off = 0;
	unsigned n = 0;

	if (size == 0)
		return error_set(ret_error, -ENODATA, "no OpenPGP signature found");
	if (size >= 5 && memcmp(p, "-----", 5) == 0)
		return error_set(ret_error, -EBADMSG,
				 "an ASCII-armored block, not a binary OpenPGP signature");
	while (off < size) {
		size_t start = off, len;
		uint8_t h = p[off++];
		unsigned tag;

		if (!(h & 0x80))
			return error_set(ret_error, -EBADMSG,
					 "byte %zu is not an OpenPGP packet header%s", start,
					 n > 0 ? ": data follows the signature" : "");
		if (++n > SIG_DETACHED_MAX_SIGNATURES)
			return error_set(ret_error, -EBADMSG, "more than %u signature packets",
					 SIG_DETACHED_MAX_SIGNATURES);
		if (h & 0x40) { /* new format: tag in the low 6 bits, then the length */
			tag = h & 0x3f;
			if (off >= size)
				goto truncated;
			if (p[off] < 192)
				len = p[off++];
			else if (p[off] < 224) {
				if (size - off < 2)
					goto truncated;
				len = ((size_t)(p[off] - 192) << 8) + p[off + 1] + 192;
				off += 2;
			} else if (p[off] == 255) {
				if (size - off < 5)
					goto truncated;
				len = (size_t)p[off + 1] << 24 | (size_t)p[off + 2] << 16 |
				      (size_t)p[off + 3] << 8 | p[off + 4];
				off += 5;
			} else
				return error_set(ret_error, -EBADMSG,
						 "packet %u at byte %zu has a partial body length, "
						 "which a signature never has",
						 n, start);
		} else { /* old format: tag in bits 5-2, the length's size in bits 1-0 */
			unsigned lt = h & 3, bytes = lt == 0 ? 1 : lt == 1 ? 2 : 4;

			tag = (h >> 2) & 0x0f;
			if (lt == 3)
				return error_set(
					ret_error, -EBADMSG,
					"packet %u at byte %zu has an indeterminate length", n,
					start);
			if (size - off < bytes)
				goto truncated;
			len = 0;
			for (unsigned b = 0; b < bytes; b++)
				len = len << 8 | p[off++];
		}
		if (tag != 2)
			return error_set(ret_error, -EBADMSG,
					 "packet %u at byte %zu is %s (tag %u), not a signature%s",
					 n, start, packet_tag_name(tag), tag,
					 n > 1 ? ": only signatures may follow a signature" : "");
		if (len > size - off)
			goto truncated;
		/* version 4 (RFC 4880) or 5; type 0x00 or 0x01: over a binary or text document */
		if (len < 2 || (p[off] != 4 && p[off] != 5))
			return error_set(ret_error, -EBADMSG,
					 "signature packet %u at byte %zu is not a version 4 or 5 "
					 "signature",
					 n, start);
		if (p[off + 1] > 0x01)
			return error_set(ret_error, -EBADMSG,
					 "signature packet %u at byte %zu is of type 0x%02x, not a "
					 "signature over a document",
					 n, start, p[off + 1]);
		off += len;
		continue;
truncated:
		return error_set(ret_error, -EBADMSG,
				 "packet %u at byte %zu is cut short (%zu bytes in all)", n, start,
				 size);
	}
	return 0;
}

int sig_verify_detached(struct sig_keyring *k, const void *data, size_t size, const void *sig,
			size_t sig_size, char **ret_fingerprint, char **ret_error)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_gpgme_data_ gpgme_data_t d = NULL, s = NULL;
	_cleanup_free_ char *fpr = NULL;
	gpgme_error_t e;
	int r;

	r = sig_detached_check(sig, sig_size, ret_error);
	if (r < 0)
		return r;
	r = context_new(k->home, &ctx);
	if (r < 0)
		return error_replace(ret_error, r, "gpgme: %s", strerror(-r));
	e = gpgme_data_new_from_mem(&d, (const char *)data, size, 0);
	if (!e)
		e = gpgme_data_new_from_mem(&s, (const char *)sig, sig_size, 0);
	if (e)
		return errno_of(e);
	e = gpgme_op_verify(ctx, s, d, NULL);
	if (e) {
		r = verify_failed(e, true, ret_error);
		/* a well-formed packet sequence that gpg cannot use is a bad signature, not
		 * a failure to check one (gpg says "General error" for some of them) */
		if (r != -ENOMEM && r != -ENOPKG && r != -EBADMSG)
			r = error_replace(ret_error, -EBADMSG, "corrupt signature: %s",
					  gpgme_strerror(e));
		return r;
	}
	r = judge(k, gpgme_op_verify_result(ctx), sig_size > 0, &fpr, ret_error);
	if (r < 0)
		return r;
	if (ret_fingerprint)
		*ret_fingerprint = TAKE_PTR(fpr);
	return 0;
}

/* ---- signing --------------------------------------------------------------------------------- */

/* gpg-agent puts its sockets into the home (there is no /run/user/UID on a build host
 * or in a container), and a Unix socket's path is at most sizeof(sun_path) - 1 bytes:
 * in a deeper home gpg fails with nothing more than "No agent running". Such a home is
 * used through a short alias, a symlink in a fresh temporary directory, which
 * home_alias_remove() removes (never what it points to). *ret_dir is NULL when the home
 * is short enough; *ret_home is the path to give gpg. */
#define AGENT_LONGEST_SOCKET "/S.gpg-agent.browser"
static int home_alias(const char *home, char **ret_dir, char **ret_home)
{
	_cleanup_free_ char *dir = NULL, *link = NULL, *target = NULL;
	int r;

	if (strlen(home) + strlen(AGENT_LONGEST_SOCKET) <
	    sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		char *h = strdup(home);

		if (!h)
			return -ENOMEM;
		*ret_dir = NULL;
		*ret_home = h;
		return 0;
	}
	target = realpath(home, NULL);
	if (!target)
		return -errno;
	r = mkdtemp_in(NULL, "airlock-gh-", &dir);
	if (r < 0)
		return r;
	link = path_join(dir, "h");
	if (!link || symlink(target, link) < 0) {
		r = link ? -errno : -ENOMEM;
		(void)rmdir(dir);
		return r;
	}
	if (strlen(link) + strlen(AGENT_LONGEST_SOCKET) >=
	    sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		(void)unlink(link);
		(void)rmdir(dir);
		return -ENAMETOOLONG; /* TMPDIR itself is too deep */
	}
	*ret_dir = TAKE_PTR(dir);
	*ret_home = TAKE_PTR(link);
	return 0;
}

static void home_alias_remove(const char *dir, const char *home)
{
	if (!dir)
		return;
	if (unlink(home) < 0 || rmdir(dir) < 0)
		log_debug_errno(-errno, "sig: cannot remove the alias '%s': %m", home);
}

/* Stops the gpg-agent of a signing home, if one runs (gpgme has no call for it). */
static void agent_stop(const char *home)
{
	const char *argv[] = { "gpgconf", "--homedir", home, "--kill", "gpg-agent", NULL };
	const struct run_opts opts = { .timeout_sec = GPGCONF_TIMEOUT_SEC };
	_cleanup_free_ char *error = NULL;
	int r = run_argv(argv, &opts, NULL, &error);

	if (r < 0)
		log_debug_errno(r, "sig: cannot stop the gpg-agent of '%s': %s", home,
				strna(error));
}

static int signing_context_new(const char *home, gpgme_ctx_t *ret)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;
	int r;

	r = context_new(home, &ctx);
	if (r < 0)
		return r;
	/* Never a pinentry prompt: keys are made without passphrase, and one with a passphrase
	 * fails (no passphrase callback) instead of waiting for input. */
	e = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	if (e) {
		gpgme_release(ctx);
		return errno_of(e);
	}
	*ret = ctx;
	return 0;
}

int sig_key_generate(const char *home, const char *uid, char **ret_fingerprint, char **ret_error)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_free_ char *conf = NULL, *fpr = NULL, *alias_dir = NULL, *gpg_home = NULL;
	gpgme_genkey_result_t res;
	gpgme_error_t e;
	int r;

	r = ensure_initialized();
	if (r < 0)
		return error_replace(ret_error, r, "gpgme cannot find a usable gpg");
	if (mkdir(home, 0700) < 0) {
		r = -errno;
		return error_replace(ret_error, r, "cannot create '%s': %s", home, strerror(-r));
	}
	conf = path_join(home, "gpg.conf");
	if (!conf)
		return -ENOMEM;
	r = write_file_atomic(conf, GPG_CONF_SIGNING, strlen(GPG_CONF_SIGNING), 0600);
	if (r < 0)
		return error_replace(ret_error, r, "cannot write '%s': %s", conf, strerror(-r));
	r = home_alias(home, &alias_dir, &gpg_home);
	if (r < 0)
		return error_replace(ret_error, r,
				     "cannot make a short alias of '%s' for gpg-agent: %s", home,
				     strerror(-r));
	r = signing_context_new(gpg_home, &ctx);
	if (r < 0) {
		home_alias_remove(alias_dir, gpg_home);
		return error_replace(ret_error, r, "gpgme: %s", strerror(-r));
	}
	e = gpgme_op_createkey(ctx, uid, "ed25519", 0, 0, NULL,
			       GPGME_CREATE_SIGN | GPGME_CREATE_CERT | GPGME_CREATE_NOPASSWD |
				       GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE);
	res = e ? NULL : gpgme_op_genkey_result(ctx);
	if (res && res->fpr)
		fpr = strdup(res->fpr);
	agent_stop(gpg_home);
	home_alias_remove(alias_dir, gpg_home);
	if (e) {
		r = errno_of(e);
		return error_replace(ret_error, r, "cannot create an Ed25519 key in '%s': %s", home,
				     gpgme_strerror(e));
	}
	if (!fpr)
		return error_replace(ret_error, -EIO,
				     "gpg made a key in '%s' but names no fingerprint", home);
	*ret_fingerprint = TAKE_PTR(fpr);
	return 0;
}

struct sig_signer *sig_signer_free(struct sig_signer *s)
{
	if (!s)
		return NULL;
	if (s->key)
		gpgme_key_unref(s->key);
	if (s->ctx)
		gpgme_release(s->ctx);
	if (s->home)
		agent_stop(s->home);
	home_alias_remove(s->alias_dir, s->home);
	free(s->alias_dir);
	free(s->home);
	free(s->fingerprint);
	free(s);
	return NULL;
}

int sig_signer_open(const char *home, struct sig_signer **ret, char **ret_error)
{
	_cleanup_(sig_signer_freep) struct sig_signer *s = new0(struct sig_signer, 1);
	_cleanup_strv_free_ char **fprs = NULL;
	gpgme_error_t e;
	int r;

	if (!s)
		return -ENOMEM;
	r = ensure_initialized();
	if (r < 0)
		return error_replace(ret_error, r, "gpgme cannot find a usable gpg");
	if (access(home, F_OK) < 0) {
		r = -errno;
		return error_replace(ret_error, r, "GnuPG home '%s': %s", home, strerror(-r));
	}
	r = home_alias(home, &s->alias_dir, &s->home);
	if (r < 0)
		return error_replace(ret_error, r,
				     "cannot make a short alias of '%s' for gpg-agent: %s", home,
				     strerror(-r));
	r = signing_context_new(s->home, &s->ctx);
	if (r < 0)
		return error_replace(ret_error, r, "gpgme: %s", strerror(-r));
	r = list_fingerprints(s->ctx, true, &fprs);
	if (r < 0)
		return error_replace(ret_error, r, "cannot list the secret keys of '%s': %s", home,
				     strerror(-r));
	if (strv_length(fprs) != 1)
		return error_replace(ret_error, -ENOKEY,
				     "'%s' holds %zu secret keys; expected exactly one (as made by "
				     "airlock-build keygen)",
				     home, strv_length(fprs));
	e = gpgme_get_key(s->ctx, fprs[0], &s->key, 1);
	if (e)
		return error_replace(ret_error, errno_of(e), "key %s in '%s': %s", fprs[0], home,
				     gpgme_strerror(e));
	if (s->key->revoked || s->key->expired || s->key->disabled || s->key->invalid ||
	    !s->key->can_sign)
		return error_replace(ret_error, -EKEYREJECTED, "key %s in '%s' cannot sign (%s)",
				     fprs[0], home,
				     s->key->revoked ? "revoked" :
				     s->key->expired ? "expired" :
						       "disabled, invalid or not a signing key");
	s->fingerprint = strdup(fprs[0]);
	if (!s->fingerprint)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

const char *sig_signer_fingerprint(const struct sig_signer *s)
{
	return s->fingerprint;
}

/* The contents of a gpgme memory data object as a malloc'ed buffer (NUL-terminated). */
static int data_take(gpgme_data_t *d, char **ret, size_t *ret_size)
{
	size_t n = 0;
	char *mem = gpgme_data_release_and_get_mem(*d, &n);
	char *buf;

	*d = NULL;
	if (!mem && n > 0)
		return -ENOMEM;
	buf = malloc(n + 1);
	if (!buf) {
		gpgme_free(mem);
		return -ENOMEM;
	}
	if (n > 0)
		memcpy(buf, mem, n);
	buf[n] = '\0';
	gpgme_free(mem);
	*ret = buf;
	*ret_size = n;
	return 0;
}

int sig_signer_export_public(struct sig_signer *s, char **ret, size_t *ret_size, char **ret_error)
{
	_cleanup_gpgme_data_ gpgme_data_t out = NULL;
	gpgme_error_t e;

	gpgme_set_armor(s->ctx, 1);
	e = gpgme_data_new(&out);
	if (!e)
		e = gpgme_op_export(s->ctx, s->fingerprint, 0, out);
	if (e)
		return error_replace(ret_error, errno_of(e), "cannot export key %s: %s",
				     s->fingerprint, gpgme_strerror(e));
	return data_take(&out, ret, ret_size);
}

int sig_sign_detached(struct sig_signer *s, const void *data, size_t size, void **ret_sig,
		      size_t *ret_sig_size, char **ret_error)
{
	_cleanup_gpgme_data_ gpgme_data_t in = NULL, out = NULL;
	_cleanup_free_ char *sig = NULL;
	gpgme_sign_result_t res;
	gpgme_error_t e;
	size_t n;
	int r;

	gpgme_set_armor(s->ctx, 0);
	gpgme_signers_clear(s->ctx);
	e = gpgme_signers_add(s->ctx, s->key);
	if (!e)
		e = gpgme_data_new_from_mem(&in, (const char *)data, size, 0);
	if (!e)
		e = gpgme_data_new(&out);
	if (!e)
		e = gpgme_op_sign(s->ctx, in, out, GPGME_SIG_MODE_DETACH);
	if (e) {
		r = errno_of(e);
		if (gpgme_err_code(e) == GPG_ERR_NO_PASSPHRASE ||
		    gpgme_err_code(e) == GPG_ERR_BAD_PASSPHRASE)
			return error_replace(
				ret_error, -EKEYREJECTED,
				"key %s has a passphrase: airlock-build signs only with "
				"keys made without one (airlock-build keygen)",
				s->fingerprint);
		return error_replace(ret_error, r, "cannot sign with key %s: %s", s->fingerprint,
				     gpgme_strerror(e));
	}
	res = gpgme_op_sign_result(s->ctx);
	if (!res || res->invalid_signers || !res->signatures || res->signatures->next ||
	    !res->signatures->fpr || !streq(res->signatures->fpr, s->fingerprint))
		return error_replace(ret_error, -EIO, "gpg did not sign with key %s alone",
				     s->fingerprint);
	r = data_take(&out, &sig, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return error_replace(ret_error, -EIO, "gpg made an empty signature");
	*ret_sig = TAKE_PTR(sig);
	*ret_sig_size = n;
	return 0;
}
