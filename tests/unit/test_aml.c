// SPDX-License-Identifier: GPL-2.0
/*
 * The AML encoder, object by object, against encodings worked out by hand from
 * ACPI 6.5 section 20 (grammar, 20.2; opcodes, 20.3) and section 6.4
 * (resource descriptors); and the device helper of the ACPI seam.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/aml.h"
#include "../../vmm/bus.h"
#include "unit.h"

static uint8_t buf[8192];
static struct aml a;

static void setup(void)
{
	memset(buf, 0xee, sizeof(buf));
	aml_init(&a, buf, sizeof(buf));
}

static void hex(char *out, size_t size, const uint8_t *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%02x ", p[i]);
}

/* The AML written so far is exactly exp (and no error is latched). */
#define EXPECT(...)                                                                                \
	do {                                                                                       \
		static const uint8_t exp_[] = { __VA_ARGS__ };                                     \
		expect_bytes(exp_, sizeof(exp_));                                                  \
	} while (0)

static void expect_bytes(const uint8_t *exp, size_t n)
{
	char got[512] = "", want[512] = "";

	ck_assert_int_eq(aml_finish(&a), 0);
	hex(got, sizeof(got), buf, a.len);
	hex(want, sizeof(want), exp, n);
	ck_assert_msg(a.len == n && !memcmp(buf, exp, n), "got  %s\nwant %s", got, want);
}

START_TEST(pkglength_encoding)
{
	/* 20.2.4: one byte to 63; then 2 (to 0xfff), 3 (0xfffff), 4 (0xfffffff) bytes */
	static const struct {
		uint32_t v;
		size_t n;
		uint8_t b[4];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 63, 1, { 0x3f } },
		{ 64, 2, { 0x40, 0x04 } },
		{ 0x123, 2, { 0x43, 0x12 } },
		{ 4095, 2, { 0x4f, 0xff } },
		{ 4096, 3, { 0x80, 0x00, 0x01 } },
		{ 0xfffff, 3, { 0x8f, 0xff, 0xff } },
		{ 0x100000, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ 0xfffffff, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0xee, sizeof(out));
		ck_assert_uint_eq(aml_pkglen_encode(out, cases[i].v), cases[i].n);
		ck_assert_msg(!memcmp(out, cases[i].b, cases[i].n), "PkgLength %u",
			      (unsigned int)cases[i].v);
	}
	ck_assert_uint_eq(aml_pkglen_encode(out, 0x10000000), 0);
}
END_TEST

/*
 * A Buffer's PkgLength counts itself, the BufferSize and the bytes: 60 bytes
 * make 1 + 2 + 60 = 63 (one byte); 61 need two (2 + 2 + 61 = 65). 4090 bytes
 * make 2 + 3 + 4090 = 4095 (two bytes); 4091 need three (3 + 3 + 4091 = 4097).
 */
START_TEST(pkglength_boundaries_in_objects)
{
	static uint8_t data[4091];
	static const struct {
		size_t n;
		uint8_t head[7];
		size_t head_len;
	} cases[] = {
		{ 60, { 0x11, 0x3f, 0x0a, 60 }, 4 },
		{ 61, { 0x11, 0x41, 0x04, 0x0a, 61 }, 5 },
		{ 4090, { 0x11, 0x4f, 0xff, 0x0b, 0xfa, 0x0f }, 6 },
		{ 4091, { 0x11, 0x81, 0x00, 0x01, 0x0b, 0xfb, 0x0f }, 7 },
	};

	memset(data, 0x5a, sizeof(data));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup();
		aml_buffer(&a, data, cases[i].n);
		ck_assert_int_eq(aml_finish(&a), 0);
		ck_assert_msg(!memcmp(buf, cases[i].head, cases[i].head_len), "buffer of %zu",
			      cases[i].n);
		ck_assert_uint_eq(a.len, cases[i].n + cases[i].head_len);
		ck_assert_uint_eq(buf[a.len - 1], 0x5a); /* the body moved down intact */
		ck_assert_uint_eq(buf[a.len], 0xee);	 /* nothing written after it */
	}
}
END_TEST

