// SPDX-License-Identifier: GPL-2.0
/* The part of a device-tree node that every MMIO device writes the same way. */
#include <libfdt.h>
#include <stdio.h>

#include "bus.h"

int dt_begin_mmio_node(const struct dt_ctx *ctx, const struct mmio_dev *dev, const char *prefix,
		       const char *compatible)
{
	uint64_t reg[2] = { cpu_to_fdt64(dev->base), cpu_to_fdt64(dev->size) };
	char name[64];
	int err;

	snprintf(name, sizeof(name), "%s@%llx", prefix, (unsigned long long)dev->base);
	err = fdt_begin_node(ctx->fdt, name);
	if (!err)
		err = fdt_property_string(ctx->fdt, "compatible", compatible);
	if (!err)
		err = fdt_property(ctx->fdt, "reg", reg, sizeof(reg));
	if (!err && dev->has_irq)
		err = ctx->add_irq(ctx, dev->irq);
	return err;
}
