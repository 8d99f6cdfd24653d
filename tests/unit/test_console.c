// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-output path of the console (vmm/console.c): a stdout nobody
 * reads must never block the thread that emits guest output, and the final
 * flush gives up after its timeout.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/console.h"
#include "../../vmm/log.h"
#include "unit.h"

/*
 * The rate limiter's clock: the test links with -Wl,--wrap=time,
 * --wrap=clock_gettime; CLOCK_MONOTONIC reads fake_mono while it is set,
 * and every time() call is counted.
 */
int __real_clock_gettime(clockid_t clk, struct timespec *ts);
time_t __real_time(time_t *t);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);
time_t __wrap_time(time_t *t);

static int64_t fake_mono = -1;
static unsigned int time_calls;

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk != CLOCK_MONOTONIC || fake_mono < 0)
		return __real_clock_gettime(clk, ts);
	ts->tv_sec = (time_t)fake_mono;
	ts->tv_nsec = 0;
	return 0;
}

time_t __wrap_time(time_t *t)
{
	time_calls++;
	return __real_time(t);
}

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

static void tx_str(const char *s, unsigned int gap_us)
{
	for (; *s; s++) {
		console_tx(NULL, (uint8_t)*s);
		if (gap_us)
			usleep(gap_us);
	}
}

/*
 * A guest line is never cut by icevmm's own messages on the same pipe: the
 * guest emits its line a byte every 200 µs (a slow console under nested
 * emulation) while another thread logs a line to stderr half-way through.
 * stdout and stderr are one pipe, as under `icevmm ... >log 2>&1`. The log
 * line comes out before the guest's, whole, and so does the guest's.
 */
START_TEST(log_line_never_lands_inside_a_guest_line)
{
	static const char log_line[] = "icevmm: a message from another thread\n";
	static const char want[] = "icevmm: a message from another thread\n"
				   "ICE-SELFTEST ok: disk 0: host-provisioned\n";
	char buf[256] = { 0 };
	int rd = stdout_to_small_pipe(), saved_err = dup(STDERR_FILENO);

	ck_assert_int_eq(dup2(STDOUT_FILENO, STDERR_FILENO), STDERR_FILENO);
	console_init();
	tx_str("ICE-SELFTEST ok: disk 0: host-pro", 200);
	ck_assert_int_eq(write(STDERR_FILENO, log_line, strlen(log_line)), (int)strlen(log_line));
	tx_str("visioned\n", 200);
	ck_assert(console_flush(2000));
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	ck_assert_int_eq(read(rd, buf, sizeof(buf) - 1), (int)strlen(want));
	ck_assert_str_eq(buf, want);
	close(rd);
}
END_TEST

/* A partial line (a prompt) is not held for ever: it goes out with no newline and no flush. */
START_TEST(partial_line_goes_out_when_the_guest_pauses)
{
	int rd = stdout_to_small_pipe();
	struct pollfd pfd = { .fd = rd, .events = POLLIN };
	char buf[64] = { 0 };

	console_init();
	tx_str("login: ", 0);
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert_int_eq(read(rd, buf, sizeof(buf) - 1), 7);
	ck_assert_str_eq(buf, "login: ");
	close(rd);
}
END_TEST

/* The threads of this process but the caller: up to max tids into tids; their count. */
static unsigned int other_threads(int *tids, unsigned int max)
{
	unsigned int n = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != (int)gettid() && n < max)
			tids[n++] = atoi(e->d_name);
	closedir(d);
	return n;
}

/* A thread's blocked-signal mask, from /proc/self/task/TID/status. */
static unsigned long long blocked_signals(int tid)
{
	unsigned long long blocked = ~0ULL;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &blocked) == 1)
			break;
	fclose(f);
	ck_assert_msg(blocked != ~0ULL, "no SigBlk line in %s", path);
	return blocked;
}

