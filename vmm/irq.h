/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An interrupt line as a device sees it: a callback that sets the line's level.
 * In icevmm it ends in KVM_IRQ_LINE on the in-kernel GIC; in unit tests it is
 * a recorder. Devices never see KVM.
 */
#ifndef ICEVMM_IRQ_H
#define ICEVMM_IRQ_H

struct irq_line {
	void (*set_level)(void *ctx, unsigned int irq, int level);
	void *ctx;
	unsigned int irq;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l->set_level)
		l->set_level(l->ctx, l->irq, level);
}

#endif
