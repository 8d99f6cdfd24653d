// SPDX-License-Identifier: GPL-2.0
/* The arm64 device tree: build it, parse it back with libfdt, check every node. */
#include <libfdt.h>
#include <string.h>

#include "../../arch/arm64/fdt.h"
#include "../../arch/arm64/layout.h"
#include "../../devices/doorbell.h"
#include "../../devices/serial.h"
#include "unit.h"

static uint8_t blob[64 * 1024];
static struct mmio_bus bus;
static struct serial uart;
static struct doorbell dbg = { .name = "debug-exit", .compatible = "icevmm,debug-exit" };
static const uint64_t mpidrs[] = { 0x80000000, 0x80000001 };

static void build(enum arm64_gic_version gic, unsigned int ncpus, int with_initrd)
{
	struct irq_line none = { 0 };
	struct mmio_dev devs[] = {
		{ .name = "uart",
		  .base = ARM64_UART_BASE,
		  .size = SERIAL_MMIO_SIZE,
		  .irq = ARM64_UART_SPI,
		  .has_irq = true,
		  .ops = &serial_ops,
		  .opaque = &uart },
		{ .name = "debug-exit",
		  .base = ARM64_DEBUG_EXIT_BASE,
		  .size = DOORBELL_MMIO_SIZE,
		  .ops = &doorbell_ops,
		  .opaque = &dbg },
	};
	struct arm64_fdt_params p = {
		.ncpus = ncpus,
		.mpidr = mpidrs,
		.gic = gic,
		.ram_base = ARM64_RAM_BASE,
		.ram_size = 256ULL << 20,
		.cmdline = "console=ttyS0 quiet",
		.initrd_start = with_initrd ? 0x8f000000 : 0,
		.initrd_end = with_initrd ? 0x8f123000 : 0,
		.stdout_path = "/uart@9000000",
		.bus = &bus,
	};

	memset(&bus, 0, sizeof(bus));
	serial_init(&uart, &none, NULL, NULL);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(bus_register(&bus, &devs[i]), 0);
	ck_assert_int_eq(arm64_fdt_build(&p, blob, sizeof(blob)), 0);
	ck_assert_int_eq(fdt_check_header(blob), 0);
}

static int node(const char *path)
{
	int off = fdt_path_offset(blob, path);

	ck_assert_msg(off >= 0, "node %s missing", path);
	return off;
}

static void expect_str(const char *path, const char *prop, const char *want)
{
	int len;
	const char *v = fdt_getprop(blob, node(path), prop, &len);

	ck_assert_msg(v, "%s:%s missing", path, prop);
	ck_assert_str_eq(v, want);
}

/* Compare a property with big-endian 32-bit cells. */
static void expect_cells(const char *path, const char *prop, const uint32_t *cells, int n)
{
	int len;
	const fdt32_t *v = fdt_getprop(blob, node(path), prop, &len);

	ck_assert_msg(v, "%s:%s missing", path, prop);
	ck_assert_int_eq(len, n * 4);
	for (int i = 0; i < n; i++)
		ck_assert_uint_eq(fdt32_to_cpu(v[i]), cells[i]);
}

