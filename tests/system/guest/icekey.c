// SPDX-License-Identifier: GPL-2.0
/*
 * icekey: the block layer's hardware-wrapped key ioctls and dm-inlinecrypt
 * mappings for the system tests (an L2 guest program, built static by
 * mkinitramfs.sh). bookworm's busybox has no dmsetup and nothing issues the
 * BLKCRYPTO* ioctls; these are the few calls the tests need, with
 * machine-readable output. Keys and blobs come on stdin, never on the
 * command line; the raw key is never printed.
 *
 *   icekey import DEV       BLKCRYPTOIMPORTKEY: the raw key (raw bytes on
 *       stdin) into a long-term wrapped key. Prints the blob as hex.
 *   icekey generate DEV     BLKCRYPTOGENERATEKEY: a new key, made by the
 *       engine. Prints its long-term blob as hex.
 *   icekey prepare DEV      BLKCRYPTOPREPAREKEY: a long-term blob (hex on
 *       stdin) into an ephemerally-wrapped key. Prints it as hex.
 *   icekey dm-create NAME DEV START SECTORS [--hw-wrapped] [--sector-size N]
 *                   [--iv-offset N]
 *       A dm-inlinecrypt mapping (Linux 7.3, drivers/md/dm-inlinecrypt.c) of
 *       SECTORS 512-byte sectors of DEV from START, cipher aes-xts-plain64,
 *       key as hex on stdin: a raw 64-byte key, or with --hw-wrapped an
 *       ephemerally-wrapped key. --sector-size (default 4096) is the data
 *       unit; --iv-offset (512-byte sectors, default 0) the DUN's offset.
 *       Prints the new device's node, /dev/dm-N.
 *   icekey dm-remove NAME   removes the mapping.
 *
 * Linux's Documentation/block/inline-encryption.rst ("Hardware-wrapped keys")
 * and Documentation/admin-guide/device-mapper/ describe the calls.
 * Exit status: 0 success, 1 a failed call (one line on stderr: icekey: what:
 * strerror), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest_cli.h"

/* include/uapi/linux/blk-crypto.h (Linux 6.15); the cross headers are 6.1. */
struct icekey_import_arg {
	__u64 raw_key_ptr;
	__u64 raw_key_size;
	__u64 lt_key_ptr;
	__u64 lt_key_size;
	__u64 reserved[4];
};

struct icekey_generate_arg {
	__u64 lt_key_ptr;
	__u64 lt_key_size;
	__u64 reserved[4];
};

struct icekey_prepare_arg {
	__u64 lt_key_ptr;
	__u64 lt_key_size;
	__u64 eph_key_ptr;
	__u64 eph_key_size;
	__u64 reserved[4];
};

#define ICEKEY_IMPORT _IOWR(0x12, 137, struct icekey_import_arg)
#define ICEKEY_GENERATE _IOWR(0x12, 138, struct icekey_generate_arg)
#define ICEKEY_PREPARE _IOWR(0x12, 139, struct icekey_prepare_arg)

/* BLK_CRYPTO_MAX_HW_WRAPPED_KEY_SIZE, BLK_CRYPTO_MAX_RAW_KEY_SIZE */
#define MAX_WRAPPED 128
#define MAX_RAW 64

static const char *prog_cmd = "icekey";

static int usage(void)
{
	fprintf(stderr, "usage: icekey import DEV <RAW_KEY\n"
			"       icekey generate DEV\n"
			"       icekey prepare DEV <LONG_TERM_BLOB_HEX\n"
			"       icekey dm-create NAME DEV START SECTORS [--hw-wrapped]\n"
			"                        [--sector-size N] [--iv-offset N] <KEY_HEX\n"
			"       icekey dm-remove NAME\n");
	return 2;
}

static int fail(const char *what)
{
	fprintf(stderr, "icekey: %s %s: %s\n", prog_cmd, what, strerror(errno));
	return 1;
}

static int open_dev(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail(path);
	return fd;
}

/* Prints n bytes of blob as one hex line; the blob is wiped. */
static int print_blob(uint8_t *blob, size_t n)
{
	print_hex(blob, n);
	printf("\n");
	wipe(blob, n);
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	uint8_t raw[MAX_RAW], lt[MAX_WRAPPED];
	struct icekey_import_arg a;
	long n;
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	n = read_stdin(raw, sizeof(raw));
	if (n < 0) {
		ret = fail("stdin");
		goto out;
	}
	fd = open_dev(argv[0]);
	if (fd < 0)
		goto out;
	memset(&a, 0, sizeof(a));
	a.raw_key_ptr = (uintptr_t)raw;
	a.raw_key_size = (__u64)n;
	a.lt_key_ptr = (uintptr_t)lt;
	a.lt_key_size = sizeof(lt);
	if (ioctl(fd, ICEKEY_IMPORT, &a) < 0)
		fail(argv[0]);
	else
		ret = print_blob(lt, a.lt_key_size);
	close(fd);
out:
	wipe(raw, sizeof(raw));
	return ret;
}

