// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64 ACPI tables. Section numbers are ACPI 6.5's. Every field not written
 * here is 0: the buffer is cleared first.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "../../vmm/aml.h"
#include "acpi.h"

#define OEM_ID "ICEVMM"		/* 6 bytes */
#define OEM_TABLE_ID "ICEVMM  " /* 8 bytes */
#define OEM_REVISION 1
#define CREATOR_ID "ICEV"
#define CREATOR_REVISION 1

#define TABLE_ALIGN 16 /* RSDP: 16-byte boundary (5.2.5.1); the rest follow suit */

/* 5.2.5.3 RSDP: 36 bytes (revision 2). */
#define RSDP_LEN 36
#define RSDP_V1_LEN 20 /* what the first checksum covers */
#define RSDP_CHECKSUM 8
#define RSDP_OEMID 9
#define RSDP_REVISION 15
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32

/* 5.2.6 the system description table header. */
#define HDR_LEN 36
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9

/* 5.2.9 FADT, revision 6: 276 bytes, the size Linux's struct acpi_table_fadt has. */
#define FADT_LEN 276
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 5
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_MINOR 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_HYPERVISOR_ID 268
/* IA-PC boot architecture flags (5.2.9.3) */
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)
/* fixed feature flags (5.2.9, Table 5.10) */
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* 5.2.3.2 Generic Address Structure */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* 5.2.12 MADT, revision 6 (ACPI 6.5). */
#define MADT_REVISION 6
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_TYPE_LAPIC 0 /* 5.2.12.2, 8 bytes */
#define MADT_LAPIC_LEN 8
#define MADT_LAPIC_ENABLED 1
#define MADT_TYPE_IOAPIC 1 /* 5.2.12.3, 12 bytes */
#define MADT_IOAPIC_LEN 12
/*
 * The IOAPIC's ID: 0, what KVM's in-kernel IOAPIC reports in its ID register
 * after reset (virt/kvm/ioapic.c). IOAPIC IDs are not local APIC IDs: since
 * the xAPIC, interrupts travel on the system bus, not a shared APIC bus, so
 * the two numberings need not be disjoint (Linux on x86_64 only checks that
 * IOAPIC IDs are unique among IOAPICs).
 */
#define IOAPIC_ID 0

#define XSDT_REVISION 1
#define DSDT_REVISION 2 /* 2 and above: AML integers are 64 bits (5.2.11.1) */

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

/* A Generic Address Structure for an 8-bit register in I/O space. */
static void put_gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8; /* register bit width */
	p[2] = 0; /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put_le(p + 4, port, 8);
}

static void put_header(uint8_t *t, const char *sig, size_t len, uint8_t revision)
{
	memcpy(t, sig, 4);
	put_le(t + HDR_LENGTH, len, 4);
	t[HDR_REVISION] = revision;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put_le(t + 24, OEM_REVISION, 4);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le(t + 32, CREATOR_REVISION, 4);
}

/* The header's checksum: every byte of the table sums to 0. */
static void seal(uint8_t *t, size_t len)
{
	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = checksum(t, len);
}

/*
 * _CRS for a device: its window and its interrupt. GSIs 0-15 are the ISA
 * lines (the UART's 4): edge, active high, the ISA default, so the MADT needs
 * no Interrupt Source Override. The others (virtio-mmio, 16-23) are level,
 * active high.
 */
static void x86_add_crs(const struct acpi_ctx *ctx, const struct mmio_dev *dev, bool pio)
{
	uint8_t rbuf[64];
	struct aml r;

	aml_init(&r, rbuf, sizeof(rbuf));
	if (pio) {
		/* IO descriptors: 16-bit ports, at most 255 of them. */
		if (!dev->size || dev->size > 0xff || dev->base > 0xffff ||
		    dev->base + dev->size > 0x10000)
			aml_fail(&r, -EINVAL);
		else
			aml_res_io(&r, (uint16_t)dev->base, (uint8_t)dev->size);
	} else {
		if (!dev->size || dev->base > UINT32_MAX || dev->size > UINT32_MAX ||
		    dev->base + dev->size > (1ULL << 32))
			aml_fail(&r, -EINVAL);
		else
			aml_res_memory32_fixed(&r, (uint32_t)dev->base, (uint32_t)dev->size);
	}
	if (dev->has_irq) {
		if (dev->irq >= X86_IOAPIC_PINS)
			aml_fail(&r, -EINVAL);
		else if (dev->irq < X86_ISA_IRQS)
			aml_res_ext_irq(&r, dev->irq, AML_EDGE, AML_ACTIVE_HIGH);
		else
			aml_res_ext_irq(&r, dev->irq, AML_LEVEL, AML_ACTIVE_HIGH);
	}
	aml_name(ctx->aml, "_CRS");
	aml_restemplate(ctx->aml, &r);
}

