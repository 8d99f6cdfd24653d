// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing. Every option is checked here so a bad value never reaches KVM. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "strict_num.h"

static const char usage_text[] =
	"Usage: icevmm --kernel PATH [options]\n"
	"       icevmm ice encrypt|decrypt --keys KEYS --slot N --dun D [--in F] [--out F]\n"
	"Boot a Linux guest on KVM (of the host's architecture: arm64 or x86_64); or run the\n"
	"ICE engine offline ('icevmm ice --help').\n"
	"\n"
	"  -k, --kernel PATH     the Linux kernel to boot (required): an arm64 Image\n"
	"                        (uncompressed), or an x86_64 bzImage\n"
	"  -i, --initrd PATH     initial ramdisk (cpio archive)\n"
	"  -c, --cmdline STR     kernel command line\n"
	"                        (default: \"" VMM_DEFAULT_CMDLINE "\"; on x86_64 it\n"
	"                        follows icevmm's \"pci=off 8250.nr_uarts=1\")\n"
	"  -m, --mem SIZE        guest RAM: 256M, 1G, ... or a number of MiB (default 256M)\n"
	"  -n, --cpus N          number of vCPUs (default 1)\n"
	"  -d, --disk PATH[,ro][,serial=STR][,block=N][,ice[=KEYS][,spec=v2|v4]]\n"
	"             [,fault=lose-program|break-queue|fail-reprogram|many-queues]\n"
	"                        a virtio-blk disk on a raw image file (repeatable, up to 8;\n"
	"                        the guest sees vda, vdb, ...); ro: read-only;\n"
	"                        serial: up to 20 bytes for GET_ID; block: the logical\n"
	"                        block size (512, 1024, 2048 or 4096; default 512, or an ICE\n"
	"                        disk's largest data unit); ice: an inline crypto\n"
	"                        engine (VIRTIO_BLK_F_ICE), of one of two kinds:\n"
	"                        ice: guest-programmed: the default engine (AES-256-XTS,\n"
	"                        data units 512 to 4096, 32 slots), every slot empty; the\n"
	"                        guest loads and evicts keys through the key queue;\n"
	"                        ice=KEYS: host-provisioned: the [slot N] keys of keys file\n"
	"                        KEYS, loaded at start-up; no key queue (a keys file with\n"
	"                        no [slot N] describes an engine for the guest to program)\n"
	"                        spec: the draft the disk speaks: v2 (the default;\n"
	"                        VIRTIO_BLK_F_ICE) or v4 (keys on a control queue, Linux\n"
	"                        7.3's driver; guest-programmed, AES-256-XTS)\n"
	"                        fault= tests a driver's recovery (guest-programmed disks):\n"
	"                        lose-program: the first PROGRAM on the key or control\n"
	"                        queue is never completed, until the guest resets the\n"
	"                        device; break-queue: it is completed with a used-ring id\n"
	"                        out of range (a broken virtqueue); fail-reprogram: after\n"
	"                        the first reset that follows a PROGRAM, the next PROGRAM\n"
	"                        (the driver restoring its keys) fails with IOERR;\n"
	"                        many-queues: the disk claims 65535 request queues\n"
	"                        (VIRTIO_BLK_F_MQ) and has one (tests what a driver\n"
	"                        allocates); one key-command fault, with many-queues or not\n"
	"      --allow-insecure-keys\n"
	"                        accept keys files readable by group or others\n"
	"  -t, --timeout SECS    stop the guest after SECS seconds (exit status 4)\n"
	"      --dump-dtb FILE   write the guest's device tree (arm64) to FILE and exit\n"
	"      --dump-acpi DIR   write the guest's ACPI tables (x86_64) to DIR/<table>.dat\n"
	"                        (rsdp, xsdt, facp, apic, dsdt) and exit\n"
	"      --boot-timer      log icevmm's wall and CPU time when the guest rings the\n"
	"                        boot-timer doorbell (arm64 0x0902_0000, x86_64 0xd000_1000)\n"
	"      --no-seccomp      run without the seccomp sandbox (for debugging)\n"
	"      --seccomp-selftest\n"
	"                        test aid: make one forbidden system call (socket) once\n"
	"                        the sandbox is on; icevmm must then exit with status 1\n"
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"Console: the guest's serial port is on stdin/stdout; Ctrl-A x quits.\n"
	"Exit status: 0 guest powered off, 1 icevmm error, 2 usage error,\n"
	"3 guest reset, 4 timeout, 5 guest crash, 64+N guest wrote N to debug-exit,\n"
	"128+S killed by signal S.\n";

