// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM on a 2 MiB boundary (vmm/guest_ram.c), whatever address mmap()
 * picks: the test links with -Wl,--wrap=mmap,--wrap=munmap,--wrap=madvise and
 * hands guest_ram_map() reservations 4 KiB past a 2 MiB boundary (the worst
 * case: 2 MiB - 4 KiB to trim at the head), as a host kernel before 6.7 may.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vmm/guest_mem.h"
#include "../../vmm/guest_ram.h"
#include "unit.h"

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_madvise(void *addr, size_t len, int advice);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_madvise(void *addr, size_t len, int advice);

#define MiB (1UL << 20)

static bool armed;	    /* only guest_ram_map()'s calls are intercepted */
static size_t skew = 4096;  /* offset of each reservation from a 2 MiB boundary */
static bool fail_fixed;	    /* make the MAP_FIXED mapping fail */
static uintptr_t res_start; /* the reservation handed out */
static size_t res_len;
static int res_prot, res_flags;
static struct {
	uintptr_t addr;
	size_t len;
} unmapped[4];
static unsigned int nunmapped;
static uintptr_t advised;
static size_t advised_len;
static int advice_seen;

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	uintptr_t p, aligned;

	if (!armed)
		return __real_mmap(addr, len, prot, flags, fd, off);
	if (flags & MAP_FIXED) {
		if (fail_fixed) {
			errno = ENOMEM;
			return MAP_FAILED;
		}
		return __real_mmap(addr, len, prot, flags, fd, off);
	}
	/* A larger real reservation, from which we hand out a skewed piece. */
	p = (uintptr_t)__real_mmap(NULL, len + 2 * GUEST_RAM_ALIGN, prot, flags, fd, off);
	if ((void *)p == MAP_FAILED)
		return MAP_FAILED;
	aligned = (p + GUEST_RAM_ALIGN - 1) & ~(uintptr_t)(GUEST_RAM_ALIGN - 1);
	res_start = aligned + skew;
	res_len = len;
	res_prot = prot;
	res_flags = flags;
	return (void *)res_start;
}

int __wrap_munmap(void *addr, size_t len)
{
	if (armed && nunmapped < 4) {
		unmapped[nunmapped].addr = (uintptr_t)addr;
		unmapped[nunmapped].len = len;
	}
	nunmapped += armed;
	return __real_munmap(addr, len);
}

int __wrap_madvise(void *addr, size_t len, int advice)
{
	if (!armed)
		return __real_madvise(addr, len, advice);
	advised = (uintptr_t)addr;
	advised_len = len;
	advice_seen = advice;
	return 0;
}

static void reset(size_t s)
{
	skew = s;
	fail_fixed = false;
	nunmapped = 0;
	advised = advised_len = 0;
	advice_seen = -1;
	armed = true;
}

/* mincore() fails with ENOMEM when the range holds an unmapped page. */
static bool is_unmapped(uintptr_t addr, size_t len)
{
	unsigned char vec[4096];

	return len <= sizeof(vec) * 4096 && mincore((void *)addr, len, vec) < 0 && errno == ENOMEM;
}

