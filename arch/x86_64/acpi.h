/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACPI tables of an x86_64 guest (ACPI 6.5 chapter 5): RSDP, XSDT, a
 * hardware-reduced FADT, MADT and a DSDT whose devices describe themselves
 * (struct mmio_dev_ops.acpi_node). Pure: bytes into a buffer, no KVM.
 *
 * What Linux does with them: the MADT gives it the local APICs and the
 * IOAPIC; HW_REDUCED_ACPI tells it there is no PIT, 8259, PM timer, SCI or
 * GPE; the DSDT gives it the UART (8250_pnp) and the virtio-mmio transports
 * (virtio_mmio's ACPI match, LNRO0005); poweroff writes _S5's SLP_TYP with
 * SLP_EN to the sleep control register (drivers/acpi/acpica/hwesleep.c).
 */
#ifndef ICEVMM_X86_ACPI_H
#define ICEVMM_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "../../vmm/bus.h"
#include "../arch.h"
#include "layout.h" /* where the tables, the APICs and the sleep registers are */

#define X86_IOAPIC_PINS 24    /* KVM's in-kernel IOAPIC: GSIs 0-23 */
#define X86_ISA_IRQS 16	      /* GSIs 0-15: ISA lines, edge/active high */
#define X86_ACPI_S5_SLP_TYP 5 /* _S5's SLP_TYP: power off */

/* The sleep control register's bits (ACPI 6.5 section 4.8.3.7). */
#define X86_ACPI_SLP_TYP_SHIFT 2
#define X86_ACPI_SLP_TYP_MASK 0x1c
#define X86_ACPI_SLP_EN 0x20

struct x86_acpi_params {
	unsigned int ncpus;	     /* 1 to X86_MAX_CPUS */
	const struct mmio_bus *mmio; /* devices in memory space (may be NULL) */
	const struct mmio_bus *pio;  /* devices in I/O port space (may be NULL) */
	uint64_t base_gpa;	     /* where buf sits in the guest; 16-byte aligned */
};

/* One table as written: for --dump-acpi and tests. */
struct x86_acpi_table {
	const char *sig;  /* a literal: "RSDP" (for "RSD PTR "), "XSDT", "FACP", "APIC", "DSDT" */
	const void *data; /* inside buf */
	size_t len;
	uint64_t gpa;
};

#define X86_ACPI_NTABLES 5

struct x86_acpi_tables {
	struct x86_acpi_table t[X86_ACPI_NTABLES];
	unsigned int n;
	size_t used; /* bytes of buf used, from its start */
};

/*
 * Writes the tables into buf (size bytes, zeroed first), RSDP at its start
 * (so at base_gpa: the guest finds it there or through boot_params). Returns 0,
 * or -EINVAL (ncpus out of range, a device that cannot be described) or
 * -ENOSPC (buf too small) with *why a sentence.
 */
int x86_acpi_build(const struct x86_acpi_params *p, void *buf, size_t size,
		   struct x86_acpi_tables *out, const char **why);

/*
 * Appends the tables to blobs, each named by its signature (what
 * arch_load_guest hands back for --dump-acpi). -ENOSPC if they do not fit.
 */
int x86_acpi_blobs(const struct x86_acpi_tables *tabs, struct boot_blobs *blobs);

#endif