/*
 * The writer thread leaves SIGSYS unblocked: a seccomp trap on a thread that
 * blocks it kills icevmm with no line instead of reaching the sandbox's
 * handler (status 1 and the call named). The writer is the thread
 * console_init() adds (the test framework may run threads of its own).
 */
START_TEST(writer_takes_sigsys)
{
	int before[16], after[16], writer = 0, rd = stdout_to_small_pipe();
	unsigned int nb = other_threads(before, 16), na, i, j;

	console_init();
	/* Past pthread_create's own all-blocked start: the writer has written a byte. */
	console_tx(NULL, 'x');
	ck_assert(console_flush(2000));
	close(rd);
	na = other_threads(after, 16);
	ck_assert_uint_eq(na, nb + 1);
	for (i = 0; i < na && !writer; i++) {
		for (j = 0; j < nb && before[j] != after[i]; j++)
			;
		if (j == nb)
			writer = after[i];
	}
	ck_assert_int_ne(writer, 0);
	ck_assert_msg(!(blocked_signals(writer) & (1ULL << (SIGSYS - 1))),
		      "the writer blocks SIGSYS (SigBlk %llx)", blocked_signals(writer));
}
END_TEST

/*
 * pr_guest's limit: 5 lines per 5 s window of the monotonic clock, never
 * time(2) (a system call the sandbox refuses where there is no vDSO, and a
 * wall clock that can step backwards).
 */
START_TEST(ratelimit_windows_are_monotonic)
{
	struct log_ratelimit rl = { 0 };
	unsigned int i;

	time_calls = 0;
	fake_mono = 1000;
	for (i = 0; i < 5; i++)
		ck_assert(log_ratelimit_ok(&rl));
	ck_assert(!log_ratelimit_ok(&rl));
	fake_mono = 1004; /* the same window */
	ck_assert(!log_ratelimit_ok(&rl));
	fake_mono = 1005; /* a new one: 5 more */
	for (i = 0; i < 5; i++)
		ck_assert(log_ratelimit_ok(&rl));
	ck_assert(!log_ratelimit_ok(&rl));
	fake_mono = -1;
	ck_assert_uint_eq(time_calls, 0);
}
END_TEST

/*
 * Standard streams a supervisor closed get /dev/null, and open ones are left
 * alone: in a child with stdin and stdout closed, the next fd opened is above 2.
 */
START_TEST(closed_stdio_gets_dev_null)
{
	struct stat null_st, st;
	int ws, fd;
	pid_t pid;

	ck_assert_int_eq(stat("/dev/null", &null_st), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int p[2];

		/* stderr on a pipe (the test's own may be /dev/null), stdin and stdout closed */
		if (pipe(p) || dup2(p[1], STDERR_FILENO) < 0)
			_exit(9);
		close(p[0]);
		close(p[1]);
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		if (console_stdio_open())
			_exit(10);
		for (fd = STDIN_FILENO; fd <= STDOUT_FILENO; fd++)
			if (fstat(fd, &st) || st.st_rdev != null_st.st_rdev || !S_ISCHR(st.st_mode))
				_exit(11 + fd);
		if (fstat(STDERR_FILENO, &st) || !S_ISFIFO(st.st_mode))
			_exit(13); /* stderr was open: left alone */
		fd = open("/dev/null", O_RDONLY);
		_exit(fd > STDERR_FILENO ? 0 : 14);
	}
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert(WIFEXITED(ws));
	ck_assert_int_eq(WEXITSTATUS(ws), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("output");

	tcase_add_test(tc, full_stdout_never_blocks_tx);
	tcase_add_test(tc, output_arrives_in_order);
	tcase_add_test(tc, log_line_never_lands_inside_a_guest_line);
	tcase_add_test(tc, partial_line_goes_out_when_the_guest_pauses);
	tcase_add_test(tc, writer_takes_sigsys);
	tcase_add_test(tc, ratelimit_windows_are_monotonic);
	tcase_add_test(tc, closed_stdio_gets_dev_null);
	suite_add_tcase(s, tc);
	return s;
}
