/* SPDX-License-Identifier: Apache-2.0 */
#include <gpgme.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/sig.h"

#define KEYRING_MAX_SIZE (16U * 1024U * 1024U)
/* No agent or dirmngr is ever started, no key is ever fetched: verifying needs none. */
#define GPG_CONF "no-autostart\nno-auto-key-retrieve\n"

struct sig_keyring {
	char *home;
	char *path;
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

static int set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (!ret_error)
		return 0;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	free(*ret_error);
	*ret_error = m;
	return 0;
}

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

static int context_new(const struct sig_keyring *k, gpgme_ctx_t *ret)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;

	e = gpgme_new(&ctx);
	if (e)
		return errno_of(e);
	e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (!e)
		e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, k->home);
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

int sig_keyring_open(const char *keyring_path, struct sig_keyring **ret, char **ret_error)
{
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = new0(struct sig_keyring, 1);
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_gpgme_data_ gpgme_data_t d = NULL;
	_cleanup_free_ char *keys = NULL, *conf = NULL;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	size_t size;
	int r;

	if (!k || !(k->path = strdup(keyring_path)))
		return -ENOMEM;
	r = ensure_initialized();
	if (r < 0)
		return set_error(ret_error, "gpgme cannot find a usable gpg"), r;
	r = read_full_file(keyring_path, KEYRING_MAX_SIZE, &keys, &size);
	if (r < 0)
		return set_error(ret_error, "keyring '%s': %s", keyring_path, strerror(-r)), r;

	r = mkdtemp_in(NULL, "airlock-gnupg-", &k->home);
	if (r < 0)
		return set_error(ret_error, "cannot create a GnuPG home: %s", strerror(-r)), r;
	conf = path_join(k->home, "gpg.conf");
	if (!conf)
		return -ENOMEM;
	r = write_file_atomic(conf, GPG_CONF, strlen(GPG_CONF), 0600);
	if (r < 0)
		return set_error(ret_error, "cannot write '%s': %s", conf, strerror(-r)), r;

	r = context_new(k, &ctx);
	if (r < 0)
		return set_error(ret_error, "gpgme: %s", strerror(-r)), r;
	e = gpgme_data_new_from_mem(&d, keys, size, 0);
	if (e)
		return errno_of(e);
	e = gpgme_op_import(ctx, d);
	if (e) {
		r = errno_of(e);
		return set_error(ret_error, "keyring '%s': %s", keyring_path, gpgme_strerror(e)), r;
	}
	ir = gpgme_op_import_result(ctx);
	if (!ir || ir->imported + ir->unchanged == 0)
		return set_error(ret_error, "keyring '%s' holds no OpenPGP public key",
				 keyring_path),
		       -ENOKEY;
	log_debug("sig: imported %d key(s) from '%s' into '%s'", ir->imported, keyring_path,
		  k->home);
	*ret = TAKE_PTR(k);
	return 0;
}

/* Sorts the signatures of a verification into an outcome, as sig.h describes. */
static int judge(const struct sig_keyring *k, gpgme_verify_result_t vr, bool has_signature,
		 char **ret_fingerprint, char **ret_error)
{
	_cleanup_strv_free_ char **unknown = NULL, **expired = NULL, **revoked = NULL,
				 **other = NULL;
	_cleanup_free_ char *list = NULL;
	const char *good = NULL;
	int r;

	if ((!vr || !vr->signatures) && has_signature)
		return set_error(ret_error,
				 "corrupt signature: gpg finds no valid signature in it"),
		       -EBADMSG;
	if (!vr || !vr->signatures)
		return set_error(ret_error, "no OpenPGP signature found"), -ENODATA;

	for (gpgme_signature_t s = vr->signatures; s; s = s->next) {
		const char *fpr = s->fpr ?: "(unknown)";
		gpgme_err_code_t c = gpgme_err_code(s->status);

		if (c == GPG_ERR_BAD_SIGNATURE)
			return set_error(ret_error,
					 "bad signature by key %s: the signed data or "
					 "the signature was altered",
					 fpr),
			       -EBADMSG;
		if (c == GPG_ERR_NO_PUBKEY || (s->summary & GPGME_SIGSUM_KEY_MISSING))
			r = strv_extend(&unknown, fpr);
		else if (c == GPG_ERR_CERT_REVOKED || (s->summary & GPGME_SIGSUM_KEY_REVOKED))
			r = strv_extend(&revoked, fpr);
		else if (c == GPG_ERR_KEY_EXPIRED || c == GPG_ERR_SIG_EXPIRED ||
			 (s->summary & (GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED)))
			r = strv_extend(&expired, fpr);
		else if (c == GPG_ERR_NO_ERROR) {
			if (!good)
				good = fpr;
			r = 0;
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
		return set_error(ret_error, "signed only by revoked key(s) %s", strna(list)),
		       -EKEYREVOKED;
	}
	if (expired) {
		list = strv_join(expired, ", ");
		return set_error(ret_error,
				 "signed only by expired key(s) or expired signature(s): %s",
				 strna(list)),
		       -EKEYEXPIRED;
	}
	if (unknown) {
		list = strv_join(unknown, ", ");
		return set_error(ret_error, "signed only by key(s) not in keyring '%s': %s",
				 k->path, strna(list)),
		       -ENOKEY;
	}
	list = strv_join(other, ", ");
	return set_error(ret_error, "no valid signature: %s", strna(list)), -EBADMSG;
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
		set_error(ret_error, "corrupt signature: gpg finds no valid signature data in it");
		return -EBADMSG;
	}
	if (r == -ENODATA)
		set_error(ret_error, "no OpenPGP signature found");
	else if (r == -EBADMSG)
		set_error(ret_error, "corrupt signature: %s", gpgme_strerror(e));
	else
		set_error(ret_error, "gpgme: %s", gpgme_strerror(e));
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

	r = context_new(k, &ctx);
	if (r < 0)
		return set_error(ret_error, "gpgme: %s", strerror(-r)), r;
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

int sig_verify_detached(struct sig_keyring *k, const void *data, size_t size, const void *sig,
			size_t sig_size, char **ret_fingerprint, char **ret_error)
{
	_cleanup_gpgme_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_gpgme_data_ gpgme_data_t d = NULL, s = NULL;
	_cleanup_free_ char *fpr = NULL;
	gpgme_error_t e;
	int r;

	r = context_new(k, &ctx);
	if (r < 0)
		return set_error(ret_error, "gpgme: %s", strerror(-r)), r;
	e = gpgme_data_new_from_mem(&d, (const char *)data, size, 0);
	if (!e)
		e = gpgme_data_new_from_mem(&s, (const char *)sig, sig_size, 0);
	if (e)
		return errno_of(e);
	e = gpgme_op_verify(ctx, s, d, NULL);
	if (e)
		return verify_failed(e, sig_size > 0, ret_error);
	r = judge(k, gpgme_op_verify_result(ctx), sig_size > 0, &fpr, ret_error);
	if (r < 0)
		return r;
	if (ret_fingerprint)
		*ret_fingerprint = TAKE_PTR(fpr);
	return 0;
}
