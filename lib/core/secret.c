/* SPDX-License-Identifier: Apache-2.0 */
#include <poll.h>
#include <sys/mman.h>
#include <termios.h>

#include "secret.h"

struct secret_header {
	size_t map_size;
	size_t size;
};

#define HEADER_SIZE ALIGN_TO(sizeof(struct secret_header), 16)

void *secret_alloc(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t map_size = ALIGN_TO(HEADER_SIZE + size, (size_t)(page > 0 ? page : 4096));
	struct secret_header *h;

	h = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	/* Locking can fail without CAP_IPC_LOCK beyond RLIMIT_MEMLOCK; the rest still holds. */
	(void)mlock(h, map_size);
	(void)madvise(h, map_size, MADV_DONTDUMP);
	(void)madvise(h, map_size, MADV_WIPEONFORK);
	h->map_size = map_size;
	h->size = size;
	return (uint8_t *)h + HEADER_SIZE;
}

size_t secret_size(const void *p)
{
	const struct secret_header *h = (const void *)((const uint8_t *)p - HEADER_SIZE);
	return p ? h->size : 0;
}

void *secret_free(void *p)
{
	struct secret_header *h;
	size_t map_size;

	if (!p)
		return NULL;
	h = (void *)((uint8_t *)p - HEADER_SIZE);
	map_size = h->map_size;
	explicit_bzero(h, map_size);
	(void)munlock(h, map_size);
	munmap(h, map_size);
	return NULL;
}

struct line_buffer {
	char *data; /* secret memory, max_size + 1 */
	size_t n;
	bool overflow;
	bool closed;
};

int secret_read_line(const int *fds, size_t n_fds, size_t max_size, char **ret, size_t *ret_index)
{
	_cleanup_free_ struct line_buffer *b = NULL;
	_cleanup_free_ struct pollfd *pfd = NULL;
	int r = 0;

	if (n_fds == 0)
		return -EPIPE;
	b = new0(struct line_buffer, n_fds);
	pfd = new0(struct pollfd, n_fds);
	if (!b || !pfd)
		return -ENOMEM;
	for (size_t i = 0; i < n_fds; i++) {
		b[i].data = secret_alloc(max_size + 1);
		if (!b[i].data) {
			r = -ENOMEM;
			goto finish;
		}
	}

	for (;;) {
		size_t open_fds = 0;

		for (size_t i = 0; i < n_fds; i++) {
			pfd[i] = (struct pollfd){ .fd = b[i].closed ? -1 : fds[i],
						  .events = POLLIN };
			open_fds += !b[i].closed;
		}
		if (open_fds == 0) {
			r = -EPIPE;
			goto finish;
		}
		if (poll(pfd, n_fds, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto finish;
		}
		for (size_t i = 0; i < n_fds; i++) {
			char c;
			ssize_t k;

			if (b[i].closed || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* One byte at a time: nothing of the next line is read ahead and lost. */
			k = read(fds[i], &c, 1);
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				b[i].closed = true;
				continue;
			}
			if (c == '\n' || c == '\r') {
				if (b[i].overflow) {
					r = -E2BIG;
				} else {
					b[i].data[b[i].n] = '\0';
					*ret = TAKE_PTR(b[i].data);
				}
				if (ret_index)
					*ret_index = i;
				goto finish;
			}
			if (b[i].n < max_size)
				b[i].data[b[i].n++] = c;
			else
				b[i].overflow = true;
			explicit_bzero(&c, sizeof(c));
		}
	}

finish:
	for (size_t i = 0; i < n_fds; i++)
		secret_free(b[i].data);
	return r;
}

int secret_echo_off(int fd, struct termios *saved)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return errno == ENOTTY || errno == EINVAL ? -ENOTTY : -errno;
	*saved = t;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	t.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

int secret_echo_restore(int fd, const struct termios *saved)
{
	return tcsetattr(fd, TCSANOW, saved) < 0 ? -errno : 0;
}
