// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64 placeholder. icevmm builds on x86_64 hosts so that everything
 * architecture-independent (unit tests, the offline tools) works there, but it
 * cannot boot x86 guests yet: the run path says so and stops before touching KVM.
 */
#include "../../vmm/log.h"
#include "../../vmm/vm.h"
#include "../arch.h"

const char arch_name[] = "x86_64";
const struct arch_layout arch_layout = { .ram_base = 0 };

int arch_host_check(void)
{
	pr_err("booting guests on x86_64 hosts is not supported yet; icevmm boots arm64 guests "
	       "on arm64 hosts (build with 'make ARCH=arm64', or use 'make run', which runs it "
	       "in a nested arm64 QEMU here)");
	return -1;
}

int arch_kernel_check(const struct guest_file *kernel)
{
	(void)kernel;
	return -1;
}

int arch_vm_init(struct vm *vm, const struct boot_desc *boot)
{
	(void)vm, (void)boot;
	return -1;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	(void)vcpu;
	return -1;
}

int arch_vm_finalize(struct vm *vm)
{
	(void)vm;
	return -1;
}

int arch_load_guest(struct vm *vm, const struct boot_desc *boot, struct boot_blobs *blobs)
{
	(void)vm, (void)boot, (void)blobs;
	return -1;
}

int arch_vcpu_exit(struct vcpu *vcpu)
{
	(void)vcpu;
	return -1;
}

void arch_set_irq(void *ctx, unsigned int irq, int level)
{
	(void)ctx, (void)irq, (void)level;
}

void arch_vm_destroy(struct vm *vm)
{
	(void)vm;
}
