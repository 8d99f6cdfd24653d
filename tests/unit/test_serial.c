// SPDX-License-Identifier: GPL-2.0
/* The 16550A UART, driven through its MMIO entry points as a vCPU exit would. */
#include <errno.h>
#include <string.h>

#include "../../devices/serial.h"
#include "../../vmm/aml.h"
#include "unit.h"

static struct serial uart;
static uint8_t txbuf[256];
static size_t txlen;
static int irq_level, irq_changes;

static void tx(void *ctx, uint8_t b)
{
	(void)ctx;
	txbuf[txlen++] = b;
}

static void set_irq(void *ctx, unsigned int irq, int level)
{
	(void)ctx;
	ck_assert_uint_eq(irq, 7);
	irq_level = level;
	irq_changes++;
}

static void setup(void)
{
	struct irq_line l = { .set_level = set_irq, .irq = 7 };

	txlen = 0;
	irq_level = 0;
	irq_changes = 0;
	serial_init(&uart, &l, tx, NULL);
}

static uint8_t rd(unsigned int reg)
{
	uint8_t v[4] = { 0xaa, 0xaa, 0xaa, 0xaa };

	serial_read(&uart, reg, v, 1);
	return v[0];
}

static void wr(unsigned int reg, uint8_t v)
{
	serial_write(&uart, reg, &v, 1);
}

START_TEST(transmits_bytes)
{
	wr(0, 'h');
	wr(0, 'i');
	ck_assert_uint_eq(txlen, 2);
	ck_assert_mem_eq(txbuf, "hi", 2);
	ck_assert_uint_eq(rd(5), 0x60); /* THRE | TEMT, no data */
	ck_assert_int_eq(irq_level, 0); /* no interrupt enabled */
}
END_TEST

START_TEST(thre_interrupt_semantics)
{
	ck_assert_uint_eq(rd(2), 0x01); /* IIR: none pending */
	wr(1, 0x02);			/* IER.ETBEI: THR is empty → interrupt at once */
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(2), 0x02); /* IIR: THRI; reading it clears it */
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(2), 0x01);
	wr(0, 'x'); /* THR empties again after the byte is sent */
	ck_assert_int_eq(irq_level, 1);
	wr(1, 0x00); /* masking drops the line */
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

START_TEST(receives_with_interrupt)
{
	const uint8_t in[] = "ab";

	wr(1, 0x01); /* IER.ERBFI */
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(serial_rx_push(&uart, in, 2), 2);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(5) & 0x01, 0x01); /* LSR.DR */
	ck_assert_uint_eq(rd(2), 0x04);	       /* IIR: received data */
	ck_assert_uint_eq(rd(0), 'a');
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(0), 'b');
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(5) & 0x01, 0);
	ck_assert_uint_eq(rd(0), 0); /* empty FIFO reads 0 */
}
END_TEST

START_TEST(rx_fifo_bounded)
{
	uint8_t big[SERIAL_RX_FIFO + 10];

	memset(big, 'z', sizeof(big));
	ck_assert_uint_eq(serial_rx_push(&uart, big, sizeof(big)), SERIAL_RX_FIFO);
	ck_assert_uint_eq(serial_rx_space(&uart), 0);
	ck_assert_uint_eq(serial_rx_push(&uart, big, 1), 0);
	rd(0);
	ck_assert_uint_eq(serial_rx_space(&uart), 1);
	wr(2, 0x03); /* FCR: enable + clear RX */
	ck_assert_uint_eq(serial_rx_space(&uart), SERIAL_RX_FIFO);
	ck_assert_uint_eq(rd(2) & 0xc0, 0xc0); /* IIR reports FIFOs enabled */
}
END_TEST

START_TEST(divisor_latch_and_scratch)
{
	wr(3, 0x83); /* DLAB */
	wr(0, 0x0c);
	wr(1, 0x00);
	ck_assert_uint_eq(rd(0), 0x0c);
	wr(3, 0x03);
	ck_assert_uint_eq(txlen, 0); /* divisor writes are not data */
	ck_assert_uint_eq(rd(1), 0x00);
	ck_assert_uint_eq(rd(3), 0x03);
	wr(7, 0x5a);
	ck_assert_uint_eq(rd(7), 0x5a);
}
END_TEST

START_TEST(modem_status_and_loopback)
{
	ck_assert_uint_eq(rd(6), 0xb0); /* DCD | DSR | CTS */
	wr(4, 0x10 | 0x02);		/* loopback, RTS */
	ck_assert_uint_eq(rd(6), 0x10); /* CTS follows RTS */
	wr(0, 'L');
	ck_assert_uint_eq(txlen, 0); /* looped back, not sent */
	ck_assert_uint_eq(rd(0), 'L');
}
END_TEST

START_TEST(out_of_range_offsets_ignored)
{
	uint8_t v[8];

	memset(v, 0xff, sizeof(v));
	serial_read(&uart, 8, v, 4);
	ck_assert_uint_eq(v[0] | v[1] | v[2] | v[3], 0);
	v[0] = 'q';
	serial_write(&uart, 0xfff, v, 1);
	ck_assert_uint_eq(txlen, 0);
}
END_TEST

/* The arch's part of the ACPI seam, faked: a marker where _CRS goes. */
static void crs_marker(const struct acpi_ctx *ctx, const struct mmio_dev *dev)
{
	(void)dev;
	aml_name(ctx->aml, "_CRS");
	aml_int(ctx->aml, 0x42);
}

/* The UART describes itself to ACPI as a 16550A (PNP0501), on any bus. */
START_TEST(acpi_node)
{
	const struct mmio_dev dev = { .name = "uart", .base = 0x3f8, .size = 8, .ops = &serial_ops };
	static const uint8_t want[] = {
		0x5b, 0x82, 0x1d, 'U', 'A', '0',  '3',			  /* Device(UA03) */
		0x08, '_',  'H',  'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01, /* EISAID("PNP0501") */
		0x08, '_',  'U',  'I', 'D', 0x0a, 0x03,			  /* _UID 3 */
		0x08, '_',  'C',  'R', 'S', 0x0a, 0x42,			  /* the arch's _CRS */
	};
	uint8_t buf[64];
	struct aml a;
	struct acpi_ctx ctx = { .aml = &a, .index = 3, .add_crs = crs_marker };

	aml_init(&a, buf, sizeof(buf));
	ck_assert_int_eq(serial_ops.acpi_node(&dev, &ctx), 0);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.len, sizeof(want));
	ck_assert(!memcmp(buf, want, sizeof(want)));

	aml_init(&a, buf, sizeof(want) - 1); /* the error reaches the caller */
	ck_assert_int_eq(serial_ops.acpi_node(&dev, &ctx), -ENOSPC);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("16550a");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, transmits_bytes);
	tcase_add_test(tc, thre_interrupt_semantics);
	tcase_add_test(tc, receives_with_interrupt);
	tcase_add_test(tc, rx_fifo_bounded);
	tcase_add_test(tc, divisor_latch_and_scratch);
	tcase_add_test(tc, modem_status_and_loopback);
	tcase_add_test(tc, out_of_range_offsets_ignored);
	tcase_add_test(tc, acpi_node);
	suite_add_tcase(s, tc);
	return s;
}
