/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debug-exit: lets a guest end the run with a status of its choosing, so a
 * test inside the guest reports pass/fail without anyone parsing the console
 * (the idea of QEMU's isa-debug-exit, on MMIO). A 32-bit write of v at offset 0
 * makes icevmm exit with status 64 + (v & 63). Device-tree compatible:
 * "icevmm,debug-exit".
 */
#ifndef ICEVMM_DEBUG_EXIT_H
#define ICEVMM_DEBUG_EXIT_H

#include "../vmm/bus.h"

#define DEBUG_EXIT_MMIO_SIZE 0x1000

struct debug_exit {
	/* Called once per write with the status icevmm should exit with. */
	void (*request_exit)(void *ctx, int status);
	void *ctx;
};

extern const struct mmio_dev_ops debug_exit_ops;

#endif
