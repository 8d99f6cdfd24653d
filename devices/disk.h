/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The disk backend: a raw image file or a host block device, and the only
 * code that does I/O on it. Knows nothing about virtio; devices/blk.c turns
 * requests into these calls.
 *
 * Durability: disk_flush() makes every write that returned 0 before it
 * durable, or fails. Once it has failed — or a write has — it fails for the
 * rest of the process (see disk.c for why), whatever the guest does: a
 * virtio reset does not touch this state.
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
	/*
	 * Sticky: data the guest was told is written may be lost, so no flush
	 * succeeds again. Set once, never cleared; atomic so that queues on
	 * different threads may share a disk.
	 */
	bool flush_broken;
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
 * A failed write makes every later disk_flush() fail.
 */
int disk_rw(struct disk *d, struct iovec *iov, int cnt, uint64_t off, bool write);
/* disk_rw() of one buffer */
int disk_pio(struct disk *d, void *buf, size_t len, uint64_t off, bool write);

/*
 * fdatasync, EINTR retried. 0: every write that completed before the call is
 * on stable storage. -1: it may not be, and every later call fails too.
 */
int disk_flush(struct disk *d);

/*
 * [off, off + len) reads back as zeroes afterwards: a punched hole (if unmap
 * or discard), a zeroed range, or written zeroes, whichever the host file
 * system can do. A discard is a hint: it never fails, and may do nothing.
 * 0 or -1; a failure makes every later disk_flush() fail.
 */
int disk_zero_range(struct disk *d, uint64_t off, uint64_t len, bool discard, bool unmap);

#endif
