/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEST-ONLY: a driver for the TPM, PCR, LUKS2 token and recovery-key libraries,
 * used by tests/integration/test-tpm-*.sh. It is built into build/tests/ and never
 * installed. Unlike the real programs it writes secrets to files named on its
 * command line (so that the tests can hand them to cryptsetup); nothing else may.
 *
 *   tpmtool [--tcti SPEC] COMMAND [OPTIONS] [ARGS]
 *
 *   srk-template ecc|rsa          hex of the SRK template (TPMT_PUBLIC)
 *   pcr-read PCR...               "PCR hex" lines
 *   pcr-extend PCR HEX            extend a SHA-256 PCR with a digest
 *   nv define|increment|read|public|undefine INDEX [--secret-file AUTH]
 *                                 an NV counter (lib/ext/tpm-nv.c); errors name the errno
 *   floor define --secret-file AUTH | read --floor I:B | raise TO --floor I:B --secret-file AUTH
 *                                 the version floor (lib/tpmfloor.c): define prints I:B
 *   pcr11 [--phase P] --linux F [--osrel F --cmdline F --initrd F --splash F --dtb F --pcrpkey F]
 *                                 the PCR 11 value systemd-stub 252 measures
 *   policy-pcr PCR HEX            PolicyPCR(PCR = value) from a zero digest
 *   key-name --pubkey F           TPM name of an RSA public key
 *   policy [--pubkey F] [--pubkey-pcrs M] [--hash-pcrs M] [--trial]
 *                                 sealing policy (software, or the TPM's trial session)
 *   fingerprint --pubkey F        systemd's pkfp of a key
 *   pcrpkey --key F               the .pcrpkey PEM of a private key
 *   sign --key F HEX...           .pcrsig signing PCR 11 values
 *   seal --secret-file F --blob OUT [--pubkey F --pubkey-pcrs M] [--hash-pcrs M]
 *   unseal --blob F --policy-hash HEX --out F [--pubkey F --pubkey-pcrs M --pcrsig F] [--hash-pcrs M]
 *   luks-format IMG --passphrase-file F [--pbkdf pbkdf2:ITER | argon2id:KIB:ITER:PAR] [--label L]
 *   enroll IMG --unlock-file F [--pubkey F --pubkey-pcrs M] [--hash-pcrs M]
 *   unlock IMG [--pcrsig F] [--pcrpkey F]
 *   data-unlock IMG [--pcrsig F] [--pcrpkey F]
 *                                 airlock-init's way (lib/dataunlock): the TPM (none without
 *                                 --tcti), PCR 11 capped, else the recovery key read from
 *                                 stdin; what it says to the console as "SAY: " lines
 *   wipe IMG
 *   test-passphrase IMG --passphrase-file F
 *   token-roundtrip               JSON token on stdin -> parsed -> JSON on stdout
 *   recovery-generate --out F     a new recovery key, written to F
 *   recovery-normalize --out F    the canonical form of the key on stdin, written to F
 *
 * unlock and data-unlock take --security-version N: the booting release's, compared with
 * a token's version floor (data-unlock: 0 when not given; unlock: not compared then).
 * policy, seal, unseal and enroll take --floor INDEX:BASE: the version floor binding
 * (PolicyNV(counter at INDEX >= BASE)).
 *
 * PCR masks (M) are comma-separated PCR numbers ("7", "7,11"). Refusals print
 * "REFUSED (<name>): <reason>" on stderr and exit 2; other errors exit 1.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/secret.h"
#include "core/strv.h"
#include "ext/crypto.h"
#include "ext/luks.h"
#include "ext/tpm.h"
#include "dataunlock.h"
#include "pcr.h"
#include "recovery.h"
#include "tpm2luks.h"
#include "tpm2token.h"
#include "tpmfloor.h"

static const char *arg_tcti;
static const char *arg_pubkey, *arg_key, *arg_pcrsig, *arg_pcrpkey, *arg_blob, *arg_out;
static const char *arg_secret_file, *arg_unlock_file, *arg_passphrase_file, *arg_policy_hash;
static const char *arg_phase, *arg_pbkdf, *arg_label;
static const char *arg_sections[_PCR_UKI_SECTION_MAX];
static uint32_t arg_hash_pcrs, arg_pubkey_pcrs;
static bool arg_trial;
static struct tpm_floor_bind arg_floor;
static bool arg_have_floor;
static uint64_t arg_security_version;
static bool arg_have_security_version;

/* INDEX:BASE */
static int parse_floor(const char *s)
{
	_cleanup_free_ char *index = NULL;
	const char *colon = strchr(s, ':');

	if (!colon || !(index = strndup(s, (size_t)(colon - s))) ||
	    tpm_nv_index_parse(index, &arg_floor.index) < 0 ||
	    safe_atou64(colon + 1, &arg_floor.base) < 0)
		return -EINVAL;
	arg_have_floor = true;
	return 0;
}
#define ARG_FLOOR (arg_have_floor ? &arg_floor : NULL)

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int parse_mask(const char *s, uint32_t *ret)
{
	_cleanup_strv_free_ char **l = NULL;
	uint32_t mask = 0;
	int r = strv_split(s, ",+", &l);

	if (r < 0)
		return r;
	STRV_FOREACH(w, l) {
		unsigned u;
		if (safe_atou(*w, &u) < 0 || u >= TPM_PCR_MAX)
			return -EINVAL;
		mask |= UINT32_C(1) << u;
	}
	*ret = mask;
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_size)
{
	int r = read_full_file(path, READ_FULL_MAX_DEFAULT, ret, ret_size);
	if (r < 0)
		return log_error_errno(r, "%s: %m", path);
	return 0;
}

