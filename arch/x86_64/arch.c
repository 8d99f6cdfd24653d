// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64 KVM: boot a bzImage with Linux's 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst) on KVM's in-kernel irqchip
 * (Documentation/virt/kvm/api.rst). The thin ioctl layer; everything that can
 * be computed is computed by pure functions next door:
 *   bzimage.c  header checks, placement, boot_params, e820
 *   boot64.c   page tables, GDT, segment/control registers, MSRs
 *   cpuid.c    per-vCPU CPUID, "can this /dev/kvm run a stock guest?"
 *   platform.c i8042 reset, ACPI sleep registers, the port-I/O bus
 *
 * In the order main.c calls it:
 *   arch_host_check    KVM's supported CPUID, kept; a kvm_pvm /dev/kvm refused
 *   arch_kernel_check  the bzImage's setup header
 *   arch_vm_init       where everything goes (refusals before any KVM state);
 *                      the VM-wide KVM state: TSS/identity-map pages,
 *                      PIC + IOAPIC + LAPICs; the platform's port devices
 *   arch_vcpu_init     per vCPU: CPUID, MSRs
 *   arch_load_guest    kernel, initrd, command line, ACPI, the reset vector,
 *                      boot_params, page tables and GDT into RAM; the boot
 *                      vCPU's registers.
 *                      Secondary vCPUs wait in KVM for INIT/SIPI from Linux
 *                      (the in-kernel LAPIC: KVM_MP_STATE_UNINITIALIZED).
 *   arch_vcpu_exit     KVM_EXIT_IO (the port bus), KVM_EXIT_SHUTDOWN
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../vmm/exit_status.h"
#include "../../vmm/file.h"
#include "../../vmm/log.h"
#include "../../vmm/vm.h"
#include "../arch.h"
#include "acpi.h"
#include "boot64.h"
#include "bzimage.h"
#include "cpuid.h"
#include "layout.h"
#include "platform.h"

const char arch_name[] = "x86_64";

const struct arch_layout arch_layout = {
	.ram_base = 0,
	.ram_hole_start = X86_MMIO_HOLE_START,
	.ram_hole_end = X86_MMIO_HOLE_END,
	.uart_on_pio = true,
	.uart_base = X86_UART_PORT,
	.uart_irq = X86_UART_GSI,
	.debug_exit_base = X86_DEBUG_EXIT_BASE,
	.boot_timer_base = X86_BOOT_TIMER_BASE,
	.virtio_base = X86_VIRTIO_MMIO_BASE,
	.virtio_stride = X86_VIRTIO_MMIO_SIZE,
	.virtio_irq_base = X86_VIRTIO_GSI_BASE,
};

_Static_assert(X86_VIRTIO_MAX >= 8, "fewer virtio GSIs than icevmm's disks (VMM_MAX_DISKS)");

struct arch_vm {
	struct bzimage_info kernel;
	struct bzimage_place place;
	struct e820_entry e820[BZIMAGE_E820_MAX];
	unsigned int e820_count;
	struct x86_platform platform;
};

/* KVM_GET_SUPPORTED_CPUID, read once by arch_host_check(); each vCPU gets a fixed-up copy. */
static struct kvm_cpuid2 *supported_cpuid;
static bool tsc_deadline; /* KVM_CAP_TSC_DEADLINE_TIMER */

/*
 * api.rst, KVM_GET_SUPPORTED_CPUID: E2BIG if nent is too small. Start with
 * room for what today's CPUs have and grow.
 */
static struct kvm_cpuid2 *get_supported_cpuid(int kvm_fd)
{
	for (uint32_t nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));

		if (!c)
			return NULL;
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	errno = E2BIG;
	return NULL;
}

