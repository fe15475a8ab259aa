/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PE32+ parsing and section appending. Field offsets follow the PE/COFF
 * specification: the DOS header's e_lfanew at 0x3c points at "PE\0\0", then the
 * 20-byte COFF file header, the optional header (PE32+: magic 0x20b) and the
 * section table of 40-byte headers.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/fd.h"
#include "pe.h"

#define DOS_LFANEW 0x3c
#define COFF_SIZE 20
#define COFF_MACHINE 0
#define COFF_N_SECTIONS 2
#define COFF_TIMESTAMP 4
#define COFF_SYMTAB 8
#define COFF_N_SYMBOLS 12
#define COFF_OPT_SIZE 16

#define OPT_MAGIC 0
#define OPT_SIZE_INIT_DATA 8
#define OPT_SECTION_ALIGN 32
#define OPT_FILE_ALIGN 36
#define OPT_SIZE_OF_IMAGE 56
#define OPT_SIZE_OF_HEADERS 60
#define OPT_CHECKSUM 64
#define OPT_SUBSYSTEM 68
#define OPT_N_DIRS 108
#define OPT_DIRS 112
#define OPT_MIN_SIZE OPT_DIRS
#define PE32PLUS_MAGIC 0x20b
#define DIR_SECURITY 4

#define SECTION_HEADER_SIZE 40
#define SEC_VSIZE 8
#define SEC_VADDR 12
#define SEC_RAW_SIZE 16
#define SEC_RAW_PTR 20
#define SEC_CHARACTERISTICS 36

#define PE_MAX_SECTIONS 256
#define PE_PAGE_SIZE 4096U
#define PE_MAX_ALIGN 0x10000U
#define PE_FILE_MAX (1024U * 1024U * 1024U) /* a UKI holds a kernel and an initramfs */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* True if [off, off+len) lies inside a buffer of size bytes. */
static bool in_bounds(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static size_t opt_offset(const struct pe_image *img)
{
	return (size_t)img->pe_offset + 4 + COFF_SIZE;
}

static size_t section_table_offset(const struct pe_image *img)
{
	return opt_offset(img) + get16(img->data + img->pe_offset + 4 + COFF_OPT_SIZE);
}

/* Parses img->data/img->size (already set) into the other fields. */
static int parse_in_place(struct pe_image *img)
{
	const uint8_t *d = img->data;
	size_t size = img->size, opt, table;
	uint16_t n_sections, opt_size;
	uint32_t n_dirs;
	struct pe_section *sections = NULL;

	if (size < 0x40 || d[0] != 'M' || d[1] != 'Z')
		return -EBADMSG;
	img->pe_offset = get32(d + DOS_LFANEW);
	if (!in_bounds(img->pe_offset, 4 + COFF_SIZE, size) ||
	    memcmp(d + img->pe_offset, "PE\0\0", 4) != 0)
		return -EBADMSG;

	const uint8_t *coff = d + img->pe_offset + 4;
	img->machine = get16(coff + COFF_MACHINE);
	n_sections = get16(coff + COFF_N_SECTIONS);
	img->timestamp = get32(coff + COFF_TIMESTAMP);
	opt_size = get16(coff + COFF_OPT_SIZE);
	opt = opt_offset(img);
	if (opt_size < OPT_MIN_SIZE || !in_bounds(opt, opt_size, size))
		return -EBADMSG;
	const uint8_t *o = d + opt;
	if (get16(o + OPT_MAGIC) != PE32PLUS_MAGIC)
		return -EBADMSG;

	img->section_alignment = get32(o + OPT_SECTION_ALIGN);
	img->file_alignment = get32(o + OPT_FILE_ALIGN);
	if (!is_pow2(img->section_alignment) || !is_pow2(img->file_alignment) ||
	    img->section_alignment > PE_MAX_ALIGN || img->file_alignment > img->section_alignment)
		return -EBADMSG;
	img->size_of_image = get32(o + OPT_SIZE_OF_IMAGE);
	img->size_of_headers = get32(o + OPT_SIZE_OF_HEADERS);
	img->checksum = get32(o + OPT_CHECKSUM);
	img->subsystem = get16(o + OPT_SUBSYSTEM);
	if (img->size_of_headers > size)
		return -EBADMSG;

	n_dirs = get32(o + OPT_N_DIRS);
	if (n_dirs > 16 || (uint64_t)OPT_DIRS + 8ULL * n_dirs > opt_size)
		return -EBADMSG;
	img->cert_table_offset = img->cert_table_size = 0;
	if (n_dirs > DIR_SECURITY) {
		uint32_t off = get32(o + OPT_DIRS + 8 * DIR_SECURITY);
		uint32_t len = get32(o + OPT_DIRS + 8 * DIR_SECURITY + 4);
		if (len > 0 && !in_bounds(off, len, size))
			return -EBADMSG;
		if (len > 0) {
			img->cert_table_offset = off;
			img->cert_table_size = len;
		}
	}

	if (n_sections == 0 || n_sections > PE_MAX_SECTIONS)
		return -EBADMSG;
	table = opt + opt_size;
	if (!in_bounds(table, (uint64_t)n_sections * SECTION_HEADER_SIZE, size))
		return -EBADMSG;
	sections = new0(struct pe_section, n_sections);
	if (!sections)
		return -ENOMEM;
	for (size_t i = 0; i < n_sections; i++) {
		const uint8_t *h = d + table + i * SECTION_HEADER_SIZE;
		struct pe_section *s = &sections[i];

		memcpy(s->name, h, PE_SECTION_NAME_MAX);
		s->name[PE_SECTION_NAME_MAX] = '\0';
		s->virtual_size = get32(h + SEC_VSIZE);
		s->virtual_address = get32(h + SEC_VADDR);
		s->raw_size = get32(h + SEC_RAW_SIZE);
		s->raw_offset = get32(h + SEC_RAW_PTR);
		s->characteristics = get32(h + SEC_CHARACTERISTICS);
		if ((s->raw_size > 0 && !in_bounds(s->raw_offset, s->raw_size, size)) ||
		    (uint64_t)s->virtual_address + MAX(s->virtual_size, s->raw_size) > UINT32_MAX) {
			free(sections);
			return -EBADMSG;
		}
		/* Two sections of one name: which one a loader uses is anybody's guess. */
		for (size_t j = 0; j < i; j++)
			if (streq(sections[j].name, s->name)) {
				free(sections);
				return -EBADMSG;
			}
	}
	free(img->sections);
	img->sections = sections;
	img->n_sections = n_sections;
	return 0;
}

int pe_parse(const void *data, size_t size, struct pe_image **ret)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	int r;

	if (!data && size > 0)
		return -EINVAL;
	img = new0(struct pe_image, 1);
	if (!img)
		return -ENOMEM;
	img->data = malloc(size ?: 1);
	if (!img->data)
		return -ENOMEM;
	if (size > 0)
		memcpy(img->data, data, size);
	img->size = size;
	r = parse_in_place(img);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(img);
	return 0;
}

