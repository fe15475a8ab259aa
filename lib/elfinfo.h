/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* (Named elfinfo, not elf: lib/ is on the include path and must not shadow <elf.h>.) */
/*
 * Just enough ELF to gather a program's shared libraries without running it (no ldd,
 * no host loader): the program interpreter (PT_INTERP) and the DT_NEEDED names of a
 * 64-bit little-endian x86-64 ELF file. Every offset is bounds-checked: the input may
 * be any file of an image tree.
 */

#include <stdint.h>

#include "core/macro.h"

struct elf_info {
	char *interpreter; /* PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; NULL if static */
	char **needed; /* DT_NEEDED sonames in file order; empty vector if none */
	char *soname; /* DT_SONAME or NULL */
};

/*
 * Parses an ELF image in memory. -ENOEXEC if it is not ELF, -EPROTONOSUPPORT if it is
 * not 64-bit little-endian x86-64, -EBADMSG if it is truncated or inconsistent.
 */
int elf_info_parse(const void *data, size_t size, struct elf_info **ret);
/* Reads and parses a file. */
int elf_info_read(const char *path, struct elf_info **ret);
struct elf_info *elf_info_free(struct elf_info *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct elf_info *, elf_info_free);
