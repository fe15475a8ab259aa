/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "pe.h"

#define STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

static uint8_t *stub_data;
static size_t stub_size;

static int setup(void **state)
{
	char *buf;
	(void)state;
	if (read_full_file(STUB, 16U << 20, &buf, &stub_size) < 0)
		return 0; /* tests that need it skip */
	stub_data = (uint8_t *)buf;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stub_data = mfree(stub_data);
	return 0;
}

static void need_stub(void)
{
	if (!stub_data) {
		print_message("SKIP: %s missing (systemd-boot-efi)\n", STUB);
		skip();
	}
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_parse_stub(void **state)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	(void)state;
	need_stub();

	assert_int_equal(pe_parse(stub_data, stub_size, &img), 0);
	assert_int_equal(img->machine, 0x8664);
	assert_int_equal(img->subsystem, 10); /* EFI application */
	assert_int_equal(img->cert_table_size, 0);
	assert_true(img->n_sections >= 5);
	assert_non_null(pe_section_find(img, ".text"));
	assert_non_null(pe_section_find(img, ".sdmagic"));
	assert_null(pe_section_find(img, ".linux"));
	/* Our checksum algorithm reproduces the one the linker wrote. */
	assert_int_equal(pe_checksum(img), img->checksum);
}

static void build_uki(const char *cmdline, uint8_t **ret, size_t *ret_size)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	static uint8_t kernel[100000], initrd[5000];

	for (size_t i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 7 + 1);
	memset(initrd, 0xa5, sizeof(initrd));
	assert_int_equal(pe_parse(stub_data, stub_size, &img), 0);
	assert_int_equal(pe_section_append(img, ".osrel", "ID=airlock\n", 11, PE_SECTION_DATA_RO),
			 0);
	assert_int_equal(pe_section_append(img, ".cmdline", cmdline, strlen(cmdline),
					   PE_SECTION_DATA_RO),
			 0);
	assert_int_equal(
		pe_section_append(img, ".initrd", initrd, sizeof(initrd), PE_SECTION_DATA_RO), 0);
	assert_int_equal(
		pe_section_append(img, ".linux", kernel, sizeof(kernel), PE_SECTION_DATA_RO), 0);
	*ret = malloc(img->size);
	assert_non_null(*ret);
	memcpy(*ret, img->data, img->size);
	*ret_size = img->size;
}

static void test_append_layout(void **state)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	_cleanup_free_ uint8_t *a = NULL;
	_cleanup_free_ uint8_t *content = NULL;
	size_t n, content_size;
	uint64_t prev_end_va = 0, prev_end_raw = 0;
	(void)state;
	need_stub();

	build_uki("airlock.slot=a console=ttyS0", &a, &n);
	assert_int_equal(pe_parse(a, n, &img), 0);
	assert_int_equal(img->timestamp, 0);
	for (size_t i = 0; i < img->n_sections; i++) {
		const struct pe_section *s = &img->sections[i];
		/* Sections do not overlap, in memory or in the file, and stay in order. */
		assert_true(s->virtual_address >= prev_end_va);
		if (i >= img->n_sections - 4) { /* ours (the stub's .sdmagic is not aligned) */
			assert_int_equal(s->virtual_address % img->section_alignment, 0);
			assert_int_equal(s->virtual_address % 4096, 0);
			assert_int_equal(s->raw_offset % img->file_alignment, 0);
			assert_int_equal(s->raw_size % img->file_alignment, 0);
		}
		assert_true(s->raw_offset >= prev_end_raw);
		prev_end_va = (uint64_t)s->virtual_address + s->virtual_size;
		prev_end_raw = (uint64_t)s->raw_offset + s->raw_size;
	}
	/* The file ends exactly with the last section: no symbol table, no gap. */
	assert_int_equal(prev_end_raw, n);
	assert_int_equal(img->size_of_image, ALIGN_TO(prev_end_va, img->section_alignment));
	assert_int_equal(le32(a + img->pe_offset + 4 + 8), 0); /* PointerToSymbolTable */

	const struct pe_section *cl = pe_section_find(img, ".cmdline");
	assert_non_null(cl);
	assert_int_equal(cl->virtual_size, strlen("airlock.slot=a console=ttyS0"));
	assert_int_equal(cl->raw_size, img->file_alignment);
	assert_int_equal(cl->virtual_address % 4096, 0);
	assert_int_equal(cl->characteristics, PE_SECTION_DATA_RO);

	const struct pe_section *lx = pe_section_find(img, ".linux");
	assert_non_null(lx);
	assert_int_equal(lx->virtual_size, 100000);
	assert_int_equal(lx->raw_size, ALIGN_TO(100000, img->file_alignment));
	assert_ptr_equal(lx, &img->sections[img->n_sections - 1]);

	assert_int_equal(pe_section_read(img, ".cmdline", &content, &content_size), 0);
	assert_int_equal(content_size, strlen("airlock.slot=a console=ttyS0"));
	assert_memory_equal(content, "airlock.slot=a console=ttyS0", content_size);
	content = mfree(content);
	assert_int_equal(pe_section_read(img, ".linux", &content, &content_size), 0);
	assert_int_equal(content_size, 100000);
	assert_int_equal(content[99999], (uint8_t)(99999 * 7 + 1));
	assert_int_equal(pe_section_read(img, ".nope", &content, &content_size), -ENOENT);

	/* A section claiming more than PE_SECTION_READ_MAX in memory is not read. */
	{
		struct pe_section *last = &img->sections[img->n_sections - 1];
		last->virtual_size = PE_SECTION_READ_MAX + 1;
		assert_int_equal(pe_section_read(img, last->name, &content, &content_size), -EFBIG);
	}
}

