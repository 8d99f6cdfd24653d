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

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest_ram");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, aligned_despite_skewed_mmap);
	tcase_add_test(tc, already_aligned_trims_only_the_tail);
	tcase_add_test(tc, failure_returns_the_whole_reservation);
	suite_add_tcase(s, tc);
	return s;
}