/* Reads a file into secret memory (NUL-terminated). */
static int read_secret(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	char *s;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return log_error_errno(errno, "%s: %m", path);
	s = secret_alloc((size_t)st.st_size + 1);
	if (!s)
		return log_oom();
	n = loop_read(fd, s, (size_t)st.st_size);
	if (n < 0) {
		secret_free(s);
		return log_error_errno((int)n, "%s: %m", path);
	}
	s[n] = '\0';
	*ret = s;
	*ret_size = (size_t)n;
	return 0;
}

/* Writes a secret to a new file, mode 0600 (TEST-ONLY). */
static int write_secret(const char *path, const void *p, size_t n)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return log_error_errno(errno, "%s: %m", path);
	r = loop_write(fd, p, n);
	if (r < 0)
		return log_error_errno(r, "%s: %m", path);
	return 0;
}

static int load_pubkey(const char *path, struct rsa_key **ret, char **ret_pem, size_t *ret_size)
{
	_cleanup_free_ char *pem = NULL;
	size_t n;
	int r = read_file(path, &pem, &n);

	if (r < 0)
		return r;
	r = rsa_key_from_public_pem(pem, n, ret);
	if (r < 0)
		return log_error_errno(r, "%s: not an RSA public key: %m", path);
	if (ret_pem) {
		*ret_pem = TAKE_PTR(pem);
		*ret_size = n;
	}
	return 0;
}

static int open_tpm(struct tpm_context **ret)
{
	int r = tpm_context_new(arg_tcti, ret);
	if (r < 0)
		return log_error_errno(r, "no TPM at %s: %m", arg_tcti ?: TPM_DEFAULT_TCTI);
	return 0;
}

static int refused(enum tpm_refusal refusal, int r, const char *why)
{
	const char *name = tpm_refusal_to_name(refusal) ?: "?";
	fprintf(stderr, "REFUSED (%s): %s (%s)\n", name,
		why				       ?:
			tpm_refusal_to_string(refusal) ?:
							 "?",
		strerror(-r));
	return refusal == TPM_REFUSAL_NONE ? 1 : 2;
}

static int print_hex(const void *p, size_t n)
{
	_cleanup_free_ char *h = hexmem(p, n);
	if (!h)
		return log_oom();
	printf("%s\n", h);
	return 0;
}

static int cmd_srk_template(char **args)
{
	_cleanup_free_ uint8_t *t = NULL;
	enum tpm_primary_alg alg = tpm_primary_alg_from_string(args[0] ?: "ecc");
	size_t n;
	int r;

	if (alg < 0)
		return log_error_errno(EINVAL, "unknown primary algorithm");
	r = tpm_srk_template(alg, &t, &n);
	if (r < 0)
		return log_error_errno(r, "srk template: %m");
	return print_hex(t, n);
}

static int cmd_pcr_read(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	struct tpm_pcr_values v;
	uint32_t mask = 0;
	int r;

	STRV_FOREACH(a, args) {
		uint32_t m;
		if (parse_mask(*a, &m) < 0)
			return log_error_errno(EINVAL, "bad PCR: %s", *a);
		mask |= m;
	}
	r = open_tpm(&t);
	if (r < 0)
		return r;
	r = tpm_pcr_read(t, mask, &v);
	if (r < 0)
		return log_error_errno(r, "reading PCRs: %m");
	for (unsigned i = 0; i < TPM_PCR_MAX; i++)
		if (mask & (UINT32_C(1) << i)) {
			char h[SHA256_HEX_SIZE];
			sha256_hex(v.value[i], h);
			printf("%u %s\n", i, h);
		}
	return 0;
}

static int cmd_pcr_extend(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	uint8_t d[TPM_DIGEST_SIZE];
	unsigned pcr;
	int r;

	if (strv_length(args) != 2 || safe_atou(args[0], &pcr) < 0 || strlen(args[1]) != 64 ||
	    unhex_exact(args[1], d, sizeof(d)) < 0)
		return log_error_errno(EINVAL, "usage: pcr-extend PCR HEX");
	r = open_tpm(&t);
	if (r < 0)
		return r;
	r = tpm_pcr_extend(t, pcr, d);
	if (r < 0)
		return log_error_errno(r, "extending PCR %u: %m", pcr);
	return 0;
}

