// SPDX-License-Identifier: GPL-2.0
/*
 * Reading keys files (devices/ice_keyread.c): key text never leaves icevmm's
 * memory unwiped, on the error paths too. The test links with
 * -Wl,--wrap=read,--wrap=munmap: an armed read(2) of the keys file returns
 * part of it and then fails (a file that shrank, a disk error), and munmap(2)
 * records whether the pages it is handed still hold anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "../../devices/ice_keyread.h"
#include "unit.h"

ssize_t __real_read(int fd, void *buf, size_t len);
int __real_munmap(void *addr, size_t len);
ssize_t __wrap_read(int fd, void *buf, size_t len);
int __wrap_munmap(void *addr, size_t len);

static size_t read_then_fail; /* armed: bytes the first read returns, then EIO */
static bool read_failed;
static unsigned int unmaps, dirty_unmaps; /* munmap calls, and those of non-zero pages */

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	if (!read_then_fail)
		return __real_read(fd, buf, len);
	if (read_failed) {
		errno = EIO;
		return -1;
	}
	read_failed = true;
	return __real_read(fd, buf, len < read_then_fail ? len : read_then_fail);
}

int __wrap_munmap(void *addr, size_t len)
{
	const unsigned char *p = addr;

	unmaps++;
	for (size_t i = 0; i < len; i++) {
		if (p[i]) {
			dirty_unmaps++;
			break;
		}
	}
	return __real_munmap(addr, len);
}

/* A private keys file with a key in it; its path in path. */
static void keys_file(char *path, size_t size)
{
	static const char text[] = "[disk0]\n"
				   "slot 0 = aes-256-xts "
				   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1"
				   "f"
				   "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3"
				   "f\n";
	FILE *f;
	int fd;

	strcpy(path, "/tmp/icevmm-keyread-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_le(size, sizeof(text) - 1);
	ck_assert_uint_eq(fwrite(text, 1, size, f), size);
	ck_assert_int_eq(fclose(f), 0);
}

/* A read that fails half-way: refused, and the half already read wiped before unmapping. */
START_TEST(failed_read_wipes_what_it_read)
{
	struct ice_keys_text t;
	const char *why = NULL;
	char path[64];

	keys_file(path, 150);
	read_then_fail = 100;
	read_failed = false;
	unmaps = dirty_unmaps = 0;
	ck_assert_int_eq(ice_keys_text_read(path, false, &t, &why), -1);
	read_then_fail = 0;
	ck_assert(read_failed);
	ck_assert_str_eq(why, "read failed");
	ck_assert_ptr_null(t.buf);
	ck_assert_uint_eq(unmaps, 1);
	ck_assert_uint_eq(dirty_unmaps, 0);
	unlink(path);
}
END_TEST

/* The good path: the text whole and NUL-terminated; freeing wipes it before unmapping. */
START_TEST(read_and_free_wipe)
{
	struct ice_keys_text t;
	const char *why = NULL;
	char path[64];

	keys_file(path, 150);
	unmaps = dirty_unmaps = 0;
	ck_assert_int_eq(ice_keys_text_read(path, false, &t, &why), 0);
	ck_assert_uint_eq(t.len, 150);
	ck_assert_uint_eq(strlen(t.buf), 150);
	ck_assert(!strncmp(t.buf, "[disk0]\nslot 0 = aes-256-xts 0001", 33));
	ice_keys_text_free(&t);
	ck_assert_ptr_null(t.buf);
	ck_assert_uint_eq(unmaps, 1);
	ck_assert_uint_eq(dirty_unmaps, 0);
	unlink(path);
}
END_TEST

/* Group-readable: refused before anything is read or mapped. */
START_TEST(insecure_mode_refused)
{
	struct ice_keys_text t;
	const char *why = NULL;
	char path[64];

	keys_file(path, 150);
	ck_assert_int_eq(chmod(path, 0640), 0);
	unmaps = 0;
	ck_assert_int_eq(ice_keys_text_read(path, false, &t, &why), -1);
	ck_assert_str_eq(why, "readable by group or others: chmod 600 it (or pass "
			      "--allow-insecure-keys)");
	ck_assert_ptr_null(t.buf);
	ck_assert_uint_eq(unmaps, 0);
	unlink(path);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("keyread");
	TCase *tc = tcase_create("keys_text");

	tcase_add_test(tc, failed_read_wipes_what_it_read);
	tcase_add_test(tc, read_and_free_wipe);
	tcase_add_test(tc, insecure_mode_refused);
	suite_add_tcase(s, tc);
	return s;
}