static void x86_add_crs_mmio(const struct acpi_ctx *ctx, const struct mmio_dev *dev)
{
	x86_add_crs(ctx, dev, false);
}

static void x86_add_crs_pio(const struct acpi_ctx *ctx, const struct mmio_dev *dev)
{
	x86_add_crs(ctx, dev, true);
}

/* The devices of one bus that describe themselves; *index counts across buses. */
static int add_bus_devices(struct aml *a, const struct mmio_bus *bus, bool pio, unsigned int *index)
{
	struct acpi_ctx ctx = { .aml = a, .add_crs = pio ? x86_add_crs_pio : x86_add_crs_mmio };

	for (unsigned int i = 0; bus && i < bus->ndevs; i++) {
		const struct mmio_dev *d = &bus->devs[i];

		if (!d->ops->acpi_node)
			continue;
		ctx.index = (*index)++;
		if (d->ops->acpi_node(d, &ctx) < 0)
			return aml_error(a) ? aml_error(a) : -EINVAL;
	}
	return 0;
}

/*
 * The DSDT's AML: the devices under \_SB (port I/O first: the UART is UA00),
 * and \_S5 for poweroff. Linux's acpi_get_sleep_type_data() takes SLP_TYPa
 * and SLP_TYPb from the first two elements; a hardware-reduced platform uses
 * only SLP_TYPa (hwesleep.c writes it to bits 4:2 of SLEEP_CONTROL_REG with
 * SLP_EN). The other two elements are reserved (7.4.2).
 */
static int build_dsdt_aml(const struct x86_acpi_params *p, struct aml *a)
{
	unsigned int index = 0;
	int err;

	aml_scope_begin(a, "\\_SB");
	err = add_bus_devices(a, p->pio, true, &index);
	if (!err)
		err = add_bus_devices(a, p->mmio, false, &index);
	if (err)
		return err;
	aml_end(a);
	aml_name(a, "_S5");
	aml_package_begin(a, 4);
	aml_int(a, X86_ACPI_S5_SLP_TYP);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_end(a);
	return aml_finish(a);
}

