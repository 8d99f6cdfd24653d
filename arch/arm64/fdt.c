// SPDX-License-Identifier: GPL-2.0
/*
 * Device tree for the arm64 guest: memory, cpus, PSCI, the architected timer,
 * the GIC, /chosen, and whatever devices sit on the MMIO bus (each device
 * writes its own node through its dt_node hook). Bindings: Linux's
 * Documentation/devicetree/bindings/{arm/cpus.yaml, arm/psci.yaml,
 * timer/arm,arch_timer.yaml, interrupt-controller/arm,gic*.yaml}.
 */
#include <libfdt.h>
#include <stdio.h>

#include "fdt.h"
#include "layout.h"

#define GIC_PHANDLE 1

/* Interrupt specifier cells of the GIC binding: <type number flags>. */
#define GIC_FDT_SPI 0
#define GIC_FDT_PPI 1
#define IRQ_TYPE_LEVEL_HIGH 4

/* Architected timer PPIs (KVM's defaults): secure phys, phys, virt, hyp. */
static const uint32_t timer_ppis[] = { 13, 14, 11, 10 };

/* libfdt's sequential-write calls return 0 or a negative error: stop at the first. */
#define FDT_TRY(expr)                                                                              \
	do {                                                                                       \
		int __e = (expr);                                                                  \
		if (__e < 0)                                                                       \
			return __e;                                                                \
	} while (0)

static int fdt_prop_reg(void *fdt, uint64_t base, uint64_t size)
{
	uint64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int arm64_dt_add_irq(const struct dt_ctx *ctx, unsigned int spi)
{
	uint32_t cells[3] = { cpu_to_fdt32(GIC_FDT_SPI), cpu_to_fdt32(spi),
			      cpu_to_fdt32(IRQ_TYPE_LEVEL_HIGH) };

	return fdt_property(ctx->fdt, "interrupts", cells, sizeof(cells));
}

static int fdt_add_cpus(void *fdt, const struct arm64_fdt_params *p)
{
	unsigned int i;
	char name[32];

	FDT_TRY(fdt_begin_node(fdt, "cpus"));
	FDT_TRY(fdt_property_u32(fdt, "#address-cells", 2));
	FDT_TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (i = 0; i < p->ncpus; i++) {
		/* reg holds the affinity fields of MPIDR_EL1 (Aff3 and Aff2..0). */
		uint64_t aff = p->mpidr[i] & 0xff00ffffffULL;

		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)aff);
		FDT_TRY(fdt_begin_node(fdt, name));
		FDT_TRY(fdt_property_string(fdt, "device_type", "cpu"));
		FDT_TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		FDT_TRY(fdt_property_string(fdt, "enable-method", "psci"));
		FDT_TRY(fdt_property_u64(fdt, "reg", aff));
		FDT_TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int fdt_add_gic(void *fdt, const struct arm64_fdt_params *p)
{
	char name[32];

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)ARM64_GIC_DIST_BASE);
	FDT_TRY(fdt_begin_node(fdt, name));
	if (p->gic == ARM64_GICV3) {
		uint64_t reg[4] = {
			cpu_to_fdt64(ARM64_GIC_DIST_BASE),
			cpu_to_fdt64(ARM64_GIC_DIST_SIZE),
			cpu_to_fdt64(ARM64_GIC_REDIST_BASE),
			cpu_to_fdt64(ARM64_GIC_REDIST_SIZE_PER_CPU * p->ncpus),
		};

		FDT_TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
		FDT_TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
	} else {
		uint64_t reg[4] = {
			cpu_to_fdt64(ARM64_GIC_DIST_BASE),
			cpu_to_fdt64(ARM64_GIC_DIST_SIZE),
			cpu_to_fdt64(ARM64_GIC_CPU_BASE),
			cpu_to_fdt64(ARM64_GIC_CPU_SIZE),
		};

		FDT_TRY(fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic"));
		FDT_TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
	}
	FDT_TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	FDT_TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	FDT_TRY(fdt_property_u32(fdt, "phandle", GIC_PHANDLE));
	return fdt_end_node(fdt);
}

