/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strv.h"
#include "kmod.h"

/* Shaped like the Debian 6.1 kernel's: every line lists its whole closure. */
static const char dep_text[] =
	"kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-bufio.ko kernel/drivers/md/dm-mod.ko "
	"kernel/lib/reed_solomon/reed_solomon.ko\n"
	"kernel/drivers/md/dm-mod.ko:\n"
	"kernel/drivers/md/dm-bufio.ko: kernel/drivers/md/dm-mod.ko\n"
	"kernel/lib/reed_solomon/reed_solomon.ko:\n"
	"kernel/drivers/md/dm-crypt.ko: kernel/drivers/md/dm-mod.ko\n"
	"kernel/fs/squashfs/squashfs.ko:\n"
	"kernel/drivers/usb/storage/uas.ko: kernel/drivers/usb/storage/usb-storage.ko "
	"kernel/drivers/scsi/scsi_mod.ko kernel/drivers/usb/core/usbcore.ko\n"
	"kernel/drivers/usb/storage/usb-storage.ko: kernel/drivers/scsi/scsi_mod.ko "
	"kernel/drivers/usb/core/usbcore.ko\n"
	"kernel/drivers/scsi/scsi_mod.ko:\n"
	"kernel/drivers/usb/core/usbcore.ko:\n";

static const char builtin_text[] = "kernel/crypto/sha256_generic.ko\n"
				   "kernel/lib/crypto/libsha256.ko\n";

static size_t index_of(char **l, const char *s)
{
	for (size_t i = 0; l[i]; i++)
		if (streq(l[i], s))
			return i;
	fail_msg("%s not in the list", s);
	return SIZE_MAX;
}

static void test_names(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	char *c = NULL;
	(void)state;

	assert_true(kmod_name_equal("dm-mod", "dm_mod"));
	assert_true(kmod_name_equal("usb_storage", "usb-storage"));
	assert_false(kmod_name_equal("dm_mod", "dm_mo"));
	assert_false(kmod_name_equal("dm", "dm_mod"));
	assert_int_equal(kmod_name_from_path("kernel/drivers/md/dm-mod.ko", &a), 0);
	assert_string_equal(a, "dm_mod");
	assert_int_equal(kmod_name_from_path("x/usb-storage.ko.zst", &b), 0);
	assert_string_equal(b, "usb_storage");
	assert_int_equal(kmod_name_from_path("kernel/x.so", &c), -EINVAL);
	assert_int_equal(kmod_name_from_path("../x.ko", &c), -EINVAL);
	assert_int_equal(kmod_name_from_path("kernel/.ko", &c), -EINVAL);
}

static void test_closure(void **state)
{
	_cleanup_(kmod_dep_freep) struct kmod_dep *d = NULL;
	_cleanup_strv_free_ char **builtin = NULL, **order = NULL, **names = NULL;
	(void)state;

	assert_int_equal(kmod_dep_parse(dep_text, &d, NULL), 0);
	assert_int_equal(d->n_entries, 10);
	assert_non_null(kmod_dep_find(d, "dm_verity"));
	assert_non_null(kmod_dep_find(d, "usb_storage"));
	assert_int_equal(kmod_builtin_parse(builtin_text, &builtin), 0);
	assert_int_equal(strv_length(builtin), 2);

	assert_int_equal(strv_split("uas dm-verity squashfs sha256_generic dm_mod", " ", &names),
			 0);
	assert_int_equal(kmod_dep_closure(d, names, builtin, &order, NULL), 0);
	/* each module once, after everything it needs; built-in ones left out */
	assert_int_equal(strv_length(order), 9);
	assert_true(index_of(order, "kernel/drivers/md/dm-mod.ko") <
		    index_of(order, "kernel/drivers/md/dm-bufio.ko"));
	assert_true(index_of(order, "kernel/drivers/md/dm-bufio.ko") <
		    index_of(order, "kernel/drivers/md/dm-verity.ko"));
	assert_true(index_of(order, "kernel/lib/reed_solomon/reed_solomon.ko") <
		    index_of(order, "kernel/drivers/md/dm-verity.ko"));
	assert_true(index_of(order, "kernel/drivers/usb/storage/usb-storage.ko") <
		    index_of(order, "kernel/drivers/usb/storage/uas.ko"));
	assert_true(index_of(order, "kernel/drivers/scsi/scsi_mod.ko") <
		    index_of(order, "kernel/drivers/usb/storage/usb-storage.ko"));
	assert_true(index_of(order, "kernel/drivers/usb/core/usbcore.ko") <
		    index_of(order, "kernel/drivers/usb/storage/usb-storage.ko"));
	/* deterministic: the order of the names decides */
	assert_string_equal(order[0], "kernel/drivers/scsi/scsi_mod.ko");
	assert_string_equal(order[8], "kernel/fs/squashfs/squashfs.ko");
}

