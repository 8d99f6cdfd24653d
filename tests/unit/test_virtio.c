// SPDX-License-Identifier: GPL-2.0
/* virtio-mmio transport and split virtqueue, driven as a guest driver would. */
#include "guest.h"
#include "unit.h"

Suite *unit_suite(void)
{
	return suite_create("virtio");
}