START_TEST(aligned_despite_skewed_mmap)
{
	const size_t size = 8 * MiB;
	uintptr_t ram;
	uint8_t *p;

	reset(4096);
	p = guest_ram_map(size);
	armed = false;
	ck_assert_ptr_nonnull(p);
	ram = (uintptr_t)p;
	ck_assert_uint_eq(ram % GUEST_RAM_ALIGN, 0);
	/* The reservation: size + 2 MiB, no access, no commitment. */
	ck_assert_uint_eq(res_len, size + GUEST_RAM_ALIGN);
	ck_assert_int_eq(res_prot, PROT_NONE);
	ck_assert(res_flags & MAP_NORESERVE);
	ck_assert_uint_ge(ram, res_start);
	ck_assert_uint_le(ram + size, res_start + res_len);
	/* Head and tail went back, exactly. */
	ck_assert_uint_eq(nunmapped, 2);
	ck_assert_uint_eq(unmapped[0].addr, res_start);
	ck_assert_uint_eq(unmapped[0].len, ram - res_start);
	ck_assert_uint_eq(unmapped[0].len, GUEST_RAM_ALIGN - 4096);
	ck_assert_uint_eq(unmapped[1].addr, ram + size);
	ck_assert_uint_eq(unmapped[1].len, res_start + res_len - (ram + size));
	ck_assert_uint_eq(unmapped[1].len, 4096);
	ck_assert(is_unmapped(res_start, ram - res_start));
	ck_assert(is_unmapped(ram + size, 4096));
	ck_assert_int_eq(advice_seen, MADV_HUGEPAGE);
	ck_assert_uint_eq(advised, ram);
	ck_assert_uint_eq(advised_len, size);
	/* Readable and writable from the first byte to the last. */
	p[0] = 1;
	p[size - 1] = 2;
	ck_assert_uint_eq(p[0] + p[size - 1], 3);
	munmap(p, size);
}
END_TEST

START_TEST(already_aligned_trims_only_the_tail)
{
	const size_t size = 4 * MiB;
	uintptr_t ram;

	reset(0);
	ram = (uintptr_t)guest_ram_map(size);
	armed = false;
	ck_assert_uint_eq(ram, res_start);
	ck_assert_uint_eq(nunmapped, 1);
	ck_assert_uint_eq(unmapped[0].addr, ram + size);
	ck_assert_uint_eq(unmapped[0].len, GUEST_RAM_ALIGN);
	ck_assert(is_unmapped(ram + size, GUEST_RAM_ALIGN));
	munmap((void *)ram, size);
}
END_TEST

START_TEST(failure_returns_the_whole_reservation)
{
	reset(8192);
	fail_fixed = true;
	errno = 0;
	ck_assert_ptr_null(guest_ram_map(2 * MiB));
	armed = false;
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_eq(nunmapped, 1);
	ck_assert_uint_eq(unmapped[0].addr, res_start);
	ck_assert_uint_eq(unmapped[0].len, res_len);
	ck_assert(is_unmapped(res_start, res_len));
	ck_assert_ptr_null(guest_ram_map(0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/*
 * gmem_ptr() with a hole, x86's shape scaled down: RAM at GPA 0, 3 pages
 * below a 1-page hole at 0x3000, the rest (2 pages) at 0x4000. Host offsets:
 * GPA 0x4000 is host[0x3000].
 */
static uint8_t holed_ram[5 * 4096];
static const struct guest_mem holed = {
	.host = holed_ram, .gpa_base = 0, .size = 5 * 4096, .low_size = 3 * 4096, .hole_size = 4096
};

START_TEST(gmem_hole_low_ranges)
{
	ck_assert_ptr_eq(gmem_ptr(&holed, 0, 1), holed_ram);
	/* Ending exactly at the hole: fine; one byte more: refused. */
	ck_assert_ptr_eq(gmem_ptr(&holed, 0x2000, 0x1000), holed_ram + 0x2000);
	ck_assert_ptr_eq(gmem_ptr(&holed, 0, 0x3000), holed_ram);
	ck_assert_ptr_null(gmem_ptr(&holed, 0x2000, 0x1001));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x2fff, 2));
	/* Straddling the hole into the high RAM: refused, although both ends are RAM. */
	ck_assert_ptr_null(gmem_ptr(&holed, 0x2000, 0x3000));
	ck_assert_ptr_null(gmem_ptr(&holed, 0, 5 * 4096));
}
END_TEST

START_TEST(gmem_hole_in_and_high)
{
	/* Starting in the hole, whatever the length. */
	ck_assert_ptr_null(gmem_ptr(&holed, 0x3000, 1));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x3fff, 1));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x3000, 0));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x3800, 0x1000));
	/* Above it: translated down by the hole's size. */
	ck_assert_ptr_eq(gmem_ptr(&holed, 0x4000, 1), holed_ram + 0x3000);
	ck_assert_ptr_eq(gmem_ptr(&holed, 0x4000, 0x2000), holed_ram + 0x3000);
	ck_assert_ptr_eq(gmem_ptr(&holed, 0x5fff, 1), holed_ram + 0x4fff);
	ck_assert_ptr_eq(gmem_ptr(&holed, 0x6000, 0), holed_ram + 0x5000); /* empty, at the end */
	/* Past the end of the high RAM. */
	ck_assert_ptr_null(gmem_ptr(&holed, 0x4000, 0x2001));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x5fff, 2));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x6000, 1));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x6001, 0));
}
END_TEST

