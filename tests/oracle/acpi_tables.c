// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the x86_64 ACPI tables of a machine like the one icevmm builds (the
 * UART on port I/O, a doorbell and N virtio-mmio disks in the MMIO hole) to
 * DIR/<table>.dat through the --dump-acpi writer, without a VM, for
 * tests/oracle/acpi_iasl.sh to read with iasl.
 *
 *   acpi_tables DIR NCPUS NDISKS     prints "table SIG GPA LEN" for each
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../arch/x86_64/acpi.h"
#include "../../devices/serial.h"
#include "../../virtio/mmio.h"
#include "../../vmm/dump.h"

static uint8_t mem[X86_ACPI_SIZE];

int main(int argc, char **argv)
{
	static const struct mmio_dev_ops plain_ops = { 0 }; /* a doorbell: not in ACPI */
	const struct mmio_dev uart = { .name = "uart",
				       .base = 0x3f8,
				       .size = 8,
				       .irq = 4,
				       .has_irq = true,
				       .ops = &serial_ops };
	const struct mmio_dev bell = {
		.name = "debug-exit", .base = 0xd0000000, .size = 0x1000, .ops = &plain_ops
	};
	struct mmio_bus mmio = { .ndevs = 0 }, pio = { .ndevs = 0 };
	struct x86_acpi_params p = { .mmio = &mmio, .pio = &pio, .base_gpa = X86_ACPI_BASE };
	struct x86_acpi_tables tabs;
	struct boot_blobs blobs = { .n = 0 };
	const char *why;
	unsigned int ndisks, i;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DIR NCPUS NDISKS\n", argv[0]);
		return 2;
	}
	p.ncpus = (unsigned int)strtoul(argv[2], NULL, 10);
	ndisks = (unsigned int)strtoul(argv[3], NULL, 10);
	if (bus_register(&pio, &uart) || bus_register(&mmio, &bell))
		return 1;
	for (i = 0; i < ndisks; i++) {
		const struct mmio_dev d = { .name = "virtio-blk",
					    .base = 0xd1000000 + i * 0x200,
					    .size = 0x200,
					    .irq = 16 + i,
					    .has_irq = true,
					    .ops = &virtio_mmio_ops };

		if (bus_register(&mmio, &d)) {
			fprintf(stderr, "acpi_tables: cannot place disk %u\n", i);
			return 1;
		}
	}
	if (x86_acpi_build(&p, mem, sizeof(mem), &tabs, &why)) {
		fprintf(stderr, "acpi_tables: %s\n", why);
		return 1;
	}
	for (i = 0; i < tabs.n; i++)
		printf("table %s 0x%llx %zu\n", tabs.t[i].sig, (unsigned long long)tabs.t[i].gpa,
		       tabs.t[i].len);
	if (x86_acpi_blobs(&tabs, &blobs))
		return 1;
	return dump_acpi(argv[1], &blobs) ? 1 : 0;
}
