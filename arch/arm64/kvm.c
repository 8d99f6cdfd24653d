// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 KVM: the vGIC, vCPU initialisation and the boot register state.
 * (Documentation/virt/kvm/api.rst, .../devices/arm-vgic-v3.rst and arm-vgic.rst,
 * Documentation/arch/arm64/booting.rst.)
 *
 * Order matters: the vGIC device is created before the vCPUs, its
 * addresses are set, the vCPUs are created and initialised, and only then is
 * the vGIC initialised (KVM_DEV_ARM_VGIC_CTRL_INIT needs every vCPU to exist).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../vmm/file.h"
#include "../../vmm/guest_ram.h"
#include "../../vmm/log.h"
#include "../../vmm/vm.h"
#include "../arch.h"
#include "fdt.h"
#include "image.h"
#include "layout.h"

const char arch_name[] = "arm64";

/* Host RAM is 2 MiB aligned (vmm/guest_ram.c); the guest's must be too for blocks to line up. */
_Static_assert(ARM64_RAM_BASE % GUEST_RAM_ALIGN == 0, "guest RAM base not 2 MiB aligned");

const struct arch_layout arch_layout = {
	.ram_base = ARM64_RAM_BASE,
	.uart_base = ARM64_UART_BASE,
	.uart_irq = ARM64_UART_SPI,
	.debug_exit_base = ARM64_DEBUG_EXIT_BASE,
	.boot_timer_base = ARM64_BOOT_TIMER_BASE,
	.virtio_base = ARM64_VIRTIO_MMIO_BASE,
	.virtio_stride = ARM64_VIRTIO_MMIO_SIZE,
	.virtio_irq_base = ARM64_VIRTIO_SPI_BASE,
};

struct arch_vm {
	int gic_fd;
	enum arm64_gic_version gic;
	struct kvm_vcpu_init vcpu_init; /* KVM's preferred target, shared by all vCPUs */
	bool nisv;			/* undecodable MMIO accesses come to us (see below) */
};

/* KVM_SET_ONE_REG id of a core register (struct kvm_regs, counted in 32-bit words). */
#define ARM64_CORE_REG(field)                                                                      \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |                                     \
	 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))
/* MPIDR_EL1: op0 3, op1 0, CRn 0, CRm 0, op2 5 */
#define ARM64_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)

static int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a);
}

static int gic_create(struct vm *vm, enum arm64_gic_version ver)
{
	struct kvm_create_device dev = {
		.type = ver == ARM64_GICV3 ? KVM_DEV_TYPE_ARM_VGIC_V3 : KVM_DEV_TYPE_ARM_VGIC_V2,
	};
	uint64_t dist = ARM64_GIC_DIST_BASE, cpu = ARM64_GIC_CPU_BASE,
		 redist = ARM64_GIC_REDIST_BASE;
	int fd;

	if (ioctl(vm->fd, KVM_CREATE_DEVICE, &dev) < 0)
		return -errno;
	fd = (int)dev.fd;
	if (ver == ARM64_GICV3) {
		if (gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST,
				 &dist) ||
		    gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
				 &redist))
			goto fail;
	} else {
		if (gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST,
				 &dist) ||
		    gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu))
			goto fail;
	}
	vm->arch->gic_fd = fd;
	vm->arch->gic = ver;
	return 0;
fail:
	pr_err("vGICv%d: setting its addresses failed: %s", ver, strerror(errno));
	close(fd);
	return -EINVAL;
}

int arch_host_check(void)
{
	return 0; /* vm_create() explains a missing /dev/kvm */
}

int arch_kernel_check(const struct guest_file *kernel)
{
	struct arm64_image_info img;
	const char *why;

	if (arm64_image_parse(kernel->head, kernel->size, &img, &why)) {
		pr_err("%s: not a bootable arm64 Image: %s", kernel->path, why);
		return -1;
	}
	return 0;
}

/*
 * A guest load/store KVM cannot emulate: a data abort on MMIO whose syndrome
 * has no valid instruction information (ESR_EL2.ISV = 0: load/store pairs,
 * writeback addressing, ...). Without KVM_CAP_ARM_NISV_TO_USER, KVM_RUN fails
 * with ENOSYS and the VMM can only give up. With it, KVM exits with
 * KVM_EXIT_ARM_NISV, and KVM_CAP_ARM_INJECT_EXT_DABT lets us hand the guest a
 * synchronous external abort instead, as real hardware would for a bus error
 * (Documentation/virt/kvm/api.rst, KVM_EXIT_ARM_NISV and KVM_SET_VCPU_EVENTS).
 */
