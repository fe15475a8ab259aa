/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * PE32+ (EFI) images: parse one, read its sections, append named sections to it
 * and write it out. Used to build Unified Kernel Images on systemd-stub (.osrel,
 * .cmdline, .initrd, .linux, .pcrpkey, .pcrsig, .uname) and to read them back.
 *
 * The parser takes untrusted input (an update's UKI): every offset and size is
 * checked against the file before use and nothing is trusted that was not.
 *
 * Appending is deterministic: TimeDateStamp is set to 0, the COFF symbol table
 * (deprecated for images) and anything after the last section's raw data are
 * dropped, each new section starts at the next multiple of the section alignment
 * (at least a page) after the end of the image, its VirtualSize is the exact
 * content size (systemd-stub measures VirtualSize bytes into PCR 11) and its
 * SizeOfRawData that size rounded up to FileAlignment with zeros. SizeOfImage,
 * SizeOfInitializedData and the PE checksum are recomputed. An image with a
 * certificate table (already signed) is refused: sign after the last change.
 */

#include <stdint.h>

#include "core/macro.h"

#define PE_SECTION_NAME_MAX 8
/* IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ */
#define PE_SECTION_DATA_RO 0x40000040U

struct pe_section {
	char name[PE_SECTION_NAME_MAX + 1]; /* NUL-terminated */
	uint32_t virtual_address;
	uint32_t virtual_size;
	uint32_t raw_offset; /* PointerToRawData */
	uint32_t raw_size; /* SizeOfRawData */
	uint32_t characteristics;
};

struct pe_image {
	uint8_t *data; /* the whole file */
	size_t size;

	uint32_t pe_offset; /* e_lfanew */
	uint16_t machine;
	uint32_t timestamp;
	uint16_t subsystem;
	uint32_t section_alignment;
	uint32_t file_alignment;
	uint32_t size_of_image;
	uint32_t size_of_headers;
	uint32_t checksum;
	uint32_t cert_table_offset; /* 0 when unsigned */
	uint32_t cert_table_size;

	struct pe_section *sections;
	size_t n_sections;
};

/*
 * Parses a copy of data; -EBADMSG for anything that is not a well-formed PE32+ image,
 * including one with two sections of the same name (ambiguous in a UKI).
 */
int pe_parse(const void *data, size_t size, struct pe_image **ret);
int pe_load(const char *path, struct pe_image **ret);
struct pe_image *pe_image_free(struct pe_image *img);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pe_image *, pe_image_free);

/* The section with this name, or NULL. */
const struct pe_section *pe_section_find(const struct pe_image *img, const char *name);
/*
 * A copy of a section's content as loaded in memory: VirtualSize bytes, raw data
 * beyond SizeOfRawData reading as zeros. -ENOENT if there is no such section,
 * -EFBIG if VirtualSize exceeds PE_SECTION_READ_MAX.
 */
#define PE_SECTION_READ_MAX (1024U * 1024U * 1024U)
int pe_section_read(const struct pe_image *img, const char *name, uint8_t **ret, size_t *ret_size);

/*
 * Appends a section (see above). -EEXIST if the name is taken, -ENAMETOOLONG past 8
 * bytes, -EPERM on a signed image, -ENOSPC if the headers have no room for another
 * section header, -EFBIG if the image would pass 4 GiB.
 */
int pe_section_append(struct pe_image *img, const char *name, const void *data, size_t size,
		      uint32_t characteristics);
/* Like pe_section_append() with the contents of a file. */
int pe_section_append_file(struct pe_image *img, const char *name, const char *path,
			   uint32_t characteristics);

/* The PE checksum of the image as it is now (the CheckSum field counted as zero). */
uint32_t pe_checksum(const struct pe_image *img);
/* Writes the image (with a fresh checksum) to path, atomically. */
int pe_write(struct pe_image *img, const char *path, mode_t mode);
