// SPDX-License-Identifier: GPL-2.0
/*
 * Identity map of the low 4 GiB with 1 GiB level-1 blocks (4K granule,
 * T0SZ = 25: a 39-bit VA space whose walk starts at level 1):
 *
 *   0x0000_0000 - 0x7fff_ffff  Device-nGnRE, never executed  (MMIO)
 *   0x8000_0000 - 0xffff_ffff  Normal WB cacheable, inner shareable (RAM)
 *
 * Why: with the MMU off every data access is Device-nGnRnE, i.e. not
 * cacheable, while icevmm reads and writes the rings and buffers through its
 * cacheable mapping of guest RAM. On hardware those views are not coherent;
 * the virtqueue must live in memory both sides map cacheable.
 * (RAM beyond --mem is mapped too but never touched on purpose; 2 GiB of
 * RAM at most is reachable, far more than the self-test asks for.)
 */
#include <stdint.h>

#include "io.h"
#include "mmu.h"

/* Block descriptor fields (Arm ARM D8.3, "Translation table descriptor formats") */
#define PTE_BLOCK (1UL << 0) /* bits[1:0] = 0b01 at level 1 */
#define PTE_ATTRINDX(n) ((uint64_t)(n) << 2)
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10) /* no access flag faults */
#define PTE_PXN (1UL << 53)
#define PTE_UXN (1UL << 54)

/* MAIR_EL1: attr0 Device-nGnRE (0x04), attr1 Normal inner/outer WB RW-allocate (0xff) */
#define MAIR_DEVICE 0
#define MAIR_NORMAL 1
#define MAIR_VALUE (0x04UL << (8 * MAIR_DEVICE) | 0xffUL << (8 * MAIR_NORMAL))

/* TCR_EL1 */
#define TCR_T0SZ(n) ((uint64_t)(n) << 0)
#define TCR_IRGN0_WBWA (1UL << 8)
#define TCR_ORGN0_WBWA (1UL << 10)
#define TCR_SH0_INNER (3UL << 12)
#define TCR_TG0_4K (0UL << 14)
#define TCR_EPD1 (1UL << 23) /* no TTBR1 walks: nothing lives up there */
#define TCR_IPS_SHIFT 32
#define TCR_IPS_48BIT 5UL

/* SCTLR_EL1 */
#define SCTLR_M (1UL << 0)
#define SCTLR_A (1UL << 1)
#define SCTLR_C (1UL << 2)
#define SCTLR_I (1UL << 12)
#define SCTLR_WXN (1UL << 19) /* would make our writable RAM non-executable */
#define SCTLR_E0E (1UL << 24)
#define SCTLR_EE (1UL << 25)

#define GIB (1UL << 30)
#define RAM_BASE 0x80000000UL

static uint64_t l1_table[512] __attribute__((aligned(4096)));

/* Linker script symbols: what was written with the MMU off. */
extern char __bss_start[], __bss_end[];

/* DC IVAC over a range, then DSB (start.S). */
void dcache_inval_range_asm(uintptr_t start, uintptr_t end);

void mmu_enable(void)
{
	uint64_t pa, sctlr, tcr, parange;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		pa = i * GIB;
		if (pa < RAM_BASE)
			l1_table[i] = pa | PTE_BLOCK | PTE_ATTRINDX(MAIR_DEVICE) | PTE_AF |
				      PTE_PXN | PTE_UXN;
		else
			l1_table[i] = pa | PTE_BLOCK | PTE_ATTRINDX(MAIR_NORMAL) | PTE_SH_INNER |
				      PTE_AF;
	}
	/*
	 * The table, zeroed BSS and our stack were written non-cacheable.
	 * Drop any cache lines over them (speculative fills since start.S)
	 * so the walker and our first cacheable reads see memory.
	 */
	dsb(sy);
	dcache_inval_range_asm((uintptr_t)__bss_start, (uintptr_t)__bss_end);

	sysreg_write(mair_el1, MAIR_VALUE);
	tcr = TCR_T0SZ(25) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
	      TCR_EPD1;
	/* IPS = the PA size this CPU implements (ID_AA64MMFR0_EL1.PARange), at most 48 bits */
	parange = sysreg_read(id_aa64mmfr0_el1) & 0xf;
	tcr |= (parange < TCR_IPS_48BIT ? parange : TCR_IPS_48BIT) << TCR_IPS_SHIFT;
	sysreg_write(tcr_el1, tcr);
	sysreg_write(ttbr0_el1, (uintptr_t)l1_table);
	isb();
	/* No stale translations or instructions from before. */
	asm volatile("tlbi vmalle1" : : : "memory");
	asm volatile("ic iallu" : : : "memory");
	dsb(nsh);
	isb();

	sctlr = sysreg_read(sctlr_el1);
	sctlr |= SCTLR_M | SCTLR_C | SCTLR_I;
	sctlr &= ~(SCTLR_A | SCTLR_WXN | SCTLR_E0E | SCTLR_EE);
	sysreg_write(sctlr_el1, sctlr);
	isb();
}

bool mmu_is_on(void)
{
	uint64_t want = SCTLR_M | SCTLR_C | SCTLR_I;

	return (sysreg_read(sctlr_el1) & want) == want;
}
