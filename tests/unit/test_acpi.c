// SPDX-License-Identifier: GPL-2.0
/*
 * The x86_64 ACPI tables (ACPI 6.5 chapter 5): every checksum, the pointers
 * from the RSDP down to the DSDT, the MADT for 1, 2 and 64 vCPUs, and the
 * DSDT's AML byte for byte (devices from a port-I/O and an MMIO bus, \_S5).
 * tests/oracle/acpi_iasl.sh reads the same tables with iasl.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../arch/x86_64/acpi.h"
#include "../../devices/serial.h"
#include "../../virtio/mmio.h"
#include "unit.h"

#define BASE X86_ACPI_BASE
#define VIRTIO_BASE 0xd1000000u
#define VIRTIO_STRIDE 0x200u
#define VIRTIO_GSI 16

static uint8_t mem[X86_ACPI_SIZE];
static struct mmio_bus mmio, pio;
static struct x86_acpi_tables tabs;
static const char *why;

/* Doorbell-like: on the bus, not in ACPI. */
static const struct mmio_dev_ops plain_ops = { 0 };

static void machine(unsigned int ndisks)
{
	const struct mmio_dev uart = { .name = "uart",
				       .base = 0x3f8,
				       .size = 8,
				       .irq = 4,
				       .has_irq = true,
				       .ops = &serial_ops };
	const struct mmio_dev bell = {
		.name = "debug-exit", .base = 0xd0000000, .size = 0x1000, .ops = &plain_ops
	};

	memset(&mmio, 0, sizeof(mmio));
	memset(&pio, 0, sizeof(pio));
	ck_assert_int_eq(bus_register(&pio, &uart), 0);
	ck_assert_int_eq(bus_register(&mmio, &bell), 0);
	for (unsigned int i = 0; i < ndisks; i++) {
		const struct mmio_dev d = { .name = "virtio-blk",
					    .base = VIRTIO_BASE + i * VIRTIO_STRIDE,
					    .size = VIRTIO_STRIDE,
					    .irq = VIRTIO_GSI + i,
					    .has_irq = true,
					    .ops = &virtio_mmio_ops };

		ck_assert_int_eq(bus_register(&mmio, &d), 0);
	}
}

