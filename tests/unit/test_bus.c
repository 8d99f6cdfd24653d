// SPDX-License-Identifier: GPL-2.0
/* The MMIO bus and the console's escape filter. */
#include <errno.h>
#include <string.h>

#include "../../vmm/bus.h"
#include "../../vmm/console.h"
#include "unit.h"

static uint64_t last_off;
static uint32_t last_len;
static uint8_t last_byte;

static void dev_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	(void)opaque;
	memset(data, 0x5a, len);
	last_off = off;
	last_len = len;
}

static void dev_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	(void)opaque;
	last_off = off;
	last_len = len;
	last_byte = *(const uint8_t *)data;
}

static const struct mmio_dev_ops ops = { .read = dev_read, .write = dev_write };

START_TEST(register_and_route)
{
	struct mmio_bus bus = { .ndevs = 0 };
	struct mmio_dev a = { .name = "a", .base = 0x1000, .size = 0x100, .ops = &ops };
	struct mmio_dev b = { .name = "b", .base = 0x1100, .size = 0x100, .ops = &ops };
	struct mmio_dev overlap = { .name = "o", .base = 0x10ff, .size = 2, .ops = &ops };
	struct mmio_dev wrap = { .name = "w", .base = UINT64_MAX - 1, .size = 4, .ops = &ops };
	uint8_t v[8] = { 0 };

	ck_assert_int_eq(bus_register(&bus, &a), 0);
	ck_assert_int_eq(bus_register(&bus, &b), 0);
	ck_assert_int_eq(bus_register(&bus, &overlap), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, &wrap), -EINVAL);

	ck_assert(bus_access(&bus, 0x1104, v, 4, false));
	ck_assert_uint_eq(last_off, 4);
	ck_assert_uint_eq(v[3], 0x5a);
	v[0] = 0x42;
	ck_assert(bus_access(&bus, 0x10f8, v, 8, true));
	ck_assert_uint_eq(last_off, 0xf8);
	ck_assert_uint_eq(last_byte, 0x42);
	/* An access straddling two devices belongs to neither. */
	memset(v, 0xff, sizeof(v));
	ck_assert(!bus_access(&bus, 0x10fc, v, 8, false));
	ck_assert_uint_eq(v[0] | v[7], 0);
	ck_assert(!bus_access(&bus, 0x2000, v, 4, false));
	ck_assert(!bus_access(&bus, UINT64_MAX - 2, v, 8, false));
}
END_TEST

START_TEST(bus_full)
{
	struct mmio_bus bus = { .ndevs = 0 };

	for (unsigned int i = 0; i < BUS_MAX_DEVS; i++) {
		struct mmio_dev d = {
			.name = "d", .base = 0x1000 * (i + 1), .size = 0x10, .ops = &ops
		};

		ck_assert_int_eq(bus_register(&bus, &d), 0);
	}
	struct mmio_dev extra = { .name = "x", .base = 0x100000, .size = 0x10, .ops = &ops };
	ck_assert_int_eq(bus_register(&bus, &extra), -ENOSPC);
}
END_TEST

/* Accesses no device owns are counted by address: the first 16 addresses one by one. */
START_TEST(misses_counted)
{
	static struct bus_misses m;
	struct mmio_bus bus = { .ndevs = 0, .misses = &m };
	struct mmio_dev a = { .name = "a", .base = 0x1000, .size = 0x100, .ops = &ops };
	uint8_t v[4];
	unsigned int i;

	ck_assert_int_eq(bus_register(&bus, &a), 0);
	ck_assert(bus_access(&bus, 0x1000, v, 4, false)); /* owned: not counted */
	for (i = 0; i < 3; i++)
		ck_assert(!bus_access(&bus, 0x70, v, 1, true));
	ck_assert(!bus_access(&bus, 0, v, 1, false)); /* address 0 is an address too */
	for (i = 0; i < 20; i++)
		ck_assert(!bus_access(&bus, 0x2000 + i, v, 1, false));
	ck_assert_uint_eq(atomic_load(&m.addr[0]), 0x70 + 1);
	ck_assert_uint_eq(atomic_load(&m.count[0]), 3);
	ck_assert_uint_eq(atomic_load(&m.addr[1]), 0 + 1);
	ck_assert_uint_eq(atomic_load(&m.count[1]), 1);
	ck_assert_uint_eq(atomic_load(&m.addr[15]), 0x2000 + 13 + 1);
	ck_assert_uint_eq(atomic_load(&m.others), 6);
}
END_TEST

static size_t filter(struct console_input *ci, const char *in, char *out, bool *quit)
{
	size_t n = console_filter(ci, (const uint8_t *)in, strlen(in), (uint8_t *)out, quit);

	out[n] = 0;
	return n;
}

START_TEST(console_escape)
{
	struct console_input ci = { 0 };
	char out[64];
	bool quit;

	ck_assert_uint_eq(filter(&ci, "ls\r", out, &quit), 3);
	ck_assert(!quit);
	ck_assert_str_eq(out, "ls\r");
	filter(&ci, "a\x01", out, &quit); /* escape split across reads */
	ck_assert_str_eq(out, "a");
	filter(&ci, "x rest", out, &quit);
	ck_assert(quit);
	ck_assert_str_eq(out, "");
	ci.escape_pending = false;
	filter(&ci, "\x01\x01", out, &quit); /* Ctrl-A Ctrl-A sends one Ctrl-A */
	ck_assert_str_eq(out, "\x01");
	ck_assert(!quit);
	filter(&ci, "\x01q", out, &quit); /* not a command: both pass */
	ck_assert_str_eq(out, "\x01q");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");

	tcase_add_test(tc, register_and_route);
	tcase_add_test(tc, bus_full);
	tcase_add_test(tc, misses_counted);
	tcase_add_test(tc, console_escape);
	suite_add_tcase(s, tc);
	return s;
}
