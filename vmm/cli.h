/* SPDX-License-Identifier: GPL-2.0 */
/* icevmm's command line: parsed into a vmm_config, checked before anything runs. */
#ifndef ICEVMM_CLI_H
#define ICEVMM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../devices/blk_fault.h"

#define ICEVMM_VERSION "0.1.0"

#define VMM_DEFAULT_MEM (256ULL << 20)
#define VMM_MIN_MEM (16ULL << 20)
#define VMM_MAX_MEM (512ULL << 30)
#define VMM_MAX_CPUS 64
#define VMM_DEFAULT_CMDLINE "console=ttyS0 earlycon panic=-1"

#define VMM_MAX_DISKS 8
#define VMM_SERIAL_MAX 20 /* virtio-blk GET_ID returns at most 20 bytes */

struct vmm_disk {
	const char *path;
	bool ro;
	const char *serial;	      /* NULL: none */
	bool ice;		      /* an inline crypto engine (VIRTIO_BLK_F_ICE) */
	const char *ice_keys;	      /* its keys file; NULL: the default engine, or no ICE */
	unsigned int ice_spec;	      /* the draft it speaks: 2 (the default) or 4 */
	unsigned int block;	      /* block=N: its logical block size; 0: the default */
	enum blk_key_fault key_fault; /* fault=lose-program|break-queue|fail-reprogram */
	bool many_queues;	      /* fault=many-queues: claim 65535 request queues */
};

struct vmm_config {
	const char *kernel;
	const char *initrd;  /* NULL: none */
	const char *cmdline; /* VMM_DEFAULT_CMDLINE unless --cmdline */
	const char *dump_dtb;
	const char *dump_acpi;
	uint64_t mem_bytes;
	unsigned int cpus;
	unsigned int timeout_s; /* 0: no timeout */
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned int ndisks;
	bool allow_insecure_keys; /* accept keys files readable by group/others */
	bool boot_timer;	  /* add the boot-timer doorbell */
	bool no_seccomp;	  /* --no-seccomp: no sandbox (vmm/sandbox.c) */
	bool seccomp_selftest;	  /* make one forbidden call once the sandbox is on */
};

enum cli_result {
	CLI_RUN,  /* cfg is filled in: boot the guest */
	CLI_DONE, /* --help or --version printed: exit 0 */
	CLI_ERROR /* message printed to err: exit EXIT_USAGE */
};

/* Parse argv; messages go to out (help, version) or err (errors). */
enum cli_result cli_parse(int argc, char **argv, struct vmm_config *cfg, FILE *out, FILE *err);

/*
 * Parse a --disk value "PATH[,ro][,serial=STR][,ice[=KEYS][,spec=v2|v4]]" into d. The string is
 * modified (split at commas). Returns NULL or an error message.
 */
const char *cli_parse_disk(char *arg, struct vmm_disk *d);

/* "256M", "1G", "512K" or a plain number of MiB (as QEMU's -m); 0 on error. */
uint64_t cli_parse_size(const char *s);

#endif
