// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes become a guest's memory, the registers of
 * its two queues and a script of MMIO accesses and guest-RAM writes, then
 * QueueNotify. The virtio-mmio transport, the split virtqueue, virtio-blk and
 * its ICE key queue must survive all of it under ASan + UBSan, never touch
 * memory outside guest RAM, never hang.
 *
 * Input layout (little-endian; short inputs are zero-padded):
 *   0  le64 driver features       8  le16 queue 0 size    10 u8 flags
 *  11  u8  number of ops          12  le32 desc offset     16 le32 avail offset
 *  20  le32 used offset           24  le16 queue 1 size    26 le16 unused
 *  28  le32 queue 1 desc offset   32  le32 queue 1 avail   36 le32 queue 1 used
 *  40  ops: n x { u8 sel; u8 pad; le16 off; le32 value }
 *   …  the rest: guest RAM contents from guest-physical FUZZ_BASE
 * Ring "offsets" are relative to FUZZ_BASE unless flags bit 0 asks for raw
 * guest-physical addresses (so wrap-around and far-away addresses get tried).
 * The disk: plain; with flags bit 1 host-provisioned ICE (VIRTIO_BLK_F_ICE,
 * AES-256-XTS, slots 0-3 loaded from the harness with 512- and 4096-byte data
 * units); with flags bit 2 guest-programmed ICE (the default engine of
 * `--disk PATH,ice`: AES-256-XTS, 512-4096, 32 empty slots, guest_keys), which
 * has queue 1, the key queue (VIRTIO_BLK_F_ICE_KEYQ, docs/ICE.md); with flags
 * bit 3 a v4 ICE disk of that same engine (docs/ICE.md "The v4 format"), whose
 * queue 1 is the control queue (VIRTIO_BLK_F_CTRL_VQ) and whose request queue
 * takes CRYPTO_IN, CRYPTO_OUT and GET_CRYPTO_MODES (INLINE_ENCRYPTION).
 *
 * Which queue a chain goes to is the input's choice: the head it puts on
 * queue 0's or queue 1's available ring (the two may share descriptors,
 * rings, anything). The driver's initialisation sets up both queues, then
 * notifies queue 1 and queue 0 (so commands land before the requests that
 * use them); then the ops run, then both queues are notified again. An op's
 * sel: bits 0-1 the width (1 << n bytes); bits 7-6: 00 an MMIO read, 10 an
 * MMIO write (off % 0x200: resets, notifies of either queue, anything), 01 a
 * write of value's low bytes into guest RAM at off (more chains published
 * between notifies, as a driver does), 11 the initialisation sequence again
 * (after a reset).
 *
 * Every input starts from scratch: a fresh image (zero-filled, but for a
 * fixed pattern in its first and last 64 KiB), a freshly opened device and
 * transport, zeroed guest RAM, an empty guest-programmed store. Only the
 * stores' set-up lives across inputs, so every finding reproduces from its
 * input alone.
 *
 * Checked around every chain the device serves (the fake device wrapper hands
 * each chain to blk): it writes no byte of guest RAM outside the chain's
 * device-writable buffers; the used length and status agree (a status byte
 * of OK, IOERR or UNSUPP; anything but OK has used length 1; no status byte,
 * used length -1); a request that was not OK left the image byte-identical;
 * a request changes no keyslot. On the key queue: the image never changes;
 * the status is what docs/ICE.md's command table says for the command bytes
 * (checked here independently of devices/ice_keyq.c), and the slots changed
 * exactly as the command says (nothing for a refusal); the device's command
 * copy is wiped afterwards. On a v4 disk the same for the control queue,
 * against docs/ICE.md's v4 rules (shapes, features, header, key descriptor;
 * checked here independently of devices/ice_v4.c), and on its request queue
 * the status of every v4 request type follows from the contract too (an
 * unusable crypto message or slot is IOERR; key commands are UNSUPP there;
 * GET_CRYPTO_MODES answers the engine's data unit sizes). And whenever Status
 * reads 0, every guest slot is empty (a reset forgets the guest's keys).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../virtio/mmio.h"

#define FUZZ_BASE 0x40000000ULL
#define FUZZ_RAM (64 * 1024)
#define FUZZ_IMAGE (1 << 20)
#define FUZZ_HDR 40
#define FUZZ_OP 8
#define FUZZ_MAX_OPS 16
#define GP_SLOTS 32	/* the default engine of `--disk PATH,ice` */
#define GP_DU_MASK 0x0f /* 512-4096 */

#define REG_QUEUE_NOTIFY 0x050
#define REG_STATUS 0x070

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram, *ram_before;
static struct guest_mem mem;
static struct ice_store store; /* host-provisioned: loaded once, read-only to the device */
static struct ice_store gp;    /* guest-programmed: emptied for every input */
static bool store_ready;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct virtio_device checked; /* dev.vdev with its handle wrapped */
static struct virtio_device_ops checked_ops;
static uint8_t *shadow, *now; /* the image as of the last OK request; scratch */
static struct ice_store *cur; /* this input's store, or NULL */
static struct ice_key *slots_before[ICE_MAX_SLOTS];
static bool trace; /* FUZZ_BLK_TRACE=1: one line per chain served (to read a seed's path) */

static void no_irq(void *ctx, unsigned int irq, int level)
{
	(void)ctx, (void)irq, (void)level;
}

static void __attribute__((noreturn)) fail(const char *what, unsigned int q, long long v)
{
	fprintf(stderr, "fuzz_blk: queue %u: %s (%lld)\n", q, what, v);
	abort();
}

static void image_read(uint8_t *buf)
{
	if (pread(dev.disk.fd, buf, FUZZ_IMAGE, 0) != FUZZ_IMAGE)
		abort();
}

/* The image is as of the last OK request. */
static void image_unchanged(unsigned int q, uint8_t status)
{
	image_read(now);
	if (memcmp(shadow, now, FUZZ_IMAGE))
		fail("a chain that was not an OK request changed the image; status", q, status);
}

static bool in_writable(const struct virtq_chain *c, const uint8_t *p)
{
	for (unsigned int i = 0; i < c->nbufs; i++)
		if (c->bufs[i].device_writable && p >= c->bufs[i].host &&
		    p < c->bufs[i].host + c->bufs[i].len)
			return true;
	return false;
}

/* Guest RAM differs from ram_before only inside the chain's device-writable buffers. */
static void ram_only_writable(const struct virtq_chain *c, unsigned int q)
{
	if (!memcmp(ram, ram_before, FUZZ_RAM))
		return;
	for (size_t i = 0; i < FUZZ_RAM; i++)
		if (ram[i] != ram_before[i] && !in_writable(c, ram + i))
			fail("wrote guest RAM outside the chain's writable buffers, at offset", q,
			     (long long)i);
}

static void slots_save(void)
{
	if (cur)
		memcpy(slots_before, cur->slots, sizeof(slots_before));
}

/* Every slot but `except` (-1: none) holds what it held before the chain. */
static void slots_unchanged(unsigned int q, int except)
{
	if (!cur)
		return;
	for (int i = 0; i < ICE_MAX_SLOTS; i++)
		if (i != except && cur->slots[i] != slots_before[i])
			fail("a keyslot changed that the chain did not name: slot", q, i);
}

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * docs/ICE.md's command table, written from the document rather than from
 * devices/ice_keyq.c: the status a well-shaped command must get.
 */
static uint8_t keyq_expect(const uint8_t *cmd)
{
	uint32_t op = (uint32_t)cmd[0] | (uint32_t)cmd[1] << 8 | (uint32_t)cmd[2] << 16 |
		      (uint32_t)cmd[3] << 24;
	uint8_t slot = cmd[4], du_mask = cmd[5], key_len = cmd[6];
	const uint8_t *key = cmd + ICE_KEYQ_OFF_KEY;

	if (op < 1 || op > 3)
		return ICE_KEYQ_S_UNSUPP;
	if (!zero(cmd + 7, 9))
		return ICE_KEYQ_S_IOERR;
	if (op == ICE_KEYQ_OP_PROGRAM) {
		if (slot >= GP_SLOTS || __builtin_popcount(du_mask) != 1 ||
		    !(du_mask & GP_DU_MASK) || key_len != 64 || !memcmp(key, key + 32, 32))
			return ICE_KEYQ_S_IOERR;
		return ICE_KEYQ_S_OK;
	}
	if ((op == ICE_KEYQ_OP_EVICT && slot >= GP_SLOTS) ||
	    (op == ICE_KEYQ_OP_EVICT_ALL && slot) || du_mask || key_len || !zero(key, 64))
		return ICE_KEYQ_S_IOERR;
	return ICE_KEYQ_S_OK;
}

/* The command bytes as the guest wrote them (before the status byte, which may overlap). */
static bool keyq_gather(const struct virtq_chain *c, uint8_t *cmd)
{
	size_t n = 0;

	if (c->readable_len != ICE_KEYQ_CMD_SIZE || c->writable_len != 1 ||
	    !c->bufs[c->nbufs - 1].device_writable)
		return false;
	for (unsigned int i = 0; i + 1 < c->nbufs; i++) {
		if (c->bufs[i].device_writable)
			return false;
		memcpy(cmd + n, ram_before + (c->bufs[i].host - ram), c->bufs[i].len);
		n += c->bufs[i].len;
	}
	return n == ICE_KEYQ_CMD_SIZE;
}

static void check_keyq(const struct virtq_chain *c, uint64_t features, int64_t used)
{
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], status, want;
	bool shaped = keyq_gather(c, cmd);

	if (!zero(dev.keyq->cmd, ICE_KEYQ_CMD_SIZE))
		fail("the device's copy of the command was not wiped", 1, 0);
	image_unchanged(1, 0);
	if (used < 0) {
		if (last && last->device_writable)
			fail("no status, yet the last buffer is writable; used", 1, used);
		slots_unchanged(1, -1);
		return;
	}
	status = last->host[last->len - 1];
	if (used != 1)
		fail("used length of a key command", 1, used);
	if (!shaped) {
		if (status != ICE_KEYQ_S_IOERR)
			fail("a malformed key chain got status", 1, status);
		slots_unchanged(1, -1);
		return;
	}
	want = virtio_has_feature(features, VIRTIO_BLK_F_ICE_KEYQ) ? keyq_expect(cmd)
								   : ICE_KEYQ_S_IOERR;
	/* libgcrypt may refuse a key the table allows (weak keys): IOERR, nothing changed. */
	if (status != want &&
	    !(want == ICE_KEYQ_S_OK && cmd[0] == ICE_KEYQ_OP_PROGRAM && status == ICE_KEYQ_S_IOERR))
		fail("key command status differs from docs/ICE.md's table; status", 1, status);
	if (status != ICE_KEYQ_S_OK) {
		slots_unchanged(1, -1);
		return;
	}
	switch (cmd[0]) {
	case ICE_KEYQ_OP_PROGRAM:
		slots_unchanged(1, cmd[4]);
		if (gp.slots[cmd[4]] == slots_before[cmd[4]] ||
		    ice_slot_du(&gp, cmd[4]) != 512u << __builtin_ctz(cmd[5]))
			fail("PROGRAM OK but the slot does not hold the new key: slot", 1, cmd[4]);
		break;
	case ICE_KEYQ_OP_EVICT:
		slots_unchanged(1, cmd[4]);
		if (gp.slots[cmd[4]])
			fail("EVICT OK but the slot holds a key: slot", 1, cmd[4]);
		break;
	case ICE_KEYQ_OP_EVICT_ALL:
		for (int i = 0; i < GP_SLOTS; i++)
			if (gp.slots[i])
				fail("EVICT_ALL OK but a slot holds a key: slot", 1, i);
		break;
	}
}

/*
 * The first bytes of one side of the chain as the guest wrote them (readable:
 * from before the device ran; writable: as it left them), up to max; returns
 * how many bytes that side has in all.
 */
static uint64_t gather(const struct virtq_chain *c, bool writable, uint8_t *buf, size_t max)
{
	uint64_t total = 0;
	size_t n = 0, k;

	for (unsigned int i = 0; i < c->nbufs; i++) {
		if (c->bufs[i].device_writable != writable)
			continue;
		total += c->bufs[i].len;
		k = max - n < c->bufs[i].len ? max - n : c->bufs[i].len;
		memcpy(buf + n, writable ? c->bufs[i].host : ram_before + (c->bufs[i].host - ram),
		       k);
		n += k;
	}
	return total;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* GET_CRYPTO_MODES of the default engine: modes[1] = 512..4096 (bits 9-12). */
static const uint8_t v4_modes[8] = { 0, 0, 0, 0, 0x00, 0x1e, 0, 0 };

/* docs/ICE.md's v4 table: request and reply bytes of each control command. */
static bool v4_shape(uint32_t type, uint32_t *req, uint32_t *reply)
{
	static const struct {
		uint32_t type, req, reply;
	} t[] = { { 29, 0, 8 },	  { 30, 152, 0 },   { 31, 152, 0 },  { 32, 132, 32 },
		  { 33, 0, 132 }, { 34, 132, 132 }, { 35, 132, 132 } };

	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].type == type) {
			*req = t[i].req;
			*reply = t[i].reply;
			return true;
		}
	}
	return false;
}