int pe_load(const char *path, struct pe_image **ret)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t n;
	int r;

	r = read_full_file(path, PE_FILE_MAX, &buf, &n);
	if (r < 0)
		return r;
	img = new0(struct pe_image, 1);
	if (!img)
		return -ENOMEM;
	img->data = (uint8_t *)TAKE_PTR(buf);
	img->size = n;
	r = parse_in_place(img);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(img);
	return 0;
}

struct pe_image *pe_image_free(struct pe_image *img)
{
	if (!img)
		return NULL;
	free(img->data);
	free(img->sections);
	free(img);
	return NULL;
}

const struct pe_section *pe_section_find(const struct pe_image *img, const char *name)
{
	for (size_t i = 0; i < img->n_sections; i++)
		if (streq(img->sections[i].name, name))
			return &img->sections[i];
	return NULL;
}

int pe_section_read(const struct pe_image *img, const char *name, uint8_t **ret, size_t *ret_size)
{
	const struct pe_section *s = pe_section_find(img, name);
	uint8_t *buf;
	size_t n, raw;

	if (!s)
		return -ENOENT;
	if (s->virtual_size > PE_SECTION_READ_MAX)
		return -EFBIG;
	n = s->virtual_size;
	raw = MIN((size_t)s->raw_size, n);
	buf = calloc(n + 1, 1);
	if (!buf)
		return -ENOMEM;
	if (raw > 0)
		memcpy(buf, img->data + s->raw_offset, raw);
	*ret = buf;
	*ret_size = n;
	return 0;
}

uint32_t pe_checksum(const struct pe_image *img)
{
	size_t skip = opt_offset(img) + OPT_CHECKSUM;
	uint64_t sum = 0;

	for (size_t i = 0; i < img->size; i += 2) {
		if (i == skip || i == skip + 2)
			continue;
		sum += i + 1 < img->size ? get16(img->data + i) : img->data[i];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)(sum + img->size);
}

static uint32_t image_end_va(const struct pe_image *img)
{
	uint64_t end = img->size_of_image;

	for (size_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];
		end = MAX(end, (uint64_t)s->virtual_address + MAX(s->virtual_size, s->raw_size));
	}
	return (uint32_t)MIN(end, (uint64_t)UINT32_MAX);
}