START_TEST(gmem_hole_overflow)
{
	struct guest_mem based = holed;

	/* Lengths and addresses near UINT64_MAX: no sum may wrap into RAM. */
	ck_assert_ptr_null(gmem_ptr(&holed, 0x1000, UINT64_MAX));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x4000, UINT64_MAX));
	ck_assert_ptr_null(gmem_ptr(&holed, 0x4000, UINT64_MAX - 0x3fff));
	ck_assert_ptr_null(gmem_ptr(&holed, UINT64_MAX, 1));
	ck_assert_ptr_null(gmem_ptr(&holed, UINT64_MAX, 0));
	ck_assert_ptr_null(gmem_ptr(&holed, UINT64_MAX - 0xfff, 0x1000));
	ck_assert_ptr_null(gmem_ptr(&holed, UINT64_MAX - 0x1000 + 1 + 0x4000, 0x1000));
	/* With a base: below it is refused, and the hole moves with it. */
	based.gpa_base = 0x100000;
	ck_assert_ptr_null(gmem_ptr(&based, 0xfffff, 1));
	ck_assert_ptr_eq(gmem_ptr(&based, 0x100000, 0x3000), holed_ram);
	ck_assert_ptr_null(gmem_ptr(&based, 0x103000, 1));
	ck_assert_ptr_eq(gmem_ptr(&based, 0x104000, 0x2000), holed_ram + 0x3000);
}
END_TEST

START_TEST(gmem_no_hole)
{
	struct guest_mem gm, zeroed = { .host = holed_ram, .gpa_base = 0x1000, .size = 0x2000 };

	/* gmem_init: no hole; and a guest_mem a test left zeroed behaves the same. */
	gmem_init(&gm, holed_ram, 0x1000, 0x2000);
	ck_assert_uint_eq(gm.low_size, 0x2000);
	ck_assert_uint_eq(gm.hole_size, 0);
	for (int i = 0; i < 2; i++) {
		const struct guest_mem *m = i ? &zeroed : &gm;

		ck_assert_ptr_eq(gmem_ptr(m, 0x1000, 0x2000), holed_ram);
		ck_assert_ptr_eq(gmem_ptr(m, 0x2fff, 1), holed_ram + 0x1fff);
		ck_assert_ptr_eq(gmem_ptr(m, 0x3000, 0), holed_ram + 0x2000);
		ck_assert_ptr_null(gmem_ptr(m, 0x3000, 1));
		ck_assert_ptr_null(gmem_ptr(m, 0x2fff, 2));
		ck_assert_ptr_null(gmem_ptr(m, 0xfff, 1));
		ck_assert_ptr_null(gmem_ptr(m, 0x1000, UINT64_MAX));
		ck_assert_ptr_null(gmem_ptr(m, UINT64_MAX, 1));
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest_ram");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, aligned_despite_skewed_mmap);
	tcase_add_test(tc, already_aligned_trims_only_the_tail);
	tcase_add_test(tc, failure_returns_the_whole_reservation);
	suite_add_tcase(s, tc);
	tc = tcase_create("gmem_ptr");
	tcase_add_test(tc, gmem_hole_low_ranges);
	tcase_add_test(tc, gmem_hole_in_and_high);
	tcase_add_test(tc, gmem_hole_overflow);
	tcase_add_test(tc, gmem_no_hole);
	suite_add_tcase(s, tc);
	return s;
}
