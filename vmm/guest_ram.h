/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host mapping of guest RAM, placed on a 2 MiB boundary so that
 * transparent huge pages and KVM's stage-2 block mappings line up with the
 * guest's 2 MiB-aligned physical addresses.
 */
#ifndef ICEVMM_GUEST_RAM_H
#define ICEVMM_GUEST_RAM_H

#include <stddef.h>

#define GUEST_RAM_ALIGN (2UL << 20) /* one arm64 4 KiB-granule level-2 block */

/*
 * Map `size` bytes (a multiple of the page size) of anonymous, private,
 * NORESERVE RAM starting on a GUEST_RAM_ALIGN boundary, with MADV_HUGEPAGE.
 * Returns NULL (errno set) on failure. Free with munmap(ptr, size).
 */
void *guest_ram_map(size_t size);

#endif