static void test_deterministic_and_write(void **state)
{
	_cleanup_free_ uint8_t *a = NULL, *b = NULL, *c = NULL;
	_cleanup_(pe_image_freep) struct pe_image *img = NULL, *back = NULL;
	_cleanup_free_ char *dir = NULL, *path = NULL;
	size_t na, nb, nc;
	(void)state;
	need_stub();

	build_uki("x=1", &a, &na);
	build_uki("x=1", &b, &nb);
	build_uki("x=2", &c, &nc);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_int_equal(na, nc);
	assert_memory_not_equal(a, c, na);

	assert_int_equal(mkdtemp_in(NULL, "test-pe.", &dir), 0);
	path = path_join(dir, "uki.efi");
	assert_int_equal(pe_parse(a, na, &img), 0);
	assert_int_equal(pe_write(img, path, 0644), 0);
	assert_int_equal(pe_load(path, &back), 0);
	assert_int_equal(back->size, na);
	/* The written checksum is the one pe_checksum() computes over the result. */
	assert_int_equal(back->checksum, pe_checksum(back));
	assert_non_null(pe_section_find(back, ".initrd"));
	assert_int_equal(rm_rf(dir), 0);
}

static void test_append_errors(void **state)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL, *signed_img = NULL;
	_cleanup_free_ uint8_t *copy = NULL;
	int r = 0;
	(void)state;
	need_stub();

	assert_int_equal(pe_parse(stub_data, stub_size, &img), 0);
	assert_int_equal(pe_section_append(img, ".toolongname", "x", 1, PE_SECTION_DATA_RO),
			 -ENAMETOOLONG);
	assert_int_equal(pe_section_append(img, "", "x", 1, PE_SECTION_DATA_RO), -ENAMETOOLONG);
	assert_int_equal(pe_section_append(img, ".text", "x", 1, PE_SECTION_DATA_RO), -EEXIST);
	/* Fill the header space: eventually there is no room for another header. */
	for (int i = 0; i < 64 && r == 0; i++) {
		char name[9];
		snprintf(name, sizeof(name), ".s%d", i);
		r = pe_section_append(img, name, "x", 1, PE_SECTION_DATA_RO);
	}
	assert_int_equal(r, -ENOSPC);

	/* A certificate table (a signed image) is refused. */
	copy = malloc(stub_size);
	memcpy(copy, stub_data, stub_size);
	{
		uint32_t pe = le32(copy + 0x3c);
		uint8_t *dir4 = copy + pe + 24 + 112 + 8 * 4;
		uint32_t off = 0x400, len = 0x10;
		memcpy(dir4, &off, 4);
		memcpy(dir4 + 4, &len, 4);
	}
	assert_int_equal(pe_parse(copy, stub_size, &signed_img), 0);
	assert_int_equal(pe_section_append(signed_img, ".osrel", "x", 1, PE_SECTION_DATA_RO),
			 -EPERM);
}

static void expect_bad(const uint8_t *d, size_t n)
{
	struct pe_image *img = NULL;
	assert_int_equal(pe_parse(d, n, &img), -EBADMSG);
	assert_null(img);
}

