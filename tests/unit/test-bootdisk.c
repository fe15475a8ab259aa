/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/bootdisk.c: the boot disk from a fake root (run/airlock/slot, proc/self/mountinfo
 * and a sysfs tree with relative links, as the kernel makes them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootdisk.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"

#define VERITY_UUID "CRYPT-VERITY-0123456789abcdef0123456789abcdef-root"
#define DM "sys/devices/virtual/block/dm-0"
#define VDA "sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda"
#define VDB "sys/devices/pci0000:00/0000:00:05.0/virtio3/block/vdb"

static char *root;

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *p = path_join(root, rel);

	assert_non_null(p);
	assert_int_equal(mkdir_parents(p, 0755), 0);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void link_to(const char *rel, const char *target)
{
	_cleanup_free_ char *p = path_join(root, rel);

	assert_non_null(p);
	assert_int_equal(mkdir_parents(p, 0755), 0);
	(void)unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void partition(const char *dir, const char *name, const char *number, const char *start)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s/partition", dir, name);
	put(p, number);
	snprintf(p, sizeof(p), "%s/%s/start", dir, name);
	put(p, start);
}

/* An installed appliance booted from slot b: / on dm-0 over vda4 and vda5. */
static int setup(void **state)
{
	(void)state;
	assert_int_equal(mkdtemp_in(NULL, "test-bootdisk.", &root), 0);
	put("run/airlock/slot", "b\n");
	put("proc/self/mountinfo",
	    "1 0 0:2 / / rw - rootfs rootfs rw\n"
	    "22 1 254:0 / / ro,relatime shared:1 - squashfs /dev/mapper/root ro\n"
	    "23 22 0:21 / /run rw,nosuid shared:2 - tmpfs tmpfs rw\n"
	    "24 22 0:22 / /var rw shared:3 - tmpfs tmpfs rw\n");
	link_to("sys/dev/block/254:0", "../../devices/virtual/block/dm-0");
	put(DM "/dm/name", "root\n");
	put(DM "/dm/uuid", VERITY_UUID "\n");
	link_to(DM "/slaves/vda5", "../../../../pci0000:00/0000:00:04.0/virtio2/block/vda/vda5");
	link_to(DM "/slaves/vda4", "../../../../pci0000:00/0000:00:04.0/virtio2/block/vda/vda4");
	put(VDA "/size", "16777216\n");
	link_to("sys/class/block/vda", "../../devices/pci0000:00/0000:00:04.0/virtio2/block/vda");
	partition(VDA, "vda1", "1\n", "2048\n");
	put(VDA "/vda1/dev", "253:1\n");
	put(VDA "/vda4/dev", "253:4\n");
	put(VDA "/vda5/dev", "253:5\n");
	partition(VDA, "vda4", "4\n", "2621440\n");
	partition(VDA, "vda5", "5\n", "4718592\n");
	partition(VDB, "vdb2", "2\n", "526336\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)rm_rf(root);
	root = mfree(root);
	return 0;
}

static void expect_error(int want, const char *fragment)
{
	struct bootdisk d = {};
	char *error = NULL;

	assert_int_equal(bootdisk_find(root, &d, &error), want);
	assert_non_null(error);
	if (!strstr(error, fragment))
		fail_msg("error '%s' does not say '%s'", error, fragment);
	assert_null(d.disk);
	free(error);
}

static void test_found(void **state)
{
	_cleanup_free_ char *node = NULL;
	struct bootdisk d = {};
	char *error = NULL;

	(void)state;
	assert_int_equal(bootdisk_find(root, &d, &error), 0);
	assert_null(error);
	assert_int_equal(d.slot, 'b');
	assert_string_equal(d.disk, "vda");
	node = path_join(root, "dev/vda");
	assert_string_equal(d.node, node);
	assert_string_equal(d.dm_name, "root");
	assert_string_equal(d.parts[0].name, "vda4");
	assert_int_equal(d.parts[0].number, 4);
	assert_int_equal(d.parts[0].start_bytes, UINT64_C(2621440) * 512);
	assert_string_equal(d.parts[1].name, "vda5");
	assert_int_equal(d.parts[1].number, 5);
	assert_int_equal(bootdisk_part_at(&d, UINT64_C(4718592) * 512), 5);
	assert_int_equal(bootdisk_part_at(&d, UINT64_C(4718593) * 512), 0);
	bootdisk_done(&d);
	assert_null(d.disk);
}

static void test_mounted(void **state)
{
	struct bootdisk d = {};
	char *where = NULL;

	(void)state;
	assert_int_equal(bootdisk_find(root, &d, NULL), 0);
	assert_int_equal(bootdisk_part_mounted(root, &d, 1, &where), 0);
	assert_null(where);
	put("proc/self/mountinfo",
	    "22 1 254:0 / / ro,relatime shared:1 - squashfs /dev/mapper/root ro\n"
	    "30 22 0:40 / /efi rw - autofs systemd-1 rw\n"
	    "31 30 253:1 / /efi rw,relatime - vfat /dev/vda1 rw\n"
	    "32 22 253:1 / /mnt rw,relatime - vfat /dev/vda1 rw\n");
	assert_int_equal(bootdisk_part_mounted(root, &d, 1, &where), 1);
	assert_string_equal(where, "/efi");
	free(where);
	assert_int_equal(bootdisk_part_mounted(root, &d, 4, &where), 0);
	assert_int_equal(bootdisk_part_mounted(root, &d, 9, &where), -ENOENT);
	bootdisk_done(&d);
}

static void test_not_airlock_init(void **state)
{
	_cleanup_free_ char *p = path_join(root, "run/airlock/slot");

	(void)state;
	assert_int_equal(unlink(p), 0);
	expect_error(-ENOENT, "not booted by airlock-init");
	put("run/airlock/slot", "c\n");
	expect_error(-EINVAL, "not 'a' or 'b'");
}

static void test_not_dm(void **state)
{
	(void)state;
	put("proc/self/mountinfo", "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n");
	link_to("sys/dev/block/8:2", "../../devices/pci0000:00/sda/sda2");
	put("sys/devices/pci0000:00/sda/sda2/partition", "2\n");
	expect_error(-ENODEV, "not a device-mapper device");
	put("proc/self/mountinfo", "22 1 0:21 / /run rw - tmpfs tmpfs rw\n");
	expect_error(-ENODEV, "nothing is mounted on /");
	put("proc/self/mountinfo", "22 1 254 / / ro - squashfs /dev/mapper/root ro\n");
	expect_error(-EINVAL, "not MAJOR:MINOR");
}

static void test_not_verity(void **state)
{
	(void)state;
	put(DM "/dm/uuid", "CRYPT-LUKS2-0123456789abcdef0123456789abcdef-root\n");
	expect_error(-ENODEV, "not a dm-verity device");
}

static void test_slaves(void **state)
{
	_cleanup_free_ char *p = path_join(root, DM "/slaves/vda5");

	(void)state;
	/* The two partitions on two disks. */
	link_to(DM "/slaves/vda5", "../../../../pci0000:00/0000:00:05.0/virtio3/block/vdb/vdb2");
	expect_error(-ENODEV, "on two disks: vda and vdb");
	/* One device only. */
	assert_int_equal(unlink(p), 0);
	expect_error(-ENODEV, "1 underlying devices (vda4)");
	/* A whole disk, not a partition. */
	link_to(DM "/slaves/vdb", "../../../../pci0000:00/0000:00:05.0/virtio3/block/vdb");
	expect_error(-ENODEV, "not a partition of a disk");
}

static void test_bad_partition_files(void **state)
{
	(void)state;
	partition(VDA, "vda4", "x\n", "2621440\n");
	expect_error(-EINVAL, "not a partition number");
	partition(VDA, "vda4", "4\n", "-1\n");
	expect_error(-EINVAL, "not a sector number");
}

static void test_root_read_only(void **state)
{
	_cleanup_free_ char *error = NULL;
	(void)state;

	/* PID 1's view: ro is read-only, a later rw mount on / wins, and a service's own
	 * namespace (proc/self) does not count */
	put("proc/1/mountinfo",
	    "22 1 254:0 / / ro,relatime shared:1 - squashfs /dev/mapper/root ro\n");
	put("proc/self/mountinfo", "22 1 254:0 / / ro,relatime - squashfs /dev/mapper/root ro\n");
	assert_int_equal(bootdisk_root_read_only(root, NULL), 1);
	put("proc/1/mountinfo", "22 1 254:0 / / ro,relatime - squashfs /dev/mapper/root ro\n"
				"40 22 0:50 / / rw,relatime - overlay overlay rw\n");
	assert_int_equal(bootdisk_root_read_only(root, NULL), 0);
	put("proc/1/mountinfo", "22 1 254:0 / /usr ro - squashfs /dev/mapper/root ro\n");
	assert_int_equal(bootdisk_root_read_only(root, &error), -ENODEV);
	assert_non_null(strstr(error, "nothing is mounted on /"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_airlock_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_dm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_verity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_partition_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_read_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