enum {
	OPT_DUMP_DTB = 256,
	OPT_DUMP_ACPI,
	OPT_ALLOW_INSECURE_KEYS,
	OPT_BOOT_TIMER,
	OPT_NO_SECCOMP,
	OPT_SECCOMP_SELFTEST
};

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ "disk", required_argument, NULL, 'd' },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "dump-acpi", required_argument, NULL, OPT_DUMP_ACPI },
	{ "allow-insecure-keys", no_argument, NULL, OPT_ALLOW_INSECURE_KEYS },
	{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "seccomp-selftest", no_argument, NULL, OPT_SECCOMP_SELFTEST },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

uint64_t cli_parse_size(const char *s)
{
	unsigned long long v;
	uint64_t shift = 20; /* no suffix: MiB */
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return 0;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			return 0;
		}
		if (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
			return 0;
	}
	if (v > (UINT64_MAX >> shift))
		return 0;
	return (uint64_t)v << shift;
}

const char *cli_parse_disk(char *arg, struct vmm_disk *d)
{
	char *opt, *save = NULL;

	memset(d, 0, sizeof(*d));
	d->path = strtok_r(arg, ",", &save);
	if (!d->path || arg[0] == ',')
		return "expected PATH[,ro][,serial=STR][,block=N][,ice[=KEYS][,spec=v2|v4]]"
		       "[,fault=lose-program|break-queue|fail-reprogram|many-queues]";
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "ro")) {
			d->ro = true;
		} else if (!strncmp(opt, "serial=", 7)) {
			d->serial = opt + 7;
			if (strlen(d->serial) > VMM_SERIAL_MAX)
				return "serial= takes at most 20 bytes";
		} else if (!strncmp(opt, "block=", 6)) {
			if (d->block)
				return "give block= once";
			if (strcmp(opt + 6, "512") && strcmp(opt + 6, "1024") &&
			    strcmp(opt + 6, "2048") && strcmp(opt + 6, "4096"))
				return "block= takes 512, 1024, 2048 or 4096";
			d->block = (unsigned int)strtoul(opt + 6, NULL, 10);
		} else if (!strcmp(opt, "ice") || !strncmp(opt, "ice=", 4)) {
			/* ice alone: the default engine (no keys file), programmed by the guest */
			if (d->ice)
				return "give ice or ice=KEYS once";
			if (opt[3] && !opt[4])
				return "ice= needs a keys file (or give ice alone for the default "
				       "engine)";
			d->ice = true;
			d->ice_keys = opt[3] ? opt + 4 : NULL;
		} else if (!strncmp(opt, "spec=", 5)) {
			if (d->ice_spec)
				return "give spec= once";
			if (strcmp(opt + 5, "v2") && strcmp(opt + 5, "v4"))
				return "spec= takes v2 or v4";
			d->ice_spec = opt[6] - '0';
		} else if (!strncmp(opt, "fault=", 6)) {
			if (!strcmp(opt + 6, "many-queues")) {
				d->many_queues = true;
				continue;
			}
			if (d->key_fault != BLK_FAULT_NONE)
				return "give one of fault=lose-program, break-queue or "
				       "fail-reprogram";
			if (!strcmp(opt + 6, "lose-program"))
				d->key_fault = BLK_FAULT_LOSE_PROGRAM;
			else if (!strcmp(opt + 6, "break-queue"))
				d->key_fault = BLK_FAULT_BREAK_QUEUE;
			else if (!strcmp(opt + 6, "fail-reprogram"))
				d->key_fault = BLK_FAULT_FAIL_REPROGRAM;
			else
				return "fault= takes lose-program, break-queue, fail-reprogram or "
				       "many-queues";
		} else {
			return "unknown disk option (expected ro, serial=STR, block=N, ice, "
			       "ice=KEYS, spec=v2|v4 or fault=NAME)";
		}
	}
	if (d->ice_spec && !d->ice)
		return "spec= is the ICE draft the disk speaks: give it with ice or ice=KEYS";
	if (!d->ice_spec && d->ice)
		d->ice_spec = 2;
	if (d->key_fault != BLK_FAULT_NONE && !d->ice)
		return "fault=lose-program, break-queue and fail-reprogram are faults of the ICE's "
		       "key commands: give them with ice";
	return NULL;
}

