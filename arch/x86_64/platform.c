// SPDX-License-Identifier: GPL-2.0
/* The x86 platform's port-I/O devices and the port bus (platform.h). */
#include <string.h>

#include "../../vmm/exit_status.h"
#include "../../vmm/log.h"
#include "layout.h"
#include "platform.h"

static void i8042_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	(void)opaque, (void)off;
	/* Status 0: output buffer empty, input buffer empty (Linux's kb_wait() then writes). */
	memset(data, 0, len);
}

static void i8042_cmd_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct x86_platform *p = opaque;

	(void)off;
	if (len == 1 && *(const uint8_t *)data == I8042_CMD_RESET)
		p->stop(p->ctx, EXIT_GUEST_RESET);
}

/* Data port 0x60: reads 0, writes (keyboard commands) dropped. */
const struct mmio_dev_ops x86_i8042_data_ops = {
	.read = i8042_read,
};

/* Command/status port 0x64. */
const struct mmio_dev_ops x86_i8042_cmd_ops = {
	.read = i8042_read,
	.write = i8042_cmd_write,
};

static void acpi_sleep_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	(void)opaque, (void)off;
	memset(data, 0, len); /* status: WAK_STS clear; control reads 0 */
}

static void acpi_sleep_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct x86_platform *p = opaque;
	uint8_t v = *(const uint8_t *)data;
	unsigned int typ = v >> ACPI_SLP_TYP_SHIFT & ACPI_SLP_TYP_MASK;

	/* Only the control register acts; writes to status (WAK_STS clearing) are no-ops. */
	if (off != 0 || len != 1 || !(v & ACPI_SLP_EN))
		return;
	if (typ == ACPI_S5_SLP_TYP)
		p->stop(p->ctx, EXIT_GUEST_POWEROFF);
	else
		pr_guest("ACPI sleep control: SLP_TYP %u (only S5, type %u, is supported): "
			 "ignored",
			 typ, ACPI_S5_SLP_TYP);
}

const struct mmio_dev_ops x86_acpi_sleep_ops = {
	.read = acpi_sleep_read,
	.write = acpi_sleep_write,
};

int x86_platform_register(struct mmio_bus *pio, struct x86_platform *p)
{
	const struct mmio_dev devs[] = {
		{ .name = "i8042",
		  .base = X86_I8042_DATA_PORT,
		  .size = 1,
		  .ops = &x86_i8042_data_ops,
		  .opaque = p },
		{ .name = "i8042",
		  .base = X86_I8042_CMD_PORT,
		  .size = 1,
		  .ops = &x86_i8042_cmd_ops,
		  .opaque = p },
		{ .name = "acpi-sleep",
		  .base = X86_ACPI_SLEEP_CONTROL_PORT,
		  .size = 2,
		  .ops = &x86_acpi_sleep_ops,
		  .opaque = p },
	};

	for (unsigned int i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		int err = bus_register(pio, &devs[i]);

		if (err)
			return err;
	}
	return 0;
}

bool x86_pio_access(const struct mmio_bus *pio, uint16_t port, uint8_t size, uint32_t count,
		    bool in, uint8_t *data, uint64_t data_len)
{
	if ((size != 1 && size != 2 && size != 4) || count == 0 ||
	    (uint64_t)count * size > data_len)
		return false;
	for (uint32_t i = 0; i < count; i++, data += size) {
		if (!bus_access(pio, port, data, size, !in) && in)
			memset(data, 0xff, size);
	}
	return true;
}
