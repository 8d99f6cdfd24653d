/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file the guest boots from (kernel, initrd): checked when opened, then
 * read once, straight into guest RAM where the architecture places it.
 */
#ifndef ICEVMM_FILE_H
#define ICEVMM_FILE_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_FILE_HEAD 64 /* enough for any kernel header we parse */

struct guest_file {
	const char *path;
	const char *what; /* "kernel", "initrd": for messages */
	int fd;
	uint64_t size;
	uint8_t head[GUEST_FILE_HEAD]; /* the first min(size, 64) bytes */
};

/*
 * Open a regular file of at most max bytes and read its head. On error
 * prints "icevmm: <what> <path>: <reason>" and returns -1.
 */
int guest_file_open(struct guest_file *f, const char *path, const char *what, uint64_t max);
/* Read the whole file into dst (f->size bytes); -1 with a message on error. */
int guest_file_load(const struct guest_file *f, void *dst);
void guest_file_close(struct guest_file *f);

#endif
