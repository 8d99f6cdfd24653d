/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk (virtio 1.2, section 5.2) on a raw image file. Transport-agnostic:
 * the device is a struct virtio_device (virtio/device.h) that a transport
 * (virtio/mmio.h) carries; blk sees validated chains and negotiated features,
 * never registers. The caller composes the two (vmm/main.c).
 */
#ifndef ICEVMM_BLK_H
#define ICEVMM_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../virtio/device.h"
#include "../virtio/virtq.h"
#include "blk_fault.h"
#include "disk.h"
#include "ice.h"
#include "ice_keyq.h"
#include "ice_v4.h"

#define VIRTIO_ID_BLOCK 2

/* Request types (5.2.6) */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12 /* offered only by fault=many-queues */
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_ICE 22 /* inline encryption, docs/ICE.md */
/* VIRTIO_BLK_F_ICE_KEYQ (63), the guest programs its keys: devices/ice_keyq.h */

/*
 * Queues: one request queue (no VIRTIO_BLK_F_MQ), then the queue that takes
 * key commands: v2's ICE key queue, or v4's control queue.
 * fault=many-queues claims VIRTIO_BLK_F_MQ with BLK_MANY_QUEUES request
 * queues that are not there (a hostile device, for testing what a driver
 * allocates): the transport still has only these.
 */
#define BLK_MANY_QUEUES 65535
#define BLK_REQUEST_QUEUE 0
/*
 * Requests a disk serves at once, each of which may pin a key its slot no
 * longer holds: one request queue, whose chains the transport serves one at
 * a time (virtio/mmio.c). The ICE disks' secure pool is sized with it
 * (ice_keys_pool_keys()); a device with more request queues must say so here.
 */
#define BLK_KEY_PINNERS 1
#define BLK_KEY_QUEUE 1
#define BLK_CTRL_QUEUE 1

#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_CONFIG_SIZE 0x60	/* struct virtio_blk_config up to and incl. zoned */
#define VIRTIO_BLK_CONFIG_SIZE_ICE 0x68 /* ... plus the crypto fields at 0x60 */

/*
 * ICE data moves through a bounce buffer of this size, one per vCPU thread,
 * in chunks of whole data units (the largest unit is 64 KiB).
 */
#define BLK_ICE_BOUNCE (128 * 1024)

/*
 * What we tell the driver in config space. seg_max data segments plus header
 * and status are VIRTQ_MAX_CHAIN descriptors: the longest chain the queue
 * layer accepts (virtio/virtq.h), which a driver can send on a queue of any
 * size through an indirect table. (Without indirect descriptors a driver keeps
 * a chain within its queue size, 2.7.5.3.1.) SIZE_MAX is a hint: each buffer
 * is checked on its own.
 */
#define BLK_SEG_MAX (VIRTQ_MAX_CHAIN - 2) /* header and status take two descriptors */
#define BLK_SIZE_MAX (1U << 20)
#define BLK_MAX_DISCARD_SECTORS 0x400000U /* 2 GiB per segment */
#define BLK_MAX_DISCARD_SEG 16
#define BLK_DISCARD_ALIGN_SECTORS 8 /* 4 KiB: what a hole in the image can be */

/*
 * The draft an ICE disk speaks (docs/ICE.md): one per disk, since bit 22 is
 * VIRTIO_BLK_F_ICE in v2 and VIRTIO_BLK_F_CTRL_VQ in v4.
 */
enum blk_ice_spec {
	BLK_ICE_V2 = 0, /* VIRTIO_BLK_F_ICE: 32-byte headers; keys file or key queue */
	BLK_ICE_V4 = 4, /* CTRL_VQ + INLINE_ENCRYPTION: keys on the control queue */
};

struct blk_opts {
	const char *path;
	bool ro;
	const char *serial;	      /* up to 20 bytes; NULL: empty */
	struct ice_store *ice;	      /* keyslots: an ICE disk; NULL: a plain disk */
	enum blk_ice_spec spec;	      /* with ice */
	uint32_t block_size;	      /* 512 to 4096; 0: 512, or an ICE disk's largest data unit */
	enum blk_key_fault key_fault; /* fault injection into key commands */
	bool many_queues;	      /* claim BLK_MANY_QUEUES request queues (fault injection) */
};

/*
 * The ICE key queue of a guest-programmed disk (devices/blk_keyq.c). Served
 * on its own queue, under the transport's lock for that queue: a command
 * never waits for request I/O, and the store's own locks (devices/ice.h)
 * make a change atomic for the requests in flight.
 */
struct blk_keyq {
	struct ice_keyq_caps caps; /* from the config-space words */
	uint8_t *cmd;		   /* ICE_KEYQ_CMD_SIZE bytes in locked memory */
	atomic_ulong programs;	   /* PROGRAMs done, and EVICT / EVICT_ALL accepted (an */
	atomic_ulong evicts;	   /* empty slot too): for tests and the summary */
};

/*
 * The control queue of a v4 ICE disk (devices/blk_ctrl.c): key commands and
 * GET_CRYPTO_MODES, served like v2's key queue (its own queue lock, never
 * waiting for request I/O).
 */
