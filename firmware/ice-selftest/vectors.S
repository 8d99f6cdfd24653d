/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EL1 exception vectors (VBAR_EL1: 2 KiB aligned, 16 entries of 0x80 bytes;
 * Arm ARM D1.10.2 "Exception vectors"). Nothing here is expected to fire:
 * IRQs stay masked, and a synchronous exception means a bug (a bad page
 * table, a stray access). Every entry reports and ends the run.
 */

	.macro	ventry, n
	.balign	0x80
	mov	x0, #\n
	b	vector_common
	.endm

	.text
	.balign	0x800
	.globl	vectors
vectors:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	ventry	\n
	.endr

vector_common:
	/* A fresh stack: the old one may be what broke. We never return. */
	ldr	x1, =__stack_top
	mov	sp, x1
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	bl	exception_fatal
	b	.

	.ltorg
