/* SPDX-License-Identifier: Apache-2.0 */
#include <elf.h>

#include "core/fileio.h"
#include "core/strv.h"
#include "elfinfo.h"

#define ELF_MAX_SIZE (512U * 1024U * 1024U)

struct elf_info *elf_info_free(struct elf_info *e)
{
	if (!e)
		return NULL;
	free(e->interpreter);
	strv_free(e->needed);
	free(e->soname);
	free(e);
	return NULL;
}

static bool in_bounds(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* File offset of a virtual address, through the PT_LOAD segment that maps it. */
static int vaddr_to_offset(const Elf64_Phdr *ph, size_t n, uint64_t vaddr, uint64_t *ret)
{
	for (size_t i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (vaddr >= ph[i].p_vaddr && vaddr - ph[i].p_vaddr < ph[i].p_filesz) {
			*ret = ph[i].p_offset + (vaddr - ph[i].p_vaddr);
			return 0;
		}
	}
	return -EBADMSG;
}

static int string_at(const uint8_t *data, size_t size, uint64_t strtab, uint64_t strsz,
		     uint64_t index, char **ret)
{
	const char *s;
	size_t max, len;

	if (!in_bounds(size, strtab, strsz) || index >= strsz)
		return -EBADMSG;
	s = (const char *)data + strtab + index;
	max = strsz - index;
	len = strnlen(s, max);
	if (len == max || len == 0)
		return -EBADMSG;
	*ret = strndup(s, len);
	return *ret ? 0 : -ENOMEM;
}

int elf_info_parse(const void *data, size_t size, struct elf_info **ret)
{
	_cleanup_(elf_info_freep) struct elf_info *e = new0(struct elf_info, 1);
	const uint8_t *d = data;
	Elf64_Ehdr ehdr;
	const Elf64_Ehdr *eh = &ehdr;
	_cleanup_free_ Elf64_Phdr *ph = NULL;
	_cleanup_free_ uint64_t *needed = NULL;
	size_t n_needed = 0;
	uint64_t strtab = 0, strsz = 0, soname = UINT64_MAX, dyn_off = 0, dyn_size = 0;
	bool have_strtab = false, have_dynamic = false;
	int r;

	if (!e)
		return -ENOMEM;
	if (size < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB)
		return -EPROTONOSUPPORT;
	if (size < sizeof(Elf64_Ehdr))
		return -EBADMSG;
	memcpy(&ehdr, d, sizeof(ehdr));
	if (eh->e_machine != EM_X86_64)
		return -EPROTONOSUPPORT;
	if (eh->e_phnum > 0 && eh->e_phentsize != sizeof(Elf64_Phdr))
		return -EBADMSG;
	if (!in_bounds(size, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return -EBADMSG;
	/* Copied out: the caller's buffer need not be aligned. */
	ph = new0(Elf64_Phdr, eh->e_phnum);
	if (!ph)
		return -ENOMEM;
	memcpy(ph, d + eh->e_phoff, (size_t)eh->e_phnum * sizeof(Elf64_Phdr));

	for (size_t i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			const char *s;
			size_t len;

			if (e->interpreter || !in_bounds(size, ph[i].p_offset, ph[i].p_filesz) ||
			    ph[i].p_filesz < 2)
				return -EBADMSG;
			s = (const char *)d + ph[i].p_offset;
			len = strnlen(s, ph[i].p_filesz);
			if (len == 0 || len == ph[i].p_filesz)
				return -EBADMSG;
			e->interpreter = strndup(s, len);
			if (!e->interpreter)
				return -ENOMEM;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			if (have_dynamic || !in_bounds(size, ph[i].p_offset, ph[i].p_filesz))
				return -EBADMSG;
			have_dynamic = true;
			dyn_off = ph[i].p_offset;
			dyn_size = ph[i].p_filesz;
		}
	}

	for (uint64_t o = 0; have_dynamic && o + sizeof(Elf64_Dyn) <= dyn_size;
	     o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn dyn;

		memcpy(&dyn, d + dyn_off + o, sizeof(dyn));
		if (dyn.d_tag == DT_NULL)
			break;
		switch (dyn.d_tag) {
		case DT_STRTAB:
			r = vaddr_to_offset(ph, eh->e_phnum, dyn.d_un.d_ptr, &strtab);
			if (r < 0)
				return r;
			have_strtab = true;
			break;
		case DT_STRSZ:
			strsz = dyn.d_un.d_val;
			break;
		case DT_SONAME:
			soname = dyn.d_un.d_val;
			break;
		case DT_NEEDED: {
			uint64_t *n = reallocarray(needed, n_needed + 1, sizeof(*n));
			if (!n)
				return -ENOMEM;
			needed = n;
			needed[n_needed++] = dyn.d_un.d_val;
			break;
		}
		default:
			break;
		}
	}
	if ((n_needed > 0 || soname != UINT64_MAX) && !have_strtab)
		return -EBADMSG;

	for (size_t i = 0; i < n_needed; i++) {
		char *s;

		r = string_at(d, size, strtab, strsz, needed[i], &s);
		if (r < 0)
			return r;
		r = strv_push(&e->needed, s);
		if (r < 0)
			return r;
	}
	if (soname != UINT64_MAX) {
		r = string_at(d, size, strtab, strsz, soname, &e->soname);
		if (r < 0)
			return r;
	}
	if (!e->needed && !(e->needed = new0(char *, 1)))
		return -ENOMEM;
	*ret = TAKE_PTR(e);
	return 0;
}

int elf_info_read(const char *path, struct elf_info **ret)
{
	_cleanup_free_ char *data = NULL;
	size_t size;
	int r = read_full_file(path, ELF_MAX_SIZE, &data, &size);

	if (r < 0)
		return r;
	return elf_info_parse(data, size, ret);
}
