/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 Linux bzImage and its 64-bit boot protocol, image side
 * (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header",
 * "Details of Header Fields", "64-bit Boot Protocol"; the zero page:
 * Documentation/arch/x86/zero-page.rst). Pure functions: no KVM, no I/O.
 *
 * Guest RAM and the 32-bit MMIO hole (the decision, see bzimage_e820()):
 * RAM starts at guest-physical 0. Up to 3 GiB of it lies below the hole
 * [3 GiB, 4 GiB), where icevmm's devices live; whatever is left of --mem goes
 * at 4 GiB and up. In the e820 map, [0, 0x9fc00) and [1 MiB, ...) are RAM;
 * [0x9fc00, 1 MiB) (the legacy EBDA/VGA/BIOS area, where icevmm may also put
 * tables such as ACPI's) is reserved; the hole is left out of the map, a gap
 * the kernel does not treat as RAM.
 */
#ifndef ICEVMM_X86_BZIMAGE_H
#define ICEVMM_X86_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The first bytes of the file a parse needs: the setup header ends by 0x202 + 0xff. */
#define BZIMAGE_HEAD_SIZE 0x301
#define BZIMAGE_BOOT_PARAMS_SIZE 4096
#define BZIMAGE_MIN_PROTOCOL 0x020c /* 2.12: xloadflags, the 64-bit entry */

/* Offsets in the file and in boot_params (the setup header is at the same place). */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_SYSSIZE 0x1f4
#define BZ_VID_MODE 0x1fa
#define BZ_BOOT_FLAG 0x1fe
#define BZ_JUMP 0x200
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_HDR_END_2_12 0x264 /* the last field we read (init_size) ends here */
/* zero-page.rst: boot_params fields outside the setup header */
#define BP_ACPI_RSDP_ADDR 0x070 /* 8 bytes; kernels from 5.0 read it, older ones scan */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define BZ_BOOT_FLAG_MAGIC 0xaa55
#define BZ_HDRS_MAGIC 0x53726448 /* "HdrS" */
#define LOADED_HIGH (1u << 0)
#define CAN_USE_HEAP (1u << 7)
#define XLF_KERNEL_64 (1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

struct bzimage_info {
	uint64_t kernel_offset; /* of the protected-mode kernel in the file: (setup_sects + 1) * 512 */
	uint64_t kernel_len;	/* from there to the end of the file: what the loader copies */
	uint64_t init_size;	/* bytes the kernel needs from its load address */
	uint64_t alignment;	/* kernel_alignment: a power of two */
	uint64_t pref_address;
	uint32_t cmdline_max; /* cmdline_size: bytes, excluding the NUL */
	uint32_t initrd_addr_max;
	uint16_t version; /* 0x020f is 2.15 */
	uint16_t xloadflags;
};

/*
 * Parse and check a bzImage of file_size bytes whose first min(file_size,
 * head_len) bytes are at head (BZIMAGE_HEAD_SIZE is enough). On error returns
 * -EINVAL with *why a sentence for "kernel PATH: reason".
 */
int bzimage_parse(const void *head, size_t head_len, uint64_t file_size, struct bzimage_info *info,
		  const char **why);

struct bzimage_boot {
	uint64_t cmdline_addr;
	uint64_t cmdline_len;		   /* excluding the NUL */
	uint64_t initrd_addr, initrd_size; /* 0, 0: none */
	const struct e820_entry *e820;
	unsigned int e820_count;
	uint64_t acpi_rsdp_addr; /* 0: none given (the kernel scans 0xe0000-0xfffff) */
};

/*
 * Fill bp (4 KiB, zeroed here) the way a 64-bit boot loader does: the setup
 * header copied from the file, the loader's fields, the e820 map. -EINVAL with
 * *why if the command line is longer than the kernel accepts or not below
 * 4 GiB, or the map has too many entries.
 */
int bzimage_boot_params(uint8_t *bp, const void *head, size_t head_len,
			const struct bzimage_info *info, const struct bzimage_boot *boot,
			const char **why);

/* Where the kernel and the initrd go in guest RAM (bzimage_place()). */
struct bzimage_place {
	uint64_t kernel_addr; /* of the protected-mode kernel: the 64-bit entry is at +0x200 */
	uint64_t initrd_addr; /* 0 without an initrd */
};

/*
 * Place the kernel at min_addr or its pref_address, whichever is higher,
 * rounded up to its kernel_alignment, with init_size bytes of room; and an
 * initrd of initrd_size bytes (0: none) as high as it fits, 4 KiB aligned,
 * below both initrd_addr_max and low_end (the end of RAM below the MMIO hole),
 * above the kernel's init_size. -EINVAL with *why if something does not fit.
 */
int bzimage_place(const struct bzimage_info *info, uint64_t min_addr, uint64_t low_end,
		  uint64_t initrd_size, struct bzimage_place *out, const char **why);

/* e820 (zero-page.rst: struct boot_e820_entry, 20 bytes packed). */
#define E820_RAM 1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

#define X86_MMIO_HOLE_START 0xc0000000ULL /* 3 GiB */
#define X86_MMIO_HOLE_END 0x100000000ULL  /* 4 GiB */
#define X86_EBDA_START 0x9fc00ULL
#define X86_HIGH_START 0x100000ULL /* 1 MiB: where RAM resumes */
#define X86_RAM_MIN (2ULL << 20)
#define X86_RAM_MAX (1ULL << 40)
#define BZIMAGE_E820_MAX 4

/*
 * The map for ram_size bytes of RAM (the policy in this file's header
 * comment). Returns the number of entries (at most BZIMAGE_E820_MAX) written
 * to out, or -EINVAL with *why for a size out of [2 MiB, 1 TiB] or not a
 * multiple of 4 KiB.
 */
int bzimage_e820(uint64_t ram_size, struct e820_entry *out, const char **why);

#endif
