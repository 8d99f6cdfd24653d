// SPDX-License-Identifier: GPL-2.0
/*
 * The self-test proper: walk every virtio-mmio node of the device tree and
 * run the plan (plan.h) that fits each ICE disk, told apart by
 * VIRTIO_BLK_F_ICE_KEYQ:
 *
 * host-provisioned (keys file, no key queue): bring it up with exactly
 * VERSION_1 | VIRTIO_BLK_F_ICE, then batch by batch
 *
 *   W  write A, B, C encrypted (activate 1)          one QueueNotify
 *   R  read them back decrypted into other buffers   one QueueNotify
 *   X  read them raw (activate 0): ciphertext        one QueueNotify
 *   E  the malformed requests, all IOERR but one     one QueueNotify
 *   Z  read the malformed-write area raw: zeroes     one QueueNotify
 *
 * guest-programmed (the key queue): guest.c; v4 (the control queue): guest_v4.c.
 *
 * Each batch has its requests in flight together; each request is checked
 * for its status byte and used length, each buffer for its bytes (blkio.c).
 */
#include <stdbool.h>
#include <stdint.h>

#include "blkio.h"
#include "fdt.h"
#include "iceblk.h"
#include "mmu.h"
#include "plan.h"
#include "report.h"
#include "selftest.h"
#include "virtio.h"

#define RAM_BASE 0x80000000UL
#define MAPPED_END 0x100000000UL /* mmu.c maps RAM up to 4 GiB */
#define VIRTIO_MMIO_MIN_SIZE 0x200
#define MAX_DISKS 8 /* virtio-mmio nodes looked at */

#define REGION_ROW(n, i, s, d, u, sec, b, sp) { #n, i, s, d, u, sec, b, sp, 0, 0 },
static const struct region regions[] = { PLAN_REGIONS(REGION_ROW) };
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))
_Static_assert(NREGIONS <= BATCH_REGIONS, "one batch holds every region");

/* The index-th virtio-mmio node: 0, or FDT_ERR_NOTFOUND past the last. */
static int find_disk(uintptr_t fdt, unsigned int index, struct virtio_dev *d)
{
	struct fdt_reg reg;
	int err;

	err = fdt_find_compatible((const void *)fdt, "virtio,mmio", index, &reg);
	if (err == FDT_ERR_NOTFOUND && index > 0)
		return err;
	if (err) {
		check(false, "fdt at %lx: no virtio,mmio node %u with a reg (error %u)", fdt, index,
		      (unsigned int)-err);
		return err;
	}
	d->base = (uintptr_t)reg.base;
	if (!check(reg.base < RAM_BASE && reg.size >= VIRTIO_MMIO_MIN_SIZE,
		   "fdt: virtio,mmio node %u at %lx size %lx", index, reg.base, reg.size))
		return FDT_ERR_BADREG;
	return 0;
}

static void check_config(const struct virtio_dev *d, bool guest, uint64_t features)
{
	uint16_t want_info = guest ? PLAN_GUEST_SLOT_INFO : PLAN_SLOT_INFO;
	uint32_t want_cap = guest ? PLAN_GUEST_CAPABILITY : PLAN_CAPABILITY;
	uint16_t slot_info = virtio_config16(d, VIRTIO_BLK_CFG_SLOT_INFO);
	uint32_t cap = virtio_config32(d, VIRTIO_BLK_CFG_CAPABILITY);
	uint64_t capacity = virtio_config64(d, VIRTIO_BLK_CFG_CAPACITY);
	uint32_t blk_size = virtio_config32(d, VIRTIO_BLK_CFG_BLK_SIZE);
	uint32_t want_blk = guest ? PLAN_GUEST_BLK_SIZE : PLAN_KEYS_BLK_SIZE;

	check(slot_info == want_info, "config slot_info %x (want %x)", slot_info, want_info);
	check(cap == want_cap, "config capability %x (want %x)", cap, want_cap);
	check(capacity == PLAN_DISK_SECTORS, "config capacity %lu sectors (want %u)", capacity,
	      PLAN_DISK_SECTORS);
	/* docs/ICE.md: the logical block is the largest data unit, so no request splits one. */
	check((features >> VIRTIO_BLK_F_BLK_SIZE & 1) && blk_size == want_blk,
	      "config blk_size %u, VIRTIO_BLK_F_BLK_SIZE offered (want %u: the largest data unit)",
	      blk_size, want_blk);
}

static void fail_init(const struct virtio_dev *d)
{
	virtio_add_status(d, VIRTIO_STATUS_FAILED);
}

