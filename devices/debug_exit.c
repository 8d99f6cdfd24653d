// SPDX-License-Identifier: GPL-2.0
/* debug-exit device; see debug_exit.h for the guest-visible contract. */
#include <libfdt.h>
#include <string.h>

#include "../vmm/exit_status.h"
#include "debug_exit.h"

static void debug_exit_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct debug_exit *d = opaque;
	uint32_t v = 0;

	if (off != 0)
		return;
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v)); /* little-endian host and guest */
	d->request_exit(d->ctx, EXIT_DEBUG_BASE + (int)(v & EXIT_DEBUG_MASK));
}

static int debug_exit_dt_node(const struct mmio_dev *dev, const struct dt_ctx *ctx)
{
	int err = dt_begin_mmio_node(ctx, dev, "debug-exit", "icevmm,debug-exit");

	return err ? err : fdt_end_node(ctx->fdt);
}

const struct mmio_dev_ops debug_exit_ops = {
	.write = debug_exit_write,
	.dt_node = debug_exit_dt_node,
};
