// SPDX-License-Identifier: GPL-2.0
/* The part of a device's ACPI Device() object that every device writes the same way. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aml.h"
#include "bus.h"

int acpi_begin_device(const struct acpi_ctx *ctx, const struct mmio_dev *dev, const char *prefix,
		      const char *hid)
{
	struct aml *a = ctx->aml;
	char name[5];

	if (strlen(prefix) != 2 || ctx->index > 0xff || (strlen(hid) != 7 && strlen(hid) != 8)) {
		aml_fail(a, -EINVAL);
		return aml_error(a);
	}
	snprintf(name, sizeof(name), "%s%02X", prefix, ctx->index);
	aml_device_begin(a, name);
	/*
	 * _HID (6.1.5): an EISA ID as an integer or an ACPI ID as a string; 6.1.12
	 * _UID tells apart devices of one _HID.
	 */
	aml_name(a, "_HID");
	if (strlen(hid) == 7)
		aml_eisaid(a, hid);
	else
		aml_string(a, hid);
	aml_name(a, "_UID");
	aml_int(a, ctx->index);
	ctx->add_crs(ctx, dev);
	return aml_error(a);
}