/* nv define|increment|read|public|undefine INDEX [--secret-file F: the auth] */
static int cmd_nv(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_free_ char *auth = NULL;
	size_t auth_size = 0;
	struct tpm_nv_public pub;
	uint64_t v = 0;
	uint32_t index;
	int r;

	if (strv_length(args) != 2 || tpm_nv_index_parse(args[1], &index) < 0)
		return log_error_errno(EINVAL, "usage: nv define|increment|read|public|undefine "
					       "INDEX [--secret-file F]");
	if (arg_secret_file) {
		r = read_full_file(arg_secret_file, 64, &auth, &auth_size);
		if (r < 0)
			return log_error_errno(r, "%s: %m", arg_secret_file);
	}
	r = open_tpm(&t);
	if (r < 0)
		return r;
	if (streq(args[0], "define"))
		r = tpm_nv_counter_define(t, index, auth, auth_size);
	else if (streq(args[0], "increment"))
		r = tpm_nv_counter_increment(t, index, auth, auth_size, &v);
	else if (streq(args[0], "read"))
		r = tpm_nv_counter_read(t, index, &v);
	else if (streq(args[0], "undefine"))
		r = tpm_nv_undefine(t, index);
	else if (streq(args[0], "public")) {
		r = tpm_nv_read_public(t, index, &pub);
		if (r >= 0)
			printf("attributes 0x%08x size %u counter %d written %d ours %d\n",
			       pub.attributes, pub.size, pub.counter, pub.written, pub.ours);
	} else
		return log_error_errno(EINVAL, "nv: unknown action '%s'", args[0]);
	if (r < 0) {
		/* The errno's name, for the tests to match on. */
		fprintf(stderr, "NV %s 0x%08x: %s\n", args[0], index,
			r == -ENOENT	  ? "ENOENT" :
			r == -ENODATA	  ? "ENODATA" :
			r == -EEXIST	  ? "EEXIST" :
			r == -EACCES	  ? "EACCES" :
			r == -EMEDIUMTYPE ? "EMEDIUMTYPE" :
					    strerror(-r));
		return 1;
	}
	if (streq(args[0], "increment") || streq(args[0], "read"))
		printf("%" PRIu64 "\n", v);
	return 0;
}

/* floor define | read --floor I:B | raise TO --floor I:B (lib/tpmfloor.c) */
static int cmd_floor(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_free_ char *auth = NULL;
	struct tpm_floor_bind b;
	size_t auth_size = 0, n = strv_length(args);
	uint64_t floor = 0, to = 0;
	int r;

	if (n < 1 || (streq(args[0], "raise") ? n != 2 || safe_atou64(args[1], &to) < 0 : n != 1) ||
	    (!streq(args[0], "define") && !arg_have_floor))
		return log_error_errno(EINVAL, "usage: floor define --secret-file F | read --floor "
					       "I:B | raise TO --floor I:B --secret-file F");
	if (arg_secret_file) {
		r = read_full_file(arg_secret_file, 64, &auth, &auth_size);
		if (r < 0)
			return log_error_errno(r, "%s: %m", arg_secret_file);
	}
	r = open_tpm(&t);
	if (r < 0)
		return r;
	if (streq(args[0], "define")) {
		r = tpm_floor_define(t, auth, auth_size, &b);
		if (r >= 0)
			printf("0x%08" PRIx32 ":%" PRIu64 "\n", b.index, b.base);
	} else if (streq(args[0], "read"))
		r = tpm_floor_read(t, &arg_floor, &floor);
	else if (streq(args[0], "raise"))
		r = tpm_floor_raise(t, &arg_floor, auth, auth_size, to, &floor);
	else
		return log_error_errno(EINVAL, "floor: unknown action '%s'", args[0]);
	if (r < 0) {
		fprintf(stderr, "FLOOR %s: %s\n", args[0],
			r == -ENOENT ? "ENOENT" :
			r == -ESTALE ? "ESTALE" :
			r == -EEXIST ? "EEXIST" :
			r == -EACCES ? "EACCES" :
			r == -E2BIG  ? "E2BIG" :
				       strerror(-r));
		return 1;
	}
	if (!streq(args[0], "define"))
		printf("%" PRIu64 "\n", floor);
	return 0;
}

static int cmd_pcr11(char **args)
{
	struct pcr_uki u = {};
	uint8_t v[SHA256_DIGEST_SIZE];
	int r;

	(void)args;
	arg_sections[PCR_UKI_PCRPKEY] = arg_pcrpkey;
	for (int s = 0; s < _PCR_UKI_SECTION_MAX; s++) {
		if (!arg_sections[s])
			continue;
		r = pcr_uki_add_file(&u, (enum pcr_uki_section)s, arg_sections[s]);
		if (r < 0)
			return log_error_errno(r, "%s: %m", arg_sections[s]);
	}
	r = pcr_uki_predict(&u, arg_phase, v);
	if (r < 0)
		return log_error_errno(r, "predicting PCR 11: %m");
	return print_hex(v, sizeof(v));
}

static int cmd_policy_pcr(char **args)
{
	uint8_t value[SHA256_DIGEST_SIZE], d[SHA256_DIGEST_SIZE];
	unsigned pcr;
	int r;

	if (strv_length(args) != 2 || safe_atou(args[0], &pcr) < 0 || strlen(args[1]) != 64 ||
	    unhex_exact(args[1], value, sizeof(value)) < 0)
		return log_error_errno(EINVAL, "usage: policy-pcr PCR HEX");
	r = pcr_policy_digest(pcr, value, d);
	if (r < 0)
		return log_error_errno(r, "policy: %m");
	return print_hex(d, sizeof(d));
}

