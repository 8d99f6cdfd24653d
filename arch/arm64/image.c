// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 Image header parsing and boot placement. Pure functions: no KVM, no
 * I/O, so the unit tests exercise them on any host.
 *
 * The header (booting.rst, "Call the kernel image"):
 *   u32 code0, code1; u64 text_offset; u64 image_size; u64 flags;
 *   u64 res2, res3, res4; u32 magic = 0x644d5241; u32 res5 (PE offset)
 * all little-endian.
 */
#include <errno.h>
#include <string.h>

#include "image.h"

static uint64_t le_at(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define IMAGE_FLAG_BE (1ULL << 0) /* bit 0: kernel endianness, 1 = big-endian */

int arm64_image_parse(const void *buf, size_t len, struct arm64_image_info *info, const char **why)
{
	const uint8_t *p = buf;

	if (len < ARM64_IMAGE_HEADER_SIZE) {
		*why = "file is shorter than the 64-byte arm64 Image header (truncated?)";
		return -EINVAL;
	}
	if (le_at(p + 56, 4) != ARM64_IMAGE_MAGIC) {
		*why = "no arm64 Image magic \"ARM\\x64\" at offset 56 (not an uncompressed arm64 "
		       "Image; a vmlinuz.gz or an ELF vmlinux must be converted first)";
		return -EINVAL;
	}
	info->text_offset = le_at(p + 8, 8);
	info->image_size = le_at(p + 16, 8);
	info->flags = le_at(p + 24, 8);
	if (info->image_size == 0) {
		*why = "header image_size is 0: a pre-3.17 kernel, whose memory footprint is "
		       "unknown; not supported";
		return -EINVAL;
	}
	if (info->flags & IMAGE_FLAG_BE) {
		*why = "big-endian kernel; KVM guests here are little-endian";
		return -EINVAL;
	}
	/* text_offset is an offset inside the first 2 MiB block, page aligned. */
	if (info->text_offset >= ARM64_KERNEL_ALIGN || info->text_offset % 4096) {
		*why = "header text_offset is not a 4 KiB-aligned offset below 2 MiB (corrupt "
		       "header)";
		return -EINVAL;
	}
	if (info->image_size < len) {
		*why = "header image_size is smaller than the file (corrupt header)";
		return -EINVAL;
	}
	/* A generous sanity bound: real kernels are tens of MiB. */
	if (info->image_size > (1ULL << 32)) {
		*why = "header image_size is over 4 GiB (corrupt header)";
		return -EINVAL;
	}
	return 0;
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int arm64_boot_layout(uint64_t ram_base, uint64_t ram_size, const struct arm64_image_info *img,
		      uint64_t initrd_size, struct arm64_boot_layout *out, const char **why)
{
	uint64_t ram_end = ram_base + ram_size;

	/*
	 * RAM base is 2 MiB aligned, so base + text_offset is a valid kernel
	 * address whatever flags bit 3 ("placement anywhere") says; the
	 * kernel's memory starts at the base of RAM as booting.rst recommends.
	 */
	out->kernel_addr = ram_base + img->text_offset;
	out->kernel_end = out->kernel_addr + img->image_size;

	/*
	 * The FDT gets the last 2 MiB block of its own: 8-byte aligned, at most
	 * 2 MiB, and sharing its 2 MiB block with nothing else.
	 */
	if (ram_size < ARM64_FDT_MAX_SIZE || ram_base % ARM64_KERNEL_ALIGN) {
		*why = "guest RAM must be 2 MiB aligned and at least 2 MiB";
		return -ENOSPC;
	}
	out->fdt_addr = align_down(ram_end - ARM64_FDT_MAX_SIZE, ARM64_KERNEL_ALIGN);

	/* The initrd ends at the FDT's block and starts on a page boundary. */
	if (initrd_size > out->fdt_addr - ram_base) {
		*why = "the initrd is larger than guest RAM; increase --mem";
		return -ENOSPC;
	}
	out->initrd_addr = align_down(out->fdt_addr - initrd_size, 4096);
	out->initrd_end = out->initrd_addr + initrd_size;
	if (align_up(out->kernel_end, 4096) > out->initrd_addr) {
		*why = initrd_size ? "the kernel and the initrd do not both fit in guest RAM; "
				     "increase --mem"
				   : "the kernel does not fit in guest RAM; increase --mem";
		return -ENOSPC;
	}
	return 0;
}