static int build(unsigned int ncpus)
{
	const struct x86_acpi_params p = {
		.ncpus = ncpus, .mmio = &mmio, .pio = &pio, .base_gpa = BASE
	};

	why = NULL;
	return x86_acpi_build(&p, mem, sizeof(mem), &tabs, &why);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The table at guest address gpa (inside mem), checked against the list. */
static const uint8_t *at(uint64_t gpa)
{
	ck_assert_uint_ge(gpa, BASE);
	ck_assert_uint_lt(gpa, BASE + sizeof(mem));
	return mem + (gpa - BASE);
}

static const struct x86_acpi_table *table(const char *sig)
{
	for (unsigned int i = 0; i < tabs.n; i++) {
		if (!strcmp(tabs.t[i].sig, sig))
			return &tabs.t[i];
	}
	ck_abort_msg("no %s", sig);
	return NULL;
}

/* The 36-byte header of 5.2.6: signature, length, revision, checksum, IDs. */
static const uint8_t *check_header(const char *sig, uint8_t revision)
{
	const struct x86_acpi_table *t = table(sig);
	const uint8_t *h = t->data;

	ck_assert_ptr_eq(h, at(t->gpa));
	ck_assert(!memcmp(h, sig, 4));
	ck_assert_uint_eq(le(h + 4, 4), t->len);
	ck_assert_uint_eq(h[8], revision);
	ck_assert_msg(sum(h, t->len) == 0, "%s checksum", sig);
	ck_assert(!memcmp(h + 10, "ICEVMM", 6));
	ck_assert(!memcmp(h + 16, "ICEVMM  ", 8));
	ck_assert_uint_eq(t->gpa % 16, 0);
	return h;
}

START_TEST(pointers_and_checksums)
{
	const uint8_t *rsdp = mem, *xsdt, *fadt;

	machine(2);
	ck_assert_int_eq(build(2), 0);
	ck_assert_uint_eq(tabs.n, 5);
	ck_assert_str_eq(tabs.t[0].sig, "RSDP");
	ck_assert_ptr_eq(tabs.t[0].data, mem);
	ck_assert_uint_eq(tabs.t[0].gpa, BASE);
	ck_assert_uint_le(tabs.used, sizeof(mem));

	/* RSDP (5.2.5.3): revision 2, both checksums, the XSDT */
	ck_assert(!memcmp(rsdp, "RSD PTR ", 8));
	ck_assert_uint_eq(sum(rsdp, 20), 0);
	ck_assert_uint_eq(sum(rsdp, 36), 0);
	ck_assert(!memcmp(rsdp + 9, "ICEVMM", 6));
	ck_assert_uint_eq(rsdp[15], 2);
	ck_assert_uint_eq(le(rsdp + 16, 4), 0); /* no RSDT */
	ck_assert_uint_eq(le(rsdp + 20, 4), 36);
	ck_assert_uint_eq(tabs.t[0].len, 36);
	ck_assert_uint_eq(le(rsdp + 24, 8), table("XSDT")->gpa);

	/* XSDT (5.2.8): the FADT and the MADT */
	xsdt = check_header("XSDT", 1);
	ck_assert_uint_eq(table("XSDT")->len, 36 + 16);
	ck_assert_uint_eq(le(xsdt + 36, 8), table("FACP")->gpa);
	ck_assert_uint_eq(le(xsdt + 44, 8), table("APIC")->gpa);

	/* FADT (5.2.9): revision 6.5, 276 bytes, HW_REDUCED_ACPI, X_DSDT */
	fadt = check_header("FACP", 6);
	ck_assert_uint_eq(table("FACP")->len, 276);
	ck_assert_uint_eq(fadt[131], 5);			 /* minor revision */
	ck_assert_uint_eq(le(fadt + 112, 4), 1u << 20);		 /* flags: HW_REDUCED_ACPI only */
	ck_assert_uint_eq(le(fadt + 109, 2), 1u << 2 | 1u << 5); /* no VGA, no CMOS RTC, no 8042 */
	ck_assert_uint_eq(le(fadt + 36, 4), 0);			 /* no FACS */
	ck_assert_uint_eq(le(fadt + 40, 4), 0);			 /* 32-bit DSDT unused */
	ck_assert_uint_eq(le(fadt + 46, 2), 0);			 /* no SCI */
	ck_assert_uint_eq(le(fadt + 140, 8), table("DSDT")->gpa);
	/* SLEEP_CONTROL_REG, SLEEP_STATUS_REG: SystemIO, 8 bits, byte access */
	ck_assert(!memcmp(fadt + 244, (const uint8_t[]){ 1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0 },
			  12));
	ck_assert(!memcmp(fadt + 256, (const uint8_t[]){ 1, 8, 0, 1, 0x01, 0x06, 0, 0, 0, 0, 0, 0 },
			  12));
	for (int off = 56; off < 96; off++) /* PM1/PM2/PM timer/GPE blocks and lengths */
		ck_assert_msg(fadt[off] == 0, "FADT byte %d", off);
	for (int off = 148; off < 244; off++) /* their X_ forms */
		ck_assert_msg(fadt[off] == 0, "FADT byte %d", off);

	check_header("APIC", 6);
	check_header("DSDT", 2);

	/* As --dump-acpi gets them: named by signature, after what is there. */
	{
		struct boot_blobs b = { .b = { { "x", "", 0 } }, .n = 1 };

		ck_assert_int_eq(x86_acpi_blobs(&tabs, &b), 0);
		ck_assert_uint_eq(b.n, 6);
		for (unsigned int i = 0; i < 5; i++) {
			ck_assert_str_eq(b.b[1 + i].name, tabs.t[i].sig);
			ck_assert_ptr_eq(b.b[1 + i].data, tabs.t[i].data);
			ck_assert_uint_eq(b.b[1 + i].size, tabs.t[i].len);
		}
		b.n = BOOT_BLOBS_MAX - 4;
		ck_assert_int_eq(x86_acpi_blobs(&tabs, &b), -ENOSPC);
		ck_assert_uint_eq(b.n, BOOT_BLOBS_MAX - 4);
	}
}
END_TEST

static void check_madt(unsigned int ncpus)
{
	const uint8_t *m;
	size_t off = 44;

	machine(0);
	ck_assert_int_eq(build(ncpus), 0);
	m = check_header("APIC", 6);
	ck_assert_uint_eq(table("APIC")->len, 44 + 8 * ncpus + 12);
	ck_assert_uint_eq(le(m + 36, 4), 0xfee00000);
	ck_assert_uint_eq(le(m + 40, 4), 0); /* no PCAT_COMPAT: no 8259 */
	for (unsigned int i = 0; i < ncpus; i++, off += 8) {
		const uint8_t want[] = { 0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0 };

		ck_assert_msg(!memcmp(m + off, want, 8), "local APIC %u of %u", i, ncpus);
	}
	ck_assert(!memcmp(m + off, (const uint8_t[]){ 1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 },
			  12));
}

START_TEST(madt_1_2_64)
{
	check_madt(1);
	check_madt(2);
	check_madt(64);
}
END_TEST

START_TEST(refusals)
{
	struct x86_acpi_params p = { .ncpus = 0, .mmio = &mmio, .pio = &pio, .base_gpa = BASE };
	size_t need;

	machine(8);
	ck_assert_int_eq(build(0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "1 to 64"));
	ck_assert_int_eq(build(65), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "1 to 64"));

	/* too small for the fixed tables, then by one byte for the DSDT */
	p.ncpus = 64;
	ck_assert_int_eq(x86_acpi_build(&p, mem, 512, &tabs, &why), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(why, "no room"));
	ck_assert_int_eq(x86_acpi_build(&p, mem, sizeof(mem), &tabs, &why), 0);
	need = tabs.used;
	ck_assert_int_eq(x86_acpi_build(&p, mem, need, &tabs, &why), 0);
	/* one byte short */
	ck_assert_int_eq(x86_acpi_build(&p, mem, need - 1, &tabs, &why), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(why, "no room"));

	p.base_gpa = BASE + 8;
	ck_assert_int_eq(x86_acpi_build(&p, mem, sizeof(mem), &tabs, &why), -EINVAL);
}
END_TEST