int arch_host_check(void)
{
	unsigned int eax, ebx, ecx = 0, edx;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	const char *why;

	if (fd < 0)
		return 0; /* vm_create() explains a missing /dev/kvm */
	supported_cpuid = get_supported_cpuid(fd);
	tsc_deadline = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	close(fd);
	if (!supported_cpuid) {
		pr_err("/dev/kvm: KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -1;
	}
	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		ecx = 0;
	if (x86_kvm_usable(supported_cpuid->entries, supported_cpuid->nent, ecx,
			   access("/sys/module/kvm_pvm", F_OK) == 0, &why)) {
		pr_err("/dev/kvm cannot run a stock x86_64 guest: %s (README: \"Running without "
		       "KVM\")",
		       why);
		return -1;
	}
	return 0;
}

static int parse_kernel(const struct guest_file *kernel, struct bzimage_info *info)
{
	size_t head = kernel->size < GUEST_FILE_HEAD ? (size_t)kernel->size : GUEST_FILE_HEAD;
	const char *why;

	if (bzimage_parse(kernel->head, head, kernel->size, info, &why)) {
		pr_err("%s: not a bootable x86 bzImage: %s", kernel->path, why);
		return -1;
	}
	return 0;
}

int arch_kernel_check(const struct guest_file *kernel)
{
	struct bzimage_info info;

	return parse_kernel(kernel, &info);
}

/* Where the kernel, initrd and RAM go: all the refusals, before any KVM state. */
static int plan_guest(struct vm *vm, const struct boot_desc *boot)
{
	struct arch_vm *a = vm->arch;
	const char *why = NULL;
	int n;

	if (boot->cpus > X86_MAX_CPUS) {
		pr_err("--cpus %u: this machine layout has room for %u vCPUs", boot->cpus,
		       X86_MAX_CPUS);
		return -1;
	}
	n = bzimage_e820(boot->mem_bytes, a->e820, &why);
	if (n < 0) {
		pr_err("--mem %llu MiB: %s", (unsigned long long)(boot->mem_bytes >> 20), why);
		return -1;
	}
	a->e820_count = (unsigned int)n;
	if (parse_kernel(boot->kernel, &a->kernel) ||
	    bzimage_place(&a->kernel, X86_KERNEL_ADDR, vm->mem.low_size,
			  boot->initrd ? boot->initrd->size : 0, &a->place, &why)) {
		if (why)
			pr_err("cannot place the guest in %llu MiB of RAM: %s",
			       (unsigned long long)(boot->mem_bytes >> 20), why);
		return -1;
	}
	return 0;
}

static void platform_stop(void *ctx, int status)
{
	vm_stop(ctx, status);
}

int arch_vm_init(struct vm *vm, const struct boot_desc *boot)
{
	uint64_t idmap = X86_KVM_IDENTITY_MAP_ADDR;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch) {
		pr_err("out of memory");
		return -1;
	}
	if (plan_guest(vm, boot))
		return -1;
	/*
	 * api.rst: KVM_SET_TSS_ADDR (three pages) and KVM_SET_IDENTITY_MAP_ADDR
	 * (one page) are where Intel's KVM keeps structures for real-mode
	 * emulation; they must be guest-physical space that nothing else uses,
	 * and be set before any vCPU exists. AMD's KVM ignores them.
	 */
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS_ADDR) < 0 ||
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		pr_err("KVM_SET_TSS_ADDR/KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
		return -1;
	}
	/*
	 * The in-kernel PIC, IOAPIC and one LAPIC per vCPU (api.rst,
	 * KVM_CREATE_IRQCHIP): GSI n is IOAPIC pin n (and PIC line n < 16).
	 * No PIT: the hardware-reduced ACPI platform has none, and Linux then
	 * needs none (it calibrates with KVM's paravirtual clock).
	 */
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	vm->arch->platform = (struct x86_platform){ .stop = platform_stop, .ctx = vm };
	if (x86_platform_register(&vm->pio, &vm->arch->platform)) {
		pr_err("cannot place the i8042 and ACPI sleep ports");
		return -1;
	}
	return 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *sup = supported_cpuid;
	size_t size = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[X86_BOOT_MSRS];
	} msrs = { .hdr.nmsrs = X86_BOOT_MSRS };
	int n;

	if (!c) {
		pr_err("out of memory");
		return -1;
	}
	/* api.rst, KVM_SET_CPUID2: before the first KVM_RUN, and never changed after it. */
	memcpy(c, sup, size);
	x86_cpuid_fixup(c->entries, c->nent, vcpu->id, vcpu->vm->ncpus, tsc_deadline);
	n = ioctl(vcpu->fd, KVM_SET_CPUID2, c);
	free(c);
	if (n < 0) {
		pr_err("vCPU %u: KVM_SET_CPUID2: %s", vcpu->id, strerror(errno));
		return -1;
	}
	/* api.rst, KVM_SET_MSRS: returns how many it set; it stops at the first it refuses. */
	x86_boot_msrs(msrs.e);
	n = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (n != X86_BOOT_MSRS) {
		if (n < 0)
			pr_err("vCPU %u: KVM_SET_MSRS: %s", vcpu->id, strerror(errno));
		else
			pr_err("vCPU %u: KVM refused MSR 0x%x", vcpu->id, msrs.e[n].index);
		return -1;
	}
	return 0;
}

