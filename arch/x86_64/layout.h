/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86_64 guest's physical memory map and port map. RAM starts at 0; up to
 * 3 GiB of it lies below the 32-bit MMIO hole [3 GiB, 4 GiB), the rest
 * continues at 4 GiB (bzimage.h has the e820 side of that decision).
 *
 * Fixed boot structures in low RAM (all below 1 MiB):
 *   0x0000_0500  GDT (null, -, boot code 0x10, boot data 0x18, TSS 0x20)
 *   0x0000_0600  TSS (104 bytes, zero: only there so TR is valid)
 *   0x0000_7000  boot_params, the "zero page"
 *   0x0000_8000  the boot stack (one page, grows down from 0x9000)
 *   0x0000_9000  PML4; 0xa000 PDPT; 0xb000..0xefff four PDs
 *                (identity map of the first 4 GiB with 2 MiB pages)
 *   0x0002_0000  kernel command line
 *   0x000e_0000  ACPI tables, RSDP first (reserved in the e820)
 *   0x000f_fff0  the "reset vector": 16 bytes that reset the machine through
 *                the i8042 (see x86_reset_stub() in boot64.h)
 *   0x0100_0000  the protected-mode kernel (16 MiB, or pref_address if higher)
 *   initrd       as high as fits below min(initrd_addr_max, end of low RAM)
 *
 * MMIO in the hole:
 *   0xd000_0000  debug-exit doorbell                   4 KiB
 *   0xd000_1000  boot-timer doorbell (--boot-timer)    4 KiB
 *   0xd100_0000  virtio-mmio devices      0x200 each, GSI 16 + n (IOAPIC pins)
 *   0xfec0_0000  IOAPIC (KVM's in-kernel irqchip)
 *   0xfee0_0000  local APICs
 *   0xfffb_c000  KVM's EPT identity-map page (Intel only, 1 page)
 *   0xfffb_d000  KVM's real-mode TSS (Intel only, 3 pages)
 *
 * Port I/O:
 *   0x0060, 0x0064  i8042: reset (0xFE to 0x64)
 *   0x03f8..0x03ff  16550A UART, ISA IRQ 4 (GSI 4)
 *   0x0600, 0x0601  ACPI sleep control / status registers (hardware-reduced FADT)
 */
#ifndef ICEVMM_X86_LAYOUT_H
#define ICEVMM_X86_LAYOUT_H

#define X86_GDT_ADDR 0x500ULL
#define X86_TSS_ADDR 0x600ULL
#define X86_BOOT_PARAMS_ADDR 0x7000ULL
#define X86_BOOT_STACK_TOP 0x9000ULL
#define X86_PML4_ADDR 0x9000ULL /* then the PDPT and the PDs, one page each */
#define X86_CMDLINE_ADDR 0x20000ULL
/*
 * The start of every x86_64 guest's command line: what the machine lacks,
 * which Linux would otherwise probe for, an exit per port access (about
 * 170 in a boot): no PCI (type-1 and type-2 configuration space, the early
 * quirks' scan of bus 0) and one UART (COM2-COM4). The user's command line
 * follows, so its own values win. (kvmtool starts its guests' likewise.)
 */
#define X86_CMDLINE_PREFIX "pci=off 8250.nr_uarts=1 "
#define X86_CMDLINE_LIMIT 0x90000ULL /* the command line ends below this */
#define X86_ACPI_BASE 0xe0000ULL
#define X86_RESET_VECTOR_ADDR 0xffff0ULL		      /* real mode F000:FFF0 */
#define X86_ACPI_SIZE (X86_RESET_VECTOR_ADDR - X86_ACPI_BASE) /* up to the reset vector */
#define X86_KERNEL_ADDR 0x1000000ULL

#define X86_DEBUG_EXIT_BASE 0xd0000000ULL
#define X86_BOOT_TIMER_BASE 0xd0001000ULL
#define X86_VIRTIO_MMIO_BASE 0xd1000000ULL
#define X86_VIRTIO_MMIO_SIZE 0x200ULL
#define X86_VIRTIO_GSI_BASE 16
#define X86_VIRTIO_MAX 8 /* GSIs 16..23: the IOAPIC's last pins */
#define X86_IOAPIC_BASE 0xfec00000u
#define X86_LAPIC_BASE 0xfee00000u
#define X86_KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define X86_KVM_TSS_ADDR 0xfffbd000ULL

#define X86_I8042_DATA_PORT 0x60
#define X86_I8042_CMD_PORT 0x64
#define X86_UART_PORT 0x3f8
#define X86_UART_GSI 4
#define X86_ACPI_SLEEP_CONTROL_PORT 0x600 /* 8-bit, FADT SLEEP_CONTROL_REG */
#define X86_ACPI_SLEEP_STATUS_PORT 0x601  /* 8-bit, FADT SLEEP_STATUS_REG */

/* The MADT and the LAPIC IDs: APIC ID = vCPU index, 8-bit xAPIC IDs. */
#define X86_MAX_CPUS 64

#endif
