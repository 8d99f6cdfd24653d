/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --dump-dtb and --dump-acpi: the machine description the arch built for the
 * guest (struct boot_blobs, arch/arch.h), written to files as the guest would
 * read it.
 */
#ifndef ICEVMM_DUMP_H
#define ICEVMM_DUMP_H

#include "../arch/arch.h"

/* The blob named name, or NULL. */
const struct boot_blob *boot_blob_find(const struct boot_blobs *blobs, const char *name);

/* Writes the "dtb" blob to path. 0, or -1 with a message (also when there is none). */
int dump_dtb(const char *path, const struct boot_blobs *blobs);

/*
 * Writes every ACPI table (a blob named by a 4-character signature) to
 * dir/<signature in lower case>.dat (rsdp.dat, xsdt.dat, facp.dat, apic.dat,
 * dsdt.dat: what `iasl -d` reads), creating dir if it does not exist. 0, or
 * -1 with a message (also when there are none).
 */
int dump_acpi(const char *dir, const struct boot_blobs *blobs);

#endif
