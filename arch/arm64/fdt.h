/* SPDX-License-Identifier: GPL-2.0 */
/* The arm64 guest's flattened device tree, built with libfdt. */
#ifndef ICEVMM_ARM64_FDT_H
#define ICEVMM_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

#include "../../vmm/bus.h"

enum arm64_gic_version { ARM64_GICV2 = 2, ARM64_GICV3 = 3 };

struct arm64_fdt_params {
	unsigned int ncpus;
	const uint64_t *mpidr; /* MPIDR_EL1 of each vCPU, as KVM reports it */
	enum arm64_gic_version gic;
	uint64_t ram_base, ram_size;
	const char *cmdline;
	uint64_t initrd_start, initrd_end; /* no initrd properties if equal */
	const char *stdout_path;	   /* e.g. "/uart@9000000", or NULL */
	const struct mmio_bus *bus;	   /* each device adds its own node */
	const uint8_t *rng_seed;	   /* optional /chosen/rng-seed */
	size_t rng_seed_len;
};

/* Builds the tree into buf (at most size bytes). Returns 0 or a negative libfdt error. */
int arm64_fdt_build(const struct arm64_fdt_params *p, void *buf, size_t size);

#endif
