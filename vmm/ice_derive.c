// SPDX-License-Identifier: GPL-2.0
/*
 * icevmm ice derive: what a v4 disk's engine derives from a hardware-wrapped
 * key (docs/ICE.md, "Hardware-wrapped keys"), offline, so that a person can
 * check an image written with an imported key:
 *
 *   icevmm ice derive --raw-key raw.key --keys-out inline.conf --secret-out sw.secret
 *   icevmm ice decrypt --keys inline.conf --slot 0 --dun D --in extent.bin
 *
 * The raw key (the 32 bytes given to IMPORT) is read like a key_file; the
 * inline-encryption key goes into a keys file of one slot (AES-256-XTS), the
 * software secret into a file of 32 raw bytes, both created private to their
 * owner and only if everything succeeded. Nothing secret is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../devices/ice.h"
#include "../devices/ice_hwkey.h"
#include "../devices/ice_keyread.h"
#include "exit_status.h"
#include "ice_cmd.h"
#include "log.h"
#include "sandbox.h"

static const char derive_usage[] =
	"Usage: icevmm ice derive --raw-key FILE --keys-out KEYS [--secret-out FILE]\n"
	"                         [--slot N] [--data-unit BYTES]\n"
	"What a v4 disk derives from a hardware-wrapped key imported from FILE's 32 raw\n"
	"bytes (docs/ICE.md, \"Hardware-wrapped keys\"): its inline-encryption key, as a\n"
	"keys file for 'icevmm ice decrypt', and its software secret. Prints no key.\n"
	"\n"
	"  --raw-key FILE         the raw key given to IMPORT: 32 bytes, private to its owner\n"
	"  --keys-out KEYS        write a keys file with the inline-encryption key in a slot\n"
	"  --secret-out FILE      write the 32-byte software secret (raw bytes)\n"
	"  --slot N               the slot of KEYS (default 0)\n"
	"  --data-unit BYTES      its data unit size, 512 to 4096 (default 4096)\n"
	"  --allow-insecure-keys  accept a raw key file readable by group or others\n";

/* Keys and secrets: created 0600 beside path, renamed over it on success. */
static int write_private(const char *path, const void *data, size_t len)
{
	char tmp[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		pr_err("ice derive: %s: path too long", path);
		return -1;
	}
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		pr_err("ice derive: %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = errno ? errno : EIO;
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		unlink(tmp);
		pr_err("ice derive: %s: %s", path, strerror(err));
		return -1;
	}
	return 0;
}

static void to_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = 0;
}

/* The keys file of one slot holding the inline-encryption key; into secure memory. */
static char *keys_text(const uint8_t key[ICE_HWKEY_INLINE_KEY_SIZE], unsigned int slot,
		       unsigned int du, size_t *len)
{
	static const size_t max = 512;
	char *text = ice_secure_alloc(max),
	     *hex = ice_secure_alloc(2 * ICE_HWKEY_INLINE_KEY_SIZE + 1);
	int n = -1;

	if (text && hex) {
		to_hex(key, ICE_HWKEY_INLINE_KEY_SIZE, hex);
		n = snprintf(text, max,
			     "; made by icevmm ice derive: the inline-encryption key of a\n"
			     "; hardware-wrapped key (docs/ICE.md, \"Hardware-wrapped keys\")\n"
			     "[ice]\nalgorithm = aes-xts\nkey_bits = 256\ndata_unit_sizes = %u\n"
			     "max_slots = %u\n\n[slot %u]\nkey = %s\ndata_unit_size = %u\n",
			     du, slot + 1, slot, hex, du);
	}
	ice_secure_free(hex);
	if (n < 0 || (size_t)n >= max) {
		ice_secure_free(text);
		return NULL;
	}
	*len = (size_t)n;
	return text;
}

int ice_derive_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw-key", required_argument, NULL, 'r' },
		{ "keys-out", required_argument, NULL, 'k' },
		{ "secret-out", required_argument, NULL, 's' },
		{ "slot", required_argument, NULL, 'n' },
		{ "data-unit", required_argument, NULL, 'u' },
		{ "allow-insecure-keys", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *raw_path = NULL, *keys_out = NULL, *secret_out = NULL, *why;
	unsigned long slot = 0, du = 4096;
	uint8_t *raw = NULL, *keys = NULL, *secret = NULL;
	bool insecure = false;
	char *text = NULL, *end;
	size_t len = 0, text_len;
	int c, rc = EXIT_VMM_ERROR;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			raw_path = optarg;
			break;
		case 'k':
			keys_out = optarg;
			break;
		case 's':
			secret_out = optarg;
			break;
		case 'n':
			slot = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || slot > 254) {
				pr_err("ice derive: --slot '%s': expected 0 to 254", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'u':
			du = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end ||
			    (du != 512 && du != 1024 && du != 2048 && du != 4096)) {
				pr_err("ice derive: --data-unit '%s': expected 512, 1024, 2048 or "
				       "4096",
				       optarg);
				return EXIT_USAGE;
			}
			break;
		case 'A':
			insecure = true;
			break;
		case 'h':
			fputs(derive_usage, stdout);
			return 0;
		default:
			pr_err("ice derive: unknown option or missing value: '%s'",
			       argv[optind - 1]);
			fputs(derive_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !raw_path || !keys_out) {
		pr_err("ice derive: need --raw-key and --keys-out");
		fputs(derive_usage, stderr);
		return EXIT_USAGE;
	}
	/* Key material from here: locked memory, no core dumps. */
	sandbox_no_dump();
	if (ice_global_init(ice_secmem_size(1)))
		return EXIT_VMM_ERROR;
	if (ice_read_key_file(raw_path, insecure, ICE_HWKEY_RAW_SIZE + 1, &raw, &len, &why)) {
		pr_err("ice derive: %s: %s", raw_path, why);
		return EXIT_VMM_ERROR;
	}
	if (len != ICE_HWKEY_RAW_SIZE) {
		pr_err("ice derive: %s: the key is %zu bytes; IMPORT takes %d", raw_path, len,
		       ICE_HWKEY_RAW_SIZE);
		goto out;
	}
	/* Both derived before either file is written. */
	keys = ice_secure_alloc(ICE_HWKEY_INLINE_KEY_SIZE);
	secret = ice_secure_alloc(ICE_HWKEY_SW_SECRET_SIZE);
	if (!keys || !secret || ice_hwkey_inline_key(raw, keys) ||
	    ice_hwkey_sw_secret(raw, secret) ||
	    !(text = keys_text(keys, (unsigned int)slot, (unsigned int)du, &text_len))) {
		pr_err("ice derive: deriving the keys failed");
		goto out;
	}
	if (write_private(keys_out, text, text_len))
		goto out;
	if (secret_out && write_private(secret_out, secret, ICE_HWKEY_SW_SECRET_SIZE)) {
		unlink(keys_out);
		goto out;
	}
	pr_info("ice derive: wrote slot %lu's inline-encryption key to %s%s%s", slot, keys_out,
		secret_out ? " and the software secret to " : "", secret_out ? secret_out : "");
	rc = 0;
out:
	ice_secure_free(text);
	ice_secure_free(secret);
	ice_secure_free(keys);
	ice_secure_free(raw);
	return rc;
}
