// SPDX-License-Identifier: GPL-2.0
/*
 * icefs: the fscrypt v2 ioctls and FIEMAP for the system tests (an L2 guest
 * program, built static for arm64 by mkinitramfs.sh; it also builds and runs
 * on the host). bookworm has no fscryptctl, and the tests need exactly these
 * few calls with machine-readable output. Linux's
 * Documentation/filesystems/fscrypt.rst ("User API") describes every ioctl.
 *
 *   icefs add-key MNT [--hw-wrapped] [HEX | --hex-stdin]
 *       FS_IOC_ADD_ENCRYPTION_KEY with a v2 (identifier) key specifier. The
 *       raw key (16 to 64 bytes) is HEX, or hex text on stdin with
 *       --hex-stdin, or else raw bytes on stdin. With --hw-wrapped it is an
 *       ephemerally-wrapped key (up to 128 bytes; icekey prepare), added with
 *       FSCRYPT_ADD_KEY_FLAG_HW_WRAPPED. Prints the key identifier: 32
 *       lowercase hex digits.
 *   icefs set-policy DIR KEYID [--contents MODE] [--filenames MODE]
 *                   [--flags FLAG[,FLAG...]] [--padding 4|8|16|32]
 *                   [--data-unit BYTES]
 *       FS_IOC_SET_ENCRYPTION_POLICY, a v2 policy. Defaults: aes-256-xts,
 *       aes-256-cts, no flags, padding 32, data unit = the block size.
 *       MODE: aes-256-xts aes-256-cts aes-128-cbc (ESSIV; alias
 *       aes-128-cbc-essiv) aes-128-cts sm4-xts sm4-cts adiantum aes-256-hctr2.
 *       FLAG: none direct_key iv_ino_lblk_64 iv_ino_lblk_32.
 *   icefs get-policy PATH
 *       FS_IOC_GET_ENCRYPTION_POLICY_EX. One line:
 *       version=2 contents=M filenames=M flags=F[,F] padding=N
 *       log2_data_unit_size=N keyid=HEX
 *       (version=1 ... descriptor=HEX for a v1 policy).
 *   icefs key-status MNT KEYID
 *       FS_IOC_GET_ENCRYPTION_KEY_STATUS. One line:
 *       absent|present|incompletely_removed status_flags=0xX user_count=N
 *   icefs remove-key MNT KEYID [--all-users]
 *       FS_IOC_REMOVE_ENCRYPTION_KEY(_ALL_USERS). One line:
 *       removal_status_flags=0xX [files_busy] [other_users]
 *   icefs nonce FILE      FS_IOC_GET_ENCRYPTION_NONCE: 32 hex digits.
 *   icefs extents FILE    FIEMAP (FIEMAP_FLAG_SYNC first): one line per
 *       extent, "LOGICAL PHYSICAL LENGTH FLAGS": bytes in decimal, the
 *       FIEMAP_EXTENT_* flags in hex (0x...). No output for an empty file.
 *   icefs ino FILE        the inode number (decimal).
 *   icefs uuid PATH       FS_IOC_GETFSUUID: the filesystem's UUID as the
 *       kernel holds it (sb->s_uuid, which fscrypt's IV_INO_LBLK keys use),
 *       in the 8-4-4-4-12 form.
 *
 * Exit status: 0 success, 1 a failed call (one line on stderr: icefs: what:
 * strerror), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_cli.h"

/* Linux 6.5 added FS_IOC_GETFSUUID; the cross toolchain's headers are 6.1. */
#ifndef FS_IOC_GETFSUUID
struct fsuuid2 {
	__u8 len;
	__u8 uuid[16];
};
#define FS_IOC_GETFSUUID _IOR(0x15, 0, struct fsuuid2)
#endif
/* Mode numbers from Linux 6.12's include/uapi/linux/fscrypt.h (SM4: 6.3). */
#ifndef FSCRYPT_MODE_SM4_XTS
#define FSCRYPT_MODE_SM4_XTS 7
#define FSCRYPT_MODE_SM4_CTS 8
#endif
/*
 * Hardware-wrapped keys (Linux 6.15, include/uapi/linux/fscrypt.h): the flag
 * lives in the word the 6.1 headers call __reserved[0]; a wrapped key is up
 * to BLK_CRYPTO_MAX_HW_WRAPPED_KEY_SIZE bytes (include/linux/blk-crypto.h).
 */
