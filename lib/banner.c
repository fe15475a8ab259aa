/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>

#include "banner.h"
#include "cmdline.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/path.h"
#include "dataunlock.h"
#include "osrelease.h"

#define OS_RELEASE "/usr/lib/os-release"

static char *unknown(const char *path, int r)
{
	char *t = NULL;

	if (asprintf(&t, "unknown (%s: %s)", path, strerror(-r)) < 0)
		return NULL;
	return t;
}

static char *data_text(const char *root)
{
	_cleanup_free_ char *path = path_join(root, DATA_METHOD_PATH), *method = NULL;
	char *text = NULL;
	int r;

	if (!path)
		return NULL;
	r = read_line_file(path, 64, &method);
	if (r < 0)
		return unknown(path, r);
	if (streq(method, "tpm"))
		return strdup("/var on the data volume, opened by the TPM");
	if (streq(method, "recovery"))
		return strdup("/var on the data volume, opened with the RECOVERY KEY (the TPM "
			      "refused)");
	if (streq(method, "none"))
		return strdup("none: /var is in memory (installer medium)");
	if (asprintf(&text, "unknown (%s says '%s')", path, method) < 0)
		return NULL;
	return text;
}

static int prefix_len(const struct sockaddr *mask)
{
	const uint8_t *b;
	size_t n;
	int bits = 0;

	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

int banner_addresses(char **ret)
{
	struct ifaddrs *list = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (struct ifaddrs *i = list; i; i = i->ifa_next) {
		char addr[INET6_ADDRSTRLEN];
		const void *a;
		char *grown;
		int n;

		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		a = i->ifa_addr->sa_family == AF_INET ?
			    (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
			    (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!inet_ntop(i->ifa_addr->sa_family, a, addr, sizeof(addr)))
			continue;
		n = snprintf(NULL, 0, "%s%s %s/%d", len ? ", " : "", i->ifa_name, addr,
			     prefix_len(i->ifa_netmask));
		grown = realloc(text, len + (size_t)n + 1);
		if (!grown) {
			freeifaddrs(list);
			return -ENOMEM;
		}
		text = grown;
		(void)snprintf(text + len, (size_t)n + 1, "%s%s %s/%d", len ? ", " : "",
			       i->ifa_name, addr, prefix_len(i->ifa_netmask));
		len += (size_t)n;
	}
	freeifaddrs(list);
	*ret = text ? TAKE_PTR(text) : strdup("none");
	return *ret ? 0 : -ENOMEM;
}

#define EFI_GLOBAL "8be4df61-93ca-11d2-aa0d-e0a98c7be6c6"

/* An EFI global variable's one-byte value (after its 4 attribute bytes), or -errno. */
static int efi_byte(const char *root, const char *name, char *ret)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	size_t size = 0;
	int r;

	if (asprintf(&path, "%s/sys/firmware/efi/efivars/%s-" EFI_GLOBAL,
		     streq(root, "/") ? "" : root, name) < 0)
		return -ENOMEM;
	r = read_full_file(path, 64, &data, &size);
	if (r < 0)
		return r;
	if (size != 5)
		return -EBADMSG;
	*ret = data[4];
	return 0;
}

int banner_secure_boot(const char *root, char **ret)
{
	char sb = 0, setup = 0;
	int r;

	r = efi_byte(root, "SecureBoot", &sb);
	if (r < 0) {
		if (asprintf(ret, "unknown (the SecureBoot EFI variable: %s)", strerror(-r)) < 0)
			return -ENOMEM;
		return 0;
	}
	if (efi_byte(root, "SetupMode", &setup) == 0 && setup == 1)
		*ret = strdup("setup mode (no platform key: nothing is enforced)");
	else
		*ret = strdup(sb == 1 ? "enabled" : "disabled");
	return *ret ? 0 : -ENOMEM;
}

static char *os_release_value(const char *text, const char *key)
{
	char *v = NULL;

	if (!text || osrelease_get(text, key, &v) < 0)
		return strdup("unknown");
	return v;
}

int banner_facts_load(const char *root, struct banner_facts *f)
{
	_cleanup_free_ char *os = NULL, *os_path = path_join(root, OS_RELEASE),
			    *cmdline_path = path_join(root, "/proc/cmdline"),
			    *slot_path = path_join(root, BOOT_SLOT_PATH), *error = NULL;
	struct boot_args a;
	char slot;
	int r;

	*f = (struct banner_facts){ 0 };
	if (!os_path || !cmdline_path || !slot_path)
		return -ENOMEM;
	r = read_full_file(os_path, 64 * 1024, &os, NULL);
	if (r < 0)
		log_debug_errno(r, "cannot read %s: %m", os_path);
	f->name = os_release_value(os, "IMAGE_ID");
	f->version = os_release_value(os, "IMAGE_VERSION");
	f->data = data_text(root);
	if (boot_args_load(cmdline_path, &a, &error) >= 0) {
		r = boot_slot_load(slot_path, &slot);
		if (r == -ENOENT)
			r = asprintf(&f->slot, "%c", a.slot) < 0 ? -ENOMEM : 0;
		else if (r < 0)
			f->slot = unknown(slot_path, r);
		else
			r = asprintf(&f->slot, "%c", slot) < 0 ? -ENOMEM : 0;
		f->root_hash = strdup(a.root_hash_hex);
	} else {
		f->cmdline_error = strdup(strna(error));
		f->slot = strdup("unknown");
		f->root_hash = strdup("unknown");
		if (!f->cmdline_error)
			f->slot = mfree(f->slot);
	}
	if (banner_addresses(&f->addresses) < 0)
		f->addresses = strdup("unknown");
	if (!f->name || !f->version || !f->data || !f->slot || !f->root_hash || !f->addresses) {
		banner_facts_done(f);
		return -ENOMEM;
	}
	return 0;
}

void banner_facts_done(struct banner_facts *f)
{
	free(f->name);
	free(f->version);
	free(f->slot);
	free(f->root_hash);
	free(f->data);
	free(f->addresses);
	free(f->cmdline_error);
	*f = (struct banner_facts){ 0 };
}
