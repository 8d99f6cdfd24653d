// SPDX-License-Identifier: GPL-2.0
/* x86 bzImage setup-header checks, boot_params and the e820 map. */
#include <errno.h>
#include <string.h>

#include "../../arch/x86_64/bzimage.h"
#include "unit.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * A synthetic bzImage like a 6.1 kernel's: protocol 2.15, 4 setup sectors
 * after the boot sector, then a 13.5 KiB "protected-mode kernel".
 */
#define IMG_SIZE (16 * KiB)
#define KOFF (5 * 512)
static uint8_t img[IMG_SIZE];

static void make_bzimage(void)
{
	memset(img, 0, sizeof(img));
	img[BZ_SETUP_SECTS] = 4;
	put_le(img + BZ_SYSSIZE, (IMG_SIZE - KOFF) / 16, 4); /* syssize */
	put_le(img + BZ_VID_MODE, 0xfffd, 2);		     /* "ask": the loader overrides it */
	put_le(img + BZ_BOOT_FLAG, 0xaa55, 2);
	img[BZ_JUMP] = 0xeb;
	img[BZ_JUMP + 1] = 0x6a; /* header ends at 0x26c */
	memcpy(img + BZ_HEADER, "HdrS", 4);
	put_le(img + BZ_VERSION, 0x020f, 2);
	img[BZ_LOADFLAGS] = LOADED_HIGH | CAN_USE_HEAP;
	put_le(img + BZ_HEAP_END_PTR, 0xde00, 2);
	put_le(img + BZ_INITRD_ADDR_MAX, 0x7fffffff, 4);
	put_le(img + BZ_KERNEL_ALIGNMENT, 2 * MiB, 4);
	img[BZ_RELOCATABLE] = 1;
	img[0x235] = 21; /* min_alignment */
	put_le(img + BZ_XLOADFLAGS, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, 2);
	put_le(img + BZ_CMDLINE_SIZE, 2047, 4);
	put_le(img + BZ_PREF_ADDRESS, 0x1000000, 8);
	put_le(img + BZ_INIT_SIZE, 40 * MiB, 4);
	put_le(img + 0x268, 0x12345678, 4); /* kernel_info_offset: copied as is */
	img[0x26c] = 0xcc;		    /* first byte after the header: never copied */
}

START_TEST(parses_good_bzimage)
{
	struct bzimage_info info;
	const char *why = NULL;

	make_bzimage();
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img), &info, &why), 0);
	ck_assert_uint_eq(info.kernel_offset, KOFF);
	ck_assert_uint_eq(info.kernel_len, IMG_SIZE - KOFF);
	ck_assert_uint_eq(info.init_size, 40 * MiB);
	ck_assert_uint_eq(info.alignment, 2 * MiB);
	ck_assert_uint_eq(info.pref_address, 0x1000000);
	ck_assert_uint_eq(info.cmdline_max, 2047);
	ck_assert_uint_eq(info.initrd_addr_max, 0x7fffffff);
	ck_assert_uint_eq(info.version, 0x020f);
	ck_assert_uint_eq(info.xloadflags, 3);
	/* Only the head in memory (the loader's case): same answer. */
	ck_assert_int_eq(bzimage_parse(img, BZIMAGE_HEAD_SIZE, sizeof(img), &info, &why), 0);
	ck_assert_uint_eq(info.kernel_len, IMG_SIZE - KOFF);
	/* setup_sects 0 means 4. */
	img[BZ_SETUP_SECTS] = 0;
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img), &info, &why), 0);
	ck_assert_uint_eq(info.kernel_offset, KOFF);
	/* Exactly protocol 2.12, a header ending right after init_size. */
	make_bzimage();
	put_le(img + BZ_VERSION, 0x020c, 2);
	img[BZ_JUMP + 1] = BZ_HDR_END_2_12 - BZ_HEADER;
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img), &info, &why), 0);
	/* syssize rounded up to the next paragraph (the build tool does). */
	make_bzimage();
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img) - 15, &info, &why), 0);
	ck_assert_uint_eq(info.kernel_len, IMG_SIZE - KOFF - 15);
}
END_TEST