static int cmd_key_name(char **args)
{
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	uint8_t name[TPM_NAME_SIZE];
	int r;

	(void)args;
	if (!arg_pubkey)
		return log_error_errno(EINVAL, "--pubkey is required");
	r = load_pubkey(arg_pubkey, &k, NULL, NULL);
	if (r < 0)
		return r;
	r = tpm_rsa_key_name(k, name);
	if (r < 0)
		return log_error_errno(r, "name: %m");
	return print_hex(name, sizeof(name));
}

static int cmd_policy(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	struct tpm_pcr_values v = {};
	uint8_t d[TPM_DIGEST_SIZE];
	int r;

	(void)args;
	if (arg_pubkey) {
		r = load_pubkey(arg_pubkey, &k, NULL, NULL);
		if (r < 0)
			return r;
	}
	r = open_tpm(&t);
	if (r < 0)
		return r;
	if (arg_trial)
		r = tpm_policy_trial(t, k, arg_pubkey_pcrs, arg_hash_pcrs, ARG_FLOOR, d);
	else {
		if (arg_hash_pcrs) {
			r = tpm_pcr_read(t, arg_hash_pcrs, &v);
			if (r < 0)
				return log_error_errno(r, "reading PCRs: %m");
		}
		if (arg_have_floor) {
			r = tpm_nv_name(t, arg_floor.index, arg_floor.name);
			if (r < 0)
				return log_error_errno(r, "the floor's NV name: %m");
		}
		r = tpm_policy_compute(k, &v, ARG_FLOOR, d);
	}
	if (r < 0)
		return log_error_errno(r, "policy: %m");
	return print_hex(d, sizeof(d));
}

static int cmd_fingerprint(char **args)
{
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	uint8_t fp[SHA256_DIGEST_SIZE];
	int r;

	(void)args;
	if (!arg_pubkey)
		return log_error_errno(EINVAL, "--pubkey is required");
	r = load_pubkey(arg_pubkey, &k, NULL, NULL);
	if (r < 0)
		return r;
	r = pcr_key_fingerprint(k, fp);
	if (r < 0)
		return log_error_errno(r, "fingerprint: %m");
	return print_hex(fp, sizeof(fp));
}

static int cmd_pcrpkey(char **args)
{
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_free_ char *pem = NULL;
	size_t n;
	int r;

	(void)args;
	if (!arg_key)
		return log_error_errno(EINVAL, "--key is required");
	r = rsa_key_load_private(arg_key, &k);
	if (r < 0)
		return log_error_errno(r, "%s: %m", arg_key);
	r = rsa_key_public_pem(k, &pem, &n);
	if (r < 0)
		return log_error_errno(r, "public key: %m");
	fwrite(pem, 1, n, stdout);
	return 0;
}

static int cmd_sign(char **args)
{
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_free_ uint8_t(*values)[SHA256_DIGEST_SIZE] = NULL;
	_cleanup_free_ char *json = NULL;
	size_t n = strv_length(args);
	int r;

	if (!arg_key || n == 0)
		return log_error_errno(EINVAL, "usage: sign --key F HEX...");
	values = calloc(n, sizeof(*values));
	if (!values)
		return log_oom();
	for (size_t i = 0; i < n; i++)
		if (strlen(args[i]) != 64 ||
		    unhex_exact(args[i], values[i], SHA256_DIGEST_SIZE) < 0)
			return log_error_errno(EINVAL, "not a SHA-256 in hex: %s", args[i]);
	r = rsa_key_load_private(arg_key, &k);
	if (r < 0)
		return log_error_errno(r, "%s: %m", arg_key);
	r = pcr_signature_build(k, (const uint8_t(*)[SHA256_DIGEST_SIZE])values, n, &json);
	if (r < 0)
		return log_error_errno(r, "signing: %m");
	fputs(json, stdout);
	return 0;
}

static int cmd_seal(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_(tpm_sealed_freep) struct tpm_sealed *s = NULL;
	_cleanup_secret_ char *secret = NULL;
	struct tpm_seal_params p = {
		.primary_alg = TPM_PRIMARY_ECC,
		.pubkey_pcr_mask = arg_pubkey_pcrs,
		.hash_pcr_mask = arg_hash_pcrs,
		.floor = ARG_FLOOR,
	};
	size_t secret_size;
	uint64_t start;
	int r;

	(void)args;
	if (!arg_secret_file || !arg_blob)
		return log_error_errno(EINVAL, "--secret-file and --blob are required");
	r = read_secret(arg_secret_file, &secret, &secret_size);
	if (r < 0)
		return r;
	if (arg_pubkey) {
		r = load_pubkey(arg_pubkey, &k, NULL, NULL);
		if (r < 0)
			return r;
		p.pubkey = k;
	}
	r = open_tpm(&t);
	if (r < 0)
		return r;
	start = now_usec();
	r = tpm_seal(t, &p, secret, secret_size, &s);
	if (r < 0)
		return log_error_errno(r, "sealing: %m");
	fprintf(stderr, "TIME seal: %.1f ms\n", (double)(now_usec() - start) / 1000.0);
	r = write_file_atomic(arg_blob, s->blob, s->blob_size, 0644);
	if (r < 0)
		return log_error_errno(r, "%s: %m", arg_blob);
	return print_hex(s->policy_hash, sizeof(s->policy_hash));
}

