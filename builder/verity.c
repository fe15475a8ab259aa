/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verity stage: the dm-verity hash tree of root.squashfs and its root hash
 * (libcryptsetup, format 1, sha256, 4 KiB blocks). The salt and the superblock
 * UUID are derived from the image's content (the canonical tar stream's sha256),
 * so two builds of the same inputs agree and different images never share a salt.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/progress.h"
#include "ext/crypto.h"
#include "ext/verity.h"

static int derive(const char *label, const uint8_t content[32], uint8_t out[32])
{
	/* HMAC keyed with the content, over a label: one independent value per use. */
	return hmac_sha256(content, 32, label, strlen(label), out);
}

int verity_build(const char *squashfs, const char *hash_path, const uint8_t content_sha256[32],
		 struct verity_result *ret)
{
	struct verity_params p = { .data_block_size = 4096, .hash_block_size = 4096 };
	uint8_t uuid[32];
	double start = progress_now();
	struct stat st;
	char hex[65];
	int r;

	if (stat(squashfs, &st) < 0)
		return log_error_errno(errno, "verity: %s: %m", squashfs);
	if (st.st_size == 0 || st.st_size % p.data_block_size != 0)
		return log_error("verity: %s is %" PRIi64 " bytes, not a whole number of %u-byte "
				 "blocks",
				 squashfs, (int64_t)st.st_size, p.data_block_size),
		       -EINVAL;
	p.data_blocks = (uint64_t)st.st_size / p.data_block_size;
	if ((r = derive("airlock verity salt v1", content_sha256, p.salt)) < 0 ||
	    (r = derive("airlock verity uuid v1", content_sha256, uuid)) < 0)
		return log_error_errno(r, "verity: %m");
	/* An RFC 4122 version 4 layout, so tools that parse it are happy. */
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	snprintf(p.uuid, sizeof(p.uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
		 uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
		 uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);

	r = verity_format(squashfs, hash_path, &p, ret->root_hash);
	if (r < 0)
		return log_error_errno(r, "verity: formatting %s for %s: %m", hash_path, squashfs);
	if (stat(hash_path, &st) < 0)
		return log_error_errno(errno, "verity: %s: %m", hash_path);
	ret->params = p;
	ret->hash_size = (uint64_t)st.st_size;
	hex_to_buf(ret->root_hash, sizeof(ret->root_hash), hex);
	progress_line("verity: root hash %s, %" PRIu64 " data blocks (%.1f s)", hex, p.data_blocks,
		      progress_now() - start);
	return 0;
}
