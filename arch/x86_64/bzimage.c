// SPDX-License-Identifier: GPL-2.0
/*
 * bzImage setup-header checks, the boot_params page and the e820 map for
 * Linux's 64-bit boot protocol (Documentation/arch/x86/boot.rst). Every field
 * is read at a fixed offset after the length checks that cover it, so a
 * truncated or hostile file is refused before anything outside it is read.
 */
#include <errno.h>
#include <string.h>

#include "bzimage.h"

static uint64_t le_at(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* boot.rst: "the end of setup header can be calculated as ... 0x0202 + byte value at offset 0x0201" */
static size_t header_end(const uint8_t *p)
{
	return BZ_HEADER + p[BZ_JUMP + 1];
}

int bzimage_parse(const void *head, size_t head_len, uint64_t file_size, struct bzimage_info *info,
		  const char **why)
{
	const uint8_t *p = head;
	uint64_t sects, syssize;

	if (head_len > file_size)
		head_len = file_size;
	if (head_len < BZ_VERSION + 2) {
		*why = "file is shorter than the x86 setup header (truncated?)";
		return -EINVAL;
	}
	if (le_at(p + BZ_BOOT_FLAG, 2) != BZ_BOOT_FLAG_MAGIC) {
		*why = "no boot_flag 0xAA55 at offset 0x1fe (not an x86 bzImage)";
		return -EINVAL;
	}
	if (le_at(p + BZ_HEADER, 4) != BZ_HDRS_MAGIC) {
		*why = "no \"HdrS\" magic at offset 0x202 (not a bzImage: an ELF vmlinux or a "
		       "pre-2.00 zImage?)";
		return -EINVAL;
	}
	info->version = (uint16_t)le_at(p + BZ_VERSION, 2);
	/* boot.rst "64-bit Boot Protocol": 2.12 brought xloadflags and XLF_KERNEL_64. */
	if (info->version < BZIMAGE_MIN_PROTOCOL) {
		*why = "boot protocol older than 2.12 (no 64-bit entry point; Linux 3.8 or later "
		       "needed)";
		return -EINVAL;
	}
	if (header_end(p) < BZ_HDR_END_2_12) {
		*why = "setup header length (byte at 0x201) is shorter than protocol 2.12's header "
		       "(corrupt header)";
		return -EINVAL;
	}
	if (head_len < header_end(p)) {
		*why = "file ends inside the setup header (truncated?)";
		return -EINVAL;
	}
	/* "Details of Header Fields", setup_sects: "If this field is 0, the real value is 4." */
	sects = p[BZ_SETUP_SECTS] ? p[BZ_SETUP_SECTS] : 4;
	info->kernel_offset = (sects + 1) * 512;
	if (info->kernel_offset >= file_size) {
		*why = "setup_sects puts the protected-mode kernel past the end of the file "
		       "(truncated?)";
		return -EINVAL;
	}
	info->kernel_len = file_size - info->kernel_offset;
	/*
	 * syssize counts 16-byte paragraphs, rounded up by the kernel's build
	 * tool: allow the last paragraph to be partial.
	 */
	syssize = le_at(p + BZ_SYSSIZE, 4);
	if (syssize == 0) {
		*why = "syssize is 0 (corrupt header)";
		return -EINVAL;
	}
	if (syssize * 16 > info->kernel_len + 15) {
		*why = "syssize reaches past the end of the file (truncated?)";
		return -EINVAL;
	}
	if (!(p[BZ_LOADFLAGS] & LOADED_HIGH)) {
		*why = "loadflags lack LOADED_HIGH (a zImage loaded at 0x10000; not supported)";
		return -EINVAL;
	}
	info->xloadflags = (uint16_t)le_at(p + BZ_XLOADFLAGS, 2);
	if (!(info->xloadflags & XLF_KERNEL_64)) {
		*why = "not a 64-bit kernel (xloadflags lack XLF_KERNEL_64)";
		return -EINVAL;
	}
	if (!p[BZ_RELOCATABLE]) {
		*why = "kernel is not relocatable (relocatable_kernel is 0; build with "
		       "CONFIG_RELOCATABLE)";
		return -EINVAL;
	}
	info->alignment = le_at(p + BZ_KERNEL_ALIGNMENT, 4);
	if (info->alignment < 4096 || (info->alignment & (info->alignment - 1)) ||
	    info->alignment > (1ULL << 30)) {
		*why = "kernel_alignment is not a power of two between 4 KiB and 1 GiB (corrupt "
		       "header)";
		return -EINVAL;
	}
	info->init_size = le_at(p + BZ_INIT_SIZE, 4);
	if (info->init_size < info->kernel_len) {
		*why = "init_size is smaller than the kernel itself (corrupt header)";
		return -EINVAL;
	}
	info->pref_address = le_at(p + BZ_PREF_ADDRESS, 8);
	info->cmdline_max = (uint32_t)le_at(p + BZ_CMDLINE_SIZE, 4);
	info->initrd_addr_max = (uint32_t)le_at(p + BZ_INITRD_ADDR_MAX, 4);
	return 0;
}

int bzimage_boot_params(uint8_t *bp, const void *head, size_t head_len,
			const struct bzimage_info *info, const struct bzimage_boot *boot,
			const char **why)
{
	const uint8_t *p = head;
	size_t end;

	memset(bp, 0, BZIMAGE_BOOT_PARAMS_SIZE);
	if (head_len < BZ_HDR_END_2_12 || head_len < header_end(p)) {
		*why = "file ends inside the setup header (truncated?)";
		return -EINVAL;
	}
	if (boot->cmdline_len > info->cmdline_max) {
		*why = "the command line is longer than the kernel's cmdline_size";
		return -EINVAL;
	}
	if (boot->cmdline_addr >= (1ULL << 32) ||
	    boot->cmdline_len >= (1ULL << 32) - boot->cmdline_addr) {
		*why = "the command line must lie below 4 GiB";
		return -EINVAL;
	}
	if (boot->e820_count > BP_E820_MAX) {
		*why = "the e820 map has more than 128 entries";
		return -EINVAL;
	}
	/* "64-bit Boot Protocol": the setup header goes to boot_params at 0x1f1, as in the file. */
	end = header_end(p);
	memcpy(bp + BZ_SETUP_SECTS, p + BZ_SETUP_SECTS, end - BZ_SETUP_SECTS);
	/* "Details of Header Fields": the fields a boot loader writes. */
	put_le(bp + BZ_VID_MODE, 0xffff, 2); /* "normal" */
	bp[BZ_TYPE_OF_LOADER] = 0xff;	     /* undefined loader */
	/* No real-mode setup runs, so no heap: CAN_USE_HEAP off, heap_end_ptr 0. */
	bp[BZ_LOADFLAGS] &= (uint8_t)~CAN_USE_HEAP;
	put_le(bp + BZ_HEAP_END_PTR, 0, 2);
	put_le(bp + BZ_CMD_LINE_PTR, boot->cmdline_addr, 4);
	put_le(bp + BP_EXT_CMD_LINE_PTR, boot->cmdline_addr >> 32, 4);
	/* zero-page.rst: ext_ramdisk_* hold the high 32 bits of ramdisk_image/size. */
	put_le(bp + BZ_RAMDISK_IMAGE, boot->initrd_addr, 4);
	put_le(bp + BZ_RAMDISK_SIZE, boot->initrd_size, 4);
	put_le(bp + BP_EXT_RAMDISK_IMAGE, boot->initrd_addr >> 32, 4);
	put_le(bp + BP_EXT_RAMDISK_SIZE, boot->initrd_size >> 32, 4);
	/*
	 * zero-page.rst: acpi_rsdp_addr (Linux 5.0+; the slot was padding
	 * before, so older kernels ignore it and find the RSDP by scanning).
	 */
	put_le(bp + BP_ACPI_RSDP_ADDR, boot->acpi_rsdp_addr, 8);
	bp[BP_E820_ENTRIES] = (uint8_t)boot->e820_count;
	for (unsigned int i = 0; i < boot->e820_count; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		put_le(e, boot->e820[i].addr, 8);
		put_le(e + 8, boot->e820[i].size, 8);
		put_le(e + 16, boot->e820[i].type, 4);
	}
	return 0;
}

int bzimage_place(const struct bzimage_info *info, uint64_t min_addr, uint64_t low_end,
		  uint64_t initrd_size, struct bzimage_place *out, const char **why)
{
	uint64_t addr = info->pref_address > min_addr ? info->pref_address : min_addr;
	uint64_t top, kernel_end;

	/* pref_address comes from the file: anything up to 2^64 - 1. */
	if (addr >= low_end) {
		*why = "the kernel's preferred load address lies beyond guest RAM below 3 GiB";
		return -EINVAL;
	}
	/* boot.rst, kernel_alignment: a relocatable kernel must be loaded this aligned. */
	addr = (addr + info->alignment - 1) & ~(info->alignment - 1);
	if (addr > low_end || info->init_size > low_end - addr) {
		*why = "the kernel needs more RAM than guest RAM below 3 GiB has (its init_size "
		       "from its load address); increase --mem";
		return -EINVAL;
	}
	kernel_end = (addr + info->init_size + 0xfff) & ~0xfffULL; /* the initrd's floor */
	out->kernel_addr = addr;
	out->initrd_addr = 0;
	if (!initrd_size)
		return 0;
	/* initrd_addr_max: "the maximum address that may be occupied by the initrd" */
	top = low_end;
	if ((uint64_t)info->initrd_addr_max + 1 < top)
		top = (uint64_t)info->initrd_addr_max + 1;
	if (top < kernel_end || initrd_size > top - kernel_end) {
		*why = "the initrd does not fit between the kernel and the kernel's "
		       "initrd_addr_max "
		       "(or the end of RAM below 3 GiB); increase --mem or shrink the initrd";
		return -EINVAL;
	}
	out->initrd_addr = (top - initrd_size) & ~0xfffULL;
	return 0;
}

int bzimage_e820(uint64_t ram_size, struct e820_entry *out, const char **why)
{
	uint64_t low;
	int n = 0;

	if (ram_size < X86_RAM_MIN || ram_size > X86_RAM_MAX || ram_size % 4096) {
		*why = "guest RAM must be a multiple of 4 KiB between 2 MiB and 1 TiB";
		return -EINVAL;
	}
	low = ram_size < X86_MMIO_HOLE_START ? ram_size : X86_MMIO_HOLE_START;
	out[n++] = (struct e820_entry){ 0, X86_EBDA_START, E820_RAM };
	out[n++] = (struct e820_entry){ X86_EBDA_START, X86_HIGH_START - X86_EBDA_START,
					E820_RESERVED };
	out[n++] = (struct e820_entry){ X86_HIGH_START, low - X86_HIGH_START, E820_RAM };
	if (ram_size > low)
		out[n++] = (struct e820_entry){ X86_MMIO_HOLE_END, ram_size - low, E820_RAM };
	return n;
}