/* The status of a well-shaped control command (header + request part in cmd). */
static uint8_t ctrl_expect(const uint8_t *cmd, uint64_t features)
{
	const uint8_t *kd = cmd + 16;
	uint32_t du_bits = le32(kd + 144), dun_bytes = le32(kd + 148);

	if (!virtio_has_feature(features, VIRTIO_BLK_F_CTRL_VQ))
		return VIRTIO_BLK_S_IOERR;
	if (!virtio_has_feature(features, VIRTIO_BLK_F_INLINE_ENCRYPTION))
		return VIRTIO_BLK_S_UNSUPP;
	if (!zero(cmd + 4, 12)) /* ioprio, sector */
		return VIRTIO_BLK_S_IOERR;
	switch (le32(cmd)) {
	case 29:
		return VIRTIO_BLK_S_OK;
	case 30: /* slot, mode AES-256-XTS, raw, 512..4096, dun_bytes 1..8, 64 bytes, halves */
		/*
		 * Key type 2 (hardware-wrapped) takes an ephemeral blob of this
		 * run's device, authenticated by AES-GCM: no fuzz input has one.
		 */
		if (le32(kd) >= GP_SLOTS || le32(kd + 136) != 1 || le32(kd + 140) != 1 ||
		    du_bits < 9 || du_bits > 12 || dun_bytes < 1 || dun_bytes > 8 ||
		    le32(kd + 132) != 64 || !zero(kd + 4 + 64, 64) || !memcmp(kd + 4, kd + 36, 32))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case 31:
		return le32(kd) < GP_SLOTS ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	case 33: /* GENERATE */
		return VIRTIO_BLK_S_OK;
	case 34: /* IMPORT: key_blob of a 32-byte raw key, zeros after it */
		return le32(kd) == 32 && zero(kd + 4 + 32, 96) ? VIRTIO_BLK_S_OK
							       : VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_IOERR; /* 32, 35: blobs of this run's device, which no input has */
}

static void check_ctrl(const struct virtq_chain *c, uint64_t features, int64_t used)
{
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	uint8_t cmd[ICE_V4_CTRL_BUF_SIZE] = { 0 }, reply[8], status, want;
	uint64_t rd = gather(c, false, cmd, sizeof(cmd)), wr;
	uint32_t type = le32(cmd), req, rep;
	const uint8_t *kd = cmd + 16;

	if (!zero(dev.ctrl->cmd, ICE_V4_CTRL_BUF_SIZE))
		fail("the device's copy of the command was not wiped", 1, 0);
	image_unchanged(1, 0);
	if (!last || !last->device_writable) {
		if (used >= 0)
			fail("no status byte, yet used", 1, used);
		slots_unchanged(1, -1);
		return;
	}
	wr = gather(c, true, reply, sizeof(reply));
	status = last->host[last->len - 1];
	if (rd < 16)
		want = VIRTIO_BLK_S_IOERR;
	else if (!v4_shape(type, &req, &rep))
		want = VIRTIO_BLK_S_UNSUPP;
	else if (rd != 16 + req || wr != rep + 1)
		want = VIRTIO_BLK_S_IOERR;
	else
		want = ctrl_expect(cmd, features);
	/* libgcrypt may refuse a key the rules allow (weak keys): IOERR, nothing changed. */
	if (status != want &&
	    !(want == VIRTIO_BLK_S_OK && type == 30 && status == VIRTIO_BLK_S_IOERR))
		fail("control command status differs from docs/ICE.md's v4 rules; status", 1,
		     status);
	if (used != (status != VIRTIO_BLK_S_OK ? 1 : type == 29 ? 9 : type >= 33 ? 133 : 1))
		fail("used length of a control command", 1, used);
	if (status != VIRTIO_BLK_S_OK) {
		slots_unchanged(1, -1);
		return;
	}
	switch (type) {
	case 29:
		slots_unchanged(1, -1);
		if (memcmp(reply, v4_modes, sizeof(reply)))
			fail("GET_CRYPTO_MODES answered other modes", 1, 0);
		break;
	case 30:
		slots_unchanged(1, (int)le32(kd));
		if (gp.slots[le32(kd)] == slots_before[le32(kd)] ||
		    ice_slot_du(&gp, le32(kd)) != 1u << le32(kd + 144))
			fail("PROGRAM OK but the slot does not hold the new key: slot", 1,
			     le32(kd));
		break;
	case 31:
		slots_unchanged(1, (int)le32(kd));
		if (gp.slots[le32(kd)])
			fail("EVICT OK but the slot holds a key: slot", 1, le32(kd));
		break;
	case 33:
	case 34: /* a long-term blob of docs/ICE.md's format: size 62, version 1, kind 1 */
		slots_unchanged(1, -1);
		if (le32(reply) != 62 || reply[4] != 1 || reply[5] != 1)
			fail("GENERATE / IMPORT answered no long-term blob", 1, le32(reply));
		break;
	}
}

/*
 * A v4 request type on a v4 disk's request queue: the status the contract
 * gives, where it follows from the request alone (a CRYPTO_IN or CRYPTO_OUT
 * that passes these checks may still fail on its length or range).
 */
static void check_v4_request(const struct virtq_chain *c, uint64_t features, uint8_t status,
			     int64_t used)
{
	uint8_t hdr[56] = { 0 }, reply[8];
	uint64_t rd = gather(c, false, hdr, sizeof(hdr)), wr = gather(c, true, reply, 8);
	uint32_t type = le32(hdr), slot = le32(hdr + 16);
	bool crypto = type == 27 || type == 28;
	uint8_t want = 0xff; /* not decided by the request alone */

	if (rd < 16 || type < 27 || type > 35)
		return;
	if (!virtio_has_feature(features, VIRTIO_BLK_F_INLINE_ENCRYPTION) || type >= 30)
		want = VIRTIO_BLK_S_UNSUPP;
	else if (type == 29)
		want = rd == 16 && wr == 9 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	else if (crypto && (rd < 56 || !zero(hdr + 20, 4) || !zero(hdr + 32, 24) ||
			    slot >= GP_SLOTS || !slots_before[slot]))
		want = VIRTIO_BLK_S_IOERR;
	if (want != 0xff && status != want)
		fail("v4 request status differs from docs/ICE.md's v4 rules; status", 0, status);
	if (type == 29 && status == VIRTIO_BLK_S_OK && (used != 9 || memcmp(reply, v4_modes, 8)))
		fail("GET_CRYPTO_MODES on the request queue: used", 0, used);
	if (crypto && status == VIRTIO_BLK_S_OK &&
	    (type == 27 ? rd - 56 : wr - 1) % ice_slot_du(&gp, slot))
		fail("a CRYPTO request of part of a data unit was served; slot", 0, slot);
}

static void check_request(const struct virtq_chain *c, uint64_t features, int64_t used)
{
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	uint8_t status;

	slots_unchanged(0, -1);
	if (used < 0) {
		if (last && last->device_writable)
			fail("no status, yet the last buffer is writable; used", 0, used);
		image_unchanged(0, 0xff);
		return;
	}
	status = last->host[last->len - 1];
	if (status > VIRTIO_BLK_S_UNSUPP)
		fail("status byte", 0, status);
	if (used < 1 || used > c->writable_len)
		fail("used length outside 1..writable bytes", 0, used);
	if (status == VIRTIO_BLK_S_OK)
		image_read(shadow); /* failed requests must not change it: one read suffices */
	else if (used != 1)
		fail("a failed request with used length", 0, used);
	else
		image_unchanged(0, status);
	if (dev.ctrl)
		check_v4_request(c, features, status, used);
}

/* blk's handle, checked: nothing runs meanwhile, so guest RAM and the store are ours to read. */
static int64_t checked_handle(void *d, unsigned int q, const struct virtq_chain *c,
			      uint64_t features)
{
	int64_t used;

	memcpy(ram_before, ram, FUZZ_RAM);
	slots_save();
	used = dev.vdev.ops->handle(d, q, c, features);
	ram_only_writable(c, q);
	if (trace)
		fprintf(stderr, "fuzz_blk: queue %u head %u: used %lld status %d\n", q, c->head,
			(long long)used,
			used > 0 ? c->bufs[c->nbufs - 1].host[c->bufs[c->nbufs - 1].len - 1] : -1);
	if (q == BLK_CTRL_QUEUE && dev.ctrl)
		check_ctrl(c, features, used);
	else if (q == BLK_KEY_QUEUE)
		check_keyq(c, features, used);
	else
		check_request(c, features, used);
	return used;
}

/* A malformed chain: the error status in its last writable byte, nothing else. */
static uint32_t checked_fail(void *d, unsigned int q, const struct virtq_chain *c)
{
	uint32_t used;

	memcpy(ram_before, ram, FUZZ_RAM);
	slots_save();
	used = dev.vdev.ops->fail(d, q, c);
	ram_only_writable(c, q);
	slots_unchanged(q, -1);
	if (trace)
		fprintf(stderr, "fuzz_blk: queue %u: malformed chain\n", q);
	if (used != 1 || c->bufs[0].host[c->bufs[0].len - 1] != VIRTIO_BLK_S_IOERR)
		fail("a malformed chain completed with used length", q, used);
	image_unchanged(q, VIRTIO_BLK_S_IOERR);
	return used;
}

static void fuzz_setup(void)
{
	uint8_t key[64];
	const char *why;

	ram = calloc(1, FUZZ_RAM);
	ram_before = malloc(FUZZ_RAM);
	shadow = malloc(FUZZ_IMAGE);
	now = malloc(FUZZ_IMAGE);
	if (!ram || !ram_before || !shadow || !now ||
	    ice_global_init(ice_secmem_size(8 + ice_secmem_keys(GP_SLOTS, 1) + 1)) ||
	    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 0x9 /* 512, 4096 */, 8, 0) ||
	    ice_store_init(&gp, ICE_ALG_AES_XTS, ICE_KEY_256, GP_DU_MASK, GP_SLOTS, 0))
		abort();
	gp.guest_keys = true;
	/* A keys file's wrapping key for v4 disks: no start-up line per input. */
	gp.wrapping_key = ice_secure_alloc(32);
	if (!gp.wrapping_key)
		abort();
	memset(gp.wrapping_key, 0x5a, 32);
	trace = getenv("FUZZ_BLK_TRACE") && !strcmp(getenv("FUZZ_BLK_TRACE"), "1");
	mem = (struct guest_mem){ .host = ram, .gpa_base = FUZZ_BASE, .size = FUZZ_RAM };
	for (unsigned int i = 0; i < 4; i++) {
		for (unsigned int j = 0; j < sizeof(key); j++)
			key[j] = (uint8_t)(i * 64 + j);
		if (ice_slot_load(&store, i, key, sizeof(key), i & 1 ? 4096 : 512, &why))
			abort();
	}
	store_ready = true;
}

