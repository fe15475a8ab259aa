/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the console banner says about the running appliance, one place for
 * airlock-banner and airlock-console's lock screen: the image's name and version
 * (os-release), the slot airlock-init booted (BOOT_SLOT_PATH, else the command line's
 * airlock.slot=), the root hash (the command line), how /var was provided
 * (DATA_METHOD_PATH), and the addresses of the network interfaces. Each field is text
 * to show, "unknown (why)" when it cannot be read.
 */

#include "core/macro.h"

struct banner_facts {
	char *name;
	char *version;
	char *slot;
	char *root_hash;
	char *data;
	char *addresses; /* "eth0 192.0.2.10/24, ..." or "none" */
	char *cmdline_error; /* why slot and root hash are unknown, or NULL */
};

/* root: "/" or a test root (DIR/proc/cmdline, DIR/run/airlock/..., DIR/usr/lib/os-release). */
int banner_facts_load(const char *root, struct banner_facts *ret);
void banner_facts_done(struct banner_facts *f);
/* The firmware's Secure Boot state from DIR/sys/firmware/efi/efivars: "enabled",
 * "disabled", "setup mode" or "unknown (why)". */
int banner_secure_boot(const char *root, char **ret);
/* The addresses of every interface but lo, as "NAME ADDR/PREFIX" joined by ", ". */
int banner_addresses(char **ret);
