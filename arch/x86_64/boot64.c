// SPDX-License-Identifier: GPL-2.0
/*
 * Long mode, entered directly: page tables, GDT, segment and control
 * registers, MSRs for Linux's 64-bit boot protocol (boot64.h). The segment
 * registers are decoded from the very GDT the guest gets, so the hidden parts
 * KVM loads and the descriptors the guest may reload can never disagree.
 */
#include <string.h>

#include "boot64.h"

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * SDM Vol. 3A 4.5 (4-level paging): PML4E -> PDPT, PDPTE -> PD, and a PDE
 * with PS set maps a 2 MiB page. Entry 0 of the PML4 covers 512 GiB; the
 * PDPT's first four entries cover 4 GiB, one PD each.
 */
void x86_build_page_tables(uint8_t *buf, uint64_t base)
{
	uint8_t *pml4 = buf, *pdpt = buf + 4096, *pd = buf + 2 * 4096;
	uint64_t i;

	memset(buf, 0, X86_PAGE_TABLES_SIZE);
	put_le64(pml4, (base + 4096) | X86_PTE_P | X86_PTE_RW);
	for (i = 0; i < X86_IDMAP_GIB; i++)
		put_le64(pdpt + 8 * i, (base + (2 + i) * 4096) | X86_PTE_P | X86_PTE_RW);
	for (i = 0; i < X86_IDMAP_GIB * 512; i++)
		put_le64(pd + 8 * i, (i << 21) | X86_PTE_P | X86_PTE_RW | X86_PTE_PS);
}

/*
 * SDM Vol. 3A 3.4.5, figure 3-8: limit 15:0, base 23:0, the access byte
 * (type, S, DPL, P), limit 19:16, the flags nibble (AVL, L, D/B, G), base
 * 31:24. flags holds the access byte in bits 7:0 and the flags nibble in bits
 * 15:12, as they sit in bits 55:40 of the descriptor.
 */
uint64_t x86_seg_desc(uint32_t base, uint32_t limit, uint16_t flags)
{
	return (limit & 0xffffULL) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)(flags & 0xf0ff) << 40 | (uint64_t)(limit >> 16 & 0xf) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

void x86_build_gdt(uint8_t *gdt, uint64_t tss_base)
{
	memset(gdt, 0, X86_GDT_SIZE);
	/* Limit 0xfffff with G: 4 GiB (ignored in 64-bit mode, but boot.rst asks for flat). */
	put_le64(gdt + X86_BOOT_CS, x86_seg_desc(0, 0xfffff, X86_DESC_CODE64));
	put_le64(gdt + X86_BOOT_DS, x86_seg_desc(0, 0xfffff, X86_DESC_DATA));
	/* SDM Vol. 3A 8.2.3: in IA-32e mode a TSS descriptor takes 16 bytes, base 63:32 last. */
	put_le64(gdt + X86_BOOT_TSS,
		 x86_seg_desc((uint32_t)tss_base, X86_TSS_LIMIT, X86_DESC_TSS64));
	put_le64(gdt + X86_BOOT_TSS + 8, tss_base >> 32);
}

void x86_seg_from_gdt(const uint8_t *gdt, uint16_t sel, struct kvm_segment *seg)
{
	uint64_t d = get_le64(gdt + (sel & ~7u));
	uint32_t limit = (uint32_t)((d & 0xffff) | (d >> 48 & 0xf) << 16);

	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = (d >> 16 & 0xffffff) | (d >> 56 & 0xff) << 24;
	seg->type = d >> 40 & 0xf;
	seg->s = d >> 44 & 1;
	seg->dpl = d >> 45 & 3;
	seg->present = d >> 47 & 1;
	seg->avl = d >> 52 & 1;
	seg->l = d >> 53 & 1;
	seg->db = d >> 54 & 1;
	seg->g = d >> 55 & 1;
	/* KVM takes the limit in bytes: with G set, in 4 KiB units plus the last page. */
	seg->limit = seg->g ? limit << 12 | 0xfff : limit;
	if (!seg->s) /* a system descriptor is 16 bytes in long mode */
		seg->base |= get_le64(gdt + (sel & ~7u) + 8) << 32;
}

void x86_boot_sregs(struct kvm_sregs *sregs, const uint8_t *gdt, uint64_t gdt_base, uint64_t cr3)
{
	x86_seg_from_gdt(gdt, X86_BOOT_CS, &sregs->cs);
	x86_seg_from_gdt(gdt, X86_BOOT_DS, &sregs->ds);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	/*
	 * TR must be a busy TSS for VM entry (SDM Vol. 3C 27.3.1.2 / APM Vol. 2
	 * 15.5: KVM on Intel checks it); Linux loads its own before it needs one.
	 */
	x86_seg_from_gdt(gdt, X86_BOOT_TSS, &sregs->tr);
	/* No LDT: an unusable LDTR (selector 0, type LDT so the checks that look still pass). */
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.type = 2;
	sregs->ldt.unusable = 1;
	sregs->gdt.base = gdt_base;
	sregs->gdt.limit = X86_GDT_SIZE - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0; /* interrupts are off until Linux loads its IDT */
	/* SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode", the end state of it. */
	sregs->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs->cr3 = cr3;
	sregs->cr4 = X86_CR4_PAE;
	sregs->efer = X86_EFER_LME | X86_EFER_LMA;
}

void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t boot_params, uint64_t stack_top)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsi = boot_params;
	regs->rsp = stack_top; /* the kernel sets its own at once; this is for safety */
	regs->rflags = 2;      /* bit 1 is reserved and reads as 1; IF clear */
}

/*
 * The MSRs a vCPU starts with. Fast strings on (what firmware sets; Linux
 * keeps IA32_MISC_ENABLE as it finds it), the system-call MSRs zero until
 * Linux programs them (SDM Vol. 3B 5.8.7 and 5.8.8; KVM zeroes them too, so
 * this documents rather than changes), and the MTRRs' default type
 * write-back with MTRRs enabled, as firmware leaves a PC: with MTRRs off,
 * Linux would consider all memory uncacheable. The TSC is left alone: KVM
 * starts it at 0 and keeps the vCPUs' TSCs in step, which writes from here
 * would disturb.
 */
void x86_boot_msrs(struct kvm_msr_entry *e)
{
	static const struct {
		uint32_t index;
		uint64_t data;
	} msrs[X86_BOOT_MSRS] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_DEF_TYPE_E | MTRR_TYPE_WB },
	};

	for (unsigned int i = 0; i < X86_BOOT_MSRS; i++)
		e[i] = (struct kvm_msr_entry){ .index = msrs[i].index, .data = msrs[i].data };
}

size_t x86_reset_stub(uint8_t *buf)
{
	static const uint8_t code[] = {
		0xb0, 0xfe, /* mov al, 0xfe  (the i8042's "pulse reset" command) */
		0xe6, 0x64, /* out 0x64, al */
		0xf4,	    /* hlt            (should the VMM not stop) */
		0xeb, 0xfd, /* jmp short $-3  (back to the hlt) */
	};

	memset(buf, 0, X86_RESET_STUB_SIZE);
	memcpy(buf, code, sizeof(code));
	return sizeof(code);
}
