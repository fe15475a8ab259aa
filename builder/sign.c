/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UEFI Secure Boot signatures with sbsign (sbsigntool).
 *
 * Authenticode with RSA PKCS#1 v1.5 is deterministic except for one thing: sbsign
 * puts the current time into the PKCS#7 signed attributes (signingTime), so two
 * signatures of the same image with the same key differ. sbsign has no option to
 * set it, so we run it under libfaketime (the faketime tool, Debian package
 * faketime) with the clock frozen at SOURCE_DATE_EPOCH: the signature then says
 * when the inputs were made, and two builds give the same bytes (measured: byte-
 * identical across runs seconds apart). Implementing Authenticode ourselves in C
 * with OpenSSL would avoid the preload, but means writing the SpcIndirectData ASN.1
 * and the PE hash by hand, a larger attack surface than a packaged, widely used
 * signer; we may revisit when the update path needs to verify signatures in C.
 *
 * Only the monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC), so nothing
 * in sbsign that waits or times out can hang on a frozen clock.
 */
#include <time.h>

#include "builder.h"
#include "core/fs.h"
#include "core/run.h"

#define SIGN_TIMEOUT_SEC 300

static int faketime_spec(int64_t epoch, char *buf, size_t n)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (epoch < 0 || !gmtime_r(&t, &tm))
		return -EINVAL;
	/* Absolute, without '@': libfaketime freezes the clock there (run_argv sets TZ=UTC). */
	if (strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -EINVAL;
	return 0;
}

int sign_pe(const struct sign_key *k, int64_t source_date_epoch, const char *input_path,
	    const char *output_path, char **ret_error)
{
	static const char *const env[] = { "FAKETIME_DONT_FAKE_MONOTONIC=1", NULL };
	_cleanup_free_ char *sbsign = NULL, *tmp = NULL, *error = NULL;
	const struct run_opts opts = { .env = env, .timeout_sec = SIGN_TIMEOUT_SEC };
	char when[64];
	int r;

	if (!k || isempty(k->key_path) || isempty(k->cert_path))
		return error_replace(ret_error, -EINVAL,
				     "sign: a key and a certificate are needed");
	r = faketime_spec(source_date_epoch, when, sizeof(when));
	if (r < 0)
		return error_replace(ret_error, r, "sign: bad SOURCE_DATE_EPOCH %lld",
				     (long long)source_date_epoch);
	r = run_find_tool("sbsign", &sbsign);
	if (r < 0)
		return error_replace(ret_error, r, "sign: sbsign not found (install sbsigntool)");
	if (asprintf(&tmp, "%s.tmp-sign", output_path) < 0)
		return -ENOMEM;
	(void)unlink(tmp);

	const char *argv[] = { "faketime", "-f",	when,	    sbsign,
			       "--key",	   k->key_path, "--cert",   k->cert_path,
			       "--output", tmp,		input_path, NULL };
	r = run_argv(argv, &opts, NULL, &error);
	if (r < 0) {
		(void)unlink(tmp);
		return error_replace(ret_error, r, "sign: %s: %s", input_path,
				     r == -ENOENT ? "faketime not found (install faketime)" :
						    strna(error));
	}
	if (rename(tmp, output_path) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return error_replace(ret_error, r, "sign: rename to '%s': %s", output_path,
				     strerror(-r));
	}
	r = fsync_directory_of(output_path);
	if (r < 0)
		return error_replace(ret_error, r, "sign: '%s': %s", output_path, strerror(-r));
	return 0;
}

int sign_verify(const char *cert_path, const char *path, char **ret_error)
{
	_cleanup_free_ char *error = NULL;
	const char *argv[] = { "sbverify", "--cert", cert_path, path, NULL };
	const struct run_opts opts = { .timeout_sec = SIGN_TIMEOUT_SEC };
	int r;

	r = run_argv(argv, &opts, NULL, &error);
	if (r == -EPROTO)
		return error_replace(ret_error, -EPERM,
				     "sign: '%s' does not verify against '%s': %s", path, cert_path,
				     strna(error));
	if (r < 0)
		return error_replace(ret_error, r, "sign: sbverify '%s': %s", path, strna(error));
	return 0;
}