#ifdef FSCRYPT_ADD_KEY_FLAG_HW_WRAPPED
#define ADD_KEY_FLAGS(arg) ((arg).flags)
#else
#define FSCRYPT_ADD_KEY_FLAG_HW_WRAPPED 0x00000001
#define ADD_KEY_FLAGS(arg) ((arg).__reserved[0])
#endif
#define ICEFS_MAX_WRAPPED_KEY_SIZE 128
#ifndef FSCRYPT_MODE_AES_256_HCTR2
#define FSCRYPT_MODE_AES_256_HCTR2 10
#endif

static const char *prog_cmd = "icefs";

static int usage(void)
{
	fprintf(stderr, "usage: icefs add-key MNT [--hw-wrapped] [HEX | --hex-stdin]\n"
			"       icefs set-policy DIR KEYID [--contents MODE] [--filenames MODE]\n"
			"                        [--flags FLAG[,FLAG...]] [--padding 4|8|16|32]\n"
			"                        [--data-unit BYTES]\n"
			"       icefs get-policy PATH\n"
			"       icefs key-status MNT KEYID\n"
			"       icefs remove-key MNT KEYID [--all-users]\n"
			"       icefs nonce FILE | extents FILE | ino FILE | uuid PATH\n");
	return 2;
}

/* add-key --hw-wrapped: EOPNOTSUPP then means a disk without wrapped keys. */
static bool adding_wrapped;

static int fail(const char *what)
{
	int err = errno;
	const char *hint = "";

	if (adding_wrapped && err == EOPNOTSUPP)
		hint = " (the disk takes no hardware-wrapped keys? see its "
		       "queue/crypto/hw_wrapped_keys)";
	else if ((err == EOPNOTSUPP || err == ENOTTY) && strcmp(prog_cmd, "extents") != 0 &&
		 strcmp(prog_cmd, "uuid") != 0)
		hint = " (no fscrypt here? ext4 needs mkfs -O encrypt)";
	fprintf(stderr, "icefs: %s %s: %s%s\n", prog_cmd, what, strerror(err), hint);
	return 1;
}

static int open_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "icefs: %s %s: %s\n", prog_cmd, path, strerror(errno));
	return fd;
}

static int parse_keyid(const char *s, uint8_t id[FSCRYPT_KEY_IDENTIFIER_SIZE])
{
	if (strlen(s) != 2 * FSCRYPT_KEY_IDENTIFIER_SIZE ||
	    parse_hex(s, strlen(s), id, FSCRYPT_KEY_IDENTIFIER_SIZE) < 0) {
		fprintf(stderr, "icefs: %s: key identifier '%s' is not %d hex digits\n", prog_cmd,
			s, 2 * FSCRYPT_KEY_IDENTIFIER_SIZE);
		return -1;
	}
	return 0;
}

static int cmd_add_key(int argc, char **argv)
{
	/* The key text and the key: room for a wrapped key as hex plus a newline. */
	char text[2 * ICEFS_MAX_WRAPPED_KEY_SIZE + 2];
	struct {
		struct fscrypt_add_key_arg arg;
		uint8_t raw[ICEFS_MAX_WRAPPED_KEY_SIZE];
	} a;
	size_t max = FSCRYPT_MAX_KEY_SIZE;
	bool wrapped = false;
	long n;
	int fd, ret = 1;

	if (argc >= 2 && strcmp(argv[1], "--hw-wrapped") == 0) {
		wrapped = true;
		max = ICEFS_MAX_WRAPPED_KEY_SIZE;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 1 || argc > 2)
		return usage();
	memset(&a, 0, sizeof(a));
	if (argc == 2 && strcmp(argv[1], "--hex-stdin") != 0) {
		n = parse_hex(argv[1], strlen(argv[1]), a.raw, max);
	} else if (argc == 2) {
		n = read_hex_stdin(text, a.raw, max);
		if (n == -1)
			return fail("stdin");
	} else {
		n = read_stdin(a.raw, max);
		if (n < 0)
			return fail("stdin");
	}
	if (n < 16) {
		fprintf(stderr, "icefs: add-key: the key must be 16 to %zu bytes%s\n", max,
			argc == 2 ? " of hex" : "");
		goto out;
	}
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		goto out;
	a.arg.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	a.arg.raw_size = (__u32)n;
	if (wrapped)
		ADD_KEY_FLAGS(a.arg) = FSCRYPT_ADD_KEY_FLAG_HW_WRAPPED;
	adding_wrapped = wrapped;
	if (ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, &a.arg) < 0) {
		fail(argv[0]);
	} else {
		print_hex(a.arg.key_spec.u.identifier, FSCRYPT_KEY_IDENTIFIER_SIZE);
		printf("\n");
		ret = 0;
	}
	close(fd);