static int cmd_unseal(char **args)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *sigs = NULL;
	_cleanup_free_ char *blob = NULL, *pcrsig = NULL, *error = NULL;
	_cleanup_free_ uint8_t *policy = NULL;
	_cleanup_secret_ uint8_t *secret = NULL;
	enum tpm_refusal refusal = TPM_REFUSAL_NONE;
	struct tpm_unseal_params p = {
		.primary_alg = TPM_PRIMARY_ECC,
		.hash_pcr_mask = arg_hash_pcrs,
		.pubkey_pcr_mask = arg_pubkey_pcrs,
		.floor = ARG_FLOOR,
	};
	size_t blob_size, policy_size, pcrsig_size, secret_size;
	uint64_t start;
	int r;

	(void)args;
	if (!arg_blob || !arg_policy_hash || !arg_out)
		return log_error_errno(EINVAL, "--blob, --policy-hash and --out are required");
	r = read_file(arg_blob, &blob, &blob_size);
	if (r < 0)
		return r;
	if (unhexmem(arg_policy_hash, strlen(arg_policy_hash), &policy, &policy_size) < 0)
		return log_error_errno(EINVAL, "--policy-hash: not hex");
	p.blob = (const uint8_t *)blob;
	p.blob_size = blob_size;
	p.policy_hash = policy;
	p.policy_hash_size = policy_size;
	if (arg_pubkey) {
		r = load_pubkey(arg_pubkey, &k, NULL, NULL);
		if (r < 0)
			return r;
		p.pubkey = k;
		if (arg_pcrsig) {
			r = read_file(arg_pcrsig, &pcrsig, &pcrsig_size);
			if (r < 0)
				return r;
			r = pcr_signatures_parse(pcrsig, pcrsig_size, k, arg_pubkey_pcrs, &sigs,
						 &error);
			if (r < 0)
				return log_error_errno(r, "%s: %s", arg_pcrsig, strna(error));
			if (sigs->n_entries == 0 && sigs->n_other_keys > 0)
				return refused(TPM_REFUSAL_OTHER_KEY, -ENOKEY, NULL);
			p.signatures = sigs->entries;
			p.n_signatures = sigs->n_entries;
		}
	}
	r = open_tpm(&t);
	if (r < 0)
		return r;
	start = now_usec();
	r = tpm_unseal(t, &p, &secret, &secret_size, &refusal);
	if (r < 0)
		return refused(refusal, r, NULL);
	fprintf(stderr, "TIME unseal: %.1f ms\n", (double)(now_usec() - start) / 1000.0);
	return write_secret(arg_out, secret, secret_size);
}

static int parse_pbkdf(const char *s, struct luks_pbkdf *ret)
{
	_cleanup_strv_free_ char **w = NULL;
	unsigned a = 0, b = 0, c = 0;

	if (strv_split(s, ":", &w) < 0)
		return -ENOMEM;
	if (strv_length(w) == 2 && streq(w[0], "pbkdf2") && safe_atou(w[1], &a) >= 0) {
		*ret = (struct luks_pbkdf){ .type = LUKS_PBKDF_PBKDF2, .iterations = a };
		return 0;
	}
	if (strv_length(w) == 4 && streq(w[0], "argon2id") && safe_atou(w[1], &a) >= 0 &&
	    safe_atou(w[2], &b) >= 0 && safe_atou(w[3], &c) >= 0) {
		*ret = (struct luks_pbkdf){
			.type = LUKS_PBKDF_ARGON2ID,
			.memory_kib = a,
			.iterations = b,
			.parallel = c,
		};
		return 0;
	}
	return -EINVAL;
}

static int cmd_luks_format(char **args)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_secret_ char *pass = NULL;
	struct luks_pbkdf pbkdf = { .type = LUKS_PBKDF_PBKDF2, .iterations = 1000 };
	struct luks_format_params p = { .label = arg_label, .pbkdf = &pbkdf };
	size_t pass_size;
	int keyslot, r;

	if (strv_length(args) != 1 || !arg_passphrase_file)
		return log_error_errno(EINVAL, "usage: luks-format IMG --passphrase-file F");
	if (arg_pbkdf && parse_pbkdf(arg_pbkdf, &pbkdf) < 0)
		return log_error_errno(EINVAL, "--pbkdf: pbkdf2:ITER or argon2id:KIB:ITER:PAR");
	r = read_secret(arg_passphrase_file, &pass, &pass_size);
	if (r < 0)
		return r;
	r = luks_format(args[0], &p, &v);
	if (r < 0)
		return log_error_errno(r, "%s: formatting: %m", args[0]);
	r = luks_keyslot_add(v, NULL, 0, pass, pass_size, NULL, &keyslot);
	if (r < 0)
		return log_error_errno(r, "%s: adding a keyslot: %m", args[0]);
	printf("keyslot %d\n", keyslot);
	return 0;
}

