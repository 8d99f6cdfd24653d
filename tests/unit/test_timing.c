// SPDX-License-Identifier: GPL-2.0
/*
 * The set-up phases --boot-timer reports (vmm/timing.c): each phase's own
 * length, in the order they ended, and a report that never overruns its
 * buffer.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/timing.h"
#include "unit.h"

static void assert_matches(const char *text, const char *pattern)
{
	regex_t re;

	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, text, 0, NULL, 0) == 0, "'%s' does not match %s", text, pattern);
	regfree(&re);
}

START_TEST(phases_in_order_each_its_own_length)
{
	char buf[256];
	double a, b;

	timing_start();
	timing_phase_done("files");
	usleep(20000);
	timing_phase_done("VM");
	timing_phases_format(buf, sizeof(buf));
	assert_matches(buf, "^files [0-9]+\\.[0-9] ms, VM [0-9]+\\.[0-9] ms$");
	ck_assert_int_eq(sscanf(buf, "files %lf ms, VM %lf ms", &a, &b), 2);
	ck_assert(a < 20.0);  /* from the start, not the sleep */
	ck_assert(b >= 19.9); /* the sleep is VM's alone */
}
END_TEST

START_TEST(more_phases_than_kept_and_a_short_buffer)
{
	char buf[24];
	unsigned int i;

	timing_start();
	for (i = 0; i < TIMING_MAX_PHASES + 3; i++)
		timing_phase_done("step");
	memset(buf, 'x', sizeof(buf));
	timing_phases_format(buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1); /* cut, terminated, no overrun */
	assert_matches(buf, "^step [0-9.]+ ms, step");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("timing");
	TCase *tc = tcase_create("phases");

	tcase_add_test(tc, phases_in_order_each_its_own_length);
	tcase_add_test(tc, more_phases_than_kept_and_a_short_buffer);
	suite_add_tcase(s, tc);
	return s;
}
