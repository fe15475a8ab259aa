/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-init: PID 1 of the initramfs. main.c runs the steps in order; each step
 * returns normally or ends the boot through init_fatal(), which prints one line
 * naming what failed and halts or reboots. Nothing here ever returns to the kernel.
 */

#include "cmdline.h"
#include "core/macro.h"

#define SYSROOT "/sysroot"
#define SYSTEMD_PATH "/usr/lib/systemd/systemd"
#define MODULE_LIST_PATH "/etc/airlock/modules"
#define VERITY_DM_NAME "root"

/* Set once the command line is read; halt until then. */
extern enum boot_failure_action init_on_failure;

/* Prints "airlock-init: FATAL: <message>; refusing to boot (...)" and halts or reboots. */
_noreturn_ void init_fatal(const char *fmt, ...) _printf_(1, 2);
/* Halts or reboots as init_on_failure says; never returns. */
_noreturn_ void init_stop(void);
/* Writes one line (with a newline) to every console the kernel uses. */
void init_console_line(const char *fmt, ...) _printf_(1, 2);
/* Monotonic seconds. */
double init_now(void);

/* modules.c: loads the initramfs's module list in order; returns the number loaded. */
int init_load_modules(const char *list_path);

/* root.c */
struct init_root {
	char slot; /* 'a' or 'b' */
	char *root_node; /* /dev/vda2 */
	char *verity_node; /* /dev/vda3 */
	char *disk_node; /* /dev/vda */
};
/* The slots found, in the order to try them: airlock.slot= first, then the other. */
struct init_roots {
	size_t n;
	struct init_root r[2];
	char *why_not[2]; /* why slot a ([0]) or b ([1]) was not found, NULL if it was */
};
/* Waits (bounded) for the partitions of either slot and lists them; fatal if neither
 * slot's pair is there. */
void init_find_roots(const struct boot_args *a, struct init_roots *ret);
/*
 * Mounts the root read-only at SYSROOT from the first slot whose hash tree matches
 * airlock.roothash= (checked before anything is activated; the kernel then checks every
 * block as it is read) and returns that slot; fatal when none matches or the chosen one
 * cannot be activated or mounted. Never mounts a root its hash does not verify.
 */
char init_mount_root(const struct boot_args *a, const struct init_roots *roots);
/* Records the slot booted in BOOT_SLOT_PATH for the banner and boot-complete; fatal on
 * failure. */
void init_record_slot(char slot);
/* Writable /tmp and /etc over the read-only root; fatal on failure. */
void init_setup_writable(void);

/*
 * data.c: /var. The data partition of root's disk opened (TPM, else the recovery key
 * typed on a console) and mounted, or a tmpfs when there is none (the installer
 * medium, then INSTALLER_MEDIUM_PATH exists); records which in DATA_METHOD_PATH and
 * caps PCR 11 when there is a TPM. Fatal on failure: never a half-opened /var.
 */
void init_setup_var(const struct boot_args *a, const struct init_root *root);

/* switch-root.c: moves the API file systems, frees the initramfs, execs systemd. */
_noreturn_ void init_switch_root(void);
