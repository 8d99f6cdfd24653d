// SPDX-License-Identifier: GPL-2.0
/* --dump-dtb and --dump-acpi. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dump.h"
#include "log.h"

const struct boot_blob *boot_blob_find(const struct boot_blobs *blobs, const char *name)
{
	for (unsigned int i = 0; i < blobs->n; i++) {
		if (!strcmp(blobs->b[i].name, name))
			return &blobs->b[i];
	}
	return NULL;
}

static int write_file(const char *path, const struct boot_blob *blob, const char *what)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(blob->data, 1, blob->size, f) == blob->size;

	if (f && fclose(f)) /* closes f whatever it returns */
		ok = false;
	if (!ok) {
		pr_err("%s: cannot write the %s: %s", path, what, strerror(errno));
		return -1;
	}
	return 0;
}

int dump_dtb(const char *path, const struct boot_blobs *blobs)
{
	const struct boot_blob *dtb = boot_blob_find(blobs, "dtb");

	if (!dtb) {
		pr_err("--dump-dtb: this guest has no device tree: its machine is described by "
		       "ACPI tables (--dump-acpi DIR writes them)");
		return -1;
	}
	return write_file(path, dtb, "device tree");
}

/* An ACPI table's signature: 4 characters, upper-case letters and digits. */
static bool is_acpi_signature(const char *name)
{
	if (strlen(name) != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9')))
			return false;
	}
	return true;
}

int dump_acpi(const char *dir, const struct boot_blobs *blobs)
{
	unsigned int i, written = 0;
	char path[4096];
	int len;

	for (i = 0; i < blobs->n; i++)
		written += is_acpi_signature(blobs->b[i].name);
	if (!written) {
		pr_err("--dump-acpi: this guest has no ACPI tables: its machine is described by a "
		       "device tree (--dump-dtb FILE writes it)");
		return -1;
	}
	if (mkdir(dir, 0777) && errno != EEXIST) {
		pr_err("--dump-acpi: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < blobs->n; i++) {
		const struct boot_blob *b = &blobs->b[i];
		char lower[5];

		if (!is_acpi_signature(b->name))
			continue;
		for (int c = 0; c < 5; c++)
			lower[c] = (char)(b->name[c] >= 'A' && b->name[c] <= 'Z' ? b->name[c] + 32
										 : b->name[c]);
		len = snprintf(path, sizeof(path), "%s/%s.dat", dir, lower);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			pr_err("--dump-acpi: %s: path too long", dir);
			return -1;
		}
		if (write_file(path, b, "ACPI table"))
			return -1;
	}
	return 0;
}
