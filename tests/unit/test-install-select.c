/* SPDX-License-Identifier: Apache-2.0 */
/*
 * installer/select.c: which disk may be the target and which one the answer file
 * names. The boot medium, a disk in use, a read-only or too small disk are refused;
 * a criterion matching two disks picks none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/sysmacros.h>

#include "../../installer/installer.h"
#include "core/strv.h"

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)
#define BOOT_PART "97a76e3c-53d8-4d19-844f-bcd2a837158d"

struct fixture {
	struct install_disk d[5];
	size_t n;
};

static char **strv(const char *a, const char *b)
{
	char **l = NULL;
	assert_int_equal(strv_extend(&l, a), 0);
	if (b)
		assert_int_equal(strv_extend(&l, b), 0);
	return l;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct install_part *usb_parts = calloc(1, sizeof(*usb_parts));

	assert_non_null(f);
	/* sda: the USB stick the installer booted from */
	usb_parts[0] =
		(struct install_part){ .number = 1,
				       .name = strdup("esp"),
				       .type = strdup("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"),
				       .size_bytes = 256 * MiB,
				       .fs_type = strdup("vfat"),
				       .fs_label = strdup("ESP") };
	f->d[0] = (struct install_disk){
		.node = strdup("/dev/sda"),
		.devnum = makedev(8, 0),
		.model = strdup("Cruzer Blade"),
		.serial = strdup("4C530001"),
		.by_id = strv("usb-SanDisk_Cruzer_Blade_4C530001-0:0", NULL),
		.size_bytes = 8 * GiB,
		.removable = true,
		.table_type = strdup("gpt"),
		.parts = usb_parts,
		.n_parts = 1,
		.part_uuids = strv(BOOT_PART, NULL),
	};
	/* sdb: an empty 8 GiB disk of the same size */
	f->d[1] = (struct install_disk){
		.node = strdup("/dev/sdb"),
		.devnum = makedev(8, 16),
		.model = strdup("QEMU HARDDISK"),
		.serial = strdup("QM00002"),
		.by_id = strv("ata-QEMU_HARDDISK_QM00002", "wwn-0x5000c500a1b2c3d4"),
		.size_bytes = 8 * GiB,
	};
	/* nvme0n1: the larger disk */
	f->d[2] = (struct install_disk){
		.node = strdup("/dev/nvme0n1"),
		.devnum = makedev(259, 0),
		.model = strdup("Samsung SSD 980 1TB"),
		.serial = strdup("S64ANS0T"),
		.by_id = strv("nvme-Samsung_SSD_980_1TB_S64ANS0T", NULL),
		.size_bytes = 1000 * GiB,
	};
	/* sdc: too small */
	f->d[3] = (struct install_disk){
		.node = strdup("/dev/sdc"),
		.devnum = makedev(8, 32),
		.model = strdup("QEMU HARDDISK"),
		.size_bytes = 2 * GiB,
	};
	/* sdd: mounted */
	f->d[4] = (struct install_disk){
		.node = strdup("/dev/sdd"),
		.devnum = makedev(8, 48),
		.model = strdup("QEMU HARDDISK"),
		.size_bytes = 16 * GiB,
		.mounted = strv("8:49 mounted on /srv", NULL),
	};
	f->n = 5;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < f->n; i++)
		install_disk_done(&f->d[i]);
	free(f);
	return 0;
}

static const struct boot_facts facts = {
	.boot_part_uuid = BOOT_PART,
	.min_disk_bytes = 4 * GiB,
};

static void test_decide(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(disks_decide(f->d, f->n, &facts), 0);
	assert_non_null(f->d[0].refusal);
	assert_non_null(strstr(f->d[0].refusal, "boot medium"));
	assert_non_null(strstr(f->d[0].refusal, BOOT_PART));
	assert_null(f->d[1].refusal);
	assert_null(f->d[2].refusal);
	assert_non_null(strstr(f->d[3].refusal, "too small: 2.0 GiB, the image needs at least "
						"4.0 GiB"));
	assert_non_null(strstr(f->d[4].refusal, "in use: 8:49 mounted on /srv"));
	assert_string_equal(install_disk_name(&f->d[2]), "nvme0n1");

	/* the --source medium by device number, and by file identity */
	struct boot_facts src = { .source_devnum = makedev(259, 0), .min_disk_bytes = GiB };
	for (size_t i = 0; i < f->n; i++)
		f->d[i].refusal = mfree(f->d[i].refusal);
	assert_int_equal(disks_decide(f->d, f->n, &src), 0);
	assert_non_null(strstr(f->d[2].refusal, "installer medium"));
	assert_null(f->d[0].refusal); /* no LoaderDevicePartUUID given this time */

	struct install_disk img = { .node = strdup("/tmp/t.img"),
				    .is_file = true,
				    .file_dev = 5,
				    .file_ino = 77,
				    .size_bytes = 8 * GiB,
				    .read_only = true };
	struct boot_facts file_src = { .source_file_dev = 5, .source_file_ino = 77 };
	assert_int_equal(disks_decide(&img, 1, &file_src), 0);
	assert_non_null(strstr(img.refusal, "installer medium"));
	img.refusal = mfree(img.refusal);
	file_src.source_file_ino = 78;
	assert_int_equal(disks_decide(&img, 1, &file_src), 0);
	assert_non_null(strstr(img.refusal, "read-only"));
	install_disk_done(&img);

	/* a loop device over the medium's file: refused through what it is backed by */
	struct stat_id medium = { .is_file = true, .file_dev = 5, .file_ino = 77 };
	struct stat_id *loop_backing = calloc(2, sizeof(struct stat_id));
	assert_non_null(loop_backing);
	loop_backing[0] = (struct stat_id){ .devnum = makedev(7, 0) };
	loop_backing[1] = medium;
	struct install_disk loop = { .node = strdup("/dev/loop0"),
				     .devnum = makedev(7, 0),
				     .size_bytes = 8 * GiB,
				     .backing = loop_backing,
				     .n_backing = 2 };
	struct boot_facts via = { .source_file_dev = 5,
				  .source_file_ino = 77,
				  .source_backing = &medium,
				  .n_source_backing = 1 };
	assert_int_equal(disks_decide(&loop, 1, &via), 0);
	assert_non_null(strstr(loop.refusal, "installer medium"));
	assert_non_null(strstr(loop.refusal, "loop"));
	loop.refusal = mfree(loop.refusal);
	medium.file_ino = 78; /* another file: nothing shared */
	assert_int_equal(disks_decide(&loop, 1, &via), 0);
	assert_null(loop.refusal);
	assert_false(stat_ids_overlap(loop.backing, 1, &medium, 1));
	install_disk_done(&loop);
}

