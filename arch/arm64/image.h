/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Linux arm64 kernel Image and where icevmm puts it, the initrd and the
 * device tree in guest RAM (Documentation/arch/arm64/booting.rst).
 */
#ifndef ICEVMM_ARM64_IMAGE_H
#define ICEVMM_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC 0x644d5241 /* "ARM\x64", at offset 56 */

/* The kernel must sit at a 2 MiB-aligned base plus text_offset. */
#define ARM64_KERNEL_ALIGN 0x200000ULL
/* "The device tree blob must ... not exceed 2 megabytes in size." */
#define ARM64_FDT_MAX_SIZE 0x200000ULL

struct arm64_image_info {
	uint64_t text_offset;
	uint64_t image_size; /* bytes the kernel occupies from its load address, incl. BSS */
	uint64_t flags;
};

/*
 * Parse and validate the 64-byte header of an Image of `len` bytes whose
 * first min(len, 64) bytes are at `buf`. On error returns -EINVAL and points
 * *why at a sentence for the user.
 */
int arm64_image_parse(const void *buf, size_t len, struct arm64_image_info *info, const char **why);

/* Where everything goes in guest RAM (guest-physical addresses). */
struct arm64_boot_layout {
	uint64_t kernel_addr, kernel_end;
	uint64_t initrd_addr, initrd_end; /* equal if no initrd */
	uint64_t fdt_addr;
};

/*
 * Place the kernel at the start of RAM, the device tree in the last 2 MiB and
 * the initrd just below it. Returns 0, or -ENOSPC with *why set when RAM is too
 * small for them not to overlap.
 */
int arm64_boot_layout(uint64_t ram_base, uint64_t ram_size, const struct arm64_image_info *img,
		      uint64_t initrd_size, struct arm64_boot_layout *out, const char **why);

#endif