static void expect_reject(size_t head_len, uint64_t file_size, const char *msg)
{
	struct bzimage_info info;
	const char *why = NULL;

	ck_assert_int_eq(bzimage_parse(img, head_len, file_size, &info, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, msg);
}

START_TEST(rejects_truncated)
{
	make_bzimage();
	expect_reject(0, 0, "file is shorter than the x86 setup header (truncated?)");
	expect_reject(BZ_VERSION + 1, BZ_VERSION + 1,
		      "file is shorter than the x86 setup header (truncated?)");
	/* A head longer than the file is the file. */
	expect_reject(sizeof(img), BZ_VERSION + 1,
		      "file is shorter than the x86 setup header (truncated?)");
	expect_reject(0x26b, sizeof(img), "file ends inside the setup header (truncated?)");
	expect_reject(sizeof(img), 0x26b, "file ends inside the setup header (truncated?)");
	expect_reject(sizeof(img), KOFF,
		      "setup_sects puts the protected-mode kernel past the end of the file "
		      "(truncated?)");
	expect_reject(sizeof(img), sizeof(img) - 16,
		      "syssize reaches past the end of the file (truncated?)");
}
END_TEST

START_TEST(rejects_not_bzimage)
{
	make_bzimage();
	img[BZ_BOOT_FLAG] = 0x54;
	expect_reject(sizeof(img), sizeof(img),
		      "no boot_flag 0xAA55 at offset 0x1fe (not an x86 bzImage)");
	make_bzimage();
	img[BZ_HEADER + 3] = 'T';
	expect_reject(sizeof(img), sizeof(img),
		      "no \"HdrS\" magic at offset 0x202 (not a bzImage: an ELF vmlinux or a "
		      "pre-2.00 zImage?)");
	memset(img, 0x7f, sizeof(img)); /* random bytes */
	expect_reject(sizeof(img), sizeof(img),
		      "no boot_flag 0xAA55 at offset 0x1fe (not an x86 bzImage)");
}
END_TEST

START_TEST(rejects_old_or_unfit_kernels)
{
	make_bzimage();
	put_le(img + BZ_VERSION, 0x020b, 2); /* 2.11 */
	expect_reject(sizeof(img), sizeof(img),
		      "boot protocol older than 2.12 (no 64-bit entry point; Linux 3.8 or later "
		      "needed)");
	make_bzimage();
	img[BZ_LOADFLAGS] = CAN_USE_HEAP;
	expect_reject(sizeof(img), sizeof(img),
		      "loadflags lack LOADED_HIGH (a zImage loaded at 0x10000; not supported)");
	make_bzimage();
	put_le(img + BZ_XLOADFLAGS, XLF_CAN_BE_LOADED_ABOVE_4G, 2);
	expect_reject(sizeof(img), sizeof(img),
		      "not a 64-bit kernel (xloadflags lack XLF_KERNEL_64)");
	make_bzimage();
	img[BZ_RELOCATABLE] = 0;
	expect_reject(sizeof(img), sizeof(img),
		      "kernel is not relocatable (relocatable_kernel is 0; build with "
		      "CONFIG_RELOCATABLE)");
}
END_TEST

START_TEST(rejects_hostile_fields)
{
	static const uint64_t bad_align[] = { 0, 1, 2048, 3 * MiB, 0x80000000, 0xffffffff };
	const char *align_msg = "kernel_alignment is not a power of two between 4 KiB and 1 GiB "
				"(corrupt header)";

	make_bzimage();
	img[BZ_JUMP + 1] = BZ_HDR_END_2_12 - BZ_HEADER - 1;
	expect_reject(sizeof(img), sizeof(img),
		      "setup header length (byte at 0x201) is shorter than protocol 2.12's "
		      "header (corrupt header)");
	make_bzimage();
	img[BZ_JUMP + 1] = 0xff; /* header to 0x301: the head must hold it */
	ck_assert_uint_eq(BZIMAGE_HEAD_SIZE, 0x301);
	expect_reject(0x300, sizeof(img), "file ends inside the setup header (truncated?)");
	make_bzimage();
	img[BZ_SETUP_SECTS] = 0xff; /* kernel at 128 KiB, in a 16 KiB file */
	expect_reject(sizeof(img), sizeof(img),
		      "setup_sects puts the protected-mode kernel past the end of the file "
		      "(truncated?)");
	make_bzimage();
	put_le(img + BZ_SYSSIZE, 0xffffffff, 4);
	expect_reject(sizeof(img), sizeof(img),
		      "syssize reaches past the end of the file (truncated?)");
	put_le(img + BZ_SYSSIZE, 0, 4);
	expect_reject(sizeof(img), sizeof(img), "syssize is 0 (corrupt header)");
	for (size_t i = 0; i < sizeof(bad_align) / sizeof(bad_align[0]); i++) {
		make_bzimage();
		put_le(img + BZ_KERNEL_ALIGNMENT, bad_align[i], 4);
		expect_reject(sizeof(img), sizeof(img), align_msg);
	}
	make_bzimage();
	put_le(img + BZ_INIT_SIZE, IMG_SIZE - KOFF - 1, 4);
	expect_reject(sizeof(img), sizeof(img),
		      "init_size is smaller than the kernel itself (corrupt header)");
}
END_TEST

static uint8_t bp[BZIMAGE_BOOT_PARAMS_SIZE];

START_TEST(boot_params_fields)
{
	struct bzimage_info info;
	struct e820_entry map[BZIMAGE_E820_MAX];
	struct bzimage_boot boot = { .cmdline_addr = 0x20000,
				     .cmdline_len = 2047,
				     .initrd_addr = 0x1234567000ULL,
				     .initrd_size = 0x100000123ULL,
				     .e820 = map };
	const char *why = NULL;
	int n;

	make_bzimage();
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img), &info, &why), 0);
	n = bzimage_e820(6 * GiB, map, &why);
	ck_assert_int_eq(n, 4);
	boot.e820_count = (unsigned int)n;
	memset(bp, 0xa5, sizeof(bp));
	ck_assert_int_eq(bzimage_boot_params(bp, img, sizeof(img), &info, &boot, &why), 0);

	/* Outside the header and our fields: zero. */
	for (size_t i = 0; i < 0x0c0; i++)
		ck_assert_uint_eq(bp[i], 0);
	ck_assert_uint_eq(bp[0x26c], 0);
	/* The header as in the file, except the loader's fields. */
	ck_assert_uint_eq(bp[BZ_SETUP_SECTS], 4);
	ck_assert_uint_eq(get_le(bp + BZ_SYSSIZE, 4), (IMG_SIZE - KOFF) / 16);
	ck_assert_uint_eq(get_le(bp + BZ_VID_MODE, 2), 0xffff);
	ck_assert_uint_eq(get_le(bp + BZ_BOOT_FLAG, 2), 0xaa55);
	ck_assert_uint_eq(bp[BZ_JUMP + 1], 0x6a);
	ck_assert_int_eq(memcmp(bp + BZ_HEADER, "HdrS", 4), 0);
	ck_assert_uint_eq(get_le(bp + BZ_VERSION, 2), 0x020f);
	ck_assert_uint_eq(bp[BZ_TYPE_OF_LOADER], 0xff);
	ck_assert_uint_eq(bp[BZ_LOADFLAGS], LOADED_HIGH);
	ck_assert_uint_eq(get_le(bp + BZ_HEAP_END_PTR, 2), 0);
	ck_assert_uint_eq(get_le(bp + BZ_CMD_LINE_PTR, 4), 0x20000);
	ck_assert_uint_eq(get_le(bp + BP_EXT_CMD_LINE_PTR, 4), 0);
	ck_assert_uint_eq(get_le(bp + BZ_RAMDISK_IMAGE, 4), 0x34567000);
	ck_assert_uint_eq(get_le(bp + BP_EXT_RAMDISK_IMAGE, 4), 0x12);
	ck_assert_uint_eq(get_le(bp + BZ_RAMDISK_SIZE, 4), 0x123);
	ck_assert_uint_eq(get_le(bp + BP_EXT_RAMDISK_SIZE, 4), 1);
	ck_assert_uint_eq(get_le(bp + BZ_KERNEL_ALIGNMENT, 4), 2 * MiB);
	ck_assert_uint_eq(bp[BZ_RELOCATABLE], 1);
	ck_assert_uint_eq(bp[0x235], 21);
	ck_assert_uint_eq(get_le(bp + BZ_XLOADFLAGS, 2), 3);
	ck_assert_uint_eq(get_le(bp + BZ_PREF_ADDRESS, 8), 0x1000000);
	ck_assert_uint_eq(get_le(bp + BZ_INIT_SIZE, 4), 40 * MiB);
	ck_assert_uint_eq(get_le(bp + 0x268, 4), 0x12345678);
	/* e820: count at 0x1e8, 20-byte entries from 0x2d0. */
	ck_assert_uint_eq(bp[BP_E820_ENTRIES], 4);
	ck_assert_uint_eq(get_le(bp + 0x2d0, 8), 0);
	ck_assert_uint_eq(get_le(bp + 0x2d8, 8), 0x9fc00);
	ck_assert_uint_eq(get_le(bp + 0x2e0, 4), E820_RAM);
	ck_assert_uint_eq(get_le(bp + 0x2e4, 8), 0x9fc00);
	ck_assert_uint_eq(get_le(bp + 0x2ec, 8), 0x60400);
	ck_assert_uint_eq(get_le(bp + 0x2f4, 4), E820_RESERVED);
	ck_assert_uint_eq(get_le(bp + 0x2f8, 8), 0x100000);
	ck_assert_uint_eq(get_le(bp + 0x300, 8), 3 * GiB - 0x100000);
	ck_assert_uint_eq(get_le(bp + 0x308, 4), E820_RAM);
	ck_assert_uint_eq(get_le(bp + 0x30c, 8), 4 * GiB);
	ck_assert_uint_eq(get_le(bp + 0x314, 8), 3 * GiB);
	ck_assert_uint_eq(get_le(bp + 0x31c, 4), E820_RAM);
	for (size_t i = 0x320; i < sizeof(bp); i++)
		ck_assert_uint_eq(bp[i], 0);
	/* The RSDP's address, when there are ACPI tables: zero-page.rst 0x070, 8 bytes. */
	boot.acpi_rsdp_addr = 0x1000e0000ULL;
	ck_assert_int_eq(bzimage_boot_params(bp, img, sizeof(img), &info, &boot, &why), 0);
	ck_assert_uint_eq(get_le(bp + 0x070, 8), 0x1000e0000ULL);
	ck_assert_uint_eq(bp[0x06f], 0);
	ck_assert_uint_eq(bp[0x078], 0);
}
END_TEST

