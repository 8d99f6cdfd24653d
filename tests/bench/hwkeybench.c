// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of a v4 disk's hardware-wrapped key commands (docs/ICE.md,
 * "Hardware-wrapped keys"), each beside its floor: the libgcrypt operations
 * the command cannot avoid, written here directly against libgcrypt, in the
 * same process and the same round.
 *
 *   IMPORT            wrap: a nonce, AES-256-GCM over the 32-byte key (a
 *                     secure handle: open, setkey, setiv, AAD, encrypt, tag)
 *   PREPARE           unwrap (GCM decrypt, check the tag), then wrap
 *   DERIVE_SW_SECRET  unwrap, then the KDF's 2 CMAC blocks
 *   PROGRAM (wrapped) unwrap, the KDF's 4 CMAC blocks, and the slot's
 *                     AES-256-XTS handle keyed (the replaced one closed)
 *
 * Commands go through the transport's QueueNotify entry point as a vCPU exit
 * delivers them (fake guest memory, tests/unit/guest.c): the command, its
 * reply and status in one chain on the control queue, as Linux's driver
 * sends them. Each row is the median of ROUNDS rounds, device and floor back
 * to back in each. Output: one JSON object per line, as devbench's:
 *   {"name": ..., "value": us/command, "unit": "us/command",
 *    "reference": floor us/command, "ratio": value / reference}
 */
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../devices/ice_hwkey.h"
#include "../unit/guest.h"

#define ROUNDS 7
#define COMMANDS 4096 /* per round */
#define QSIZE 16
#define NSLOTS 32
#define F_V4                                                                                       \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_CTRL_VQ) |                           \
	 (1ULL << VIRTIO_BLK_F_INLINE_ENCRYPTION))
#define R_QUEUE_NOTIFY 0x050

static struct test_guest g, cq;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct ice_store store;
static char img[TG_PATH_MAX];
static uint64_t cmd_gpa, reply_gpa, status_gpa;
/* A long-term and an ephemeral blob of the device's, and the raw key */
static uint8_t lt_blob[ICE_HWKEY_BLOB_SIZE], eph_blob[ICE_HWKEY_BLOB_SIZE];
static uint8_t raw[ICE_HWKEY_RAW_SIZE];
/* The floor's own wrapping key and blob (the same sizes as the device's) */
static uint8_t floor_wkey[32], floor_blob[ICE_HWKEY_BLOB_SIZE];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void die(const char *what)
{
	fprintf(stderr, "hwkeybench: %s\n", what);
	exit(1);
}

/*
 * Write one control-queue command into the command buffer, as the driver
 * builds it: type, then key (key_len bytes) in a key_blob (IMPORT, PREPARE,
 * DERIVE_SW_SECRET) or a key_desc (PROGRAM of slot).
 */
static void build(uint32_t type, const uint8_t *key, uint32_t key_len, uint32_t slot)
{
	uint8_t *c = tg_ptr(&g, cmd_gpa), *kd = c + ICE_V4_OUTHDR_SIZE;

	memset(c, 0, ICE_V4_CTRL_BUF_SIZE);
	put32(c, type);
	if (type == VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM) {
		put32(kd + ICE_V4_KD_SLOT, slot);
		memcpy(kd + ICE_V4_KD_BYTES, key, key_len);
		put32(kd + ICE_V4_KD_KEY_SIZE, key_len);
		put32(kd + ICE_V4_KD_CRYPTO_MODE, ICE_V4_MODE_AES_256_XTS);
		put32(kd + ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_HW_WRAPPED);
		put32(kd + ICE_V4_KD_DU_BITS, 12);
		put32(kd + ICE_V4_KD_DUN_BYTES, 8);
	} else {
		put32(kd + ICE_V4_KB_KEY_SIZE, key_len);
		memcpy(kd + ICE_V4_KB_KEY, key, key_len);
	}
}

/*
 * Send the command in the buffer (build()) as a chain on the control queue,
 * with its reply (none for PROGRAM) and status, and take it back from the
 * used ring; the reply into out if out. Exits unless it is OK. The timed
 * loops build a command once and send it again and again: the device copies
 * it out and never writes it, so the rounds time the device, not the
 * driver's building.
 */