/* An inner object shrinks its PkgLength before the outer one measures itself. */
START_TEST(nesting)
{
	static uint8_t data[100];

	setup();
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "DEV0");
	aml_name(&a, "_UID");
	aml_int(&a, 0);
	aml_end(&a);
	aml_end(&a);
	/* Device: 5B 82, PkgLength 1+4+6 = 11; Scope: PkgLength 1+5+13 = 19 */
	EXPECT(0x10, 0x13, 0x5c, '_', 'S', 'B', '_', /* Scope(\_SB) */
	       0x5b, 0x82, 0x0b, 'D', 'E', 'V', '0', /* Device(DEV0) */
	       0x08, '_', 'U', 'I', 'D', 0x00);	     /* Name(_UID, Zero) */

	/* The inner one needs 2 bytes (1+... > 63), so does the outer one. */
	setup();
	memset(data, 0x77, sizeof(data));
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "DEV0");
	aml_buffer(&a, data, sizeof(data));
	aml_end(&a);
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a), 0);
	/* Buffer: 11, PkgLength 2+2+100 = 104 (0x48 0x06), 0A 64, data: 105 bytes */
	/* Device: 5B 82, PkgLength 2+4+105 = 111 (0x4f 0x06): 113 bytes */
	/* Scope: 10, PkgLength 2+5+113 = 120 (0x48 0x07), \_SB_ */
	{
		static const uint8_t head[] = { 0x10, 0x48, 0x07, 0x5c, '_',  'S', 'B', '_',
						0x5b, 0x82, 0x4f, 0x06, 'D',  'E', 'V', '0',
						0x11, 0x48, 0x06, 0x0a, 0x64, 0x77 };

		ck_assert_uint_eq(a.len, 1 + 120);
		ck_assert(!memcmp(buf, head, sizeof(head)));
		ck_assert_uint_eq(buf[a.len - 1], 0x77);
	}
}
END_TEST

START_TEST(name_strings)
{
	setup();
	aml_name_string(&a, "_HID");
	EXPECT('_', 'H', 'I', 'D');
	setup();
	aml_name_string(&a, "\\_SB");
	EXPECT(0x5c, '_', 'S', 'B', '_');
	setup();
	aml_name_string(&a, "\\_SB.UA0");
	EXPECT(0x5c, 0x2e, '_', 'S', 'B', '_', 'U', 'A', '0', '_'); /* DualNamePrefix */
	setup();
	aml_name_string(&a, "A.B1.C_D");
	EXPECT(0x2f, 0x03, 'A', '_', '_', '_', 'B', '1', '_', '_', 'C', '_', 'D', '_');
	setup();
	aml_name_string(&a, "^^FOO");
	EXPECT(0x5e, 0x5e, 'F', 'O', 'O', '_');
	setup();
	aml_name_string(&a, "\\");
	EXPECT(0x5c, 0x00); /* the root: RootChar NullName */

	static const char *const bad[] = { "1ABC", "ABCDE", "AB.",  ".AB",
					   "ab",   "A-B",   "A..B", "\\^A" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		aml_name_string(&a, bad[i]);
		ck_assert_msg(aml_error(&a) == -EINVAL, "'%s' accepted", bad[i]);
	}
}
END_TEST