enum cli_result cli_parse(int argc, char **argv, struct vmm_config *cfg, FILE *out, FILE *err)
{
	long v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = VMM_DEFAULT_MEM;
	cfg->cpus = 1;
	cfg->cmdline = VMM_DEFAULT_CMDLINE;

	optind = 0; /* glibc: full re-initialisation, so the parser can run twice (tests) */
	opterr = 0; /* we print our own messages */
	while ((c = getopt_long(argc, argv, ":k:i:c:m:n:t:d:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			cfg->kernel = optarg;
			break;
		case 'i':
			cfg->initrd = optarg;
			break;
		case 'c':
			cfg->cmdline = optarg;
			break;
		case 'm':
			cfg->mem_bytes = cli_parse_size(optarg);
			if (cfg->mem_bytes < VMM_MIN_MEM || cfg->mem_bytes > VMM_MAX_MEM ||
			    cfg->mem_bytes % (2ULL << 20)) {
				fprintf(err,
					"icevmm: --mem '%s': expected a size from 16M to 512G, a "
					"multiple of 2M (e.g. 256M, 1G)\n",
					optarg);
				return CLI_ERROR;
			}
			break;
		case 'n':
			v = strict_decimal(optarg, 1, VMM_MAX_CPUS);
			if (v < 0) {
				fprintf(err,
					"icevmm: --cpus '%s': expected a number from 1 to %d\n",
					optarg, VMM_MAX_CPUS);
				return CLI_ERROR;
			}
			cfg->cpus = (unsigned int)v;
			break;
		case 't':
			v = strict_decimal(optarg, 1, INT_MAX / 1000);
			if (v < 0) {
				fprintf(err,
					"icevmm: --timeout '%s': expected whole seconds, "
					"at least 1\n",
					optarg);
				return CLI_ERROR;
			}
			cfg->timeout_s = (unsigned int)v;
			break;
		case 'd': {
			const char *why;
			char *copy;

			if (cfg->ndisks == VMM_MAX_DISKS) {
				fprintf(err, "icevmm: --disk: at most %d disks\n", VMM_MAX_DISKS);
				return CLI_ERROR;
			}
			/* A copy to split at commas; it lives as long as the config. */
			copy = strdup(optarg);
			why = copy ? cli_parse_disk(copy, &cfg->disks[cfg->ndisks])
				   : "out of memory";
			if (why) {
				fprintf(err, "icevmm: --disk '%s': %s\n", optarg, why);
				free(copy);
				return CLI_ERROR;
			}
			cfg->ndisks++;
			break;
		}
		case OPT_DUMP_DTB:
			cfg->dump_dtb = optarg;
			break;
		case OPT_DUMP_ACPI:
			cfg->dump_acpi = optarg;
			break;
		case OPT_ALLOW_INSECURE_KEYS:
			cfg->allow_insecure_keys = true;
			break;
		case OPT_BOOT_TIMER:
			cfg->boot_timer = true;
			break;
		case OPT_NO_SECCOMP:
			cfg->no_seccomp = true;
			break;
		case OPT_SECCOMP_SELFTEST:
			cfg->seccomp_selftest = true;
			break;
		case 'h':
			fputs(usage_text, out);
			return CLI_DONE;
		case 'V':
			fputs("icevmm " ICEVMM_VERSION "\n", out);
			return CLI_DONE;
		case ':':
			fprintf(err, "icevmm: option '%s' needs a value\n", argv[optind - 1]);
			fputs("Try 'icevmm --help'.\n", err);
			return CLI_ERROR;
		default:
			fprintf(err, "icevmm: unknown option '%s'\n", argv[optind - 1]);
			fputs("Try 'icevmm --help'.\n", err);
			return CLI_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(err, "icevmm: unexpected argument '%s'\nTry 'icevmm --help'.\n",
			argv[optind]);
		return CLI_ERROR;
	}
	if (!cfg->kernel) {
		fputs("icevmm: --kernel PATH is required\nTry 'icevmm --help'.\n", err);
		return CLI_ERROR;
	}
	return CLI_RUN;
}
