// SPDX-License-Identifier: GPL-2.0
/*
 * The seccomp sandbox, loaded for real in a child process: what the run loop
 * needs goes through (threads included), a forbidden call ends the process
 * with status 1 and exactly one line naming the call and the thread.
 *
 * qemu-user cannot load seccomp filters (the arm64 unit run on an x86 host):
 * there each test says so and passes; the system tests cover arm64 in the rig.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../vmm/sandbox.h"
#include "unit.h"

#define NO_SECCOMP_HERE 77 /* the child's status when no filter could be loaded */

struct child_result {
	int status; /* exit status, or 128 + signal */
	char err[512];
};

/* Run fn in a child with stderr on a pipe; the filter is loaded first (vm may be NULL). */
static void run_child(void (*fn)(void), const struct vm *vm, bool selftest, struct child_result *r)
{
	struct vmm_config cfg = { .seccomp_selftest = selftest };
	int pipefd[2], ws;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (sandbox_enter(vm, &cfg))
			_exit(NO_SECCOMP_HERE);
		if (fn)
			fn();
		_exit(0);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], r->err + len, sizeof(r->err) - 1 - len)) > 0)
		len += (size_t)n;
	r->err[len] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static bool seccomp_unavailable(const struct child_result *r)
{
	if (r->status != NO_SECCOMP_HERE || !strstr(r->err, "icevmm: seccomp: "))
		return false;
	printf("no seccomp here (qemu-user?), not tested: %s", r->err);
	return true;
}

static void expect_trap(const struct child_result *r, const char *line)
{
	if (seccomp_unavailable(r))
		return;
	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->err, line);
}

START_TEST(selftest_socket_is_refused)
{
	char want[128];
	struct child_result r;

	snprintf(want, sizeof(want),
		 "icevmm: seccomp: forbidden system call socket (%d) in the main thread\n",
		 SCMP_SYS(socket));
	run_child(NULL, NULL, true, &r);
	expect_trap(&r, want);
}
END_TEST

/*
 * What a run needs: threads (glibc's clone3 -> clone fallback), malloc, I/O,
 * poll, join. The pipe comes from before the filter, like every fd icevmm uses.
 */
static int work_fds[2];
static char scratch[4096] __attribute__((aligned(4096)));

static void *worker(void *arg)
{
	int *fds = arg;
	char *big = malloc(4 << 20); /* mmap'd; a new malloc arena for this thread */
	char *small[64];

	for (unsigned int i = 0; i < 64; i++)
		small[i] = malloc(100 + i);
	big[0] = 1;
	if (write(fds[1], "x", 1) != 1)
		abort();
	for (unsigned int i = 0; i < 64; i++)
		free(small[i]);
	free(big);
	return NULL;
}

static void allowed_work(void)
{
	pthread_t t[2];
	struct pollfd p = { .fd = work_fds[0], .events = POLLIN };
	char c;

	for (unsigned int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, work_fds))
			_exit(5);
	for (unsigned int i = 0; i < 2; i++) {
		if (poll(&p, 1, 5000) != 1 || read(work_fds[0], &c, 1) != 1)
			_exit(6);
	}
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (fdatasync(STDERR_FILENO) && errno != EINVAL)
		_exit(7);
	/* malloc's way of giving pages back, and a wrapped key's random bytes */
	if (madvise(scratch, sizeof(scratch), MADV_DONTNEED) || getrandom(scratch, 16, 0) != 16)
		_exit(8);
	close(work_fds[0]);
	close(work_fds[1]);
}

START_TEST(run_time_calls_are_allowed)
{
	struct child_result r;

	ck_assert_int_eq(pipe(work_fds), 0);
	run_child(allowed_work, NULL, false, &r);
	close(work_fds[0]);
	close(work_fds[1]);
	if (seccomp_unavailable(&r))
		return;
	ck_assert_str_eq(r.err, "");
	ck_assert_int_eq(r.status, 0);
}
END_TEST

/* A forbidden call from a vCPU thread names the vCPU. */
static struct vcpu fake_vcpus[2];
static struct vm fake_vm = { .ncpus = 2, .vcpus = fake_vcpus };
static atomic_bool go;

static void *vcpu1_body(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		sched_yield();
	socket(AF_UNIX, SOCK_STREAM, 0);
	return NULL;
}

static void forbidden_in_vcpu1(void)
{
	fake_vcpus[0].thread = pthread_self() + 1; /* not this thread */
	if (pthread_create(&fake_vcpus[1].thread, NULL, vcpu1_body, NULL))
		_exit(5);
	atomic_store(&go, true);
	pthread_join(fake_vcpus[1].thread, NULL);
}

START_TEST(forbidden_call_names_the_vcpu)
{
	char want[128];
	struct child_result r;

	snprintf(want, sizeof(want),
		 "icevmm: seccomp: forbidden system call socket (%d) in vCPU 1\n",
		 SCMP_SYS(socket));
	run_child(forbidden_in_vcpu1, &fake_vm, false, &r);
	expect_trap(&r, want);
}
END_TEST

