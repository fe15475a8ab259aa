/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The update bundle reader (lib/bundle.c) on arbitrary bytes, as it reads a file or a
 * USB stick: member headers, names, types and sizes, the manifest and signature
 * bounds, every payload member streamed and hashed, the end of the archive. The
 * signature is not checked (that is gpg's part, and the manifest parser has its own
 * target): when the input's manifest.json parses it is used, else a fixed one whose
 * members are zeros (the seed tests/fuzz/corpus/fuzz-bundle-tar/good.tar fits it).
 * Every refusal must carry a reason and a message; the sink must see each member's
 * bytes in order, never more than declared.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* root.squashfs 4096, root.verity 512, uki.efi 100, sbom.spdx.json 10 bytes of zeros */
static const char fixed_manifest[] =
	"{\"format\":1,\"name\":\"airlock\",\"version\":\"1.0.1\",\"min_version\":\"1.0.0\","
	"\"compatible\":\"airlock/x86-64\",\"architecture\":\"amd64\",\"source_date_epoch\":0,"
	"\"verity\":{\"root_hash\":\"0000000000000000000000000000000000000000000000000000000000000000\","
	"\"hash_algorithm\":\"sha256\",\"data_block_size\":4096,\"hash_block_size\":4096,"
	"\"data_blocks\":1},\"disk\":{\"root_size\":4096,\"verity_size\":4096},\"artifacts\":["
	"{\"name\":\"root.squashfs\",\"size\":4096,\"sha256\":"
	"\"ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7\"},"
	"{\"name\":\"root.verity\",\"size\":512,\"sha256\":"
	"\"076a27c79e5ace2a3d47f9dd2e83e4ff6ea8872b3c2218f66c92b89b55f36560\"},"
	"{\"name\":\"uki.efi\",\"size\":100,\"sha256\":"
	"\"cd00e292c5970d3c5e2f0ffa5171e555bc46bfc4faddfb4a418b6840b86e79a3\"},"
	"{\"name\":\"sbom.spdx.json\",\"size\":10,\"sha256\":"
	"\"01d448afd928065458cf670b60f5a594d735af0172c8d67f22a81680132681ca\"}],"
	"\"trusted_keys\":[\"F58CB06CF36152B6B7C4FDD8771720EFFABA4329\"]}";

struct check {
	int member; /* the member being streamed, or -1 */
	uint64_t got;
};

static int check_begin(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct check *c = userdata;
	(void)ret_error;
	if (c->member >= 0 && a->member != c->member + 1)
		abort();
	c->member = a->member;
	c->got = 0;
	return 0;
}

static int check_data(void *userdata, const struct bundle_artifact *a, const void *buf, size_t n,
		      char **ret_error)
{
	struct check *c = userdata;
	(void)buf, (void)ret_error;
	if ((int)a->member != c->member || n > BUNDLE_BLOCK_BYTES || c->got + n > a->size_bytes)
		abort();
	c->got += n;
	return 0;
}

static int check_end(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct check *c = userdata;
	(void)ret_error;
	if ((int)a->member != c->member || c->got != a->size_bytes)
		abort();
	return 0;
}

static void check_refusal(int r, const struct bundle_error *e)
{
	if (r == -EPERM && (e->refusal < 0 || e->refusal >= _BUNDLE_REFUSAL_MAX || !e->message))
		abort();
	if (r < 0 && r != -EPERM && r != -ENOMEM && r != -EIO)
		abort(); /* nothing else can go wrong reading memory */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bundle_manifest *fixed;
	static int fd = -1;
	struct bundle_reader *r = NULL;
	struct bundle_manifest *parsed = NULL;
	struct bundle_error e = BUNDLE_ERROR_INIT;
	struct check c = { .member = -1 };
	const struct bundle_sink sink = { .member_begin = check_begin,
					  .member_data = check_data,
					  .member_end = check_end,
					  .userdata = &c };
	char *text = NULL, *sig = NULL;
	size_t tn, sn;
	uint64_t bytes;
	int k;

	if (!fixed &&
	    bundle_manifest_parse(fixed_manifest, sizeof(fixed_manifest) - 1, &fixed, NULL) < 0)
		abort();
	if (fd < 0 && (fd = memfd_create("fuzz-bundle", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();

	k = bundle_reader_open(fd, &r, &e);
	if (k < 0)
		abort();
	k = bundle_reader_read_head(r, &text, &tn, &sig, &sn, &e);
	check_refusal(k, &e);
	if (k < 0)
		goto out;
	if (tn == 0 || sn == 0 || tn > BUNDLE_MANIFEST_MAX_BYTES || sn > BUNDLE_SIGNATURE_MAX_BYTES)
		abort();
	(void)bundle_manifest_parse(text, tn, &parsed, NULL);
	k = bundle_reader_read_payload(r, parsed ?: fixed, &sink, &e);
	check_refusal(k, &e);
	if (k < 0)
		goto out;
	if (c.member != BUNDLE_MEMBER_SBOM)
		abort();
	k = bundle_reader_finish(r, &bytes, &e);
	check_refusal(k, &e);
	if (k == 0 && (bytes > size || bytes % 512 != 0))
		abort();
out:
	bundle_error_done(&e);
	bundle_manifest_free(parsed);
	bundle_reader_free(r);
	free(text);
	free(sig);
	return 0;
}
