/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file the guest boots from (kernel, initrd): checked when opened, then
 * read once, straight into guest RAM where the architecture places it.
 */
#ifndef ICEVMM_FILE_H
#define ICEVMM_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Enough for any kernel header we parse: arm64's Image header is 64 bytes,
 * x86's bzImage setup header ends by 0x301 (arch/x86_64/bzimage.h checks).
 */
#define GUEST_FILE_HEAD 0x301

struct guest_file {
	const char *path;
	const char *what; /* "kernel", "initrd": for messages */
	int fd;
	uint64_t size;
	uint8_t head[GUEST_FILE_HEAD]; /* the first min(size, GUEST_FILE_HEAD) bytes */
};

/*
 * Open a regular file of at most max bytes and read its head. On error
 * prints "icevmm: <what> <path>: <reason>" and returns -1.
 */
int guest_file_open(struct guest_file *f, const char *path, const char *what, uint64_t max);
/* Read the whole file into dst (f->size bytes); -1 with a message on error. */
int guest_file_load(const struct guest_file *f, void *dst);
/*
 * Read the file from byte off to its end into dst (f->size - off bytes: x86
 * loads a bzImage's protected-mode part, which starts past its setup code);
 * -1 with a message on error or if off is past the end.
 */
int guest_file_load_from(const struct guest_file *f, uint64_t off, void *dst);
void guest_file_close(struct guest_file *f);

#endif