static void expect_select(struct fixture *f, struct disk_match m, int want, size_t want_index,
			  const char *msg)
{
	_cleanup_free_ char *error = NULL;
	size_t i = SIZE_MAX;

	assert_int_equal(disks_select(f->d, f->n, &m, &i, &error), want);
	if (want == 0)
		assert_int_equal(i, want_index);
	else {
		assert_int_equal(i, SIZE_MAX);
		if (!strstr(error, msg))
			fail_msg("'%s' lacks '%s'", error, msg);
		assert_non_null(strstr(error, "Nothing was changed"));
	}
}

static void test_select(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(disks_decide(f->d, f->n, &facts), 0);
	/* by path, by-id, model, serial, size */
	expect_select(f, (struct disk_match){ .path = (char *)"/dev/sdb" }, 0, 1, NULL);
	expect_select(f, (struct disk_match){ .id = (char *)"wwn-0x5000c500a1b2c3d4" }, 0, 1, NULL);
	expect_select(f, (struct disk_match){ .model = (char *)"Samsung*" }, 0, 2, NULL);
	expect_select(f, (struct disk_match){ .serial = (char *)"QM00002" }, 0, 1, NULL);
	expect_select(f, (struct disk_match){ .min_size_bytes = 500 * GiB }, 0, 2, NULL);
	/* 8 GiB: sda and sdb both are, but sda is the boot medium: sdb, the only candidate */
	expect_select(f, (struct disk_match){ .size_bytes = 8 * GiB }, 0, 1, NULL);
	/* ambiguous: two disks match; both are named */
	expect_select(f, (struct disk_match){ .min_size_bytes = 4 * GiB }, -ENOTUNIQ, 0,
		      "2 disks match disk-min-size=4.0 GiB: /dev/sdb (8.0 GiB, QEMU HARDDISK); "
		      "/dev/nvme0n1");
	expect_select(f, (struct disk_match){ .model = (char *)"*" }, -ENOTUNIQ, 0,
		      "2 disks match");
	/* refused: the only match is the boot medium, or in use, or too small */
	expect_select(f, (struct disk_match){ .path = (char *)"/dev/sda" }, -EPERM, 0,
		      "/dev/sda (8.0 GiB, Cruzer Blade): it is the installer's boot medium");
	expect_select(f,
		      (struct disk_match){ .id = (char *)"usb-SanDisk_Cruzer_Blade_4C530001-0:0" },
		      -EPERM, 0, "boot medium");
	expect_select(f, (struct disk_match){ .path = (char *)"/dev/sdd" }, -EPERM, 0, "in use");
	expect_select(f, (struct disk_match){ .path = (char *)"/dev/sdc" }, -EPERM, 0, "too small");
	/* none: the list of what was seen */
	expect_select(
		f, (struct disk_match){ .path = (char *)"/dev/sdz" }, -ENOENT, 0,
		"no disk matches disk=/dev/sdz; disks found: /dev/sda (8.0 GiB, Cruzer Blade); "
		"/dev/sdb");
	/* every criterion must hold */
	expect_select(f, (struct disk_match){ .path = (char *)"/dev/sdb", .size_bytes = 9 * GiB },
		      -ENOENT, 0, "disk=/dev/sdb, disk-size=9.0 GiB");
	expect_select(f, (struct disk_match){ .model = (char *)"QEMU*", .serial = (char *)"none" },
		      -ENOENT, 0, "no disk matches");
}

static void test_contents(void **state)
{
	struct fixture *f = *state;
	_cleanup_strv_free_ char **l = NULL, **empty = NULL;

	assert_int_equal(disk_describe_contents(&f->d[0], &l), 0);
	assert_string_equal(l[0], "the gpt partition table");
	assert_string_equal(l[1], "partition 1 'esp': vfat 'ESP', 256.0 MiB");
	assert_null(l[2]);
	assert_int_equal(disk_describe_contents(&f->d[1], &empty), 0);
	assert_non_null(strstr(empty[0], "no partition table or file system recognized"));

	struct install_disk whole = { .node = (char *)"/dev/sde",
				      .fs_type = (char *)"ext4",
				      .fs_label = (char *)"backup" };
	_cleanup_strv_free_ char **w = NULL;
	assert_int_equal(disk_describe_contents(&whole, &w), 0);
	assert_string_equal(w[0], "a ext4 file system 'backup' on the whole disk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contents, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