static int fdt_add_timer(void *fdt, const struct arm64_fdt_params *p)
{
	uint32_t cells[3 * 4];
	uint32_t flags = IRQ_TYPE_LEVEL_HIGH;
	unsigned int i;

	/* GICv2 PPI specifiers also name the CPUs the PPI is wired to (bits 15:8). */
	if (p->gic == ARM64_GICV2)
		flags |= ((1U << p->ncpus) - 1) << 8;
	for (i = 0; i < 4; i++) {
		cells[3 * i] = cpu_to_fdt32(GIC_FDT_PPI);
		cells[3 * i + 1] = cpu_to_fdt32(timer_ppis[i]);
		cells[3 * i + 2] = cpu_to_fdt32(flags);
	}
	FDT_TRY(fdt_begin_node(fdt, "timer"));
	FDT_TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	FDT_TRY(fdt_property(fdt, "interrupts", cells, sizeof(cells)));
	FDT_TRY(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

static int fdt_add_psci(void *fdt)
{
	/* PSCI 0.2 through HVC: KVM implements it (KVM_ARM_VCPU_PSCI_0_2). */
	static const char compat[] = "arm,psci-0.2\0arm,psci";

	FDT_TRY(fdt_begin_node(fdt, "psci"));
	FDT_TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	FDT_TRY(fdt_property_string(fdt, "method", "hvc"));
	return fdt_end_node(fdt);
}

static int fdt_add_chosen(void *fdt, const struct arm64_fdt_params *p)
{
	FDT_TRY(fdt_begin_node(fdt, "chosen"));
	FDT_TRY(fdt_property_string(fdt, "bootargs", p->cmdline ? p->cmdline : ""));
	if (p->initrd_end > p->initrd_start) {
		FDT_TRY(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start));
		FDT_TRY(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_end));
	}
	if (p->stdout_path)
		FDT_TRY(fdt_property_string(fdt, "stdout-path", p->stdout_path));
	if (p->rng_seed_len)
		FDT_TRY(fdt_property(fdt, "rng-seed", p->rng_seed, (int)p->rng_seed_len));
	return fdt_end_node(fdt);
}

int arm64_fdt_build(const struct arm64_fdt_params *p, void *buf, size_t size)
{
	struct dt_ctx ctx = { .fdt = buf, .add_irq = arm64_dt_add_irq };
	char name[32];
	unsigned int i;

	FDT_TRY(fdt_create(buf, (int)size));
	FDT_TRY(fdt_finish_reservemap(buf));
	FDT_TRY(fdt_begin_node(buf, ""));
	FDT_TRY(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	FDT_TRY(fdt_property_string(buf, "model", "icevmm"));
	FDT_TRY(fdt_property_u32(buf, "#address-cells", 2));
	FDT_TRY(fdt_property_u32(buf, "#size-cells", 2));
	FDT_TRY(fdt_property_u32(buf, "interrupt-parent", GIC_PHANDLE));

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)p->ram_base);
	FDT_TRY(fdt_begin_node(buf, name));
	FDT_TRY(fdt_property_string(buf, "device_type", "memory"));
	FDT_TRY(fdt_prop_reg(buf, p->ram_base, p->ram_size));
	FDT_TRY(fdt_end_node(buf));

	FDT_TRY(fdt_add_cpus(buf, p));
	FDT_TRY(fdt_add_psci(buf));
	FDT_TRY(fdt_add_gic(buf, p));
	FDT_TRY(fdt_add_timer(buf, p));
	FDT_TRY(fdt_add_chosen(buf, p));

	for (i = 0; p->bus && i < p->bus->ndevs; i++) {
		const struct mmio_dev *d = &p->bus->devs[i];

		if (d->ops->dt_node && d->ops->dt_node(d, &ctx) < 0)
			return -FDT_ERR_NOSPACE;
	}

	FDT_TRY(fdt_end_node(buf));
	FDT_TRY(fdt_finish(buf));
	return 0;
}