static int cmd_generate(int argc, char **argv)
{
	struct icekey_generate_arg a;
	uint8_t lt[MAX_WRAPPED];
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	fd = open_dev(argv[0]);
	if (fd < 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.lt_key_ptr = (uintptr_t)lt;
	a.lt_key_size = sizeof(lt);
	if (ioctl(fd, ICEKEY_GENERATE, &a) < 0)
		fail(argv[0]);
	else
		ret = print_blob(lt, a.lt_key_size);
	close(fd);
	return ret;
}

static int cmd_prepare(int argc, char **argv)
{
	uint8_t lt[MAX_WRAPPED], eph[MAX_WRAPPED];
	char text[2 * MAX_WRAPPED + 2];
	struct icekey_prepare_arg a;
	long n;
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	n = read_hex_stdin(text, lt, sizeof(lt));
	if (n == -1)
		return fail("stdin");
	if (n < 1) {
		fprintf(stderr, "icekey: prepare: stdin is not a blob of 1 to %d bytes of hex\n",
			MAX_WRAPPED);
		return 1;
	}
	fd = open_dev(argv[0]);
	if (fd < 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.lt_key_ptr = (uintptr_t)lt;
	a.lt_key_size = (__u64)n;
	a.eph_key_ptr = (uintptr_t)eph;
	a.eph_key_size = sizeof(eph);
	if (ioctl(fd, ICEKEY_PREPARE, &a) < 0)
		fail(argv[0]);
	else
		ret = print_blob(eph, a.eph_key_size);
	close(fd);
	wipe(lt, sizeof(lt));
	return ret;
}

/*
 * A device-mapper ioctl buffer: the header, then (DM_TABLE_LOAD) one target
 * and its parameter string, which holds the key in hex.
 */
struct dm_buf {
	struct dm_ioctl io;
	struct dm_target_spec spec;
	char params[512];
};

static int dm_call(unsigned long req, const char *name, struct dm_buf *b)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return fail("/dev/mapper/control");
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.version[1] = 0;
	b->io.version[2] = 0;
	b->io.data_size = sizeof(*b);
	b->io.data_start = sizeof(b->io);
	snprintf(b->io.name, sizeof(b->io.name), "%s", name);
	ret = ioctl(fd, req, &b->io);
	if (ret < 0)
		fail(name);
	close(fd);
	return ret < 0;
}

static int parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "icekey: %s: '%s' is not a number\n", prog_cmd, s);
		return -1;
	}
	return 0;
}

static int cmd_dm_create(int argc, char **argv)
{
	unsigned long long start, sectors, sector_size = 4096, iv_offset = 0;
	char text[2 * MAX_WRAPPED + 2], hex[2 * MAX_WRAPPED + 1];
	uint8_t key[MAX_WRAPPED];
	struct dm_buf *b;
	bool wrapped = false;
	long n;
	int i, ret = 1;

	if (argc < 4)
		return usage();
	if (parse_u64(argv[2], &start) || parse_u64(argv[3], &sectors))
		return 2;
	for (i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--hw-wrapped") == 0) {
			wrapped = true;
		} else if (strcmp(argv[i], "--sector-size") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], &sector_size))
				return 2;
		} else if (strcmp(argv[i], "--iv-offset") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], &iv_offset))
				return 2;
		} else {
			return usage();
		}
	}
	n = read_hex_stdin(text, key, wrapped ? MAX_WRAPPED : MAX_RAW);
	if (n == -1)
		return fail("stdin");
	if (n < 16) {
		fprintf(stderr, "icekey: dm-create: stdin is not a key of 16 to %d bytes of hex\n",
			wrapped ? MAX_WRAPPED : MAX_RAW);
		return 1;
	}
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	wipe(key, sizeof(key));
	b = calloc(1, sizeof(*b));
	if (!b)
		return fail("calloc");
	if (dm_call(DM_DEV_CREATE, argv[0], b))
		goto out;
	/* dm-inlinecrypt.c inlinecrypt_ctr(): <cipher> <key> <iv_offset> <dev> <start> [opts] */
	memset(b, 0, sizeof(*b));
	b->io.target_count = 1;
	b->spec.sector_start = 0;
	b->spec.length = sectors;
	b->spec.next = sizeof(b->spec) + sizeof(b->params);
	snprintf(b->spec.target_type, sizeof(b->spec.target_type), "inlinecrypt");
	if (sector_size == 512)
		snprintf(b->params, sizeof(b->params), "aes-xts-plain64 %s %llu %s %llu%s", hex,
			 iv_offset, argv[1], start, wrapped ? " 1 keytype:hw-wrapped" : "");
	else
		snprintf(b->params, sizeof(b->params),
			 "aes-xts-plain64 %s %llu %s %llu %d sector_size:%llu iv_large_sectors%s",
			 hex, iv_offset, argv[1], start, wrapped ? 3 : 2, sector_size,
			 wrapped ? " keytype:hw-wrapped" : "");
	wipe(hex, sizeof(hex));
	if (dm_call(DM_TABLE_LOAD, argv[0], b)) {
		memset(b, 0, sizeof(*b));
		dm_call(DM_DEV_REMOVE, argv[0], b);
		goto out;
	}
	memset(b, 0, sizeof(*b));
	/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG: resume, the table goes live */
	if (dm_call(DM_DEV_SUSPEND, argv[0], b)) {
		memset(b, 0, sizeof(*b));
		dm_call(DM_DEV_REMOVE, argv[0], b);
		goto out;
	}
	printf("/dev/dm-%u\n", minor(b->io.dev));
	ret = 0;
out:
	wipe(b, sizeof(*b));
	free(b);
	return ret;
}

static int cmd_dm_remove(int argc, char **argv)
{
	struct dm_buf b;

	if (argc != 1)
		return usage();
	memset(&b, 0, sizeof(b));
	return dm_call(DM_DEV_REMOVE, argv[0], &b);
}

int main(int argc, char **argv)
{
	static const struct guest_cmd cmds[] = {
		{ "import", cmd_import },	{ "generate", cmd_generate },
		{ "prepare", cmd_prepare },	{ "dm-create", cmd_dm_create },
		{ "dm-remove", cmd_dm_remove },
	};

	return guest_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), &prog_cmd, usage, argc, argv);
}
