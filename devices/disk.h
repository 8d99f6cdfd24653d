/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The disk backend: a raw image file or a host block device, and the only
 * code that does I/O on it. Knows nothing about virtio; devices/blk.c turns
 * requests into these calls.
 */
#ifndef ICEVMM_DISK_H
#define ICEVMM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct disk {
	char *path; /* our copy, for messages */
	int fd;
	bool ro;
	uint64_t size; /* bytes */
};

/*
 * Opens and locks (flock: exclusive, or shared if ro) PATH and reads its
 * size; prints "disk PATH: reason" and returns -1 on error (the disk is then
 * closed). disk_close() is safe on a disk that never opened or is closed.
 */
int disk_open(struct disk *d, const char *path, bool ro);
void disk_close(struct disk *d);

/*
 * Read or write the whole iovec at byte offset off: EINTR is retried and
 * short transfers are continued. iov[] is consumed (advanced in place).
 * Returns 0, or -1 with errno set (EIO for end of file inside the range).
 */
int disk_rw(struct disk *d, struct iovec *iov, int cnt, uint64_t off, bool write);
/* disk_rw() of one buffer */
int disk_pio(struct disk *d, void *buf, size_t len, uint64_t off, bool write);

/* fdatasync: 0 or -1 */
int disk_flush(struct disk *d);

/*
 * [off, off + len) reads back as zeroes afterwards: a punched hole (if unmap
 * or discard), a zeroed range, or written zeroes, whichever the host file
 * system can do. A discard is a hint: it never fails, and may do nothing.
 * 0 or -1.
 */
int disk_zero_range(struct disk *d, uint64_t off, uint64_t len, bool discard, bool unmap);

#endif