bool disk_init(const struct virtio_dev *d, bool guest)
{
	const uint64_t keyq = 1UL << VIRTIO_BLK_F_ICE_KEYQ;
	const uint64_t want = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_BLK_F_ICE |
			      (guest ? keyq : 0);
	unsigned int nq = guest ? 2 : 1;
	uint64_t features;
	const char *why;
	uint32_t status;

	if (!check(virtio_reset(d), "reset: Status reads back 0"))
		return false;
	virtio_add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER);
	features = virtio_device_features(d);
	/* The key queue only on a guest-programmed disk (docs/ICE.md). */
	if (!check((features & want) == want && (guest || !(features & keyq)),
		   "device features %lx offer VERSION_1 and ICE, %s ICE_KEYQ", features,
		   guest ? "and" : "not") ||
	    !check(virtio_negotiate(d, want), "FEATURES_OK kept for exactly VERSION_1|ICE%s",
		   guest ? "|ICE_KEYQ" : "")) {
		fail_init(d);
		return false;
	}
	why = vq_setup(d, &vq_req);
	if (!check(!why, "queue 0 (requests): %u entries, rings in BSS, ready%s%s", VQ_SIZE,
		   why ? ": " : "", why ? why : "")) {
		fail_init(d);
		return false;
	}
	if (guest) {
		why = vq_setup(d, &vq_key);
		if (!check(!why, "queue 1 (keys): %u entries, rings in BSS, ready%s%s", VQ_SIZE,
			   why ? ": " : "", why ? why : "")) {
			fail_init(d);
			return false;
		}
	}
	check(vq_num_max(d, nq) == 0, "no queue %u: QueueNumMax %u", nq, vq_num_max(d, nq));
	check_config(d, guest, features);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER_OK);
	status = virtio_read32(d, VIRTIO_MMIO_STATUS);
	return check(status == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK),
		     "DRIVER_OK: status %x", status);
}

/* The host-provisioned plan: keys.conf's slots, no key queue. */
static void host_plan(const struct virtio_dev *d)
{
	if (!disk_init(d, false))
		return;
	io_disk_begin(false);
	io_writes(d, regions, NREGIONS);
	io_reads(d, regions, NREGIONS);
	io_raw_reads(d, regions, NREGIONS);
	io_bad_requests(d);
	io_bad_area(d);
	virtio_reset(d); /* leave the device quiet */
}

void selftest_main(uintptr_t fdt)
{
	unsigned int i, host = 0, guest = 0, v4 = 0;

	check(mmu_is_on(), "MMU on, identity map, D and I caches on (SCTLR_EL1.M/C/I)");
	if (fdt < RAM_BASE || fdt >= MAPPED_END || fdt % 8) {
		check(false, "fdt address %lx outside mapped RAM", fdt);
		report_finish();
	}
	for (i = 0; i < MAX_DISKS; i++) {
		struct virtio_dev dev;
		uint32_t magic, version, id;
		uint64_t features;

		if (find_disk(fdt, i, &dev))
			break;
		magic = virtio_read32(&dev, VIRTIO_MMIO_MAGIC_VALUE);
		version = virtio_read32(&dev, VIRTIO_MMIO_VERSION);
		id = virtio_read32(&dev, VIRTIO_MMIO_DEVICE_ID);
		if (!check(magic == VIRTIO_MMIO_MAGIC && version == 2,
			   "virtio-mmio magic %x version %u device id %u", magic, version, id))
			continue;
		features = virtio_device_features(&dev);
		if (id != VIRTIO_ID_BLOCK || !(features >> VIRTIO_BLK_F_ICE & 1))
			continue; /* not an ICE disk: not ours to test */
		if (features >> VIRTIO_BLK_F_INLINE_ENCRYPTION & 1) { /* bit 22 is CTRL_VQ then */
			check(true, "disk %u: v4 (VIRTIO_BLK_F_INLINE_ENCRYPTION offered)", i);
			v4_plan(&dev);
			v4++;
		} else if (features >> VIRTIO_BLK_F_ICE_KEYQ & 1) {
			check(true, "disk %u: guest-programmed (VIRTIO_BLK_F_ICE_KEYQ offered)", i);
			guest_plan(&dev);
			guest++;
		} else {
			check(true, "disk %u: host-provisioned (no key queue)", i);
			host_plan(&dev);
			host++;
		}
	}
	check(host + guest + v4 > 0,
	      "ICE disks tested: %u host-provisioned, %u guest-programmed, %u v4", host, guest, v4);
	report_finish();
}