static void expect_place(const struct bzimage_info *info, uint64_t low_end, uint64_t initrd,
			 uint64_t kernel_addr, uint64_t initrd_addr)
{
	struct bzimage_place pl = { 1, 1 };
	const char *why = NULL;

	ck_assert_int_eq(bzimage_place(info, 16 * MiB, low_end, initrd, &pl, &why), 0);
	ck_assert_uint_eq(pl.kernel_addr, kernel_addr);
	ck_assert_uint_eq(pl.initrd_addr, initrd_addr);
}

static void expect_no_place(const struct bzimage_info *info, uint64_t low_end, uint64_t initrd,
			    const char *start)
{
	struct bzimage_place pl;
	const char *why = NULL;

	ck_assert_int_eq(bzimage_place(info, 16 * MiB, low_end, initrd, &pl, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(!strncmp(why, start, strlen(start)), "why: %s", why);
}

START_TEST(placement)
{
	struct bzimage_info info;
	const char *why = NULL;

	make_bzimage();
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img), &info, &why), 0);
	/* 16 MiB (= pref_address), no initrd; RAM just big enough for init_size (40 MiB). */
	expect_place(&info, 56 * MiB, 0, 16 * MiB, 0);
	expect_no_place(&info, 56 * MiB - 4096, 0, "the kernel needs more RAM");
	/* The initrd at the top of low RAM, 4 KiB aligned down. */
	expect_place(&info, 256 * MiB, 5000, 16 * MiB, 256 * MiB - 8192);
	expect_place(&info, 256 * MiB, 8192, 16 * MiB, 256 * MiB - 8192);
	/* ... exactly filling the space after the kernel's init_size; a byte more: refused. */
	expect_place(&info, 256 * MiB, 200 * MiB, 16 * MiB, 56 * MiB);
	expect_no_place(&info, 256 * MiB, 200 * MiB + 1, "the initrd does not fit");
	/* initrd_addr_max below the end of RAM bounds it: the last byte at initrd_addr_max. */
	info.initrd_addr_max = 128 * MiB - 1;
	expect_place(&info, 3 * GiB, MiB, 16 * MiB, 127 * MiB);
	info.initrd_addr_max = 0x7fffffff;
	expect_place(&info, 3 * GiB, MiB, 16 * MiB, 2 * GiB - MiB);
	info.initrd_addr_max = 0xffffffff; /* 2.x kernels with a 4 GiB limit: low RAM ends first */
	expect_place(&info, 3 * GiB, MiB, 16 * MiB, 3 * GiB - MiB);
	info.initrd_addr_max = 40 * MiB; /* below the kernel's end */
	expect_no_place(&info, 3 * GiB, 4096, "the initrd does not fit");
	info.initrd_addr_max = 0x7fffffff;
	/* An init_size ending off a page: the initrd starts on the next page, not inside it. */
	info.init_size = 40 * MiB + 1;
	expect_place(&info, 56 * MiB + 8192, 4096, 16 * MiB, 56 * MiB + 4096);
	expect_no_place(&info, 56 * MiB + 8192, 4097, "the initrd does not fit");
	info.init_size = 40 * MiB;
	/* pref_address above 16 MiB, rounded up to kernel_alignment. */
	info.pref_address = 33 * MiB + 5;
	expect_place(&info, 256 * MiB, 0, 34 * MiB, 0);
	info.pref_address = 8 * MiB; /* below the floor: the floor wins */
	expect_place(&info, 256 * MiB, 0, 16 * MiB, 0);
	/* Hostile pref_address: past RAM, or near 2^64 (no wrap in the rounding). */
	info.pref_address = 3 * GiB;
	expect_no_place(&info, 3 * GiB, 0, "the kernel's preferred load address");
	info.pref_address = UINT64_MAX - 4096;
	expect_no_place(&info, 3 * GiB, 0, "the kernel's preferred load address");
	info.pref_address = 3 * GiB - 1; /* rounds up to 3 GiB: no room at all */
	expect_no_place(&info, 3 * GiB, 0, "the kernel needs more RAM");
	/* A 1 GiB alignment (the largest bzimage_parse accepts). */
	info.pref_address = 0x1000000;
	info.alignment = GiB;
	expect_place(&info, 3 * GiB, 0, GiB, 0);
	expect_no_place(&info, GiB + 40 * MiB - 4096, 0, "the kernel needs more RAM");
}
END_TEST

