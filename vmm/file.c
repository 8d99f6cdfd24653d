// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

int file_read_all(const char *path, const char *what, size_t max, void **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	uint8_t *p = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s %s: not a regular file", what, path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		pr_err("%s %s: %lld bytes do not fit in %zu MiB of guest RAM; increase --mem", what,
		       path, (long long)st.st_size, max >> 20);
		goto fail;
	}
	p = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!p) {
		pr_err("%s %s: out of memory", what, path);
		goto fail;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, p + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_err("%s %s: read failed: %s", what, path,
			       n ? strerror(errno) : "file shrank");
			goto fail;
		}
		done += (size_t)n;
	}
	close(fd);
	*buf = p;
	*len = done;
	return 0;
fail:
	free(p);
	close(fd);
	return -1;
}