/* Devices ACPI cannot describe are refused, not written wrong. */
START_TEST(undescribable_devices)
{
	struct mmio_dev *uart;

	machine(1);
	uart = &pio.devs[0];
	uart->size = 0x1000; /* an IO descriptor's length is one byte */
	ck_assert_int_eq(build(1), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "DSDT"));
	uart->size = 8;
	uart->base = 0xfffc; /* past port 0xffff */
	ck_assert_int_eq(build(1), -EINVAL);
	uart->base = 0x3f8;
	uart->irq = 24; /* no such IOAPIC pin */
	ck_assert_int_eq(build(1), -EINVAL);
	uart->irq = 4;
	mmio.devs[1].base = 0xfffffe00 + 0x100; /* crosses 4 GiB */
	ck_assert_int_eq(build(1), -EINVAL);
	mmio.devs[1].base = VIRTIO_BASE;
	ck_assert_int_eq(build(1), 0);
}
END_TEST

/* Appends a 1- or 2-byte PkgLength for a body of n bytes (as 20.2.4 says). */
static size_t put_pkglen(uint8_t *p, size_t body)
{
	if (body + 1 <= 63) {
		p[0] = (uint8_t)(body + 1);
		return 1;
	}
	ck_assert_uint_le(body + 2, 0xfff);
	p[0] = (uint8_t)(0x40 | ((body + 2) & 0xf));
	p[1] = (uint8_t)((body + 2) >> 4);
	return 2;
}

/* Device(name) { body } */
static size_t put_device(uint8_t *p, const char *name, const uint8_t *body, size_t n)
{
	size_t o = 0;

	p[o++] = 0x5b;
	p[o++] = 0x82;
	o += put_pkglen(p + o, 4 + n);
	memcpy(p + o, name, 4);
	memcpy(p + o + 4, body, n);
	return o + 4 + n;
}