struct blk_ctrl {
	struct ice_v4_caps caps; /* what config space and GET_CRYPTO_MODES say */
	uint8_t *cmd;		 /* ICE_V4_CTRL_BUF_SIZE bytes in locked memory */
	struct blk_hwkey *hw;	 /* wrapping keys and scratch (blk_hwkey.c), locked */
	atomic_ulong programs;	 /* PROGRAMs done, EVICTs accepted (an empty */
	atomic_ulong evicts;	 /* slot too): for tests and the summary */
	/* Wrapped-key commands done: DERIVE_SW_SECRET, GENERATE, IMPORT, PREPARE */
	atomic_ulong wrapped_cmds[4];
};

/* The crypto part of a request: the slot whose key it pins and its first DUN. */
struct blk_crypto {
	unsigned int slot;
	uint64_t dun;
};

struct blk_dev {
	/* The image, and its sticky flush error: a device reset never touches it. */
	struct disk disk;
	uint64_t capacity; /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES];
	struct ice_store *ice;
	struct blk_keyq *keyq; /* guest-programmed v2 ICE disks only, else NULL */
	struct blk_ctrl *ctrl; /* v4 ICE disks only, else NULL */
	uint32_t block_size;   /* blk_opts' */
	bool many_queues;      /* blk_opts' */
	/*
	 * blk_opts' key_fault, and whether it fires on the next PROGRAM on the
	 * key or control queue (blk_program_fault()): armed at start-up, or for
	 * fail-reprogram by the first reset after a PROGRAM (fault_spent); once.
	 */
	enum blk_key_fault key_fault;
	atomic_bool fault_armed, fault_spent;
	/*
	 * For the summary at exit (blk_ice_summary()): data units through the
	 * engine, and encrypted requests refused (an empty or unknown slot, not
	 * whole data units, a DUN past 2^64 - 1, a bad crypto message, I/O error)
	 */
	atomic_ulong du_encrypted, du_decrypted, ice_refused;
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE_ICE];
	struct virtio_device vdev; /* what a transport needs: features, config, ops */
	/*
	 * Scratch for the request being processed: request-queue only (the
	 * transport serves one chain of a queue at a time; key- and control-queue
	 * chains never reach it, blk_handle_chain() routes them away first).
	 */
	struct iovec iov[VIRTQ_MAX_CHAIN];
};

/*
 * Opens and locks the image and fills b->vdev; prints "disk PATH: reason"
 * and returns -1 on error.
 */
int blk_open(struct blk_dev *b, const struct blk_opts *o);
void blk_close(struct blk_dev *b);
/*
 * An ICE disk's one-line account, printed when icevmm ends: data units
 * encrypted and decrypted, encrypted requests refused, and the key commands a
 * guest-programmed disk took.
 * Nothing for a plain disk.
 */
void blk_ice_summary(struct blk_dev *b, const char *path);

/*
 * Between blk.c and blk_keyq.c / blk_ctrl.c: the fault to inject into this
 * PROGRAM (BLK_FAULT_NONE but once per run; the caller fails a
 * fail-reprogram with IOERR), and what a fault makes of its chain:
 * VIRTIO_CHAIN_KEPT, VIRTIO_CHAIN_BAD_ID, or 0 to complete it as usual.
 */
enum blk_key_fault blk_program_fault(struct blk_dev *b);
int64_t blk_fault_chain(enum blk_key_fault f);

/* Between blk.c and blk_keyq.c */
int blk_keyq_open(struct blk_dev *b); /* 0, or -1 printed */
void blk_keyq_close(struct blk_dev *b);
int64_t blk_keyq_handle(struct blk_dev *b, const struct virtq_chain *c, uint64_t features);

/* Between blk.c and blk_ctrl.c */
/* Between blk_ctrl.c and blk_hwkey.c: hardware-wrapped keys */
int blk_hwkey_open(struct blk_ctrl *cq, const struct ice_store *s, const char *path);
void blk_hwkey_close(struct blk_ctrl *cq);
/*
 * IMPORT, GENERATE, PREPARE or DERIVE_SW_SECRET, parsed: its status (the
 * reply written, *used set), or -1 for a chain a reset took back.
 */
int blk_hwkey_command(struct blk_dev *b, const struct ice_v4_cmd *cmd, const struct virtq_chain *c,
		      int64_t *used);
/*
 * The inline-encryption key of an ephemerally-wrapped blob (PROGRAM, key
 * type 2), in locked scratch until blk_hwkey_done(); NULL if the blob does
 * not unwrap (or, once in 2^256, its XTS halves are equal).
 */
const uint8_t *blk_hwkey_inline_key(struct blk_ctrl *cq, const uint8_t *blob, size_t len);
void blk_hwkey_done(struct blk_ctrl *cq);

int blk_ctrl_open(struct blk_dev *b, const char *path); /* 0, or -1 printed */
void blk_ctrl_close(struct blk_dev *b);
int64_t blk_ctrl_handle(struct blk_dev *b, const struct virtq_chain *c, uint64_t features);
/*
 * A v4 request type (27 to 35) on the request queue that blk.c does not
 * serve itself (it parses CRYPTO_IN and CRYPTO_OUT inline, the hot path):
 * GET_CRYPTO_MODES, the key commands (UNSUPP there), and any of them
 * without INLINE_ENCRYPTION negotiated (UNSUPP). Returns the status; *used
 * is set when it is not 1.
 */
#define BLK_V4_HDR_SIZE (ICE_V4_OUTHDR_SIZE + ICE_V4_CRYPTO_MSG_SIZE)
uint8_t blk_v4_request(struct blk_dev *b, const struct virtq_chain *c, uint64_t features,
		       uint32_t type, int64_t *used);

#endif
