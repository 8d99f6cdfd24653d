/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry: the arm64 Image header, then the boot path up to C.
 *
 * icevmm (like any loader following Linux's Documentation/arch/arm64/
 * booting.rst) enters at the first byte of the Image on vCPU 0, at EL1h
 * with DAIF masked, the MMU and D-cache off, x0 = the device tree's
 * physical address. We are linked at 0x8000_0000 with text_offset 0, which
 * is exactly where icevmm places us (RAM base + text_offset).
 */

	.section .head.text, "ax"
	.globl _start
_start:
	/* The 64-byte header (booting.rst, "Call the kernel image"). */
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	_image_size		/* image_size: file + BSS, from the linker script */
	.quad	0x2			/* flags: LE, 4K pages, base near the start of RAM */
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.quad	0			/* res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5: no PE/COFF header */

	.text
primary_entry:
	mov	x19, x0			/* the FDT address, kept for C */

	/* Only EL1 is handled: SCTLR_EL1 and friends would not apply elsewhere. */
	mrs	x1, CurrentEL
	cmp	x1, #(1 << 2)
	b.ne	early_fail

	/* Position-dependent code: we must run where we were linked. */
	adr	x1, _start
	ldr	x2, =_start
	cmp	x1, x2
	b.ne	early_fail

	ldr	x1, =vectors
	msr	vbar_el1, x1
	isb

	/*
	 * With the MMU off our stores bypass the caches. Discard any cache
	 * lines over BSS first, so none can be written back over what we
	 * store next (Linux head.S does the same for its page tables).
	 * DC IVAC at EL1 under a stage 2 is performed as DC CIVAC, so this
	 * cannot throw away data of the host either.
	 */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
	bl	dcache_inval_range_asm

	/* Zero BSS (16-byte aligned by the linker script), stack included. */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b
2:
	ldr	x0, =__stack_top
	mov	sp, x0

	bl	mmu_enable		/* identity map, caches on (mmu.c) */

	mov	x0, x19
	bl	selftest_main		/* does not return */
	b	.

/*
 * Nothing can be printed yet: say 63 ("failed early") through debug-exit,
 * then PSCI SYSTEM_OFF, then park.
 */
early_fail:
	mov	x0, #0x09010000
	mov	w1, #63
	str	w1, [x0]
	ldr	w0, =0x84000008
	hvc	#0
3:	wfi
	b	3b

/*
 * dcache_inval_range_asm(start, end): DC IVAC over [start, end), by the
 * smallest D-cache line size CTR_EL0.DminLine reports. Uses x0-x3 only.
 */
	.globl dcache_inval_range_asm
dcache_inval_range_asm:
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4		/* DminLine: log2(words per line) */
	mov	x2, #4
	lsl	x2, x2, x3		/* bytes per line */
	sub	x3, x2, #1
	bic	x0, x0, x3
4:	cmp	x0, x1
	b.hs	5f
	dc	ivac, x0
	add	x0, x0, x2
	b	4b
5:	dsb	sy
	ret

	.ltorg