static void expect_bp_reject(const struct bzimage_info *info, const struct bzimage_boot *boot,
			     size_t head_len, const char *msg)
{
	const char *why = NULL;

	ck_assert_int_eq(bzimage_boot_params(bp, img, head_len, info, boot, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, msg);
}

START_TEST(boot_params_refusals)
{
	struct bzimage_info info;
	struct bzimage_boot boot = { .cmdline_addr = 0x20000, .cmdline_len = 2047 };
	const char *why = NULL;

	make_bzimage();
	ck_assert_int_eq(bzimage_parse(img, sizeof(img), sizeof(img), &info, &why), 0);
	/* No initrd, no e820: the ramdisk fields stay 0. */
	ck_assert_int_eq(bzimage_boot_params(bp, img, sizeof(img), &info, &boot, &why), 0);
	ck_assert_uint_eq(get_le(bp + BZ_RAMDISK_IMAGE, 4), 0);
	ck_assert_uint_eq(bp[BP_E820_ENTRIES], 0);
	boot.cmdline_len = 2048;
	expect_bp_reject(&info, &boot, sizeof(img),
			 "the command line is longer than the kernel's cmdline_size");
	boot.cmdline_len = 10;
	boot.cmdline_addr = 4 * GiB - 10; /* the NUL would be at 4 GiB */
	expect_bp_reject(&info, &boot, sizeof(img), "the command line must lie below 4 GiB");
	boot.cmdline_addr = UINT64_MAX - 5; /* no wrap-around */
	expect_bp_reject(&info, &boot, sizeof(img), "the command line must lie below 4 GiB");
	boot.cmdline_addr = 4 * GiB - 11;
	ck_assert_int_eq(bzimage_boot_params(bp, img, sizeof(img), &info, &boot, &why), 0);
	boot.e820_count = 129;
	expect_bp_reject(&info, &boot, sizeof(img), "the e820 map has more than 128 entries");
	boot.e820_count = 0;
	expect_bp_reject(&info, &boot, 0x26b, "file ends inside the setup header (truncated?)");
	expect_bp_reject(&info, &boot, 0, "file ends inside the setup header (truncated?)");
}
END_TEST

static void expect_map(uint64_t ram, const struct e820_entry *want, int n)
{
	struct e820_entry got[BZIMAGE_E820_MAX];
	const char *why = NULL;

	ck_assert_int_eq(bzimage_e820(ram, got, &why), n);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(got[i].addr, want[i].addr);
		ck_assert_uint_eq(got[i].size, want[i].size);
		ck_assert_uint_eq(got[i].type, want[i].type);
	}
}