START_TEST(integers)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t b[9];
	} cases[] = {
		{ 0, 1, { 0x00 } }, /* ZeroOp */
		{ 1, 1, { 0x01 } }, /* OneOp */
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xffff, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xffffffff, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
		{ 0x0123456789abcdef, 9, { 0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup();
		aml_int(&a, cases[i].v);
		expect_bytes(cases[i].b, cases[i].n);
	}
}
END_TEST

START_TEST(strings_and_ids)
{
	setup();
	aml_string(&a, "LNRO0005");
	EXPECT(0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	setup();
	aml_string(&a, "");
	EXPECT(0x0d, 0x00);
	setup();
	aml_string(&a, "caf\xc3\xa9");
	ck_assert_int_eq(aml_error(&a), -EINVAL);

	/* EISAID("PNP0501") = 0x0105D041: 'P' 'N' 'P' as 5-bit letters in bytes 0-1 */
	setup();
	aml_eisaid(&a, "PNP0501");
	EXPECT(0x0c, 0x41, 0xd0, 0x05, 0x01);
	setup();
	aml_eisaid(&a, "PNP0A03");
	EXPECT(0x0c, 0x41, 0xd0, 0x0a, 0x03);
	/* 'A' = 1, 'Z' = 26: (1 << 10 | 26 << 5 | 1) = 0x0741 */
	setup();
	aml_eisaid(&a, "AZA0000");
	EXPECT(0x0c, 0x07, 0x41, 0x00, 0x00); /* still a DWordConst */

	static const char *const bad[] = { "pnp0501", "PNP050",	 "PNP05011",
					   "PNP05G1", "P1P0501", "PNP05a1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		aml_eisaid(&a, bad[i]);
		ck_assert_msg(aml_error(&a) == -EINVAL, "'%s' accepted", bad[i]);
	}
}
END_TEST

START_TEST(name_package_buffer)
{
	setup();
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	EXPECT(0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01);

	/* Name(_S5, Package(4) {5, 0, 0, 0}): PkgLength 1+1+2+1+1+1 = 7 */
	setup();
	aml_name(&a, "_S5");
	aml_package_begin(&a, 4);
	aml_int(&a, 5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_end(&a);
	EXPECT(0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00);

	setup();
	aml_buffer(&a, (const uint8_t[]){ 1, 2, 3 }, 3);
	EXPECT(0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03);
	setup();
	aml_buffer(&a, NULL, 0);
	EXPECT(0x11, 0x02, 0x00); /* BufferSize Zero */
	setup();
	aml_buffer(&a, (const uint8_t[]){ 9 }, 1);
	EXPECT(0x11, 0x03, 0x01, 0x09); /* BufferSize One */

	setup();
	aml_package_begin(&a, 256); /* a VarPackage: not ours */
	ck_assert_int_eq(aml_error(&a), -EINVAL);
}
END_TEST

START_TEST(resource_templates)
{
	uint8_t rbuf[64];
	struct aml r;

	/*
	 * IO(Decode16, 0x3F8, 0x3F8, 0x01, 0x08) and
	 * Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) {4}, End Tag:
	 * 8 + 9 + 2 = 19 bytes; Buffer PkgLength 1+2+19 = 22
	 */
	setup();
	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_io(&r, 0x3f8, 8);
	aml_res_ext_irq(&r, 4, AML_EDGE, AML_ACTIVE_HIGH);
	aml_restemplate(&a, &r);
	EXPECT(0x11, 0x16, 0x0a, 0x13,				     /* Buffer(19) */
	       0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,	     /* IO */
	       0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00, /* Interrupt */
	       0x79, 0x00);					     /* End Tag */

	/*
	 * Memory32Fixed(ReadWrite, 0xD1000000, 0x200) and
	 * Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) {16}
	 */
	setup();
	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_memory32_fixed(&r, 0xd1000000, 0x200);
	aml_res_ext_irq(&r, 16, AML_LEVEL, AML_ACTIVE_HIGH);
	aml_restemplate(&a, &r);
	EXPECT(0x11, 0x1a, 0x0a, 0x17, /* Buffer(23) */
	       0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd1, 0x00, 0x02, 0x00, 0x00, 0x89, 0x06,
	       0x00, 0x01, 0x01, 0x10, 0x00, 0x00, 0x00, 0x79, 0x00);

	/* Level, active low: flags bit 2; edge, active low: bits 1 and 2 */
	setup();
	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_ext_irq(&r, 0x12345678, AML_LEVEL, AML_ACTIVE_LOW);
	aml_res_ext_irq(&r, 5, AML_EDGE, AML_ACTIVE_LOW);
	aml_restemplate(&a, &r);
	EXPECT(0x11, 0x17, 0x0a, 0x14, 0x89, 0x06, 0x00, 0x05, 0x01, 0x78, 0x56, 0x34, 0x12, 0x89,
	       0x06, 0x00, 0x07, 0x01, 0x05, 0x00, 0x00, 0x00, 0x79, 0x00);

	/* A template that overflowed its own buffer fails the AML it goes into. */
	setup();
	aml_init(&r, rbuf, 10);
	aml_res_memory32_fixed(&r, 0, 0x1000);
	aml_restemplate(&a, &r);
	ck_assert_int_eq(aml_error(&a), -ENOSPC);
	ck_assert_uint_eq(a.len, 0);
}
END_TEST

START_TEST(overflow_is_latched)
{
	aml_init(&a, buf, 4);
	aml_int(&a, 0x10000); /* 5 bytes: does not fit */
	ck_assert_int_eq(aml_error(&a), -ENOSPC);
	ck_assert_uint_eq(a.len, 0);
	aml_int(&a, 0); /* would fit: the error stays, nothing is written */
	ck_assert_uint_eq(a.len, 0);
	ck_assert_int_eq(aml_finish(&a), -ENOSPC);

	/* Exactly full is fine. */
	aml_init(&a, buf, 5);
	aml_int(&a, 0x10000);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.len, 5);

	/* Package(0) {} is 3 bytes, and 3 bytes are enough to write it. */
	aml_init(&a, buf, 3);
	aml_package_begin(&a, 0);
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.len, 3);
	ck_assert(!memcmp(buf, (const uint8_t[]){ 0x12, 0x02, 0x00 }, 3));
	aml_init(&a, buf, 2);
	aml_package_begin(&a, 0);
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a), -ENOSPC);

	/* A PkgLength growing to 2 bytes at aml_end() needs its byte of room then. */
	{
		static const uint8_t data[61];

		aml_init(&a, buf, 66); /* 11 41 04 0A 3D + 61 bytes */
		aml_buffer(&a, data, sizeof(data));
		ck_assert_int_eq(aml_finish(&a), 0);
		ck_assert_uint_eq(a.len, 66);
		aml_init(&a, buf, 65);
		aml_buffer(&a, data, sizeof(data));
		ck_assert_int_eq(aml_finish(&a), -ENOSPC);
	}

	/* Many small writes that overflow in the middle of an object */
	aml_init(&a, buf, 20);
	aml_device_begin(&a, "DEV0");
	for (int i = 0; i < 10; i++)
		aml_int(&a, 0xff);
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a), -ENOSPC);
	ck_assert_uint_le(a.len, 20);
}
END_TEST

