/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ICE_SELFTEST_SELFTEST_H
#define ICE_SELFTEST_SELFTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

/* Entered from start.S with the MMU on; x0 = the FDT address. Never returns. */
void selftest_main(uintptr_t fdt) __attribute__((noreturn));

/*
 * Reset the disk and bring it up (virtio 1.2 3.1.1, 4.2.3) with exactly
 * VERSION_1 | ICE, plus ICE_KEYQ and the key queue when guest: checks the
 * offered features, FEATURES_OK, the queues and config space against plan.h.
 */
bool disk_init(const struct virtio_dev *d, bool guest);

/* The guest-programmed plan (guest.c) on a disk that offers VIRTIO_BLK_F_ICE_KEYQ. */
void guest_plan(const struct virtio_dev *d);
/* plan.h's PLAN_GUEST_KEYS as bytes (guest.c): parsed and checked once; key id's bytes. */
bool guest_keys_ready(void);
const uint8_t *guest_key(unsigned int id);

/* The v4 plan (guest_v4.c) on a disk that offers VIRTIO_BLK_F_INLINE_ENCRYPTION. */
void v4_plan(const struct virtio_dev *d);

#endif