static void send(uint32_t type, uint8_t *out)
{
	uint8_t *status = tg_ptr(&g, status_gpa);
	uint32_t req, reply, id, len;
	struct tg_buf bufs[3];
	unsigned int n = 0;

	if (!ice_v4_ctrl_shape(type, &req, &reply))
		die("a command the device does not know");
	*status = 0xff;
	bufs[n++] = (struct tg_buf){ cmd_gpa, ICE_V4_OUTHDR_SIZE + req, false };
	if (reply)
		bufs[n++] = (struct tg_buf){ reply_gpa, reply, true };
	bufs[n++] = (struct tg_buf){ status_gpa, 1, true };
	tg_add(&cq, bufs, n);
	tg_write32(&transport, R_QUEUE_NOTIFY, BLK_CTRL_QUEUE);
	if (!tg_get_used(&cq, &id, &len) || *status != ICE_V4_S_OK)
		die("a command failed");
	if (out)
		memcpy(out, tg_ptr(&g, reply_gpa), reply);
}

/* ---- the device ---- */

static double import_device(void)
{
	double t0;

	build(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, raw, sizeof(raw), 0);
	t0 = now_us();
	for (unsigned int i = 0; i < COMMANDS; i++)
		send(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, NULL);
	return (now_us() - t0) / COMMANDS;
}

static double prepare_device(void)
{
	double t0;

	build(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, lt_blob, sizeof(lt_blob), 0);
	t0 = now_us();
	for (unsigned int i = 0; i < COMMANDS; i++)
		send(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, NULL);
	return (now_us() - t0) / COMMANDS;
}

static double derive_device(void)
{
	double t0;

	build(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, eph_blob, sizeof(eph_blob), 0);
	t0 = now_us();
	for (unsigned int i = 0; i < COMMANDS; i++)
		send(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, NULL);
	return (now_us() - t0) / COMMANDS;
}

/* Slot after slot, each PROGRAM replacing the key a round before loaded. */
static double program_device(void)
{
	uint8_t *slot = (uint8_t *)tg_ptr(&g, cmd_gpa) + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_SLOT;
	double t0;

	build(VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, eph_blob, sizeof(eph_blob), 0);
	t0 = now_us();
	for (unsigned int i = 0; i < COMMANDS; i++) {
		put32(slot, i % NSLOTS);
		send(VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, NULL);
	}
	return (now_us() - t0) / COMMANDS;
}

/* ---- the floors: libgcrypt alone ---- */

static const char aad[] = "icevmm hw-wrapped key";

static gcry_cipher_hd_t gcm(const uint8_t *nonce)
{
	gcry_cipher_hd_t h;

	if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE) ||
	    gcry_cipher_setkey(h, floor_wkey, sizeof(floor_wkey)) ||
	    gcry_cipher_setiv(h, nonce, 12) || gcry_cipher_authenticate(h, aad, sizeof(aad) - 1) ||
	    gcry_cipher_authenticate(h, floor_blob, 2))
		die("GCM");
	return h;
}

static void wrap(const uint8_t *key, uint8_t *blob)
{
	gcry_cipher_hd_t h;

	if (getrandom(blob + 2, 12, 0) != 12)
		die("getrandom");
	h = gcm(blob + 2);
	if (gcry_cipher_final(h) || gcry_cipher_encrypt(h, blob + 14, 32, key, 32) ||
	    gcry_cipher_gettag(h, blob + 46, 16))
		die("GCM encrypt");
	gcry_cipher_close(h);
}

static void unwrap(const uint8_t *blob, uint8_t *key)
{
	gcry_cipher_hd_t h = gcm(blob + 2);

	if (gcry_cipher_final(h) || gcry_cipher_decrypt(h, key, 32, blob + 14, 32) ||
	    gcry_cipher_checktag(h, blob + 46, 16))
		die("GCM decrypt");
	gcry_cipher_close(h);
}

/*
 * n CMAC blocks keyed with key over a message of the KDF's length: 4 + 11 +
 * 1 + the context + 4 bytes, 56 for the inline-encryption key (4 blocks), 48
 * for the software secret (2).
 */
static void kdf(const uint8_t *key, unsigned int blocks, uint8_t *out)
{
	static const uint8_t msg[56];
	gcry_mac_hd_t mac;
	size_t len;

	if (gcry_mac_open(&mac, GCRY_MAC_CMAC_AES, GCRY_MAC_FLAG_SECURE, NULL) ||
	    gcry_mac_setkey(mac, key, 32))
		die("CMAC");
	for (unsigned int i = 0; i < blocks; i++) {
		len = 16;
		if (gcry_mac_reset(mac) || gcry_mac_write(mac, msg, blocks == 4 ? 56 : 48) ||
		    gcry_mac_read(mac, out + 16 * i, &len))
			die("CMAC block");
	}
	gcry_mac_close(mac);
}

static double import_floor(void)
{
	double t0 = now_us();

	for (unsigned int i = 0; i < COMMANDS; i++)
		wrap(raw, floor_blob);
	return (now_us() - t0) / COMMANDS;
}