/* A fresh image, device and transport for this input. */
static void open_disk(struct ice_store *ice, enum blk_ice_spec spec)
{
	struct irq_line irq = { .set_level = no_irq };
	char path[] = "/dev/shm/icevmm-fuzz-XXXXXX";
	int fd = mkstemp(path);
	uint8_t pattern[64 * 1024];

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + i / 512);
	if (fd < 0 || ftruncate(fd, FUZZ_IMAGE) < 0 ||
	    pwrite(fd, pattern, sizeof(pattern), 0) != sizeof(pattern) ||
	    pwrite(fd, pattern, sizeof(pattern), FUZZ_IMAGE - sizeof(pattern)) != sizeof(pattern))
		abort();
	close(fd);
	memset(shadow, 0, FUZZ_IMAGE);
	memcpy(shadow, pattern, sizeof(pattern));
	memcpy(shadow + FUZZ_IMAGE - sizeof(pattern), pattern, sizeof(pattern));
	if (blk_open(&dev, &(struct blk_opts){
				   .path = path, .serial = "fuzz", .ice = ice, .spec = spec }) < 0)
		abort();
	unlink(path); /* the open fd keeps it alive */
	checked_ops = *dev.vdev.ops;
	checked_ops.handle = checked_handle;
	checked_ops.fail = checked_fail;
	checked = dev.vdev;
	checked.ops = &checked_ops;
	virtio_mmio_init(&transport, &checked, &mem, &irq, NULL);
}

