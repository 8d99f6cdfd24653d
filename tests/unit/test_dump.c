// SPDX-License-Identifier: GPL-2.0
/* --dump-dtb and --dump-acpi: the files written, and the refusals. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/dump.h"
#include "unit.h"

static char tmp[64], errtxt[1024];

static void setup(void)
{
	strcpy(tmp, "/tmp/icevmm-dump-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

/* Runs f with stderr in errtxt. */
#define CAPTURE_STDERR(expr)                                                                       \
	({                                                                                         \
		int saved = dup(2), fd = open(tmp, O_TMPFILE | O_RDWR, 0600), r_;                  \
		ssize_t n_;                                                                        \
		fflush(stderr);                                                                    \
		dup2(fd, 2);                                                                       \
		r_ = (expr);                                                                       \
		fflush(stderr);                                                                    \
		dup2(saved, 2);                                                                    \
		close(saved);                                                                      \
		n_ = pread(fd, errtxt, sizeof(errtxt) - 1, 0);                                     \
		errtxt[n_ > 0 ? n_ : 0] = '\0';                                                    \
		close(fd);                                                                         \
		r_;                                                                                \
	})

static size_t slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	ck_assert_msg(f != NULL, "%s missing", path);
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static const struct boot_blobs acpi = {
	.b = { { "RSDP", "rsd ptr", 7 },
	       { "XSDT", "xsdt!", 5 },
	       { "FACP", "facp", 4 },
	       { "APIC", "apic..", 6 },
	       { "DSDT", "dsdt-aml", 8 } },
	.n = 5,
};
static const struct boot_blobs dt = { .b = { { "dtb", "\xd0\x0d\xfe\xed", 4 } }, .n = 1 };

START_TEST(acpi_tables_to_files)
{
	static const char *const files[] = { "rsdp", "xsdt", "facp", "apic", "dsdt" };
	char path[128], got[64];

	snprintf(path, sizeof(path), "%s/out", tmp); /* created */
	ck_assert_int_eq(dump_acpi(path, &acpi), 0);
	ck_assert_int_eq(dump_acpi(path, &acpi), 0); /* exists already: overwritten */
	for (unsigned int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/out/%s.dat", tmp, files[i]);
		ck_assert_uint_eq(slurp(path, got, sizeof(got)), acpi.b[i].size);
		ck_assert(!memcmp(got, acpi.b[i].data, acpi.b[i].size));
	}
}
END_TEST

START_TEST(dtb_to_file)
{
	char path[128], got[16];

	snprintf(path, sizeof(path), "%s/guest.dtb", tmp);
	ck_assert_int_eq(dump_dtb(path, &dt), 0);
	ck_assert_uint_eq(slurp(path, got, sizeof(got)), 4);
	ck_assert(!memcmp(got, "\xd0\x0d\xfe\xed", 4));
	ck_assert_ptr_eq(boot_blob_find(&dt, "dtb"), &dt.b[0]);
	ck_assert_ptr_null(boot_blob_find(&acpi, "dtb"));
}
END_TEST

/* Each option is refused clearly on the architecture that has no such description. */
START_TEST(refusals)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/acpi", tmp);
	ck_assert_int_eq(CAPTURE_STDERR(dump_acpi(path, &dt)), -1);
	ck_assert_msg(strstr(errtxt, "--dump-acpi: this guest has no ACPI tables"), "%s", errtxt);
	ck_assert_int_ne(stat(path, &st), 0); /* nothing created */

	snprintf(path, sizeof(path), "%s/x.dtb", tmp);
	ck_assert_int_eq(CAPTURE_STDERR(dump_dtb(path, &acpi)), -1);
	ck_assert_msg(strstr(errtxt, "--dump-dtb: this guest has no device tree"), "%s", errtxt);
	ck_assert_int_ne(stat(path, &st), 0);

	/* A directory that cannot be made, a file that cannot be written */
	snprintf(path, sizeof(path), "%s/no/such/dir", tmp);
	ck_assert_int_eq(CAPTURE_STDERR(dump_acpi(path, &acpi)), -1);
	ck_assert_ptr_nonnull(strstr(errtxt, "cannot create"));
	ck_assert_int_eq(CAPTURE_STDERR(dump_dtb(tmp, &dt)), -1); /* a directory */
	ck_assert_ptr_nonnull(strstr(errtxt, "cannot write the device tree"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("dump");
	TCase *tc = tcase_create("dump");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, acpi_tables_to_files);
	tcase_add_test(tc, dtb_to_file);
	tcase_add_test(tc, refusals);
	suite_add_tcase(s, tc);
	return s;
}