#define LOW_RAM                                                                                    \
	{                                                                                          \
		0, 0x9fc00, E820_RAM                                                               \
	}
#define LEGACY                                                                                     \
	{                                                                                          \
		0x9fc00, 0x60400, E820_RESERVED                                                    \
	}

START_TEST(e820_maps)
{
	const struct e820_entry small[] = { LOW_RAM, LEGACY, { 0x100000, 63 * MiB, E820_RAM } };
	const struct e820_entry min[] = { LOW_RAM, LEGACY, { 0x100000, 1 * MiB, E820_RAM } };
	const struct e820_entry below[] = { LOW_RAM,
					    LEGACY,
					    { 0x100000, 3 * GiB - 4 * KiB - MiB, E820_RAM } };
	const struct e820_entry full[] = { LOW_RAM, LEGACY, { 0x100000, 3 * GiB - MiB, E820_RAM } };
	const struct e820_entry above[] = { LOW_RAM,
					    LEGACY,
					    { 0x100000, 3 * GiB - MiB, E820_RAM },
					    { 4 * GiB, 4 * KiB, E820_RAM } };
	const struct e820_entry big[] = { LOW_RAM,
					  LEGACY,
					  { 0x100000, 3 * GiB - MiB, E820_RAM },
					  { 4 * GiB, 13 * GiB, E820_RAM } };

	expect_map(64 * MiB, small, 3);
	expect_map(2 * MiB, min, 3);
	expect_map(3 * GiB - 4 * KiB, below, 3);
	expect_map(3 * GiB, full, 3);
	expect_map(3 * GiB + 4 * KiB, above, 4);
	expect_map(16 * GiB, big, 4);
}
END_TEST

START_TEST(e820_refusals)
{
	static const uint64_t bad[] = {
		0,	   4096, 2 * MiB - 4096, 64 * MiB + 1, 64 * MiB + 2048, (1ULL << 40) + 4096,
		UINT64_MAX
	};
	struct e820_entry got[BZIMAGE_E820_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		ck_assert_int_eq(bzimage_e820(bad[i], got, &why), -EINVAL);
		ck_assert_str_eq(why, "guest RAM must be a multiple of 4 KiB between 2 MiB and 1 "
				      "TiB");
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("x86 bzImage");
	TCase *tc = tcase_create("bzimage");

	tcase_add_test(tc, parses_good_bzimage);
	tcase_add_test(tc, rejects_truncated);
	tcase_add_test(tc, rejects_not_bzimage);
	tcase_add_test(tc, rejects_old_or_unfit_kernels);
	tcase_add_test(tc, rejects_hostile_fields);
	tcase_add_test(tc, boot_params_fields);
	tcase_add_test(tc, boot_params_refusals);
	tcase_add_test(tc, placement);
	tcase_add_test(tc, e820_maps);
	tcase_add_test(tc, e820_refusals);
	suite_add_tcase(s, tc);
	return s;
}
