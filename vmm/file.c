// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

/* pread until len bytes arrived; -1 on error or early EOF (errno 0 then). */
static int pread_full(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, dst, len > (1U << 30) ? 1U << 30 : (size_t)len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		dst += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int guest_file_open(struct guest_file *f, const char *path, const char *what, uint64_t max)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->what = what;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		pr_err("%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s %s: not a regular file", what, path);
		goto fail;
	}
	f->size = (uint64_t)st.st_size;
	if (f->size > max) {
		pr_err("%s %s: %llu bytes do not fit in %llu MiB of guest RAM; increase --mem",
		       what, path, (unsigned long long)f->size, (unsigned long long)(max >> 20));
		goto fail;
	}
	if (pread_full(f->fd, f->head, f->size < GUEST_FILE_HEAD ? f->size : GUEST_FILE_HEAD, 0)) {
		pr_err("%s %s: read failed: %s", what, path,
		       errno ? strerror(errno) : "file shrank");
		goto fail;
	}
	return 0;
fail:
	guest_file_close(f);
	return -1;
}

int guest_file_load(const struct guest_file *f, void *dst)
{
	return guest_file_load_from(f, 0, dst);
}

int guest_file_load_from(const struct guest_file *f, uint64_t off, void *dst)
{
	if (off > f->size) {
		pr_err("%s %s: offset %llu is past its end", f->what, f->path,
		       (unsigned long long)off);
		return -1;
	}
	if (pread_full(f->fd, dst, f->size - off, off)) {
		pr_err("%s %s: read failed: %s", f->what, f->path,
		       errno ? strerror(errno) : "file shrank");
		return -1;
	}
	return 0;
}

void guest_file_close(struct guest_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
