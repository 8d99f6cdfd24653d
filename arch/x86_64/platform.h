/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 platform's own port-I/O devices, registered by the arch on vm->pio
 * (they are part of the machine, not generic devices), and the KVM_EXIT_IO
 * decoding that drives the port bus:
 *
 * - the i8042 keyboard controller, only as far as Linux uses it to reset the
 *   machine (Linux's reboot "kbd" method: command 0xFE on port 0x64 pulses
 *   the CPU's reset line): status and data read 0 (nothing pending, input
 *   buffer empty), command 0xFE stops the VM with EXIT_GUEST_RESET;
 * - the ACPI sleep control and status registers of a hardware-reduced
 *   platform (ACPI 6.5, 4.8.3.7 and 4.8.3.8; the FADT's SLEEP_CONTROL_REG and
 *   SLEEP_STATUS_REG point here): writing SLP_EN with SLP_TYP 5 (the DSDT's
 *   \_S5 package says 5) enters S5, power off: EXIT_GUEST_POWEROFF.
 */
#ifndef ICEVMM_X86_PLATFORM_H
#define ICEVMM_X86_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "../../vmm/bus.h"

#define I8042_CMD_RESET 0xfe
#define ACPI_SLP_EN (1u << 5) /* sleep control register, ACPI 6.5 table 4.20 */
#define ACPI_SLP_TYP_SHIFT 2  /* bits 4:2 */
#define ACPI_SLP_TYP_MASK 7u
#define ACPI_S5_SLP_TYP 5

/* How the devices end the run: vm_stop(ctx, status) in icevmm, a recorder in tests. */
struct x86_platform {
	void (*stop)(void *ctx, int status);
	void *ctx;
};

extern const struct mmio_dev_ops x86_i8042_data_ops, x86_i8042_cmd_ops;
extern const struct mmio_dev_ops x86_acpi_sleep_ops;

/* Register the i8042 (0x60, 0x64) and the sleep registers (0x600, 0x601) on pio. */
int x86_platform_register(struct mmio_bus *pio, struct x86_platform *p);

/*
 * One KVM_EXIT_IO (api.rst: run->io): count accesses of size bytes at port,
 * the data at data (count * size bytes, inside the kvm_run page: data_len
 * says how much room there is), in for a read. String I/O (INS/OUTS with a
 * REP prefix) gives count > 1: each element is its own access to the same
 * port. A read no device claims returns all ones, as an ISA bus with nothing
 * driving it does (and as Linux's probes expect for an absent device).
 * Returns false if the exit is malformed (sizes KVM never gives, or data
 * beyond data_len): then nothing is accessed.
 */
bool x86_pio_access(const struct mmio_bus *pio, uint16_t port, uint8_t size, uint32_t count,
		    bool in, uint8_t *data, uint64_t data_len);

#endif