out:
	/* The key never outlives the call. */
	wipe(&a, sizeof(a));
	return ret;
}

static const struct {
	const char *name;
	uint8_t num;
} modes[] = {
	{ "aes-256-xts", FSCRYPT_MODE_AES_256_XTS },
	{ "aes-256-cts", FSCRYPT_MODE_AES_256_CTS },
	{ "aes-128-cbc", FSCRYPT_MODE_AES_128_CBC },
	{ "aes-128-cbc-essiv", FSCRYPT_MODE_AES_128_CBC },
	{ "aes-128-cts", FSCRYPT_MODE_AES_128_CTS },
	{ "sm4-xts", FSCRYPT_MODE_SM4_XTS },
	{ "sm4-cts", FSCRYPT_MODE_SM4_CTS },
	{ "adiantum", FSCRYPT_MODE_ADIANTUM },
	{ "aes-256-hctr2", FSCRYPT_MODE_AES_256_HCTR2 },
};

static int mode_num(const char *name)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(modes[i].name, name) == 0)
			return modes[i].num;
	fprintf(stderr, "icefs: set-policy: unknown mode '%s'\n", name);
	return -1;
}

static const char *mode_name(unsigned int num)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i].num == num)
			return modes[i].name;
	return NULL;
}

static const struct {
	const char *name;
	uint8_t bit;
} flag_names[] = {
	{ "direct_key", FSCRYPT_POLICY_FLAG_DIRECT_KEY },
	{ "iv_ino_lblk_64", FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64 },
	{ "iv_ino_lblk_32", FSCRYPT_POLICY_FLAG_IV_INO_LBLK_32 },
};

static int parse_flags(const char *list)
{
	char buf[128], *tok, *save;
	int flags = 0;

	if (strlen(list) >= sizeof(buf))
		goto bad;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i, n = sizeof(flag_names) / sizeof(flag_names[0]);

		if (strcmp(tok, "none") == 0)
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(flag_names[i].name, tok) == 0)
				break;
		if (i == n)
			goto bad;
		flags |= flag_names[i].bit;
	}
	return flags;
bad:
	fprintf(stderr,
		"icefs: set-policy: bad --flags '%s' (none, direct_key, iv_ino_lblk_64, "
		"iv_ino_lblk_32)\n",
		list);
	return -1;
}

static void print_flags(unsigned int flags)
{
	const char *sep = "";

	flags &= ~(unsigned int)FSCRYPT_POLICY_FLAGS_PAD_MASK;
	printf(" flags=");
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (flags & flag_names[i].bit) {
			printf("%s%s", sep, flag_names[i].name);
			sep = ",";
			flags &= ~(unsigned int)flag_names[i].bit;
		}
	}
	if (flags)
		printf("%s0x%x", sep, flags);
	else if (!*sep)
		printf("none");
}