static double prepare_floor(void)
{
	uint8_t key[32], blob[ICE_HWKEY_BLOB_SIZE];
	double t0 = now_us();

	for (unsigned int i = 0; i < COMMANDS; i++) {
		unwrap(floor_blob, key);
		blob[0] = floor_blob[0];
		blob[1] = floor_blob[1];
		wrap(key, blob);
	}
	return (now_us() - t0) / COMMANDS;
}

static double derive_floor(void)
{
	uint8_t key[32], secret[32];
	double t0 = now_us();

	for (unsigned int i = 0; i < COMMANDS; i++) {
		unwrap(floor_blob, key);
		kdf(key, 2, secret);
	}
	return (now_us() - t0) / COMMANDS;
}

static double program_floor(void)
{
	static gcry_cipher_hd_t slots[NSLOTS];
	uint8_t key[32], inline_key[64];
	double t0 = now_us();

	for (unsigned int i = 0; i < COMMANDS; i++) {
		unwrap(floor_blob, key);
		kdf(key, 4, inline_key);
		if (slots[i % NSLOTS])
			gcry_cipher_close(slots[i % NSLOTS]);
		if (gcry_cipher_open(&slots[i % NSLOTS], GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_XTS,
				     GCRY_CIPHER_SECURE) ||
		    gcry_cipher_setkey(slots[i % NSLOTS], inline_key, 64))
			die("XTS");
	}
	return (now_us() - t0) / COMMANDS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median round's device time, floor and ratio. */
static void row(const char *name, double (*device)(void), double (*floor)(void))
{
	double dev_us[ROUNDS], ref_us[ROUNDS], ratio[ROUNDS], sorted[ROUNDS];
	unsigned int r;

	for (r = 0; r < ROUNDS; r++) {
		dev_us[r] = device();
		ref_us[r] = floor();
		ratio[r] = dev_us[r] / ref_us[r];
	}
	memcpy(sorted, ratio, sizeof(sorted));
	qsort(sorted, ROUNDS, sizeof(double), cmp_double);
	for (r = 0; r < ROUNDS && ratio[r] != sorted[ROUNDS / 2]; r++)
		;
	printf("{\"name\": \"%s\", \"value\": %.2f, \"unit\": \"us/command\", "
	       "\"reference\": %.2f, \"ratio\": %.3f}\n",
	       name, dev_us[r], ref_us[r], ratio[r]);
	fflush(stdout);
}

static void setup(void)
{
	struct blk_opts o = { .path = img, .ice = &store, .spec = BLK_ICE_V4 };
	uint8_t reply[ICE_V4_KEY_BLOB_SIZE];

	/* The device's slots and wrapped-key scratch, and the floors' 32 XTS handles */
	if (ice_global_init(ice_secmem_size(ice_secmem_keys(NSLOTS, 1) + ICE_HWKEY_POOL_KEYS +
					    NSLOTS + 2)) ||
	    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, NSLOTS, 0))
		die("secure memory");
	store.guest_keys = true;
	tg_init(&g);
	if (tg_image_create(img, NULL, 0, 1 << 20) || tg_blk_open(&g, &dev, &transport, &o) < 0 ||
	    tg_driver_init(&g, &transport, F_V4, QSIZE) != 0xf ||
	    tg_queue_attach(&cq, &g, &transport, BLK_CTRL_QUEUE, QSIZE) != 1)
		die("the v4 device did not come up");
	cmd_gpa = tg_alloc(&g, ICE_V4_CTRL_BUF_SIZE, 16);
	reply_gpa = tg_alloc(&g, ICE_V4_KEY_BLOB_SIZE, 16);
	status_gpa = tg_alloc(&g, 1, 1);
	for (unsigned int i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 5 + 3);
	build(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, raw, sizeof(raw), 0);
	send(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, reply);
	memcpy(lt_blob, reply + ICE_V4_KB_KEY, sizeof(lt_blob));
	build(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, lt_blob, sizeof(lt_blob), 0);
	send(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, reply);
	memcpy(eph_blob, reply + ICE_V4_KB_KEY, sizeof(eph_blob));
	if (getrandom(floor_wkey, sizeof(floor_wkey), 0) != sizeof(floor_wkey))
		die("getrandom");
	floor_blob[0] = ICE_HWKEY_VERSION;
	floor_blob[1] = ICE_HWKEY_LONG_TERM;
	wrap(raw, floor_blob);
}

int main(void)
{
	setup();
	row("v4_hw_import", import_device, import_floor);
	row("v4_hw_prepare", prepare_device, prepare_floor);
	row("v4_hw_derive_sw_secret", derive_device, derive_floor);
	row("v4_hw_program_wrapped", program_device, program_floor);
	blk_close(&dev);
	ice_store_free(&store);
	unlink(img);
	tg_fini(&g);
	return 0;
}