static int cmd_enroll(char **args)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_secret_ char *unlock = NULL;
	_cleanup_free_ char *pem = NULL;
	struct tpm2luks_enroll_params p = {
		.primary_alg = TPM_PRIMARY_ECC,
		.pubkey_pcr_mask = arg_pubkey_pcrs,
		.hash_pcr_mask = arg_hash_pcrs,
		.floor = ARG_FLOOR,
	};
	struct tpm2luks_enrolment e;
	size_t unlock_size, pem_size = 0;
	uint64_t start;
	int r;

	if (strv_length(args) != 1 || !arg_unlock_file)
		return log_error_errno(EINVAL, "usage: enroll IMG --unlock-file F");
	r = read_secret(arg_unlock_file, &unlock, &unlock_size);
	if (r < 0)
		return r;
	if (arg_pubkey) {
		r = load_pubkey(arg_pubkey, &k, &pem, &pem_size);
		if (r < 0)
			return r;
		p.pubkey_pem = pem;
		p.pubkey_pem_size = pem_size;
	}
	r = luks_open(args[0], &v);
	if (r < 0)
		return log_error_errno(r, "%s: %m", args[0]);
	r = open_tpm(&t);
	if (r < 0)
		return r;
	start = now_usec();
	r = tpm2luks_enroll(v, t, unlock, unlock_size, &p, &e);
	if (r < 0)
		return log_error_errno(r, "%s: enrolling: %m", args[0]);
	fprintf(stderr, "TIME enroll: %.1f ms\n", (double)(now_usec() - start) / 1000.0);
	if (e.unset_pcr_mask != 0)
		printf("warning: PCR mask 0x%" PRIx32 " holds no measurements\n", e.unset_pcr_mask);
	printf("keyslot %d\ntoken %d\npolicy ", e.keyslot, e.token);
	return print_hex(e.policy_hash, sizeof(e.policy_hash));
}

/* --pcrsig and --pcrpkey, as read: NULL and 0 for an option not given. */
static int read_pcr_files(char **ret_sig, size_t *ret_sig_size, char **ret_pkey,
			  size_t *ret_pkey_size)
{
	int r;

	*ret_sig = *ret_pkey = NULL;
	*ret_sig_size = *ret_pkey_size = 0;
	if (arg_pcrsig && (r = read_file(arg_pcrsig, ret_sig, ret_sig_size)) < 0)
		return r;
	if (arg_pcrpkey && (r = read_file(arg_pcrpkey, ret_pkey, ret_pkey_size)) < 0)
		return r;
	return 0;
}

static int cmd_unlock(char **args)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_free_ char *pcrsig = NULL, *pcrpkey = NULL, *why = NULL;
	enum tpm_refusal refusal = TPM_REFUSAL_NONE;
	struct tpm2luks_unlock_params p = {};
	uint64_t start;
	int keyslot, r;

	if (strv_length(args) != 1)
		return log_error_errno(EINVAL, "usage: unlock IMG [--pcrsig F] [--pcrpkey F]");
	p.check_floor = arg_have_security_version;
	p.security_version = arg_security_version;
	r = read_pcr_files(&pcrsig, &p.pcrsig_size, &pcrpkey, &p.pcrpkey_size);
	if (r < 0)
		return r;
	p.pcrsig = pcrsig;
	p.pcrpkey = pcrpkey;
	r = luks_open(args[0], &v);
	if (r < 0)
		return log_error_errno(r, "%s: %m", args[0]);
	r = open_tpm(&t);
	if (r < 0)
		return r;
	start = now_usec();
	r = tpm2luks_unlock(v, t, &p, &keyslot, &refusal, &why);
	if (r < 0)
		return refused(refusal, r, why);
	fprintf(stderr, "TIME unlock: %.1f ms\n", (double)(now_usec() - start) / 1000.0);
	printf("opened with keyslot %d\n", keyslot);
	return 0;
}

static void data_say(const char *line, void *userdata)
{
	(void)userdata;
	printf("SAY: %s\n", line);
	fflush(stdout);
}

static int cmd_data_unlock(char **args)
{
	_cleanup_free_ char *pcrsig = NULL, *pcrpkey = NULL, *error = NULL;
	struct data_unlock_result res = {};
	int fds[1] = { STDIN_FILENO };
	struct data_unlock_params p = {
		.tcti = arg_tcti,
		.no_tpm_reason = "TEST: no --tcti given",
		.cap_pcr = true,
		.security_version = arg_security_version,
		.key_fds = fds,
		.n_key_fds = 1,
		.say = data_say,
	};
	int r;

	if (strv_length(args) != 1)
		return log_error_errno(EINVAL, "usage: data-unlock IMG [--pcrsig F] [--pcrpkey F]");
	p.node = args[0];
	r = read_pcr_files(&pcrsig, &p.pcrsig_size, &pcrpkey, &p.pcrpkey_size);
	if (r < 0)
		return r;
	p.pcrsig = pcrsig;
	p.pcrpkey = pcrpkey;
	r = data_unlock(&p, &res, &error);
	if (r < 0) {
		fprintf(stderr, "FAILED: %s (%s)\n", strna(error), strerror(-r));
		return 1;
	}
	printf("opened by %s with keyslot %d, PCR 11 %s\n",
	       data_unlock_method_to_string(res.method), res.keyslot,
	       res.capped ? "capped" : "not capped");
	return 0;
}

