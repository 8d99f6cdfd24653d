// SPDX-License-Identifier: GPL-2.0
/* The ICE engine, keys files, and VIRTIO_BLK_F_ICE requests through virtio-blk. */
#include "../../devices/blk.h"
#include "guest.h"
#include "unit.h"

Suite *unit_suite(void)
{
	return suite_create("ice");
}