/* Calls allowed only with some arguments, and calls with no caller at run time. */
static void exec_mapping(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void file_mapping(void)
{
	mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, STDERR_FILENO, 0);
}

static void make_exec(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	mprotect(page, sizeof(page), PROT_READ | PROT_EXEC);
}

static void do_fork(void)
{
	if (fork() == 0)
		_exit(0);
}

static void create_vm(void)
{
	ioctl(STDIN_FILENO, KVM_CREATE_VM, 0);
}

/* arm64's NISV path needs it; on x86 it would inject NMIs and exceptions */
static void set_vcpu_events(void)
{
	ioctl(STDIN_FILENO, KVM_SET_VCPU_EVENTS, NULL);
}

static void madvise_dofork(void)
{
	madvise(scratch, sizeof(scratch), MADV_DOFORK);
}

static void getrandom_nonblock(void)
{
	getrandom(scratch, 16, GRND_NONBLOCK);
}

static void do_readv(void)
{
	struct iovec iov = { scratch, 1 };

	readv(STDIN_FILENO, &iov, 1);
}

static void do_fsync(void)
{
	fsync(STDERR_FILENO);
}

static void do_nanosleep(void)
{
	struct timespec ts = { 0, 1 };

	nanosleep(&ts, NULL);
}

static void open_file(void)
{
	open("/etc/passwd", O_RDONLY);
}

/* A signal to another process (the test's own; signal 0 sends nothing if allowed). */
static pid_t other_pid;

static void signal_other_process(void)
{
	syscall(SYS_tgkill, other_pid, other_pid, 0);
}

START_TEST(arguments_are_checked)
{
	static const struct {
		void (*fn)(void);
		int nr;
		const char *name;
	} cases[] = {
		{ exec_mapping, SCMP_SYS(mmap), "mmap" },
		{ file_mapping, SCMP_SYS(mmap), "mmap" },
		{ make_exec, SCMP_SYS(mprotect), "mprotect" },
		{ do_fork, SCMP_SYS(clone), "clone" },
		{ create_vm, SCMP_SYS(ioctl), "ioctl" }, /* the request is named: below */
		{ open_file, SCMP_SYS(openat), "openat" },
		{ signal_other_process, SCMP_SYS(tgkill), "tgkill" },
		{ madvise_dofork, SCMP_SYS(madvise), "madvise" },
		{ getrandom_nonblock, SCMP_SYS(getrandom), "getrandom" },
		{ do_readv, SCMP_SYS(readv), "readv" },
		{ do_fsync, SCMP_SYS(fsync), "fsync" },
		/* glibc's nanosleep is clock_nanosleep */
		{ do_nanosleep, SCMP_SYS(clock_nanosleep), "clock_nanosleep" },
#if defined(__x86_64__)
		{ set_vcpu_events, SCMP_SYS(ioctl), "ioctl" },
#endif
	};

	other_pid = getpid(); /* the children's parent */
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128], what[32] = "";
		struct child_result r;

		/* An ioctl's request is named, and openat's path. */
		if (cases[i].fn == create_vm || cases[i].fn == set_vcpu_events)
			snprintf(what, sizeof(what), "request 0x%x ",
				 cases[i].fn == create_vm ? (unsigned int)KVM_CREATE_VM
							  : (unsigned int)KVM_SET_VCPU_EVENTS);
		else if (cases[i].fn == open_file)
			snprintf(what, sizeof(what), "of /etc/passwd ");
		snprintf(want, sizeof(want),
			 "icevmm: seccomp: forbidden system call %s (%d) %sin the main thread\n",
			 cases[i].name, cases[i].nr, what);
		run_child(cases[i].fn, NULL, false, &r);
		expect_trap(&r, want);
	}
}
END_TEST

/* The number of seccomp filters on this thread (a container may have one already). */
static int filter_count(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp_filters: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* --no-seccomp: no filter, and the self-test's socket() goes through. */
START_TEST(no_seccomp_loads_nothing)
{
	struct vmm_config cfg = { .no_seccomp = true, .seccomp_selftest = true };
	int before = filter_count();

	ck_assert_int_eq(sandbox_enter(NULL, &cfg), 0);
	ck_assert_int_eq(filter_count(), before);
}
END_TEST

/* Non-dumpable once a process may hold keys; again is harmless. */
START_TEST(no_dump_for_keys)
{
	ck_assert_int_eq(prctl(PR_SET_DUMPABLE, 1), 0);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), 1);
	sandbox_no_dump();
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), 0);
	sandbox_no_dump();
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, selftest_socket_is_refused);
	tcase_add_test(tc, run_time_calls_are_allowed);
	tcase_add_test(tc, forbidden_call_names_the_vcpu);
	tcase_add_test(tc, arguments_are_checked);
	tcase_add_test(tc, no_seccomp_loads_nothing);
	tcase_add_test(tc, no_dump_for_keys);
	suite_add_tcase(s, tc);
	return s;
}
