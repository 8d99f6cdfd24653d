// SPDX-License-Identifier: GPL-2.0
/* arm64 Image header parsing and boot placement. */
#include <errno.h>
#include <string.h>

#include "../../arch/arm64/image.h"
#include "../../arch/arm64/layout.h"
#include "unit.h"

#define MiB (1ULL << 20)

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A well-formed header like Debian's 6.1 kernel: text_offset 0, 30 MiB footprint. */
static void make_header(uint8_t *h, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(h, 0, ARM64_IMAGE_HEADER_SIZE);
	put_le(h, 0x91005a4d, 4); /* code0: "MZ" + add, as real kernels */
	put_le(h + 8, text_offset, 8);
	put_le(h + 16, image_size, 8);
	put_le(h + 24, flags, 8);
	put_le(h + 56, ARM64_IMAGE_MAGIC, 4);
}

static uint8_t hdr[4096];

START_TEST(parses_valid_header)
{
	struct arm64_image_info info;
	const char *why = NULL;

	make_header(hdr, 0, 30 * MiB, 0xa);
	ck_assert_int_eq(arm64_image_parse(hdr, sizeof(hdr), &info, &why), 0);
	ck_assert_uint_eq(info.text_offset, 0);
	ck_assert_uint_eq(info.image_size, 30 * MiB);
	ck_assert_uint_eq(info.flags, 0xa);
	make_header(hdr, 0x80000, 30 * MiB, 0);
	ck_assert_int_eq(arm64_image_parse(hdr, sizeof(hdr), &info, &why), 0);
	ck_assert_uint_eq(info.text_offset, 0x80000);
}
END_TEST

static void expect_reject(size_t len, const char *needle)
{
	struct arm64_image_info info;
	const char *why = NULL;

	ck_assert_int_eq(arm64_image_parse(hdr, len, &info, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, needle), "reason '%s' lacks '%s'", why, needle);
}

START_TEST(rejects_truncated)
{
	make_header(hdr, 0, 30 * MiB, 0);
	expect_reject(0, "shorter");
	expect_reject(63, "shorter");
}
END_TEST

START_TEST(rejects_bad_magic)
{
	make_header(hdr, 0, 30 * MiB, 0);
	hdr[56] ^= 1;
	expect_reject(sizeof(hdr), "magic");
	memset(hdr, 0x7f, sizeof(hdr)); /* e.g. an ELF vmlinux or random bytes */
	expect_reject(sizeof(hdr), "magic");
}
END_TEST

START_TEST(rejects_corrupt_fields)
{
	make_header(hdr, 0, 0, 0);
	expect_reject(sizeof(hdr), "image_size is 0");
	make_header(hdr, 0, 30 * MiB, 1);
	expect_reject(sizeof(hdr), "big-endian");
	make_header(hdr, 0x1234, 30 * MiB, 0);
	expect_reject(sizeof(hdr), "text_offset");
	make_header(hdr, 0x200000, 30 * MiB, 0);
	expect_reject(sizeof(hdr), "text_offset");
	make_header(hdr, 0, 100, 0); /* footprint smaller than the file itself */
	expect_reject(sizeof(hdr), "smaller than the file");
	make_header(hdr, 0, 1ULL << 40, 0);
	expect_reject(sizeof(hdr), "over 4 GiB");
}
END_TEST

static int overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

