/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The architecture interface: everything generic code (vmm/) needs from an
 * architecture, and nothing more. arch/arm64 and arch/x86_64 implement it.
 */
#ifndef ICEVMM_ARCH_H
#define ICEVMM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct guest_file;

/*
 * What to boot, as the arch needs it: built by vmm from its configuration
 * (the arch never sees the command line's options).
 */
struct boot_desc {
	const struct guest_file *kernel;
	const struct guest_file *initrd; /* NULL: none */
	const char *cmdline;
	uint64_t mem_bytes;
	unsigned int cpus;
};

/*
 * The machine description the arch built for the guest, as named pieces:
 * "dtb" (arm64's device tree), or one per ACPI table named by its signature
 * ("RSDP" for the RSD PTR, "XSDT", "FACP", "APIC", "DSDT"). For --dump-dtb
 * and --dump-acpi (vmm/dump.c).
 */
struct boot_blob {
	const char *name;
	const void *data; /* in guest RAM: valid while the VM exists */
	size_t size;
};

#define BOOT_BLOBS_MAX 8

struct boot_blobs {
	struct boot_blob b[BOOT_BLOBS_MAX];
	unsigned int n;
};

/* Where the generic devices live in the guest's physical address space. */
struct arch_layout {
	uint64_t ram_base;
	/*
	 * RAM that would reach hole_start continues at hole_end instead (x86: the
	 * 32-bit MMIO window); 0, 0: no hole (vmm/guest_mem.h).
	 */
	uint64_t ram_hole_start, ram_hole_end;
	bool uart_on_pio; /* the UART is on the port-I/O bus (vm->pio), not vm->bus */
	uint64_t uart_base;
	unsigned int uart_irq;
	uint64_t debug_exit_base;
	uint64_t boot_timer_base;
	uint64_t virtio_base, virtio_stride;
	unsigned int virtio_irq_base;
};

extern const struct arch_layout arch_layout;
extern const char arch_name[];

/* Can this host run guests at all? Prints why not. */
int arch_host_check(void);
/* Is this a kernel the arch can boot (by its header)? Prints "<path>: ... <why>" if not. */
int arch_kernel_check(const struct guest_file *kernel);
/* Before vCPUs exist: the in-kernel interrupt controller, for boot->cpus vCPUs. */
int arch_vm_init(struct vm *vm, const struct boot_desc *boot);
/* For each vCPU after KVM_CREATE_VCPU. */
int arch_vcpu_init(struct vcpu *vcpu);
/* After all vCPUs exist: finish the interrupt controller. */
int arch_vm_finalize(struct vm *vm);
/*
 * Place kernel and initrd in guest RAM and read them there, describe the
 * machine to the guest (*blobs: that description, for --dump-dtb and
 * --dump-acpi; it comes in empty), point the boot vCPU at the kernel.
 */
int arch_load_guest(struct vm *vm, const struct boot_desc *boot, struct boot_blobs *blobs);
/*
 * A KVM exit reason the generic vCPU loop does not know (vmm/vm.c): handle
 * it and return 0, or return -1 if it is not one of the arch's (the VM then
 * stops with status 1).
 */
int arch_vcpu_exit(struct vcpu *vcpu);
/* Set interrupt line `irq` (as the devices number it) to `level`. ctx is the struct vm. */
void arch_set_irq(void *ctx, unsigned int irq, int level);
void arch_vm_destroy(struct vm *vm);

#endif
