/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The faults a virtio-blk disk injects on request (--disk ...,fault=), to
 * test what a driver does when its device misbehaves; between the command
 * line (vmm/cli.h) and the device (devices/blk.h).
 */
#ifndef ICEVMM_DEVICES_BLK_FAULT_H
#define ICEVMM_DEVICES_BLK_FAULT_H

/* Faults of the key commands: each fires once per run, on a PROGRAM command. */
enum blk_key_fault {
	BLK_FAULT_NONE,
	BLK_FAULT_LOSE_PROGRAM,	  /* the first PROGRAM is never completed */
	BLK_FAULT_BREAK_QUEUE,	  /* the first PROGRAM completes with a used id out of range */
	BLK_FAULT_FAIL_REPROGRAM, /* the first PROGRAM after the first reset that
				     follows a PROGRAM fails with IOERR */
};

#endif
