// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-output path of the console (vmm/console.c): a stdout nobody
 * reads must never block the thread that emits guest output, and the final
 * flush gives up after its timeout.
 */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/console.h"
#include "unit.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* stdout becomes a pipe of 4 KiB whose reader is p[0]; returns p[0]. */
static int stdout_to_small_pipe(void)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
	ck_assert_int_eq(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[1]);
	return p[0];
}

START_TEST(full_stdout_never_blocks_tx)
{
	int rd = stdout_to_small_pipe();
	double t0;
	unsigned int i;

	console_init();
	t0 = now_s();
	/* 4 times the ring plus the pipe: all of it must return at once. */
	for (i = 0; i < 4 * CONSOLE_OUT_RING + 4096; i++)
		console_tx(NULL, 'x');
	ck_assert(now_s() - t0 < 1.0);
	t0 = now_s();
	ck_assert(!console_flush(200)); /* nobody reads: gives up */
	ck_assert(now_s() - t0 >= 0.19 && now_s() - t0 < 1.5);
	close(rd);
}
END_TEST

START_TEST(output_arrives_in_order)
{
	int rd = stdout_to_small_pipe();
	static const char msg[] = "hello, console\n";
	char buf[64] = { 0 };
	size_t i;

	console_init();
	for (i = 0; i < sizeof(msg) - 1; i++)
		console_tx(NULL, (uint8_t)msg[i]);
	ck_assert(console_flush(2000));
	ck_assert_int_eq(read(rd, buf, sizeof(buf)), (int)(sizeof(msg) - 1));
	ck_assert_str_eq(buf, msg);
	close(rd);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("output");

	tcase_add_test(tc, full_stdout_never_blocks_tx);
	tcase_add_test(tc, output_arrives_in_order);
	suite_add_tcase(s, tc);
	return s;
}
