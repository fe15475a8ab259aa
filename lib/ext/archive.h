/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * libarchive: the only place that includes its headers and turns its status codes
 * into -errno. Every archive and compressed stream Airlock reads goes through here.
 */

#include "core/macro.h"

/*
 * Reads a whole file through libarchive's "raw" format with every decompression
 * filter enabled: an uncompressed file, or one compressed with gzip, xz, zstd, lz4,
 * bzip2 (detected by content, not by name), comes back decompressed and
 * NUL-terminated. -EFBIG if the decompressed data exceeds max_size; -EBADMSG if
 * the compressed stream is corrupt.
 */
int archive_read_decompressed_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