static size_t align_up(size_t v)
{
	return (v + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

static void add_table(struct x86_acpi_tables *out, const char *sig, const uint8_t *buf, size_t off,
		      size_t len, uint64_t base)
{
	struct x86_acpi_table *t = &out->t[out->n++];

	t->sig = sig; /* static: usable as a boot_blob's name */
	t->data = buf + off;
	t->len = len;
	t->gpa = base + off;
}

int x86_acpi_build(const struct x86_acpi_params *p, void *buf, size_t size,
		   struct x86_acpi_tables *out, const char **why)
{
	const size_t xsdt_len = HDR_LEN + 2 * 8; /* FADT, MADT */
	const size_t madt_len = MADT_ENTRIES + p->ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN;
	size_t xsdt, fadt, madt, dsdt, dsdt_len, off;
	uint8_t *b = buf, *t;
	struct aml a;
	int err;

	memset(out, 0, sizeof(*out));
	if (p->ncpus < 1 || p->ncpus > X86_MAX_CPUS) {
		*why = "the MADT describes 1 to 64 vCPUs";
		return -EINVAL;
	}
	if (p->base_gpa % TABLE_ALIGN) {
		*why = "the RSDP must sit on a 16-byte boundary";
		return -EINVAL;
	}
	xsdt = align_up(RSDP_LEN);
	fadt = align_up(xsdt + xsdt_len);
	madt = align_up(fadt + FADT_LEN);
	dsdt = align_up(madt + madt_len);
	if (size < dsdt + HDR_LEN) {
		*why = "no room for the ACPI tables";
		return -ENOSPC;
	}
	memset(buf, 0, size);

	/* DSDT (5.2.11.1): the header, then the AML. */
	aml_init(&a, b + dsdt + HDR_LEN, size - dsdt - HDR_LEN);
	err = build_dsdt_aml(p, &a);
	if (err == -ENOSPC) {
		*why = "no room for the ACPI tables";
		return -ENOSPC;
	}
	if (err) {
		*why = "a device could not be described in the DSDT";
		return -EINVAL;
	}
	dsdt_len = HDR_LEN + a.len;
	put_header(b + dsdt, "DSDT", dsdt_len, DSDT_REVISION);
	seal(b + dsdt, dsdt_len);

	/* MADT (5.2.12): local APIC address, no 8259 (flags 0), then the entries. */
	t = b + madt;
	put_header(t, "APIC", madt_len, MADT_REVISION);
	put_le(t + MADT_LAPIC_ADDR, X86_LAPIC_BASE, 4);
	put_le(t + MADT_FLAGS, 0, 4); /* PCAT_COMPAT clear: no dual 8259 */
	off = MADT_ENTRIES;
	for (unsigned int i = 0; i < p->ncpus; i++, off += MADT_LAPIC_LEN) {
		/* KVM gives vCPU i local APIC ID i; the processor UID is the same. */
		t[off] = MADT_TYPE_LAPIC;
		t[off + 1] = MADT_LAPIC_LEN;
		t[off + 2] = (uint8_t)i; /* ACPI processor UID */
		t[off + 3] = (uint8_t)i; /* APIC ID */
		put_le(t + off + 4, MADT_LAPIC_ENABLED, 4);
	}
	t[off] = MADT_TYPE_IOAPIC;
	t[off + 1] = MADT_IOAPIC_LEN;
	t[off + 2] = IOAPIC_ID;
	put_le(t + off + 4, X86_IOAPIC_BASE, 4);
	put_le(t + off + 8, 0, 4); /* its pins are GSIs 0-23 */
	seal(t, madt_len);

	/*
	 * FADT (5.2.9): hardware-reduced (4.1): no PM1/GPE blocks, no SCI, no
	 * FACS; sleep through the sleep control/status registers (4.8.3.7).
	 * No 8042 flag: the guest does not probe an i8042 (reset still works
	 * through port 0x64); no VGA; no CMOS RTC. No reset register: Linux
	 * falls back to the keyboard controller.
	 */
	t = b + fadt;
	put_header(t, "FACP", FADT_LEN, FADT_REVISION);
	put_le(t + FADT_IAPC_BOOT_ARCH, BOOT_VGA_NOT_PRESENT | BOOT_CMOS_RTC_NOT_PRESENT, 2);
	put_le(t + FADT_FLAGS, FADT_HW_REDUCED_ACPI, 4);
	t[FADT_MINOR] = FADT_MINOR_REVISION;
	put_le(t + FADT_X_DSDT, p->base_gpa + dsdt, 8); /* the 32-bit DSDT field stays 0 */
	put_gas_io8(t + FADT_SLEEP_CONTROL, X86_ACPI_SLEEP_CONTROL_PORT);
	put_gas_io8(t + FADT_SLEEP_STATUS, X86_ACPI_SLEEP_STATUS_PORT);
	memcpy(t + FADT_HYPERVISOR_ID, "ICEVMM\0\0", 8);
	seal(t, FADT_LEN);

	/* XSDT (5.2.8): 64-bit pointers to the FADT and the MADT. */
	t = b + xsdt;
	put_header(t, "XSDT", xsdt_len, XSDT_REVISION);
	put_le(t + HDR_LEN, p->base_gpa + fadt, 8);
	put_le(t + HDR_LEN + 8, p->base_gpa + madt, 8);
	seal(t, xsdt_len);

	/* RSDP (5.2.5.3): revision 2, no RSDT, the XSDT. */
	memcpy(b, "RSD PTR ", 8);
	memcpy(b + RSDP_OEMID, OEM_ID, 6);
	b[RSDP_REVISION] = 2;
	put_le(b + RSDP_LENGTH, RSDP_LEN, 4);
	put_le(b + RSDP_XSDT, p->base_gpa + xsdt, 8);
	b[RSDP_CHECKSUM] = checksum(b, RSDP_V1_LEN);
	b[RSDP_EXT_CHECKSUM] = checksum(b, RSDP_LEN);

	add_table(out, "RSDP", b, 0, RSDP_LEN, p->base_gpa);
	add_table(out, "XSDT", b, xsdt, xsdt_len, p->base_gpa);
	add_table(out, "FACP", b, fadt, FADT_LEN, p->base_gpa);
	add_table(out, "APIC", b, madt, madt_len, p->base_gpa);
	add_table(out, "DSDT", b, dsdt, dsdt_len, p->base_gpa);
	out->used = dsdt + dsdt_len;
	return 0;
}

int x86_acpi_blobs(const struct x86_acpi_tables *tabs, struct boot_blobs *blobs)
{
	if (tabs->n > BOOT_BLOBS_MAX - blobs->n)
		return -ENOSPC;
	for (unsigned int i = 0; i < tabs->n; i++)
		blobs->b[blobs->n++] = (struct boot_blob){ .name = tabs->t[i].sig,
							   .data = tabs->t[i].data,
							   .size = tabs->t[i].len };
	return 0;
}