static int cmd_set_policy(int argc, char **argv)
{
	struct fscrypt_policy_v2 p;
	int contents = FSCRYPT_MODE_AES_256_XTS;
	int filenames = FSCRYPT_MODE_AES_256_CTS;
	int flags = 0, pad = FSCRYPT_POLICY_FLAGS_PAD_32, log2_du = 0;
	int fd, i, ret = 1;

	if (argc < 2)
		return usage();
	memset(&p, 0, sizeof(p));
	if (parse_keyid(argv[1], p.master_key_identifier) < 0)
		return 2;
	for (i = 2; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return usage();
		if (strcmp(opt, "--contents") == 0) {
			contents = mode_num(val);
		} else if (strcmp(opt, "--filenames") == 0) {
			filenames = mode_num(val);
		} else if (strcmp(opt, "--flags") == 0) {
			flags = parse_flags(val);
		} else if (strcmp(opt, "--padding") == 0) {
			pad = strcmp(val, "4") == 0    ? FSCRYPT_POLICY_FLAGS_PAD_4
			      : strcmp(val, "8") == 0  ? FSCRYPT_POLICY_FLAGS_PAD_8
			      : strcmp(val, "16") == 0 ? FSCRYPT_POLICY_FLAGS_PAD_16
			      : strcmp(val, "32") == 0 ? FSCRYPT_POLICY_FLAGS_PAD_32
						       : -1;
			if (pad < 0)
				fprintf(stderr, "icefs: set-policy: --padding is 4, 8, 16 or 32\n");
		} else if (strcmp(opt, "--data-unit") == 0) {
			char *end;
			unsigned long du = strtoul(val, &end, 10);

			for (log2_du = 9; log2_du <= 16; log2_du++)
				if (du == 1UL << log2_du)
					break;
			if (*end || log2_du > 16) {
				fprintf(stderr, "icefs: set-policy: --data-unit is a power of 2 "
						"from 512 to 65536\n");
				pad = -1;
			}
		} else {
			return usage();
		}
		if (contents < 0 || filenames < 0 || flags < 0 || pad < 0)
			return 2;
	}
	p.version = FSCRYPT_POLICY_V2;
	p.contents_encryption_mode = (__u8)contents;
	p.filenames_encryption_mode = (__u8)filenames;
	p.flags = (__u8)(flags | pad);
	/*
	 * Byte 4 is log2_data_unit_size since Linux 6.7 (0: the block size);
	 * the cross toolchain's 6.1 headers still call it __reserved[0].
	 */
	((__u8 *)&p)[4] = (__u8)log2_du;
	fd = open_path(argv[0], O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return 1;
	if (ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY, &p) < 0)
		fail(argv[0]);
	else
		ret = 0;
	close(fd);
	return ret;
}

static void print_mode(const char *what, unsigned int num)
{
	const char *name = mode_name(num);

	if (name)
		printf(" %s=%s", what, name);
	else
		printf(" %s=%u", what, num);
}

static int cmd_get_policy(int argc, char **argv)
{
	struct fscrypt_get_policy_ex_arg a;
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.policy_size = sizeof(a.policy);
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_POLICY_EX, &a) < 0) {
		if (errno == ENODATA)
			fprintf(stderr, "icefs: get-policy %s: not encrypted\n", argv[0]);
		else
			fail(argv[0]);
		goto out;
	}
	if (a.policy.version == FSCRYPT_POLICY_V2) {
		const struct fscrypt_policy_v2 *p = &a.policy.v2;

		printf("version=2");
		print_mode("contents", p->contents_encryption_mode);
		print_mode("filenames", p->filenames_encryption_mode);
		print_flags(p->flags);
		printf(" padding=%d log2_data_unit_size=%u keyid=",
		       4 << (p->flags & FSCRYPT_POLICY_FLAGS_PAD_MASK), ((const __u8 *)p)[4]);
		print_hex(p->master_key_identifier, FSCRYPT_KEY_IDENTIFIER_SIZE);
	} else {
		const struct fscrypt_policy_v1 *p = &a.policy.v1;

		printf("version=1");
		print_mode("contents", p->contents_encryption_mode);
		print_mode("filenames", p->filenames_encryption_mode);
		print_flags(p->flags);
		printf(" padding=%d descriptor=", 4 << (p->flags & FSCRYPT_POLICY_FLAGS_PAD_MASK));
		print_hex(p->master_key_descriptor, FSCRYPT_KEY_DESCRIPTOR_SIZE);
	}
	printf("\n");
	ret = 0;
out:
	close(fd);
	return ret;
}

static int cmd_key_status(int argc, char **argv)
{
	static const char *const names[] = { "0", "absent", "present", "incompletely_removed" };
	struct fscrypt_get_key_status_arg a;
	int fd, ret = 1;

	if (argc != 2)
		return usage();
	memset(&a, 0, sizeof(a));
	a.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	if (parse_keyid(argv[1], a.key_spec.u.identifier) < 0)
		return 2;
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		return 1;
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_KEY_STATUS, &a) < 0) {
		fail(argv[0]);
	} else {
		if (a.status >= 1 && a.status <= 3)
			printf("%s", names[a.status]);
		else
			printf("status_%u", a.status);
		printf(" status_flags=0x%x user_count=%u\n", a.status_flags, a.user_count);
		ret = 0;
	}
	close(fd);
	return ret;
}