static void test_closure_refused(void **state)
{
	_cleanup_(kmod_dep_freep) struct kmod_dep *d = NULL, *broken = NULL, *cycle = NULL;
	_cleanup_free_ char *missing = NULL;
	char **order = NULL;
	char *one[] = { (char *)"nvme", NULL }, *a[] = { (char *)"a", NULL };
	(void)state;

	assert_int_equal(kmod_dep_parse(dep_text, &d, NULL), 0);
	assert_int_equal(kmod_dep_closure(d, one, NULL, &order, &missing), -ENOENT);
	assert_string_equal(missing, "nvme");
	assert_null(order);

	/* a dependency that has no line of its own */
	assert_int_equal(kmod_dep_parse("a.ko: b.ko\n", &broken, NULL), 0);
	assert_int_equal(kmod_dep_closure(broken, a, NULL, &order, NULL), -EBADMSG);
	assert_int_equal(kmod_dep_parse("a.ko: b.ko\nb.ko: a.ko\n", &cycle, NULL), 0);
	assert_int_equal(kmod_dep_closure(cycle, a, NULL, &order, NULL), -ELOOP);
}

static void test_parse_refused(void **state)
{
	struct kmod_dep *d = NULL;
	unsigned line = 0;
	(void)state;

	assert_int_equal(kmod_dep_parse("a.ko:\nno colon here\n", &d, &line), -EBADMSG);
	assert_int_equal(line, 2);
	assert_int_equal(kmod_dep_parse("a.ko: ../../etc/passwd\n", &d, &line), -EBADMSG);
	assert_int_equal(kmod_dep_parse("a.txt:\n", &d, &line), -EBADMSG);
	assert_null(d);
}

static void test_list(void **state)
{
	_cleanup_strv_free_ char **paths = NULL, **back = NULL, **empty = NULL;
	_cleanup_free_ char *text = NULL, *etext = NULL;
	char **bad = NULL;
	char *rel[] = { (char *)"usr/lib/modules/x/a.ko", NULL };
	unsigned line = 0;
	(void)state;

	assert_int_equal(strv_split("/usr/lib/modules/6.1/kernel/drivers/md/dm-mod.ko "
				    "/usr/lib/modules/6.1/kernel/drivers/md/dm-verity.ko",
				    " ", &paths),
			 0);
	assert_int_equal(kmod_list_format(paths, &text), 0);
	assert_non_null(strstr(text, "#"));
	assert_int_equal(kmod_list_parse(text, &back, NULL), 0);
	assert_int_equal(strv_length(back), 2);
	assert_string_equal(back[1], paths[1]);

	assert_int_equal(kmod_list_format(rel, &etext), -EINVAL);
	assert_int_equal(kmod_list_parse("# c\n/a.ko\nrelative.ko\n", &bad, &line), -EBADMSG);
	assert_int_equal(line, 3);
	assert_int_equal(kmod_list_parse("/x/../y.ko\n", &bad, &line), -EBADMSG);
	assert_int_equal(kmod_list_parse("/x/y.so\n", &bad, &line), -EBADMSG);
	assert_null(bad);
	assert_int_equal(kmod_list_parse("# nothing\n", &empty, NULL), 0);
	assert_int_equal(strv_length(empty), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_closure),
		cmocka_unit_test(test_closure_refused),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