int arch_vm_finalize(struct vm *vm)
{
	(void)vm; /* the in-kernel irqchip needs nothing once the vCPUs exist */
	return 0;
}

/*
 * The ACPI tables (acpi.h), in the e820's reserved area at X86_ACPI_BASE:
 * the RSDP first, so a kernel that ignores boot_params.acpi_rsdp_addr finds
 * it by scanning 0xe0000-0xfffff. Also handed back for --dump-acpi.
 */
static int load_acpi(struct vm *vm, struct boot_blobs *blobs, uint64_t *rsdp)
{
	const struct x86_acpi_params p = {
		.ncpus = vm->ncpus, .mmio = &vm->bus, .pio = &vm->pio, .base_gpa = X86_ACPI_BASE
	};
	void *buf = gmem_ptr(&vm->mem, X86_ACPI_BASE, X86_ACPI_SIZE);
	struct x86_acpi_tables tabs;
	const char *why = NULL;

	if (!buf || x86_acpi_build(&p, buf, X86_ACPI_SIZE, &tabs, &why) ||
	    x86_acpi_blobs(&tabs, blobs)) {
		pr_err("building the ACPI tables failed: %s", why ? why : "too many tables");
		return -1;
	}
	*rsdp = X86_ACPI_BASE;
	return 0;
}

/* Copy len bytes to guest-physical gpa; the layout guarantees it is RAM. */
static int put_guest(struct vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(&vm->mem, gpa, len);

	if (!dst) {
		pr_err("guest RAM too small for the boot structures at 0x%llx",
		       (unsigned long long)gpa);
		return -1;
	}
	memcpy(dst, src, len);
	return 0;
}

