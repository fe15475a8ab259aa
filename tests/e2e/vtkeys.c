/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEST-ONLY (e2e image, /usr/libexec/airlock-test/vtkeys): vtkeys TTY TEXT types TEXT on
 * the virtual terminal TTY as if from its keyboard (TIOCSTI, root), so that the e2e test
 * can drive the operator console on tty1 from inside the guest and read its screen back
 * from /dev/vcs1. Never in a release image: the builder takes only build/airlock-*.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: vtkeys /dev/ttyN TEXT\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vtkeys: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (const char *p = argv[2]; *p; p++)
		if (ioctl(fd, TIOCSTI, p) < 0) {
			fprintf(stderr, "vtkeys: TIOCSTI on %s: %s\n", argv[1], strerror(errno));
			close(fd);
			return 1;
		}
	close(fd);
	return 0;
}
