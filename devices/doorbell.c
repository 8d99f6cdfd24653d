// SPDX-License-Identifier: GPL-2.0
/* Doorbell device; see doorbell.h for the guest-visible contract. */
#include <libfdt.h>
#include <string.h>

#include "doorbell.h"

static void doorbell_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct doorbell *d = opaque;
	uint32_t v = 0;

	if (off != 0)
		return;
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v)); /* little-endian host and guest */
	d->ring(d->ctx, v);
}

static int doorbell_dt_node(const struct mmio_dev *dev, const struct dt_ctx *ctx)
{
	const struct doorbell *d = dev->opaque;
	int err = dt_begin_mmio_node(ctx, dev, d->name, d->compatible);

	return err ? err : fdt_end_node(ctx->fdt);
}

const struct mmio_dev_ops doorbell_ops = {
	.write = doorbell_write,
	.dt_node = doorbell_dt_node,
};