static uint64_t get(const uint8_t *in, size_t size, size_t off, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | (off + (size_t)i < size ? in[off + (size_t)i] : 0);
	return v;
}

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&transport, off, &v, 4);
}

/* A reset forgets the guest's keys: while Status reads 0, no guest slot holds one. */
static void check_reset(void)
{
	uint32_t status = 0;

	if (cur != &gp)
		return;
	virtio_mmio_read(&transport, REG_STATUS, &status, 4);
	for (int i = 0; !status && i < GP_SLOTS; i++)
		if (gp.slots[i])
			fail("Status is 0 but a guest slot holds a key: slot", 1, i);
}

struct fuzz_queue {
	uint32_t num;
	uint64_t ring[3]; /* desc, avail, used */
};

static void queue_setup(unsigned int q, const struct fuzz_queue *fq)
{
	wr32(0x030, q);
	wr32(0x038, fq->num);
	wr32(0x080, (uint32_t)fq->ring[0]);
	wr32(0x084, (uint32_t)(fq->ring[0] >> 32));
	wr32(0x090, (uint32_t)fq->ring[1]);
	wr32(0x094, (uint32_t)(fq->ring[1] >> 32));
	wr32(0x0a0, (uint32_t)fq->ring[2]);
	wr32(0x0a4, (uint32_t)(fq->ring[2] >> 32));
	wr32(0x044, 1);
}

