/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPU state Linux's 64-bit boot protocol wants at its entry point
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"): long mode with
 * paging on, an identity map covering the kernel, boot_params and the command
 * line, a GDT with flat 4 GiB segments at __BOOT_CS (0x10, execute/read) and
 * __BOOT_DS (0x18, read/write), CS = __BOOT_CS, DS = ES = SS = __BOOT_DS,
 * interrupts off, %rsi = boot_params. Pure functions: the caller hands the
 * results to KVM (KVM_SET_SREGS, KVM_SET_REGS, KVM_SET_MSRS) and copies the
 * tables into guest RAM.
 */
#ifndef ICEVMM_X86_BOOT64_H
#define ICEVMM_X86_BOOT64_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* GDT slots: 0 null, 1 unused, 2 code, 3 data, 4-5 the 16-byte TSS descriptor. */
#define X86_GDT_ENTRIES 6
#define X86_GDT_SIZE (X86_GDT_ENTRIES * 8)
#define X86_BOOT_CS 0x10
#define X86_BOOT_DS 0x18
#define X86_BOOT_TSS 0x20
#define X86_TSS_LIMIT 0x67 /* a 64-bit TSS is 104 bytes (SDM Vol. 3A 8.7) */

/* Control registers (SDM Vol. 3A 2.5) and EFER (2.2.1). */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

/* Page-table entry bits (SDM Vol. 3A 4.5). */
#define X86_PTE_P (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_PS (1ULL << 7) /* in a PDE: a 2 MiB page */

/* The identity map: PML4, PDPT, then one PD per GiB, in that order. */
#define X86_IDMAP_GIB 4
#define X86_PAGE_TABLES_SIZE ((2 + X86_IDMAP_GIB) * 4096)

/*
 * Fill buf (X86_PAGE_TABLES_SIZE bytes) with page tables identity-mapping
 * the first 4 GiB with 2 MiB pages, for buf placed at guest-physical base
 * (4 KiB aligned, below 4 GiB): CR3 = base.
 */
void x86_build_page_tables(uint8_t *buf, uint64_t base);

/* A segment descriptor (SDM Vol. 3A 3.4.5). */
uint64_t x86_seg_desc(uint32_t base, uint32_t limit, uint16_t flags);
#define X86_DESC_CODE64 0xa09b /* G, L, P, S, type 0xb: execute/read, accessed */
#define X86_DESC_DATA 0xc093   /* G, D/B, P, S, type 0x3: read/write, accessed */
#define X86_DESC_TSS64 0x008b  /* P, type 0xb: busy 64-bit TSS (system: S = 0) */

/* Fill gdt (X86_GDT_SIZE bytes): flat code and data, and a TSS at tss_base. */
void x86_build_gdt(uint8_t *gdt, uint64_t tss_base);

/* The segment register KVM takes for selector sel of the GDT (as built above). */
void x86_seg_from_gdt(const uint8_t *gdt, uint16_t sel, struct kvm_segment *seg);

/*
 * The boot vCPU's special registers: long mode with paging (CR0 PE|ET|PG,
 * CR4 PAE, EFER LME|LMA, CR3 = the PML4), the GDT at gdt_base, CS/DS/ES/
 * FS/GS/SS/TR from it, LDTR unusable, no IDT. sregs should hold what
 * KVM_GET_SREGS returned (the interrupt bitmap and APIC base are kept).
 */
void x86_boot_sregs(struct kvm_sregs *sregs, const uint8_t *gdt, uint64_t gdt_base, uint64_t cr3);

/* The boot vCPU's registers: rip = entry, rsi = boot_params, interrupts off. */
void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t boot_params, uint64_t stack_top);

/* MSR numbers (SDM Vol. 4, table 2-2) */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MISC_ENABLE_FAST_STRING (1ULL << 0)
#define MTRR_DEF_TYPE_E (1ULL << 11)
#define MTRR_TYPE_WB 6

/*
 * The code at the reset vector, F000:FFF0 (guest-physical 0xffff0), where
 * Linux jumps to "ask the BIOS" to reboot (arch/x86/kernel/reboot.c,
 * machine_real_restart(), its BOOT_BIOS method, in real mode). There is no
 * BIOS: what is there pulses the reset line through the i8042 (out 0xfe to
 * port 0x64, as Linux's BOOT_KBD method does), so icevmm stops with status
 * 3. It matters: on a hardware-reduced ACPI platform Linux reboots with
 * BOOT_EFI, which without EFI falls through to BOOT_BIOS before it tries
 * anything else. Writes at most 16 bytes; returns how many.
 */
#define X86_RESET_STUB_SIZE 16
size_t x86_reset_stub(uint8_t *buf);

#define X86_BOOT_MSRS 10
/* Fill e (X86_BOOT_MSRS entries) with the MSR values a vCPU starts with. */
void x86_boot_msrs(struct kvm_msr_entry *e);

#endif