static void arm64_enable_nisv(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

	if (ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_NISV_TO_USER) <= 0 ||
	    ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_INJECT_EXT_DABT) <= 0 ||
	    ioctl(vm->fd, KVM_ENABLE_CAP, &cap) < 0) {
		pr_info("this host's KVM lacks KVM_CAP_ARM_NISV_TO_USER or "
			"KVM_CAP_ARM_INJECT_EXT_DABT: a guest MMIO access KVM cannot decode "
			"will stop the VM with status 1");
		return;
	}
	vm->arch->nisv = true;
}

int arch_vcpu_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_vcpu_events ev;

	if (run->exit_reason != KVM_EXIT_ARM_NISV || !vcpu->vm->arch->nisv)
		return -1;
	/* The guest's own mistake: it gets the abort, the VM keeps running. */
	pr_guest("vCPU %u: guest access at 0x%llx that KVM cannot decode (ESR ISS 0x%llx, e.g. "
		 "a load/store pair to MMIO): external data abort injected",
		 vcpu->id, (unsigned long long)run->arm_nisv.fault_ipa,
		 (unsigned long long)run->arm_nisv.esr_iss);
	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
		pr_err("vCPU %u: KVM_SET_VCPU_EVENTS (external data abort): %s", vcpu->id,
		       strerror(errno));
		return -1;
	}
	return 0;
}

int arch_vm_init(struct vm *vm, const struct boot_desc *boot)
{
	unsigned int ncpus = boot->cpus;
	int err;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch) {
		pr_err("out of memory");
		return -1;
	}
	vm->arch->gic_fd = -1;
	if (ncpus > ARM64_MAX_CPUS_GICV3) {
		pr_err("--cpus %u: this machine layout has room for %u vCPUs", ncpus,
		       ARM64_MAX_CPUS_GICV3);
		return -1;
	}
	/*
	 * Prefer a GICv3; hosts whose GIC cannot virtualise one (or whose KVM
	 * runs on a GICv2) only offer the GICv2 emulation.
	 */
	err = gic_create(vm, ARM64_GICV3);
	if (err == -EINVAL)
		return -1;
	if (err < 0) {
		if (ncpus > ARM64_MAX_CPUS_GICV2) {
			pr_err("this host offers no vGICv3 (%s), and a GICv2 takes at most %d "
			       "vCPUs",
			       strerror(-err), ARM64_MAX_CPUS_GICV2);
			return -1;
		}
		err = gic_create(vm, ARM64_GICV2);
		if (err == -EINVAL)
			return -1;
		if (err < 0) {
			pr_err("cannot create an in-kernel GIC (tried v3 and v2): %s",
			       strerror(-err));
			return -1;
		}
	}
	if (ioctl(vm->fd, KVM_ARM_PREFERRED_TARGET, &vm->arch->vcpu_init) < 0) {
		pr_err("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		return -1;
	}
	arm64_enable_nisv(vm);
	return 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	struct kvm_vcpu_init init = vcpu->vm->arch->vcpu_init;

	/* PSCI 0.2 in the kernel: CPU_ON starts the secondaries, SYSTEM_OFF stops us. */
	init.features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->id > 0)
		init.features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF; /* until PSCI CPU_ON */
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		pr_err("vCPU %u: KVM_ARM_VCPU_INIT: %s", vcpu->id, strerror(errno));
		return -1;
	}
	return 0;
}

int arch_vm_finalize(struct vm *vm)
{
	uint32_t nr_irqs = 32 + ARM64_GIC_NR_SPIS; /* SGIs + PPIs, then the SPIs */
	int fd = vm->arch->gic_fd;

	if (gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs) ||
	    gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL)) {
		pr_err("vGICv%d initialisation: %s", vm->arch->gic, strerror(errno));
		return -1;
	}
	return 0;
}

