/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>

#include "core/strv.h"
#include "elfinfo.h"

/*
 * A small, hand-made x86-64 ELF: header, PT_LOAD over the whole file at 0x400000,
 * PT_INTERP, PT_DYNAMIC with two DT_NEEDED and a DT_SONAME, and the string table.
 */
struct fake {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	char interp[32];
	Elf64_Dyn dyn[6];
	char strtab[64];
};

#define VADDR 0x400000
#define OFF(f) offsetof(struct fake, f)

static void make_fake(struct fake *f)
{
	static const char strings[] = "\0libfoo.so.1\0libc.so.6\0libme.so.2";

	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_ident[EI_VERSION] = EV_CURRENT;
	f->eh.e_type = ET_DYN;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_phoff = OFF(ph);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = 3;
	f->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_offset = 0,
				 .p_vaddr = VADDR,
				 .p_filesz = sizeof(*f),
				 .p_memsz = sizeof(*f) };
	f->ph[1] = (Elf64_Phdr){ .p_type = PT_INTERP,
				 .p_offset = OFF(interp),
				 .p_filesz = sizeof("/lib64/ld-linux-x86-64.so.2") };
	memcpy(f->interp, "/lib64/ld-linux-x86-64.so.2", sizeof("/lib64/ld-linux-x86-64.so.2"));
	f->ph[2] = (Elf64_Phdr){ .p_type = PT_DYNAMIC,
				 .p_offset = OFF(dyn),
				 .p_vaddr = VADDR + OFF(dyn),
				 .p_filesz = sizeof(f->dyn) };
	f->dyn[0] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = 1 };
	f->dyn[1] = (Elf64_Dyn){ .d_tag = DT_STRTAB, .d_un.d_ptr = VADDR + OFF(strtab) };
	f->dyn[2] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = 13 };
	f->dyn[3] = (Elf64_Dyn){ .d_tag = DT_STRSZ, .d_un.d_val = sizeof(strings) };
	f->dyn[4] = (Elf64_Dyn){ .d_tag = DT_SONAME, .d_un.d_val = 23 };
	f->dyn[5] = (Elf64_Dyn){ .d_tag = DT_NULL };
	memcpy(f->strtab, strings, sizeof(strings));
}

static void test_fake(void **state)
{
	_cleanup_(elf_info_freep) struct elf_info *e = NULL;
	struct fake f;
	(void)state;

	make_fake(&f);
	assert_int_equal(elf_info_parse(&f, sizeof(f), &e), 0);
	assert_string_equal(e->interpreter, "/lib64/ld-linux-x86-64.so.2");
	assert_int_equal(strv_length(e->needed), 2);
	assert_string_equal(e->needed[0], "libfoo.so.1");
	assert_string_equal(e->needed[1], "libc.so.6");
	assert_string_equal(e->soname, "libme.so.2");
}

static void expect(int r, void (*mutate)(struct fake *f), size_t size)
{
	struct elf_info *e = NULL;
	struct fake f;

	make_fake(&f);
	if (mutate)
		mutate(&f);
	assert_int_equal(elf_info_parse(&f, size ? size : sizeof(f), &e), r);
	assert_null(e);
}

static void bad_magic(struct fake *f)
{
	f->eh.e_ident[1] = 'X';
}
static void elf32(struct fake *f)
{
	f->eh.e_ident[EI_CLASS] = ELFCLASS32;
}
static void arm(struct fake *f)
{
	f->eh.e_machine = EM_AARCH64;
}
static void phoff_out(struct fake *f)
{
	f->eh.e_phoff = 1 << 20;
}
static void strtab_unmapped(struct fake *f)
{
	f->dyn[1].d_un.d_ptr = 0x10;
}
static void needed_out(struct fake *f)
{
	f->dyn[0].d_un.d_val = 5000;
}
static void strsz_huge(struct fake *f)
{
	f->dyn[3].d_un.d_val = 1 << 30;
}
static void interp_unterminated(struct fake *f)
{
	f->ph[1].p_filesz = 5;
}
static void no_strtab(struct fake *f)
{
	f->dyn[1].d_tag = DT_DEBUG;
}

static void test_refused(void **state)
{
	(void)state;

	expect(-ENOEXEC, bad_magic, 0);
	expect(-ENOEXEC, NULL, 3);
	expect(-EPROTONOSUPPORT, elf32, 0);
	expect(-EPROTONOSUPPORT, arm, 0);
	expect(-EBADMSG, NULL, sizeof(Elf64_Ehdr) + 10);
	expect(-EBADMSG, phoff_out, 0);
	expect(-EBADMSG, strtab_unmapped, 0);
	expect(-EBADMSG, needed_out, 0);
	expect(-EBADMSG, strsz_huge, 0);
	expect(-EBADMSG, interp_unterminated, 0);
	expect(-EBADMSG, no_strtab, 0);
}

/* This very test program: linked against libc by the host toolchain. */
static void test_self(void **state)
{
	_cleanup_(elf_info_freep) struct elf_info *e = NULL;
	(void)state;

	assert_int_equal(elf_info_read("/proc/self/exe", &e), 0);
	assert_non_null(e->interpreter);
	assert_true(strv_contains(e->needed, "libc.so.6"));
	assert_true(strv_contains(e->needed, "libcmocka.so.0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