static int cmd_wipe(char **args)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	int r;

	if (strv_length(args) != 1)
		return log_error_errno(EINVAL, "usage: wipe IMG");
	r = luks_open(args[0], &v);
	if (r < 0)
		return log_error_errno(r, "%s: %m", args[0]);
	r = tpm2luks_wipe(v, -1);
	if (r < 0)
		return log_error_errno(r, "%s: wiping TPM tokens: %m", args[0]);
	return 0;
}

static int cmd_test_passphrase(char **args)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_secret_ char *pass = NULL;
	size_t n;
	int r;

	if (strv_length(args) != 1 || !arg_passphrase_file)
		return log_error_errno(EINVAL, "usage: test-passphrase IMG --passphrase-file F");
	r = read_secret(arg_passphrase_file, &pass, &n);
	if (r < 0)
		return r;
	r = luks_open(args[0], &v);
	if (r < 0)
		return log_error_errno(r, "%s: %m", args[0]);
	r = luks_activate(v, NULL, -1, pass, n);
	if (r < 0)
		return log_error_errno(r, "%s: passphrase refused: %m", args[0]);
	printf("passphrase opens keyslot %d\n", r);
	return 0;
}

static int cmd_token_roundtrip(char **args)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	_cleanup_free_ char *in = NULL, *out = NULL, *error = NULL;
	size_t n;
	int r;

	(void)args;
	r = read_full_fd(STDIN_FILENO, READ_FULL_MAX_DEFAULT, &in, &n);
	if (r < 0)
		return log_error_errno(r, "stdin: %m");
	r = tpm2_token_from_json(in, n, &t, &error);
	if (r < 0)
		return log_error_errno(r, "token: %s", strna(error));
	r = tpm2_token_to_json(t, &out);
	if (r < 0)
		return log_error_errno(r, "token: %m");
	printf("%s\n", out);
	return 0;
}

static int cmd_recovery_generate(char **args)
{
	_cleanup_secret_ char *key = NULL;
	int r;

	(void)args;
	if (!arg_out)
		return log_error_errno(EINVAL, "--out is required");
	r = recovery_key_generate(&key);
	if (r < 0)
		return log_error_errno(r, "recovery key: %m");
	return write_secret(arg_out, key, strlen(key));
}

static int cmd_recovery_normalize(char **args)
{
	_cleanup_secret_ char *key = NULL;
	_cleanup_free_ char *in = NULL, *error = NULL;
	size_t n;
	int r;

	(void)args;
	if (!arg_out)
		return log_error_errno(EINVAL, "--out is required");
	r = read_full_fd(STDIN_FILENO, 4096, &in, &n);
	if (r < 0)
		return log_error_errno(r, "stdin: %m");
	r = recovery_key_normalize(in, &key, &error);
	explicit_bzero(in, n);
	if (r < 0)
		return log_error_errno(r, "not a recovery key: %s", strna(error));
	return write_secret(arg_out, key, strlen(key));
}

static const struct {
	const char *name;
	int (*run)(char **args);
} commands[] = {
	{ "srk-template", cmd_srk_template },
	{ "pcr-read", cmd_pcr_read },
	{ "pcr-extend", cmd_pcr_extend },
	{ "pcr11", cmd_pcr11 },
	{ "nv", cmd_nv },
	{ "floor", cmd_floor },
	{ "policy-pcr", cmd_policy_pcr },
	{ "key-name", cmd_key_name },
	{ "policy", cmd_policy },
	{ "fingerprint", cmd_fingerprint },
	{ "pcrpkey", cmd_pcrpkey },
	{ "sign", cmd_sign },
	{ "seal", cmd_seal },
	{ "unseal", cmd_unseal },
	{ "luks-format", cmd_luks_format },
	{ "enroll", cmd_enroll },
	{ "unlock", cmd_unlock },
	{ "data-unlock", cmd_data_unlock },
	{ "wipe", cmd_wipe },
	{ "test-passphrase", cmd_test_passphrase },
	{ "token-roundtrip", cmd_token_roundtrip },
	{ "recovery-generate", cmd_recovery_generate },
	{ "recovery-normalize", cmd_recovery_normalize },
};

