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
/* Monotonic seconds. */
double init_now(void);

/* modules.c: loads the initramfs's module list in order; returns the number loaded. */
int init_load_modules(const char *list_path);

/* root.c */
struct init_root {
	char *root_node; /* /dev/vda2 */
	char *verity_node; /* /dev/vda3 */
	char *disk_node; /* /dev/vda */
};
/* Waits (bounded) for the slot's partitions and picks them; fatal on failure. */
void init_find_root(const struct boot_args *a, struct init_root *ret);
/* Checks and activates dm-verity and mounts the root read-only at SYSROOT; fatal on failure. */
void init_mount_root(const struct boot_args *a, const struct init_root *root);
/* Writable /tmp, /var and /etc over the read-only root; fatal on failure. */
void init_setup_writable(void);

/* switch-root.c: moves the API file systems, frees the initramfs, execs systemd. */
_noreturn_ void init_switch_root(void);
