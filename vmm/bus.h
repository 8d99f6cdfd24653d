/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MMIO bus: routes a guest access (a KVM_EXIT_MMIO, or a unit test) to the
 * device that owns the address. Devices register before the vCPUs start and
 * the table is read-only afterwards, so lookups need no lock.
 */
#ifndef ICEVMM_BUS_H
#define ICEVMM_BUS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct mmio_dev;

/* What a device needs to describe itself in the guest's device tree. */
struct dt_ctx {
	void *fdt; /* libfdt sequential-write blob */
	/* Adds an "interrupts" property for the device's interrupt line. */
	int (*add_irq)(const struct dt_ctx *ctx, unsigned int irq);
};

struct aml;

/*
 * What a device needs to describe itself in the guest's ACPI namespace (the
 * DSDT, written by the arch; vmm/aml.h is the encoder).
 */
struct acpi_ctx {
	struct aml *aml;
	/*
	 * Unique among the devices of one DSDT: the walker counts them. Devices
	 * use it in their 4-character name and as _UID.
	 */
	unsigned int index;
	/*
	 * Appends Name(_CRS, ResourceTemplate() {...}) for dev: its window
	 * (Memory32Fixed on the MMIO bus, IO on the port-I/O bus) and, if it has
	 * one, its interrupt with the trigger and polarity the arch gives that
	 * line. Errors are latched in the AML.
	 */
	void (*add_crs)(const struct acpi_ctx *ctx, const struct mmio_dev *dev);
};

struct mmio_dev_ops {
	/* off is relative to the device's base; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t off, void *data, uint32_t len);
	void (*write)(void *opaque, uint64_t off, const void *data, uint32_t len);
	/* Optional: add the device's own node to the device tree. */
	int (*dt_node)(const struct mmio_dev *dev, const struct dt_ctx *ctx);
	/* Optional: add the device's Device() object to the DSDT; 0 or -errno. */
	int (*acpi_node)(const struct mmio_dev *dev, const struct acpi_ctx *ctx);
};

struct mmio_dev {
	const char *name;
	uint64_t base;
	uint64_t size;
	unsigned int irq; /* interrupt line (an SPI number on arm64), if has_irq */
	bool has_irq;
	const struct mmio_dev_ops *ops;
	void *opaque;
};

/*
 * Opens the node "<prefix>@<base>" with "compatible", "reg" and (if the device
 * has one) "interrupts"; the caller adds its own properties and closes the
 * node with fdt_end_node(). Returns 0 or a negative libfdt error.
 */
int dt_begin_mmio_node(const struct dt_ctx *ctx, const struct mmio_dev *dev, const char *prefix,
		       const char *compatible);

/*
 * Appends Device(<prefix><index, 2 hex digits>) { _HID, _UID = index, _CRS }
 * (ACPI 6.5 sections 6.1.5, 6.1.12, 6.2.2). hid: a 7-character PNP ID
 * ("PNP0501") is written as EISAID(), an 8-character ACPI ID ("LNRO0005") as a
 * string. prefix: 2 characters, A-Z or '_' first. The caller may add objects,
 * then closes the Device with aml_end(). Returns 0 or the AML's error.
 */
int acpi_begin_device(const struct acpi_ctx *ctx, const struct mmio_dev *dev, const char *prefix,
		      const char *hid);

#define BUS_MAX_DEVS 16

/*
 * Accesses no device owned, by address: each was a VM exit for nothing (a
 * guest probing for hardware that is not there). The first BUS_MISS_ADDRS
 * distinct addresses are counted one by one, the rest together. Atomic:
 * vCPUs count at once. --boot-timer prints them (bus_misses_report()).
 */
#define BUS_MISS_ADDRS 16
struct bus_misses {
	_Atomic uint64_t addr[BUS_MISS_ADDRS]; /* the address + 1; 0: a free entry */
	atomic_uint count[BUS_MISS_ADDRS];
	atomic_uint others;
};

struct mmio_bus {
	struct mmio_dev devs[BUS_MAX_DEVS];
	unsigned int ndevs;
	struct bus_misses *misses; /* NULL: not counted */
};

/* Returns 0, -EEXIST if the window overlaps a registered one, -ENOSPC if full. */
int bus_register(struct mmio_bus *bus, const struct mmio_dev *dev);
const struct mmio_dev *bus_find(const struct mmio_bus *bus, uint64_t addr, uint32_t len);
/* Dispatch one access; returns false if no device owns it (reads then return 0). */
bool bus_access(const struct mmio_bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write);
/*
 * One line, "icevmm: WHAT to no device: ADDR xN, ..." (nothing if there was
 * none), the addresses in the order the guest first touched them.
 */
void bus_misses_report(const struct bus_misses *m, const char *what);

#endif