/*
 * The whole DSDT, built here by hand from the spec:
 * Scope(\_SB) {
 *   Device(UA00) { Name(_HID, EisaId("PNP0501")) Name(_UID, 0)
 *     Name(_CRS, ResourceTemplate() { IO(Decode16, 0x3F8, 0x3F8, 1, 8)
 *       Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) {4} }) }
 *   Device(VR0n) { Name(_HID, "LNRO0005") Name(_UID, n)
 *     Name(_CRS, ResourceTemplate() { Memory32Fixed(ReadWrite, base, 0x200)
 *       Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) {16 + n - 1} }) }
 * }
 * Name(_S5, Package(4) { 5, 0, 0, 0 })
 */
static void check_dsdt(unsigned int ndisks)
{
	static const uint8_t uart[] = {
		0x08, '_',  'H',  'I',	'D',  0x0c, 0x41, 0xd0, 0x05, 0x01, /* _HID */
		0x08, '_',  'U',  'I',	'D',  0x00,			    /* _UID */
		0x08, '_',  'C',  'R',	'S',  0x11, 0x16, 0x0a, 0x13,	    /* _CRS */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,		    /* IO */
		0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00,	    /* IRQ 4 edge high */
		0x79, 0x00,
	};
	static const uint8_t s5[] = { 0x08, '_',  'S',	'5',  '_',  0x12, 0x07,
				      0x04, 0x0a, 0x05, 0x00, 0x00, 0x00 };
	uint8_t devs[4096], want[4096];
	size_t nd = 0, n = 0;
	const struct x86_acpi_table *t;

	nd += put_device(devs + nd, "UA00", uart, sizeof(uart));
	for (unsigned int i = 0; i < ndisks; i++) {
		uint8_t body[64];
		size_t b = 0;
		uint32_t base = VIRTIO_BASE + i * VIRTIO_STRIDE;
		unsigned int uid = i + 1;
		char name[5];

		memcpy(body + b, "\x08_HID\x0dLNRO0005", 15);
		b += 15;
		memcpy(body + b, "\x08_UID", 5);
		b += 5;
		if (uid == 1) {
			body[b++] = 0x01;
		} else {
			body[b++] = 0x0a;
			body[b++] = (uint8_t)uid;
		}
		memcpy(body + b, "\x08_CRS\x11\x1a\x0a\x17\x86\x09\x00\x01", 13);
		b += 13;
		for (int k = 0; k < 4; k++)
			body[b++] = (uint8_t)(base >> (8 * k));
		memcpy(body + b, "\x00\x02\x00\x00\x89\x06\x00\x01\x01", 9);
		b += 9;
		body[b++] = (uint8_t)(VIRTIO_GSI + i);
		memcpy(body + b, "\x00\x00\x00\x79\x00", 5);
		b += 5;
		snprintf(name, sizeof(name), "VR%02X", uid);
		nd += put_device(devs + nd, name, body, b);
	}
	want[n++] = 0x10; /* Scope(\_SB) */
	n += put_pkglen(want + n, 5 + nd);
	memcpy(want + n, "\\_SB_", 5);
	n += 5;
	memcpy(want + n, devs, nd);
	n += nd;
	memcpy(want + n, s5, sizeof(s5));
	n += sizeof(s5);

	machine(ndisks);
	ck_assert_int_eq(build(1), 0);
	t = table("DSDT");
	check_header("DSDT", 2);
	ck_assert_uint_eq(t->len, 36 + n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(((const uint8_t *)t->data)[36 + i] == want[i],
			      "%u disks: AML byte %zu is %02x, want %02x", ndisks, i,
			      ((const uint8_t *)t->data)[36 + i], want[i]);
}

START_TEST(dsdt_devices_and_s5)
{
	check_dsdt(0);
	check_dsdt(1);
	check_dsdt(2);
	check_dsdt(8); /* the Scope's PkgLength takes 2 bytes */
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("acpi");

	tcase_add_test(tc, pointers_and_checksums);
	tcase_add_test(tc, madt_1_2_64);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, undescribable_devices);
	tcase_add_test(tc, dsdt_devices_and_s5);
	suite_add_tcase(s, tc);
	return s;
}