static size_t raw_end(const struct pe_image *img)
{
	size_t end = img->size_of_headers;

	for (size_t i = 0; i < img->n_sections; i++)
		if (img->sections[i].raw_size > 0)
			end = MAX(end,
				  (size_t)img->sections[i].raw_offset + img->sections[i].raw_size);
	return end;
}

static size_t first_raw_offset(const struct pe_image *img)
{
	size_t first = img->size;

	for (size_t i = 0; i < img->n_sections; i++)
		if (img->sections[i].raw_size > 0)
			first = MIN(first, (size_t)img->sections[i].raw_offset);
	return first;
}

int pe_section_append(struct pe_image *img, const char *name, const void *data, size_t size,
		      uint32_t characteristics)
{
	size_t table, hdr, file_end, raw_off, raw_size, new_size;
	uint64_t va, va_align, image_end;
	uint8_t *coff, *opt, *h, *grown;

	if (!img || !name || (!data && size > 0))
		return -EINVAL;
	if (isempty(name) || strlen(name) > PE_SECTION_NAME_MAX)
		return -ENAMETOOLONG;
	if (pe_section_find(img, name))
		return -EEXIST;
	if (img->cert_table_size > 0)
		return -EPERM;

	/* Room for one more section header, before the first section's data. */
	table = section_table_offset(img);
	hdr = table + img->n_sections * SECTION_HEADER_SIZE;
	if (img->n_sections >= PE_MAX_SECTIONS ||
	    hdr + SECTION_HEADER_SIZE > img->size_of_headers ||
	    hdr + SECTION_HEADER_SIZE > first_raw_offset(img))
		return -ENOSPC;
	for (size_t i = 0; i < SECTION_HEADER_SIZE; i++)
		if (img->data[hdr + i] != 0)
			return -ENOSPC;

	va_align = MAX(img->section_alignment, PE_PAGE_SIZE);
	va = ALIGN_TO((uint64_t)image_end_va(img), va_align);
	file_end = raw_end(img);
	raw_off = ALIGN_TO(file_end, (size_t)img->file_alignment);
	raw_size = ALIGN_TO(size, (size_t)img->file_alignment);
	image_end = ALIGN_TO(va + size, (uint64_t)img->section_alignment);
	if (size > UINT32_MAX || image_end > UINT32_MAX ||
	    (uint64_t)raw_off + raw_size > UINT32_MAX)
		return -EFBIG;

	/* Drop what follows the last section (symbol table, overlay) and grow. */
	new_size = raw_off + raw_size;
	grown = realloc(img->data, new_size);
	if (!grown)
		return -ENOMEM;
	img->data = grown;
	memset(img->data + file_end, 0, new_size - file_end);
	if (size > 0)
		memcpy(img->data + raw_off, data, size);
	img->size = new_size;

	h = img->data + hdr;
	memcpy(h, name, strlen(name));
	put32(h + SEC_VSIZE, (uint32_t)size);
	put32(h + SEC_VADDR, (uint32_t)va);
	put32(h + SEC_RAW_SIZE, (uint32_t)raw_size);
	put32(h + SEC_RAW_PTR, (uint32_t)raw_off);
	put32(h + SEC_CHARACTERISTICS, characteristics);

	coff = img->data + img->pe_offset + 4;
	put16(coff + COFF_N_SECTIONS, (uint16_t)(img->n_sections + 1));
	put32(coff + COFF_TIMESTAMP, 0);
	put32(coff + COFF_SYMTAB, 0);
	put32(coff + COFF_N_SYMBOLS, 0);
	opt = img->data + opt_offset(img);
	put32(opt + OPT_SIZE_OF_IMAGE, (uint32_t)image_end);
	if (characteristics & 0x40U) /* IMAGE_SCN_CNT_INITIALIZED_DATA */
		put32(opt + OPT_SIZE_INIT_DATA,
		      get32(opt + OPT_SIZE_INIT_DATA) + (uint32_t)raw_size);

	/* Re-read everything from the bytes, the single source of truth. */
	return parse_in_place(img);
}

int pe_section_append_file(struct pe_image *img, const char *name, const char *path,
			   uint32_t characteristics)
{
	_cleanup_free_ char *buf = NULL;
	size_t n;
	int r;

	r = read_full_file(path, PE_FILE_MAX, &buf, &n);
	if (r < 0)
		return r;
	return pe_section_append(img, name, buf, n, characteristics);
}

int pe_write(struct pe_image *img, const char *path, mode_t mode)
{
	uint32_t sum = pe_checksum(img);

	put32(img->data + opt_offset(img) + OPT_CHECKSUM, sum);
	img->checksum = sum;
	return write_file_atomic(path, img->data, img->size, mode);
}
