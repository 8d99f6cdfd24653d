// SPDX-License-Identifier: GPL-2.0
/*
 * The offline ICE command: the same engine as the virtio-blk device
 * (devices/ice.c) applied to a file, so what a guest wrote through an ICE
 * disk can be checked on the host:
 *
 *   icevmm ice decrypt --keys keys.conf --slot 3 --dun 0 --in sector.bin
 *
 * Data unit i of the input gets DUN D + i. The input must be whole data units
 * of the slot. With --out, the result appears only if everything succeeded.
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
#include "exit_status.h"
#include "ice_cmd.h"
#include "log.h"
#include "sandbox.h"

#define ICE_CMD_CHUNK (256 * 1024) /* a multiple of every data unit size */

static const char ice_usage[] =
	"Usage: icevmm ice encrypt|decrypt --keys KEYS --slot N --dun D [--in FILE] [--out FILE]\n"
	"       icevmm ice derive --raw-key FILE --keys-out KEYS ... (icevmm ice derive --help)\n"
	"Encrypt or decrypt data units with a keyslot of an ICE keys file, exactly as the\n"
	"VIRTIO_BLK_F_ICE disk does: data unit i of the input uses DUN D + i.\n"
	"\n"
	"  --keys KEYS            the keys file (the same file as --disk ...,ice=KEYS)\n"
	"  --slot N               keyslot number\n"
	"  --dun D                data unit number of the first unit (decimal or 0x hex)\n"
	"  --in FILE              input (default: stdin); whole data units of the slot\n"
	"  --out FILE             output (default: stdout); written only on success\n"
	"  --allow-insecure-keys  accept a keys file readable by group or others\n";

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9') /* no sign, no white space: strtoull would take them */
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

/* Read until buf is full or EOF; returns bytes read or -1. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Stream in -> engine -> out. Returns 0 or 1 (message printed). */
static int ice_cmd_run(struct ice_store *s, unsigned int slot, uint64_t dun, bool encrypt, int in,
		       int out, const char *in_name)
{
	uint8_t *buf = malloc(ICE_CMD_CHUNK);
	uint64_t total = 0;
	bool duns_left = true; /* false once a chunk ended at DUN 2^64 - 1 */
	uint32_t du = 0;
	ssize_t n;
	int rc = 1;

	if (!buf) {
		pr_err("ice: out of memory");
		return 1;
	}
	while ((n = read_full(in, buf, ICE_CMD_CHUNK)) > 0) {
		du = duns_left ? ice_check(s, slot, dun, (uint64_t)n) : 0;
		if (!du)
			break;
		if (ice_crypt(s, slot, dun, buf, (size_t)n, encrypt)) {
			pr_err("ice: %s failed", encrypt ? "encryption" : "decryption");
			goto out;
		}
		if (write_full(out, buf, (size_t)n)) {
			pr_err("ice: writing the output: %s", strerror(errno));
			goto out;
		}
		total += (uint64_t)n;
		/* The chunk's last DUN was checked to fit; the next one may not exist. */
		if (dun + ((uint64_t)n / du - 1) == UINT64_MAX)
			duns_left = false;
		dun += (uint64_t)n / du;
	}
	if (n < 0) {
		pr_err("ice: reading %s: %s", in_name, strerror(errno));
		goto out;
	}
	if (n > 0) { /* ice_check refused this chunk: say exactly why */
		if (!duns_left)
			pr_err("ice: the data unit numbers would pass 2^64 - 1");
		else if (slot >= ice_max_slots(s))
			pr_err("ice: slot %u is not below max_slots (%u)", slot, ice_max_slots(s));
		else if (!ice_slot_du(s, slot))
			pr_err("ice: slot %u has no key in the keys file", slot);
		else if ((uint64_t)n % ice_slot_du(s, slot))
			pr_err("ice: %s is not a whole number of slot %u's %u-byte data units "
			       "(%llu bytes)",
			       in_name, slot, ice_slot_du(s, slot),
			       (unsigned long long)(total + (uint64_t)n));
		else
			pr_err("ice: the data unit numbers would pass 2^64 - 1");
		goto out;
	}
	if (total == 0) {
		pr_err("ice: %s is empty", in_name);
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(buf, ICE_CMD_CHUNK); /* plaintext */
	free(buf);
	return rc;
}

int ice_cmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "slot", required_argument, NULL, 's' },
		{ "dun", required_argument, NULL, 'd' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "allow-insecure-keys", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keys = NULL, *in_path = NULL, *out_path = NULL;
	uint64_t slot = UINT64_MAX, dun = 0;
	bool have_dun = false, insecure = false, encrypt;
	char tmp_path[4096];
	struct ice_store *s;
	int c, in = 0, out = 1, rc;

	if (argc > 1 && !strcmp(argv[1], "derive"))
		return ice_derive_main(argc - 1, argv + 1);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keys = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &slot) || slot > 254) {
				pr_err("ice: --slot '%s': expected 0 to 254", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (parse_u64(optarg, &dun)) {
				pr_err("ice: --dun '%s': expected a 64-bit number", optarg);
				return EXIT_USAGE;
			}
			have_dun = true;
			break;
		case 'i':
			in_path = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'A':
			insecure = true;
			break;
		case 'h':
			fputs(ice_usage, stdout);
			return 0;
		default:
			pr_err("ice: unknown option or missing value: '%s'", argv[optind - 1]);
			fputs(ice_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc ||
	    (strcmp(argv[optind], "encrypt") && strcmp(argv[optind], "decrypt")) || !keys ||
	    slot == UINT64_MAX || !have_dun) {
		pr_err("ice: need encrypt or decrypt, --keys, --slot and --dun");
		fputs(ice_usage, stderr);
		return EXIT_USAGE;
	}
	encrypt = !strcmp(argv[optind], "encrypt");
	sandbox_no_dump(); /* before the keys file is read */
	s = calloc(1, sizeof(*s));
	if (!s || ice_store_load_file(s, keys, insecure)) {
		free(s);
		return EXIT_VMM_ERROR;
	}
	rc = EXIT_VMM_ERROR;
	if (in_path && (in = open(in_path, O_RDONLY | O_CLOEXEC)) < 0) {
		pr_err("ice: %s: %s", in_path, strerror(errno));
		goto out;
	}
	if (out_path) {
		snprintf(tmp_path, sizeof(tmp_path), "%s.XXXXXX", out_path);
		out = mkstemp(tmp_path);
		if (out < 0) {
			pr_err("ice: %s: %s", out_path, strerror(errno));
			goto out;
		}
	}
	rc = ice_cmd_run(s, (unsigned int)slot, dun, encrypt, in, out, in_path ? in_path : "stdin");
	if (out_path) {
		if (close(out) || (rc == 0 && rename(tmp_path, out_path))) {
			pr_err("ice: %s: %s", out_path, strerror(errno));
			rc = EXIT_VMM_ERROR;
		}
		if (rc)
			unlink(tmp_path);
	}
out:
	if (in_path && in >= 0)
		close(in);
	ice_store_free(s);
	free(s);
	return rc;
}
