// SPDX-License-Identifier: GPL-2.0
/* virtio-blk requests through the transport, against a real image file. */
#include "../../devices/blk.h"
#include "guest.h"
#include "unit.h"

Suite *unit_suite(void)
{
	return suite_create("blk");
}