enum {
	OPT_TCTI = 0x100,
	OPT_PUBKEY,
	OPT_KEY,
	OPT_PCRSIG,
	OPT_PCRPKEY_FILE,
	OPT_BLOB,
	OPT_OUT,
	OPT_SECRET_FILE,
	OPT_UNLOCK_FILE,
	OPT_PASSPHRASE_FILE,
	OPT_POLICY_HASH,
	OPT_PHASE,
	OPT_PBKDF,
	OPT_LABEL,
	OPT_HASH_PCRS,
	OPT_PUBKEY_PCRS,
	OPT_TRIAL,
	OPT_FLOOR,
	OPT_SECURITY_VERSION,
	OPT_SECTION, /* + section index */
};

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "tcti", required_argument, NULL, OPT_TCTI },
		{ "pubkey", required_argument, NULL, OPT_PUBKEY },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "pcrsig", required_argument, NULL, OPT_PCRSIG },
		{ "pcrpkey", required_argument, NULL, OPT_PCRPKEY_FILE },
		{ "blob", required_argument, NULL, OPT_BLOB },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "secret-file", required_argument, NULL, OPT_SECRET_FILE },
		{ "unlock-file", required_argument, NULL, OPT_UNLOCK_FILE },
		{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
		{ "policy-hash", required_argument, NULL, OPT_POLICY_HASH },
		{ "phase", required_argument, NULL, OPT_PHASE },
		{ "pbkdf", required_argument, NULL, OPT_PBKDF },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "hash-pcrs", required_argument, NULL, OPT_HASH_PCRS },
		{ "pubkey-pcrs", required_argument, NULL, OPT_PUBKEY_PCRS },
		{ "trial", no_argument, NULL, OPT_TRIAL },
		{ "floor", required_argument, NULL, OPT_FLOOR },
		{ "security-version", required_argument, NULL, OPT_SECURITY_VERSION },
		{ "linux", required_argument, NULL, OPT_SECTION + PCR_UKI_LINUX },
		{ "osrel", required_argument, NULL, OPT_SECTION + PCR_UKI_OSREL },
		{ "cmdline", required_argument, NULL, OPT_SECTION + PCR_UKI_CMDLINE },
		{ "initrd", required_argument, NULL, OPT_SECTION + PCR_UKI_INITRD },
		{ "splash", required_argument, NULL, OPT_SECTION + PCR_UKI_SPLASH },
		{ "dtb", required_argument, NULL, OPT_SECTION + PCR_UKI_DTB },
		{},
	};
	const char *cmd;
	int c, r;

	log_set_program_name(argv[0]);
	log_parse_environment();

	/* "+": stop at the command; options may also follow it (parsed below). */
	while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0) {
		if (c != OPT_TCTI)
			return log_error_errno(EINVAL, "only --tcti goes before the command"), 1;
		arg_tcti = optarg;
	}
	if (optind >= argc) {
		log_error(
			"usage: tpmtool [--tcti SPEC] COMMAND ... (see tests/integration/tpmtool.c)");
		return 1;
	}
	/* The command's own options, anywhere after it: rescan from the command on. */
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	optind = 0;
	while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		uint32_t *mask = NULL;
		switch (c) {
		case OPT_TCTI:
			arg_tcti = optarg;
			break;
		case OPT_PUBKEY:
			arg_pubkey = optarg;
			break;
		case OPT_SECURITY_VERSION:
			if (safe_atou64(optarg, &arg_security_version) < 0)
				return log_error_errno(EINVAL, "--security-version %s: a number",
						       optarg),
				       1;
			arg_have_security_version = true;
			break;
		case OPT_FLOOR:
			if (parse_floor(optarg) < 0)
				return log_error_errno(EINVAL, "--floor %s: INDEX:BASE expected",
						       optarg),
				       1;
			break;
		case OPT_KEY:
			arg_key = optarg;
			break;
		case OPT_PCRSIG:
			arg_pcrsig = optarg;
			break;
		case OPT_PCRPKEY_FILE:
			arg_pcrpkey = optarg;
			break;
		case OPT_BLOB:
			arg_blob = optarg;
			break;
		case OPT_OUT:
			arg_out = optarg;
			break;
		case OPT_SECRET_FILE:
			arg_secret_file = optarg;
			break;
		case OPT_UNLOCK_FILE:
			arg_unlock_file = optarg;
			break;
		case OPT_PASSPHRASE_FILE:
			arg_passphrase_file = optarg;
			break;
		case OPT_POLICY_HASH:
			arg_policy_hash = optarg;
			break;
		case OPT_PHASE:
			arg_phase = optarg;
			break;
		case OPT_PBKDF:
			arg_pbkdf = optarg;
			break;
		case OPT_LABEL:
			arg_label = optarg;
			break;
		case OPT_HASH_PCRS:
			mask = &arg_hash_pcrs;
			break;
		case OPT_PUBKEY_PCRS:
			mask = &arg_pubkey_pcrs;
			break;
		case OPT_TRIAL:
			arg_trial = true;
			break;
		default:
			if (c >= OPT_SECTION && c < OPT_SECTION + _PCR_UKI_SECTION_MAX) {
				arg_sections[c - OPT_SECTION] = optarg;
				break;
			}
			return 1;
		}
		if (mask && parse_mask(optarg, mask) < 0)
			return log_error_errno(EINVAL, "not a list of PCRs: %s", optarg), 1;
	}

	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(cmd, commands[i].name)) {
			r = commands[i].run(argv + optind);
			return r < 0 ? 1 : r;
		}
	log_error("unknown command: %s", cmd);
	return 1;
}