void arch_set_irq(void *ctx, unsigned int irq, int level)
{
	struct vm *vm = ctx;
	/* SPI n is GIC interrupt ID 32 + n. */
	struct kvm_irq_level l = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + irq),
		.level = (uint32_t)level,
	};

	if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		pr_err("KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

static int vcpu_set_reg(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	return ioctl(v->fd, KVM_SET_ONE_REG, &reg);
}

static int vcpu_get_reg(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)val };

	return ioctl(v->fd, KVM_GET_ONE_REG, &reg);
}

int arch_load_guest(struct vm *vm, const struct boot_desc *boot, struct boot_blobs *blobs)
{
	const struct guest_file *kernel = boot->kernel, *initrd = boot->initrd;
	uint64_t initrd_len = initrd ? initrd->size : 0;
	struct arm64_image_info img;
	struct arm64_boot_layout lay;
	struct arm64_fdt_params fp;
	uint64_t mpidr[ARM64_MAX_CPUS_GICV3]; /* arch_vm_init refused more */
	uint8_t seed[64];
	char stdout_path[32];
	const char *why;
	void *fdt;
	unsigned int i;
	int err;

	if (arm64_image_parse(kernel->head, kernel->size, &img, &why)) {
		pr_err("%s: not a bootable arm64 Image: %s", kernel->path, why);
		return -1;
	}
	if (arm64_boot_layout(vm->mem.gpa_base, vm->mem.size, &img, initrd_len, &lay, &why)) {
		pr_err("cannot place the guest in %llu MiB of RAM: %s",
		       (unsigned long long)(vm->mem.size >> 20), why);
		return -1;
	}
	/* Straight from the files into guest RAM: no intermediate copy. */
	if (guest_file_load(kernel, gmem_ptr(&vm->mem, lay.kernel_addr, kernel->size)) ||
	    (initrd_len &&
	     guest_file_load(initrd, gmem_ptr(&vm->mem, lay.initrd_addr, initrd_len))))
		return -1;

	/* KVM assigns each vCPU its MPIDR; the device tree must name the same ones. */
	for (i = 0; i < vm->ncpus; i++) {
		if (vcpu_get_reg(&vm->vcpus[i], ARM64_MPIDR_EL1, &mpidr[i]) < 0) {
			pr_err("vCPU %u: reading MPIDR_EL1: %s", i, strerror(errno));
			return -1;
		}
	}
	snprintf(stdout_path, sizeof(stdout_path), "/uart@%llx",
		 (unsigned long long)ARM64_UART_BASE);
	/* Entropy for the guest's early RNG; a boot must not wait for it. */
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		memset(seed, 0, sizeof(seed));
	fp = (struct arm64_fdt_params){
		.ncpus = vm->ncpus,
		.mpidr = mpidr,
		.gic = vm->arch->gic,
		.ram_base = vm->mem.gpa_base,
		.ram_size = vm->mem.size,
		.cmdline = boot->cmdline,
		.initrd_start = lay.initrd_addr,
		.initrd_end = lay.initrd_end,
		.stdout_path = stdout_path,
		.bus = &vm->bus,
		.rng_seed = seed,
		.rng_seed_len = sizeof(seed),
	};
	fdt = gmem_ptr(&vm->mem, lay.fdt_addr, ARM64_FDT_MAX_SIZE);
	err = arm64_fdt_build(&fp, fdt, ARM64_FDT_MAX_SIZE);
	if (err) {
		pr_err("building the device tree failed: libfdt error %d", err);
		return -1;
	}
	blobs->b[0] = (struct boot_blob){ .name = "dtb", .data = fdt, .size = fdt_totalsize(fdt) };
	blobs->n = 1;

	/*
	 * booting.rst: x0 = physical address of the device tree, x1..x3 = 0,
	 * PC = the kernel's first instruction. KVM_ARM_VCPU_INIT has already
	 * put the vCPU in EL1h with DAIF masked and the MMU off.
	 */
	if (vcpu_set_reg(&vm->vcpus[0], ARM64_CORE_REG(regs.regs[0]), lay.fdt_addr) ||
	    vcpu_set_reg(&vm->vcpus[0], ARM64_CORE_REG(regs.pc), lay.kernel_addr)) {
		pr_err("setting the boot registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void arch_vm_destroy(struct vm *vm)
{
	if (!vm->arch)
		return;
	if (vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	free(vm->arch);
	vm->arch = NULL;
}