START_TEST(unbalanced)
{
	setup();
	aml_end(&a);
	ck_assert_int_eq(aml_error(&a), -EINVAL);

	setup();
	aml_scope_begin(&a, "\\_SB");
	ck_assert_int_eq(aml_error(&a), 0);
	ck_assert_int_eq(aml_finish(&a), -EINVAL); /* still open */

	setup();
	for (int i = 0; i < AML_MAX_DEPTH; i++)
		aml_device_begin(&a, "DEV0");
	ck_assert_int_eq(aml_error(&a), 0);
	aml_device_begin(&a, "DEV0");
	ck_assert_int_eq(aml_error(&a), -E2BIG);
}
END_TEST

/* The seam's helper: what every device's acpi_node starts with. */
static void fake_crs(const struct acpi_ctx *ctx, const struct mmio_dev *dev)
{
	uint8_t rbuf[32];
	struct aml r;

	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_memory32_fixed(&r, (uint32_t)dev->base, (uint32_t)dev->size);
	aml_name(ctx->aml, "_CRS");
	aml_restemplate(ctx->aml, &r);
}

START_TEST(device_helper)
{
	const struct mmio_dev dev = { .name = "x", .base = 0x1000, .size = 0x10 };
	struct acpi_ctx ctx = { .aml = &a, .index = 0x1f, .add_crs = fake_crs };

	setup();
	ck_assert_int_eq(acpi_begin_device(&ctx, &dev, "VR", "LNRO0005"), 0);
	aml_end(&a);
	EXPECT(0x5b, 0x82, 0x32, 'V', 'R', '1', 'F', /* Device(VR1F) */
	       0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00, 0x08,
	       '_', 'U', 'I', 'D', 0x0a, 0x1f,			 /* _UID 0x1f */
	       0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e, /* _CRS */
	       0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x79, 0x00);

	/* A 7-character PNP ID is an EISAID; index 0 is Zero. */
	setup();
	ctx.index = 0;
	ck_assert_int_eq(acpi_begin_device(&ctx, &dev, "UA", "PNP0501"), 0);
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert(!memcmp(buf + 3, "UA00\x08_HID\x0c\x41\xd0\x05\x01\x08_UID\x00", 20));

	/* Names it cannot make */
	setup();
	ctx.index = 0x100;
	ck_assert_int_eq(acpi_begin_device(&ctx, &dev, "UA", "PNP0501"), -EINVAL);
	setup();
	ctx.index = 1;
	ck_assert_int_eq(acpi_begin_device(&ctx, &dev, "U", "PNP0501"), -EINVAL);
	setup();
	ck_assert_int_eq(acpi_begin_device(&ctx, &dev, "1A", "PNP0501"), -EINVAL);
	setup();
	ck_assert_int_eq(acpi_begin_device(&ctx, &dev, "UA", "PNP05"), -EINVAL);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("aml");
	TCase *tc = tcase_create("aml");

	tcase_add_test(tc, pkglength_encoding);
	tcase_add_test(tc, pkglength_boundaries_in_objects);
	tcase_add_test(tc, nesting);
	tcase_add_test(tc, name_strings);
	tcase_add_test(tc, integers);
	tcase_add_test(tc, strings_and_ids);
	tcase_add_test(tc, name_package_buffer);
	tcase_add_test(tc, resource_templates);
	tcase_add_test(tc, overflow_is_latched);
	tcase_add_test(tc, unbalanced);
	tcase_add_test(tc, device_helper);
	suite_add_tcase(s, tc);
	return s;
}
