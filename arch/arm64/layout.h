/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The arm64 guest's physical memory map. Devices sit below 2 GiB, RAM starts
 * at 2 GiB (like QEMU's "virt" machine, so guest kernels find nothing odd).
 *
 *   0x0800_0000  GIC distributor                      64 KiB
 *   0x0801_0000  GICv2 CPU interface (GICv2 only)      8 KiB
 *   0x080a_0000  GICv3 redistributors     128 KiB per vCPU (up to 0x0900_0000)
 *   0x0900_0000  8250 UART (console)                   4 KiB, SPI 1
 *   0x0901_0000  debug-exit doorbell                   4 KiB
 *   0x0902_0000  boot-timer doorbell (--boot-timer)    4 KiB
 *   0x0a00_0000  virtio-mmio devices      0x200 each, SPI 16 + n
 *   0x8000_0000  RAM (--mem)
 */
#ifndef ICEVMM_ARM64_LAYOUT_H
#define ICEVMM_ARM64_LAYOUT_H

#define ARM64_GIC_DIST_BASE 0x08000000ULL
#define ARM64_GIC_DIST_SIZE 0x10000ULL
#define ARM64_GIC_CPU_BASE 0x08010000ULL /* GICv2 */
#define ARM64_GIC_CPU_SIZE 0x2000ULL
#define ARM64_GIC_REDIST_BASE 0x080a0000ULL	 /* GICv3 */
#define ARM64_GIC_REDIST_SIZE_PER_CPU 0x20000ULL /* RD_base + SGI_base frames */
#define ARM64_GIC_REDIST_LIMIT 0x09000000ULL

#define ARM64_UART_BASE 0x09000000ULL
#define ARM64_UART_SPI 1
#define ARM64_DEBUG_EXIT_BASE 0x09010000ULL
#define ARM64_BOOT_TIMER_BASE 0x09020000ULL
#define ARM64_VIRTIO_MMIO_BASE 0x0a000000ULL
#define ARM64_VIRTIO_MMIO_SIZE 0x200ULL
#define ARM64_VIRTIO_SPI_BASE 16

#define ARM64_RAM_BASE 0x80000000ULL

/* The redistributor window bounds the vCPU count (GICv3: 92; GICv2: 8). */
#define ARM64_MAX_CPUS_GICV3                                                                       \
	((unsigned int)((ARM64_GIC_REDIST_LIMIT - ARM64_GIC_REDIST_BASE) /                         \
			ARM64_GIC_REDIST_SIZE_PER_CPU))
#define ARM64_MAX_CPUS_GICV2 8

/* SPIs the vGIC is created with (a multiple of 32, as KVM requires). */
#define ARM64_GIC_NR_SPIS 96

#endif
