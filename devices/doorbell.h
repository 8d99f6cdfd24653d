/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A doorbell: the guest writes a 32-bit value at offset 0 and icevmm is told.
 * Two live on the arm64 machine (README.md, "The guest machine"):
 *   debug-exit  ("icevmm,debug-exit"): icevmm exits with status 64 + (v & 63),
 *               so a test inside the guest reports pass/fail without anyone
 *               parsing the console (QEMU's isa-debug-exit, on MMIO);
 *   boot-timer  ("icevmm,boot-timer", with --boot-timer): icevmm logs its wall
 *               and CPU time since start; the test guests' init rings it first.
 * No Linux driver binds these compatibles, so busybox `devmem` can write them
 * even with CONFIG_IO_STRICT_DEVMEM.
 */
#ifndef ICEVMM_DOORBELL_H
#define ICEVMM_DOORBELL_H

#include <stdint.h>

#include "../vmm/bus.h"

#define DOORBELL_MMIO_SIZE 0x1000

struct doorbell {
	const char *name; /* device-tree node name prefix */
	const char *compatible;
	void (*ring)(void *ctx, uint32_t value);
	void *ctx;
};

extern const struct mmio_dev_ops doorbell_ops;

#endif