START_TEST(gicv3_two_cpus)
{
	build(ARM64_GICV3, 2, 1);
	expect_str("/", "compatible", "linux,dummy-virt");
	expect_cells("/", "#address-cells", (uint32_t[]){ 2 }, 1);
	expect_cells("/", "interrupt-parent", (uint32_t[]){ 1 }, 1);
	expect_str("/memory@80000000", "device_type", "memory");
	expect_cells("/memory@80000000", "reg", (uint32_t[]){ 0, 0x80000000, 0, 0x10000000 }, 4);

	/* reg is MPIDR's affinity fields: bit 31 (RES1) is not part of it. */
	expect_cells("/cpus/cpu@0", "reg", (uint32_t[]){ 0, 0 }, 2);
	expect_cells("/cpus/cpu@1", "reg", (uint32_t[]){ 0, 1 }, 2);
	expect_str("/cpus/cpu@1", "enable-method", "psci");
	expect_str("/cpus/cpu@1", "device_type", "cpu");
	ck_assert_int_lt(fdt_path_offset(blob, "/cpus/cpu@2"), 0);

	expect_str("/psci", "compatible", "arm,psci-0.2");
	expect_str("/psci", "method", "hvc");

	expect_str("/intc@8000000", "compatible", "arm,gic-v3");
	expect_cells("/intc@8000000", "reg",
		     (uint32_t[]){ 0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 0x40000 }, 8);
	expect_cells("/intc@8000000", "#interrupt-cells", (uint32_t[]){ 3 }, 1);
	expect_cells("/intc@8000000", "phandle", (uint32_t[]){ 1 }, 1);
	ck_assert_ptr_nonnull(
		fdt_getprop(blob, node("/intc@8000000"), "interrupt-controller", NULL));

	expect_str("/timer", "compatible", "arm,armv8-timer");
	expect_cells("/timer", "interrupts", (uint32_t[]){ 1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4 },
		     12);

	expect_str("/chosen", "bootargs", "console=ttyS0 quiet");
	expect_cells("/chosen", "linux,initrd-start", (uint32_t[]){ 0, 0x8f000000 }, 2);
	expect_cells("/chosen", "linux,initrd-end", (uint32_t[]){ 0, 0x8f123000 }, 2);
	expect_str("/chosen", "stdout-path", "/uart@9000000");

	expect_str("/uart@9000000", "compatible", "ns16550a");
	expect_cells("/uart@9000000", "reg", (uint32_t[]){ 0, 0x09000000, 0, 0x1000 }, 4);
	expect_cells("/uart@9000000", "interrupts", (uint32_t[]){ 0, 1, 4 }, 3);
	expect_cells("/uart@9000000", "clock-frequency", (uint32_t[]){ 1843200 }, 1);
	expect_cells("/uart@9000000", "reg-io-width", (uint32_t[]){ 1 }, 1);

	expect_str("/debug-exit@9010000", "compatible", "icevmm,debug-exit");
	expect_cells("/debug-exit@9010000", "reg", (uint32_t[]){ 0, 0x09010000, 0, 0x1000 }, 4);
	ck_assert_ptr_null(fdt_getprop(blob, node("/debug-exit@9010000"), "interrupts", NULL));
}
END_TEST

START_TEST(gicv2_one_cpu_no_initrd)
{
	build(ARM64_GICV2, 1, 0);
	expect_str("/intc@8000000", "compatible", "arm,cortex-a15-gic");
	expect_cells("/intc@8000000", "reg",
		     (uint32_t[]){ 0, 0x08000000, 0, 0x10000, 0, 0x08010000, 0, 0x2000 }, 8);
	/* GICv2 PPI specifiers carry the CPU mask in bits 15:8. */
	expect_cells("/timer", "interrupts",
		     (uint32_t[]){ 1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104 }, 12);
	ck_assert_ptr_null(fdt_getprop(blob, node("/chosen"), "linux,initrd-start", NULL));
	ck_assert_int_lt(fdt_path_offset(blob, "/cpus/cpu@1"), 0);
}
END_TEST

START_TEST(too_small_buffer_fails_cleanly)
{
	struct arm64_fdt_params p = { .ncpus = 1,
				      .mpidr = mpidrs,
				      .gic = ARM64_GICV3,
				      .ram_base = ARM64_RAM_BASE,
				      .ram_size = 1 << 28,
				      .cmdline = "x" };
	static uint8_t small[256];

	ck_assert_int_lt(arm64_fdt_build(&p, small, sizeof(small)), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("arm64 fdt");
	TCase *tc = tcase_create("fdt");

	tcase_add_test(tc, gicv3_two_cpus);
	tcase_add_test(tc, gicv2_one_cpu_no_initrd);
	tcase_add_test(tc, too_small_buffer_fails_cleanly);
	suite_add_tcase(s, tc);
	return s;
}
