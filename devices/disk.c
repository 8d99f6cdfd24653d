// SPDX-License-Identifier: GPL-2.0
/*
 * The disk backend: all I/O on a disk image (a raw file or a block device).
 *
 * Durability. Writes go to the host page cache; disk_flush() (fdatasync)
 * makes them durable. When the kernel fails to write back a dirty page it
 * records the error once per open file: the next fsync/fdatasync on our
 * descriptor returns it, and the one after returns 0 — while the pages are
 * no longer dirty, so nothing will ever write that data again (Linux
 * Documentation/filesystems/vfs.rst, "Handling errors during writeback";
 * lib/errseq.c). A guest that sends another FLUSH (an application retrying
 * fsync, say) would then be told its data is safe. So the first failure is
 * kept: flush_broken is set and never cleared, and from then on every flush
 * fails, for as long as this process has the image open. (Reopening the
 * image would not help: a new open file sees only errors recorded after it
 * was opened.)
 *
 * A failed write sets flush_broken too. Its errno cannot tell us whether it
 * is about this write alone or a writeback error of earlier writes that we
 * already completed: NFS, for one, can return an ENOSPC, EDQUOT or EFBIG
 * writeback error from write(2) and advance the file's error cursor as it
 * does, so the next fdatasync returns 0 although acknowledged data was
 * dropped. A write that fails with EIO after a short count has also left
 * part of its data dirty in the page cache, on a host that is failing
 * writes. Refusing every later flush is the one answer that never calls
 * lost data durable; what it costs — flushes fail until icevmm restarts —
 * is paid only on a host that already failed a write, where the guest must
 * assume the worst anyway (after IOERR the written range is undefined).
 * A failed read changes nothing on the disk and does not count.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmm/log.h"
#include "disk.h"

int disk_open(struct disk *d, const char *path, bool ro)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->ro = ro;
	d->path = strdup(path);
	if (!d->path) {
		pr_err("disk %s: out of memory", path);
		return -1;
	}
	d->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		pr_err("disk %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(d->fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		pr_err("disk %s: not a regular file or block device", path);
		goto fail;
	}
	/* Two VMMs writing one image corrupt it: lock (shared for read-only use). */
	if (flock(d->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		pr_err("disk %s: %s", path,
		       errno == EWOULDBLOCK ? "in use by another process (it is locked)"
					    : strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(d->fd, 0, SEEK_END);

		st.st_size = end < 0 ? 0 : end;
	}
	d->size = (uint64_t)st.st_size;
	return 0;
fail:
	disk_close(d);
	return -1;
}

void disk_close(struct disk *d)
{
	if (!d->path)
		return; /* never opened (or already closed) */
	if (d->fd >= 0)
		close(d->fd); /* also drops the flock */
	d->fd = -1;
	free(d->path);
	d->path = NULL;
}

static bool disk_flush_broken(const struct disk *d)
{
	return __atomic_load_n(&d->flush_broken, __ATOMIC_ACQUIRE);
}

/* From now on no flush succeeds (see the top of this file). Keeps errno. */
static void disk_break_flush(struct disk *d, const char *what)
{
	int err = errno;

	if (!__atomic_exchange_n(&d->flush_broken, true, __ATOMIC_ACQ_REL))
		pr_err("disk %s: %s failed (%s); the guest's flushes fail from now on", d->path,
		       what, strerror(err));
	errno = err;
}

/*
 * What disk_rw() does after its first call returned n: continue a short
 * transfer, retry EINTR, or fail. Out of line: the first call nearly always
 * moves everything.
 */
static __attribute__((noinline)) int disk_rw_rest(struct disk *d, struct iovec *iov, int cnt,
						  uint64_t off, bool write, ssize_t n)
{
	for (;;) {
		if (n < 0 && errno == EINTR)
			goto again;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* end of file inside the range: the image shrank */
			if (write)
				disk_break_flush(d, "write");
			return -1;
		}
		/* A short count: skip what was done, go on with the rest. */
		off += (uint64_t)n;
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt == 0)
			return 0;
		iov->iov_base = (uint8_t *)iov->iov_base + n;
		iov->iov_len -= (size_t)n;
	again:
		n = write ? pwritev(d->fd, iov, cnt, (off_t)off)
			  : preadv(d->fd, iov, cnt, (off_t)off);
	}
}

int disk_rw(struct disk *d, struct iovec *iov, int cnt, uint64_t off, bool write)
{
	ssize_t n;

	if (cnt <= 0)
		return 0;
	n = write ? pwritev(d->fd, iov, cnt, (off_t)off) : preadv(d->fd, iov, cnt, (off_t)off);
	/* The usual case: one buffer (a page of the guest's), moved in one call. */
	if (cnt == 1 && n > 0 && (size_t)n == iov->iov_len)
		return 0;
	return disk_rw_rest(d, iov, cnt, off, write, n);
}

int disk_pio(struct disk *d, void *buf, size_t len, uint64_t off, bool write)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return disk_rw(d, &iov, 1, off, write);
}

int disk_flush(struct disk *d)
{
	int r;

	if (disk_flush_broken(d)) {
		errno = EIO;
		return -1;
	}
	do
		r = fdatasync(d->fd);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		disk_break_flush(d, "fdatasync");
	return r < 0 ? -1 : 0;
}

static int disk_fallocate(struct disk *d, int mode, uint64_t off, uint64_t len)
{
	int r;

	do
		r = fallocate(d->fd, mode, (off_t)off, (off_t)len);
	while (r < 0 && errno == EINTR);
	return r;
}

static int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[64 * 1024];

	while (len) {
		size_t n = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);
		ssize_t w = pwrite(d->fd, zeroes, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			disk_break_flush(d, "writing zeroes");
			return -1;
		}
		off += (uint64_t)w; /* a short count: go on with the rest */
		len -= (uint64_t)w;
	}
	return 0;
}

/*
 * Only the outcome counts: a fallocate that fails (EOPNOTSUPP on tmpfs for
 * ZERO_RANGE, say) before a fallback that does the job is no failed write.
 */
int disk_zero_range(struct disk *d, uint64_t off, uint64_t len, bool discard, bool unmap)
{
	/* A punched hole reads back as zeroes: good for both, and the image gets sparser. */
	if ((discard || unmap) &&
	    disk_fallocate(d, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	if (discard)
		return 0; /* discard is a hint: a file system without holes just ignores it */
	if (disk_fallocate(d, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	return disk_write_zeroes(d, off, len);
}