START_TEST(layout_never_overlaps_or_leaves_ram)
{
	static const uint64_t rams[] = { 64 * MiB, 256 * MiB, 1024 * MiB, 4096 * MiB };
	static const uint64_t initrds[] = { 0, 1, 4095, 4096, 10 * MiB + 3 };
	struct arm64_image_info img = { .text_offset = 0, .image_size = 30 * MiB + 4321 };

	for (size_t r = 0; r < sizeof(rams) / sizeof(rams[0]); r++) {
		for (size_t i = 0; i < sizeof(initrds) / sizeof(initrds[0]); i++) {
			struct arm64_boot_layout l;
			const char *why;
			uint64_t base = ARM64_RAM_BASE, end = base + rams[r];

			ck_assert_int_eq(
				arm64_boot_layout(base, rams[r], &img, initrds[i], &l, &why), 0);
			ck_assert_uint_eq(l.kernel_addr, base);
			ck_assert_uint_eq(l.kernel_end, base + img.image_size);
			ck_assert_uint_eq(l.initrd_end - l.initrd_addr, initrds[i]);
			ck_assert_uint_eq(l.initrd_addr % 4096, 0);
			ck_assert_uint_eq(l.fdt_addr % ARM64_KERNEL_ALIGN, 0);
			ck_assert_uint_ge(l.initrd_addr, base);
			ck_assert_uint_le(l.fdt_addr + ARM64_FDT_MAX_SIZE, end);
			ck_assert(!overlaps(l.kernel_addr, l.kernel_end, l.initrd_addr,
					    l.initrd_end));
			ck_assert(!overlaps(l.kernel_addr, l.kernel_end, l.fdt_addr,
					    l.fdt_addr + ARM64_FDT_MAX_SIZE));
			ck_assert(!overlaps(l.initrd_addr, l.initrd_end, l.fdt_addr,
					    l.fdt_addr + ARM64_FDT_MAX_SIZE));
		}
	}
}
END_TEST

START_TEST(layout_text_offset_respected)
{
	struct arm64_image_info img = { .text_offset = 0x80000, .image_size = 20 * MiB };
	struct arm64_boot_layout l;
	const char *why;

	ck_assert_int_eq(arm64_boot_layout(ARM64_RAM_BASE, 128 * MiB, &img, 0, &l, &why), 0);
	ck_assert_uint_eq(l.kernel_addr, ARM64_RAM_BASE + 0x80000);
}
END_TEST

START_TEST(layout_refuses_too_small_ram)
{
	struct arm64_image_info img = { .text_offset = 0, .image_size = 30 * MiB };
	struct arm64_boot_layout l;
	const char *why = NULL;

	/* Kernel alone does not fit. */
	ck_assert_int_eq(arm64_boot_layout(ARM64_RAM_BASE, 16 * MiB, &img, 0, &l, &why), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(why, "kernel does not fit"));
	/* Kernel fits, kernel + initrd does not. */
	ck_assert_int_eq(arm64_boot_layout(ARM64_RAM_BASE, 64 * MiB, &img, 33 * MiB, &l, &why),
			 -ENOSPC);
	ck_assert_ptr_nonnull(strstr(why, "increase --mem"));
	/* Initrd bigger than RAM itself (no wrap-around in the arithmetic). */
	ck_assert_int_eq(arm64_boot_layout(ARM64_RAM_BASE, 64 * MiB, &img, UINT64_MAX - 5, &l,
					   &why),
			 -ENOSPC);
	/* Exactly fitting: kernel end page-aligned == initrd start. */
	img.image_size = 64 * MiB - 2 * MiB - 8192;
	ck_assert_int_eq(arm64_boot_layout(ARM64_RAM_BASE, 64 * MiB, &img, 8192, &l, &why), 0);
	ck_assert_uint_eq(l.kernel_end, l.initrd_addr);
	ck_assert_int_eq(arm64_boot_layout(ARM64_RAM_BASE, 64 * MiB, &img, 8193, &l, &why),
			 -ENOSPC);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("arm64 image");
	TCase *tc = tcase_create("image");

	tcase_add_test(tc, parses_valid_header);
	tcase_add_test(tc, rejects_truncated);
	tcase_add_test(tc, rejects_bad_magic);
	tcase_add_test(tc, rejects_corrupt_fields);
	tcase_add_test(tc, layout_never_overlaps_or_leaves_ram);
	tcase_add_test(tc, layout_text_offset_respected);
	tcase_add_test(tc, layout_refuses_too_small_ram);
	suite_add_tcase(s, tc);
	return s;
}