static void test_malformed(void **state)
{
	_cleanup_free_ uint8_t *d = NULL;
	uint32_t pe, v;
	(void)state;
	need_stub();

	expect_bad((const uint8_t *)"", 0);
	expect_bad((const uint8_t *)"MZ", 2);
	/* Every truncation inside the headers is refused. */
	for (size_t n = 0; n < 0x300; n++)
		expect_bad(stub_data, n);

	d = malloc(stub_size);
#define RESET() memcpy(d, stub_data, stub_size)
	pe = le32(stub_data + 0x3c);

	RESET();
	d[0] = 'X'; /* not MZ */
	expect_bad(d, stub_size);

	RESET();
	v = (uint32_t)stub_size - 2; /* e_lfanew past the end */
	memcpy(d + 0x3c, &v, 4);
	expect_bad(d, stub_size);
	v = 0xfffffff0U;
	memcpy(d + 0x3c, &v, 4);
	expect_bad(d, stub_size);

	RESET();
	d[pe + 1] = 'X'; /* not "PE\0\0" */
	expect_bad(d, stub_size);

	RESET();
	d[pe + 24] = 0x0b; /* PE32, not PE32+ */
	d[pe + 25] = 0x01;
	expect_bad(d, stub_size);

	RESET();
	d[pe + 4 + 2] = 0; /* no sections */
	d[pe + 4 + 3] = 0;
	expect_bad(d, stub_size);

	RESET();
	d[pe + 4 + 2] = 0xff; /* far more sections than headers */
	d[pe + 4 + 3] = 0xff;
	expect_bad(d, stub_size);

	RESET();
	d[pe + 4 + 16] = 0x10; /* SizeOfOptionalHeader too small */
	d[pe + 4 + 17] = 0;
	expect_bad(d, stub_size);

	RESET();
	d[pe + 4 + 16] = 0xff; /* SizeOfOptionalHeader past the end */
	d[pe + 4 + 17] = 0xff;
	expect_bad(d, stub_size);

	RESET();
	v = 17; /* NumberOfRvaAndSizes */
	memcpy(d + pe + 24 + 108, &v, 4);
	expect_bad(d, stub_size);

	RESET();
	v = 3; /* SectionAlignment not a power of two */
	memcpy(d + pe + 24 + 32, &v, 4);
	expect_bad(d, stub_size);

	RESET();
	v = 0x7fffffff; /* certificate table past the end */
	memcpy(d + pe + 24 + 112 + 32, &v, 4);
	memcpy(d + pe + 24 + 112 + 36, &v, 4);
	expect_bad(d, stub_size);

	/* First section's raw data past the end of the file, or wrapping around. */
	{
		size_t sec = pe + 24 + 0xf0;
		RESET();
		v = (uint32_t)stub_size;
		memcpy(d + sec + 20, &v, 4);
		expect_bad(d, stub_size);
		RESET();
		v = 0xffffff00U;
		memcpy(d + sec + 20, &v, 4);
		expect_bad(d, stub_size);
		RESET();
		v = 0xffffff00U; /* VirtualAddress + size wraps */
		memcpy(d + sec + 12, &v, 4);
		expect_bad(d, stub_size);
	}
	/* Two sections of one name. */
	{
		size_t sec = pe + 24 + 0xf0;
		RESET();
		memcpy(d + sec + 40, d + sec, 8);
		expect_bad(d, stub_size);
	}
#undef RESET
}

/* Random damage to the headers must never crash the parser (run under ASan too). */
static void test_mutations(void **state)
{
	_cleanup_free_ uint8_t *d = NULL;
	uint32_t seed = 12345;
	(void)state;
	need_stub();

	d = malloc(stub_size);
	for (int round = 0; round < 3000; round++) {
		struct pe_image *img = NULL;
		memcpy(d, stub_data, stub_size);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245U + 12345U;
			size_t off = (seed >> 8) % 0x400;
			seed = seed * 1103515245U + 12345U;
			d[off] = (uint8_t)(seed >> 16);
		}
		seed = seed * 1103515245U + 12345U;
		size_t n = round % 3 == 0 ? (seed >> 4) % stub_size : stub_size;
		if (pe_parse(d, n, &img) == 0) {
			uint8_t *c = NULL;
			size_t cn;
			for (size_t i = 0; i < img->n_sections; i++) {
				/* Huge zero-filled sections are legal; reading them is slow. */
				if (img->sections[i].virtual_size >
				    img->sections[i].raw_size + 65536)
					continue;
				if (pe_section_read(img, img->sections[i].name, &c, &cn) == 0)
					c = mfree(c);
			}
			if (round % 8 == 0) {
				(void)pe_section_append(img, ".cmdline", "a=b", 3,
							PE_SECTION_DATA_RO);
				(void)pe_checksum(img);
			}
			pe_image_free(img);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stub),
		cmocka_unit_test(test_append_layout),
		cmocka_unit_test(test_deterministic_and_write),
		cmocka_unit_test(test_append_errors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
