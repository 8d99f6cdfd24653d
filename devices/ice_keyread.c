// SPDX-License-Identifier: GPL-2.0
/* Reading key material from files; see ice_keyread.h. */
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ice_keyread.h"

/*
 * Open a file that holds key material: a regular file, private to its owner
 * unless allow_insecure, at most max bytes. Returns the fd, or -1 with *why.
 */
static int open_key_material(const char *path, bool allow_insecure, size_t max, size_t *size,
			     const char **why)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if ((st.st_mode & 077) && !allow_insecure)
		*why = "readable by group or others: chmod 600 it (or pass --allow-insecure-keys)";
	else if ((uint64_t)st.st_size > max)
		*why = "too large";
	else {
		*size = (size_t)st.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

/* read(2) exactly len bytes (no stdio buffer ever holds them); -1 on error or early EOF. */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int ice_read_key_file(const char *path, bool allow_insecure, size_t max, uint8_t **out, size_t *len,
		      const char **why)
{
	int fd = open_key_material(path, allow_insecure, max, len, why);
	uint8_t *buf;

	if (fd < 0)
		return -1;
	buf = gcry_malloc_secure(*len + 1);
	if (!buf || read_exact(fd, buf, *len)) {
		*why = buf ? "read failed" : "out of secure memory";
		gcry_free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	*out = buf;
	return 0;
}

/*
 * Read a keys file into memory we lock ourselves (its size decides how much
 * of libgcrypt's secure pool to ask for, so the text cannot live there).
 */
int ice_keys_text_read(const char *path, bool allow_insecure, struct ice_keys_text *t,
		       const char **why)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size;
	int fd = open_key_material(path, allow_insecure, ICE_KEYS_FILE_MAX, &size, why);

	memset(t, 0, sizeof(*t));
	if (fd < 0)
		return -1;
	t->map_len = (size + 1 + page - 1) & ~(page - 1);
	t->buf = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->buf == MAP_FAILED) {
		t->buf = NULL;
		*why = strerror(errno);
		goto fail;
	}
	if (mlock(t->buf, t->map_len) < 0) {
		*why = "cannot lock memory for it (raise RLIMIT_MEMLOCK: ulimit -l)";
		goto fail;
	}
	madvise(t->buf, t->map_len, MADV_DONTDUMP); /* and keep it out of core dumps */
	if (read_exact(fd, (uint8_t *)t->buf, size)) {
		*why = "read failed";
		goto fail;
	}
	t->buf[size] = 0;
	t->len = size;
	close(fd);
	return 0;
fail:
	close(fd);
	ice_keys_text_free(t); /* a read that failed half-way left key text in it */
	return -1;
}

void ice_keys_text_free(struct ice_keys_text *t)
{
	if (!t->buf)
		return;
	explicit_bzero(t->buf, t->map_len);
	munlock(t->buf, t->map_len); /* fails harmlessly if mlock did */
	munmap(t->buf, t->map_len);
	t->buf = NULL;
}