static int cmd_remove_key(int argc, char **argv)
{
	struct fscrypt_remove_key_arg a;
	unsigned long req = FS_IOC_REMOVE_ENCRYPTION_KEY;
	int fd, ret = 1;

	if (argc == 3 && strcmp(argv[2], "--all-users") == 0)
		req = FS_IOC_REMOVE_ENCRYPTION_KEY_ALL_USERS;
	else if (argc != 2)
		return usage();
	memset(&a, 0, sizeof(a));
	a.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	if (parse_keyid(argv[1], a.key_spec.u.identifier) < 0)
		return 2;
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		return 1;
	if (ioctl(fd, req, &a) < 0) {
		fail(argv[0]);
	} else {
		printf("removal_status_flags=0x%x", a.removal_status_flags);
		if (a.removal_status_flags & FSCRYPT_KEY_REMOVAL_STATUS_FLAG_FILES_BUSY)
			printf(" files_busy");
		if (a.removal_status_flags & FSCRYPT_KEY_REMOVAL_STATUS_FLAG_OTHER_USERS)
			printf(" other_users");
		printf("\n");
		ret = 0;
	}
	close(fd);
	return ret;
}

static int cmd_nonce(int argc, char **argv)
{
	uint8_t nonce[16];
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		return 1;
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_NONCE, nonce) < 0) {
		if (errno == ENODATA)
			fprintf(stderr, "icefs: nonce %s: not encrypted\n", argv[0]);
		else
			fail(argv[0]);
	} else {
		print_hex(nonce, sizeof(nonce));
		printf("\n");
		ret = 0;
	}
	close(fd);
	return ret;
}

#define FIEMAP_BATCH 64

static int cmd_extents(int argc, char **argv)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[FIEMAP_BATCH];
	} m;
	__u64 start = 0;
	__u32 flags = FIEMAP_FLAG_SYNC;
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		return 1;
	/* In batches: each call continues after the last extent returned. */
	for (;;) {
		const struct fiemap_extent *e = NULL;

		memset(&m, 0, sizeof(m));
		m.fm.fm_start = start;
		m.fm.fm_length = FIEMAP_MAX_OFFSET - start;
		m.fm.fm_flags = flags;
		m.fm.fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, &m.fm) < 0) {
			fail(argv[0]);
			goto out;
		}
		flags = 0; /* synced once is enough */
		for (__u32 i = 0; i < m.fm.fm_mapped_extents; i++) {
			e = &m.ext[i];
			printf("%llu %llu %llu 0x%x\n", (unsigned long long)e->fe_logical,
			       (unsigned long long)e->fe_physical, (unsigned long long)e->fe_length,
			       e->fe_flags);
		}
		if (!e || (e->fe_flags & FIEMAP_EXTENT_LAST) ||
		    m.fm.fm_mapped_extents < FIEMAP_BATCH)
			break;
		start = e->fe_logical + e->fe_length;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static int cmd_ino(int argc, char **argv)
{
	struct stat st;

	if (argc != 1)
		return usage();
	if (stat(argv[0], &st) < 0)
		return fail(argv[0]);
	printf("%llu\n", (unsigned long long)st.st_ino);
	return 0;
}

static int cmd_uuid(int argc, char **argv)
{
	struct fsuuid2 u;
	int fd, ret = 1;

	if (argc != 1)
		return usage();
	fd = open_path(argv[0], O_RDONLY);
	if (fd < 0)
		return 1;
	memset(&u, 0, sizeof(u));
	if (ioctl(fd, FS_IOC_GETFSUUID, &u) < 0) {
		fail(argv[0]);
	} else if (u.len != 16) {
		fprintf(stderr, "icefs: uuid %s: a %u-byte UUID\n", argv[0], u.len);
	} else {
		for (int i = 0; i < 16; i++)
			printf("%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
			       u.uuid[i]);
		printf("\n");
		ret = 0;
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct guest_cmd cmds[] = {
		{ "add-key", cmd_add_key },
		{ "set-policy", cmd_set_policy },
		{ "get-policy", cmd_get_policy },
		{ "key-status", cmd_key_status },
		{ "remove-key", cmd_remove_key },
		{ "nonce", cmd_nonce },
		{ "extents", cmd_extents },
		{ "ino", cmd_ino },
		{ "uuid", cmd_uuid },
	};

	return guest_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), &prog_cmd, usage, argc, argv);
}