/* The driver's initialisation sequence (virtio 1.2, 3.1.1) with fuzzed values. */
static void driver_init(uint64_t features, const struct fuzz_queue *qs)
{
	wr32(REG_STATUS, 0);
	check_reset();
	wr32(REG_STATUS, 3);
	wr32(0x024, 0);
	wr32(0x020, (uint32_t)features);
	wr32(0x024, 1);
	wr32(0x020, (uint32_t)(features >> 32));
	wr32(REG_STATUS, 11);
	queue_setup(0, &qs[0]);
	queue_setup(1, &qs[1]);
	wr32(REG_STATUS, 15);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = get(data, size, 0, 8);
	uint8_t flags = (uint8_t)get(data, size, 10, 1);
	unsigned int nops = (unsigned int)get(data, size, 11, 1) % (FUZZ_MAX_OPS + 1);
	struct fuzz_queue qs[2];
	size_t payload = FUZZ_HDR + (size_t)nops * FUZZ_OP;
	unsigned int i, q;

	if (!store_ready)
		fuzz_setup();
	cur = (flags & 12) ? &gp : (flags & 2) ? &store : NULL;
	ice_store_evict_all(&gp);
	open_disk(cur, (flags & 8) ? BLK_ICE_V4 : BLK_ICE_V2);
	qs[0].num = (uint32_t)get(data, size, 8, 2);
	qs[1].num = (uint32_t)get(data, size, 24, 2);
	for (q = 0; q < 2; q++) {
		for (i = 0; i < 3; i++) {
			uint64_t off = get(data, size, (q ? 28 : 12) + 4 * i, 4);

			qs[q].ring[i] = (flags & 1) ? off | (off << 32) : FUZZ_BASE + off;
		}
	}
	memset(ram, 0, FUZZ_RAM);
	if (size > payload)
		memcpy(ram, data + payload, size - payload < FUZZ_RAM ? size - payload : FUZZ_RAM);

	driver_init(features, qs);
	wr32(REG_QUEUE_NOTIFY, 1);
	wr32(REG_QUEUE_NOTIFY, 0);

	/* Then whatever the input asks for: register accesses of any width, RAM writes. */
	for (i = 0; i < nops; i++) {
		size_t o = FUZZ_HDR + (size_t)i * FUZZ_OP;
		uint8_t sel = (uint8_t)get(data, size, o, 1);
		uint32_t width = 1U << (sel & 3);
		uint64_t off = get(data, size, o + 2, 2);
		uint64_t val = get(data, size, o + 4, 4);

		switch (sel & 0xc0) {
		case 0x00:
			virtio_mmio_read(&transport, off % 0x200, &val, width);
			break;
		case 0x80:
			virtio_mmio_write(&transport, off % 0x200, &val, width);
			break;
		case 0x40: /* guest RAM; 8 bytes: value zero-extended */
			off %= FUZZ_RAM - 7;
			memcpy(ram + off, &val, width); /* little-endian host (x86_64, arm64) */
			break;
		case 0xc0:
			driver_init(features, qs);
			break;
		}
		check_reset();
	}
	wr32(REG_QUEUE_NOTIFY, 1);
	wr32(REG_QUEUE_NOTIFY, 0);
	check_reset();
	blk_close(&dev);
	return 0;
}
