/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for systemd in the e2e tests of airlock-init: installed as
 * /usr/lib/systemd/systemd in a tiny verity-protected squashfs root, it reports
 * what airlock-init handed over (as console markers) and powers off.
 * Built statically by the test: cc -static -o systemd testinit.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void check_writable(const char *dir)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/.testinit-write", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1)
		printf("TESTINIT-NOT-WRITABLE %s: %s\n", dir, strerror(errno));
	else
		printf("TESTINIT-WRITABLE %s\n", dir);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	struct statvfs sv;
	char buf[65536], cmdline[4096] = "";
	unsigned long sum = 0;
	ssize_t n;
	int fd;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("TESTINIT-STARTED pid=%d\n", (int)getpid());
	if (statvfs("/", &sv) == 0)
		printf("TESTINIT-ROOT %s\n", (sv.f_flag & ST_RDONLY) ? "read-only" : "writable");
	check_writable("/etc");
	check_writable("/var");
	check_writable("/tmp");
	check_writable("/run");
	printf("TESTINIT-INITRAMFS-FREED %s\n", access("/init", F_OK) < 0 ? "yes" : "no");
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, cmdline, sizeof(cmdline) - 1);
		if (n > 0)
			cmdline[n] = '\0';
		close(fd);
	}
	printf("TESTINIT-CMDLINE %s", cmdline);

	/* Read all of /data.bin: verity checks every block on the way. */
	fd = open("/data.bin", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		printf("TESTINIT-READ-FAILED open: %s\n", strerror(errno));
	else {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < n; i++)
				sum += (unsigned char)buf[i];
		if (n < 0)
			printf("TESTINIT-READ-%s %s\n", errno == EIO ? "EIO" : "FAILED",
			       strerror(errno));
		else
			printf("TESTINIT-READ-OK sum=%lu\n", sum);
		close(fd);
	}
	printf("TESTINIT-DONE\n");
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