static int set_boot_registers(struct vcpu *v, uint64_t entry)
{
	uint8_t gdt[X86_GDT_SIZE];
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	x86_build_gdt(gdt, X86_TSS_ADDR);
	if (put_guest(v->vm, X86_GDT_ADDR, gdt, sizeof(gdt)))
		return -1;
	/* Keep what KVM_GET_SREGS says about the APIC base and pending interrupts. */
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_err("KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	x86_boot_sregs(&sregs, gdt, X86_GDT_ADDR, X86_PML4_ADDR);
	x86_boot_regs(&regs, entry, X86_BOOT_PARAMS_ADDR, X86_BOOT_STACK_TOP);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
		pr_err("setting the boot registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int arch_load_guest(struct vm *vm, const struct boot_desc *boot, struct boot_blobs *blobs)
{
	const struct guest_file *kernel = boot->kernel, *initrd = boot->initrd;
	const struct arch_vm *a = vm->arch;
	size_t prefix_len = strlen(X86_CMDLINE_PREFIX);
	size_t cmdline_len = prefix_len + strlen(boot->cmdline);
	size_t head = kernel->size < GUEST_FILE_HEAD ? (size_t)kernel->size : GUEST_FILE_HEAD;
	static uint8_t tables[X86_PAGE_TABLES_SIZE];
	uint8_t stub[X86_RESET_STUB_SIZE];
	struct bzimage_boot bb;
	const char *why;
	uint8_t *bp;
	void *dst;

	/* 1. The protected-mode kernel (the file past its setup sectors), then the initrd. */
	dst = gmem_ptr(&vm->mem, a->place.kernel_addr, a->kernel.kernel_len);
	if (!dst || guest_file_load_from(kernel, a->kernel.kernel_offset, dst))
		return -1;
	if (initrd && initrd->size &&
	    guest_file_load(initrd, gmem_ptr(&vm->mem, a->place.initrd_addr, initrd->size)))
		return -1;
	/* 2. The command line, NUL-terminated (boot.rst: cmd_line_ptr), after icevmm's prefix. */
	if (cmdline_len >= X86_CMDLINE_LIMIT - X86_CMDLINE_ADDR) {
		pr_err("the kernel command line is too long (%zu bytes)", cmdline_len);
		return -1;
	}
	if (put_guest(vm, X86_CMDLINE_ADDR, X86_CMDLINE_PREFIX, prefix_len) ||
	    put_guest(vm, X86_CMDLINE_ADDR + prefix_len, boot->cmdline,
		      cmdline_len - prefix_len + 1))
		return -1;
	/* 3. The ACPI tables. */
	bb = (struct bzimage_boot){
		.cmdline_addr = X86_CMDLINE_ADDR,
		.cmdline_len = cmdline_len,
		.initrd_addr = a->place.initrd_addr,
		.initrd_size = initrd ? initrd->size : 0,
		.e820 = a->e820,
		.e820_count = a->e820_count,
	};
	if (load_acpi(vm, blobs, &bb.acpi_rsdp_addr))
		return -1;
	/* 4. The reset vector (after the tables: the ACPI area ends where it starts). */
	x86_reset_stub(stub);
	if (put_guest(vm, X86_RESET_VECTOR_ADDR, stub, sizeof(stub)))
		return -1;
	/* 5. boot_params, the "zero page": the setup header and what the loader adds. */
	bp = gmem_ptr(&vm->mem, X86_BOOT_PARAMS_ADDR, BZIMAGE_BOOT_PARAMS_SIZE);
	if (!bp || bzimage_boot_params(bp, kernel->head, head, &a->kernel, &bb, &why)) {
		pr_err("%s: %s", kernel->path, bp ? why : "no RAM for boot_params");
		return -1;
	}
	/* 6. Long mode: the identity map, the GDT, and the boot vCPU's registers. */
	x86_build_page_tables(tables, X86_PML4_ADDR);
	if (put_guest(vm, X86_PML4_ADDR, tables, sizeof(tables)))
		return -1;
	/* boot.rst: "the 64-bit entry point ... is at startup_64, load address + 0x200". */
	return set_boot_registers(&vm->vcpus[0], a->place.kernel_addr + 0x200);
}

int arch_vcpu_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		/* api.rst: the data sit in the kvm_run mapping at data_offset. */
		if (run->io.data_offset >= vm->run_size ||
		    !x86_pio_access(&vm->pio, run->io.port, run->io.size, run->io.count,
				    run->io.direction == KVM_EXIT_IO_IN,
				    (uint8_t *)run + run->io.data_offset,
				    vm->run_size - run->io.data_offset)) {
			pr_err("vCPU %u: malformed KVM_EXIT_IO (port 0x%x, size %u, count %u)",
			       vcpu->id, run->io.port, run->io.size, run->io.count);
			return -1;
		}
		return 0;
	case KVM_EXIT_SHUTDOWN:
		/*
		 * A triple fault (SDM Vol. 3A 6.15, exception 8 "double fault",
		 * then a shutdown): real boards reset, so do we (and Linux's
		 * "reboot=t" asks for exactly this).
		 */
		pr_guest("vCPU %u: triple fault: the guest reset the machine", vcpu->id);
		vm_stop(vm, EXIT_GUEST_RESET);
		return 0;
	default:
		return -1;
	}
}

void arch_set_irq(void *ctx, unsigned int irq, int level)
{
	struct vm *vm = ctx;
	/* api.rst, KVM_IRQ_LINE: with KVM_CREATE_IRQCHIP's default routing, irq is the GSI. */
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		pr_err("KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

void arch_vm_destroy(struct vm *vm)
{
	free(vm->arch);
	vm->arch = NULL;
}
