// SPDX-License-Identifier: GPL-2.0
/*
 * The seccomp sandbox (Documentation/userspace-api/seccomp_filter.rst, built
 * with libseccomp). Set-up opens every file, maps guest RAM and creates the VM
 * and its vCPUs; after that icevmm needs only a short list of system calls,
 * and a guest that found a bug in a device model should get no more than
 * that: no new files, sockets or processes, no executable memory, no KVM
 * ioctl that changes the machine's shape.
 *
 * Every call not in allow_list[] raises SIGSYS (SECCOMP_RET_TRAP); the
 * handler writes one line naming the call and the thread, and exits 1. The
 * names come from libseccomp, resolved into a static table before the filter
 * is loaded (the handler may not allocate: the trapped call may have been made
 * with malloc's lock held).
 *
 * Read/write-type calls are not restricted by file descriptor: no call that
 * opens a file is allowed once the filter is on (signalfd4 is the only one
 * that makes an fd, for the run loop's signals), so every fd these calls can
 * reach is one icevmm opened during set-up.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "console.h"
#include "exit_status.h"
#include "log.h"
#include "sandbox.h"

struct allow {
	int nr;		  /* SCMP_SYS(call): negative if this architecture lacks the call */
	const char *name; /* for messages */
	unsigned int nargs;
	struct scmp_arg_cmp args[2]; /* all must hold (libseccomp ANDs them) */
};

#define ARG_MASKED_EQ(n, mask, val)                                                                \
	{                                                                                          \
		.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (val)          \
	}
#define ALLOW(call)                                                                                \
	{                                                                                          \
		.nr = SCMP_SYS(call), .name = #call                                                \
	}
/* The kernel reads an ioctl request as 32 bits: compare only those. */
#define ALLOW_IOCTL(req)                                                                           \
	{                                                                                          \
		.nr = SCMP_SYS(ioctl), .name = "ioctl " #req, .nargs = 1, .args = {                \
			ARG_MASKED_EQ(1, 0xffffffffu, (req))                                       \
		}                                                                                  \
	}

#define CLONE_THREAD_FLAGS (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)

/*
 * Everything icevmm may do once the filter is on: one line per call, with
 * who needs it. To find what a change needs, run the system tests: a missing
 * call ends icevmm with "forbidden system call NAME"; with ICEVMM_SECCOMP_LOG=1
 * forbidden calls are only logged to the kernel log (dmesg) and allowed.
 *
 * The key queues (v2's key queue, v4's control queue) call libgcrypt at run
 * time: gcry_cipher_open, setkey and friends in the secure pool vmm/main.c
 * sized and locked at start-up for the worst case. That takes no system call
 * while the pool has room; a pool that had to grow would need mmap and mlock,
 * so the pool is sized up front instead of mlock being allowed.
 */
static const struct allow allow_list[] = {
	/*
	 * vCPU threads: enter the guest, and get the stop kick (vmm/vm.c). On
	 * x86 a KVM_EXIT_IO is handled in the kvm_run page like an MMIO exit:
	 * no call of its own.
	 */
	ALLOW_IOCTL(KVM_RUN),
	/* devices raise and lower their interrupt lines (arch_set_irq: the vGIC, or x86's GSIs) */
	ALLOW_IOCTL(KVM_IRQ_LINE),
#if defined(__aarch64__)
	/*
	 * arm64: a data abort for an access KVM cannot decode (vmm/vm.c's NISV
	 * exit). Not on x86, where it would let a compromised device model
	 * inject NMIs and exceptions.
	 */
	ALLOW_IOCTL(KVM_SET_VCPU_EVENTS),
#endif
	/* the console: isatty() and restoring the terminal (vmm/console.c) */
	ALLOW_IOCTL(TCGETS),
	ALLOW_IOCTL(TCSETS),
	ALLOW_IOCTL(TCSETSW),
	ALLOW_IOCTL(TCSETSF),
	/* console I/O, log lines, eventfd/signalfd reads (vmm/run.c, vmm/console.c) */
	ALLOW(read),
	ALLOW(write),
	ALLOW(writev), /* glibc's last words (a malloc check failing, an assert) */
	/* virtio-blk requests, write-zeroes fallback, FLUSH, DISCARD (devices/blk.c) */
	ALLOW(preadv),
	ALLOW(pwritev),
	ALLOW(pwrite64), /* write-zeroes without fallocate (devices/disk.c) */
	ALLOW(fdatasync),
	ALLOW(fallocate),
	/* the main loop: waiting, signals as a file, the --timeout clock (vmm/run.c) */
	ALLOW(poll),
	ALLOW(ppoll),
	ALLOW(signalfd4),
	ALLOW(clock_gettime), /* also when the vDSO falls back to the system call */
	/* stopping: kick vCPUs with pthread_kill, join them (vmm/vm.c) */
	/* tgkill: only to icevmm's own threads, a rule of its own in load_filter() */
	ALLOW(getpid),
	ALLOW(gettid),
	ALLOW(futex),
	ALLOW(rt_sigaction), /* the vCPU kick handler is set as the threads start */
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigreturn),
	ALLOW(restart_syscall),
	ALLOW(sched_yield),
	/* glibc threads: pthread_create (the vCPU threads start after the filter) */
	{ .nr = SCMP_SYS(clone),
	  .name = "clone (thread flags)",
	  .nargs = 1,
	  .args = { ARG_MASKED_EQ(0, CLONE_THREAD_FLAGS, CLONE_THREAD_FLAGS) } },
	ALLOW(set_robust_list),
	ALLOW(rseq),
	/* malloc and thread stacks: anonymous, never executable memory */
	{ .nr = SCMP_SYS(mmap),
	  .name = "mmap (anonymous, no PROT_EXEC)",
	  .nargs = 2,
	  .args = { ARG_MASKED_EQ(2, PROT_EXEC, 0),
		    ARG_MASKED_EQ(3, MAP_ANONYMOUS, MAP_ANONYMOUS) } },
	{ .nr = SCMP_SYS(mprotect),
	  .name = "mprotect (no PROT_EXEC)",
	  .nargs = 1,
	  .args = { ARG_MASKED_EQ(2, PROT_EXEC, 0) } },
	ALLOW(mremap),
	ALLOW(munmap),
	/* malloc giving back a thread arena's pages, a thread's stack cache */
	{ .nr = SCMP_SYS(madvise),
	  .name = "madvise (MADV_DONTNEED)",
	  .nargs = 1,
	  .args = { ARG_MASKED_EQ(2, ~0ULL, MADV_DONTNEED) } },
	ALLOW(brk),
	/* hardware-wrapped keys: GENERATE's keys, every blob's nonce (devices/ice_hwkey.c) */
	{ .nr = SCMP_SYS(getrandom),
	  .name = "getrandom (no flags)",
	  .nargs = 1,
	  .args = { ARG_MASKED_EQ(2, ~0ULL, 0) } },
	/* shutdown: blk_close, vm_destroy, exit */
	ALLOW(close),
	ALLOW(exit),
	ALLOW(exit_group),
};

/*
 * Names of the system calls, by number, for the SIGSYS handler: one pool of
 * NUL-terminated strings filled before the filter is loaded.
 */
#define NAMES_MAX 1024
static char name_pool[16384];
static uint16_t name_off[NAMES_MAX]; /* 0: unknown (the pool starts with "") */

static void names_init(void)
{
	size_t used = 1;
	int nr;

	name_pool[0] = '\0';
	for (nr = 0; nr < NAMES_MAX; nr++) {
		char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		size_t len = s ? strlen(s) + 1 : 0;

		if (s && used + len <= sizeof(name_pool)) {
			memcpy(name_pool + used, s, len);
			name_off[nr] = (uint16_t)used;
			used += len;
		}
		free(s);
	}
}

static const struct vm *sandbox_vm;
static pthread_t main_thread;

/* Async-signal-safe string building for the handler. */
static size_t put_str(char *buf, size_t pos, size_t cap, const char *s)
{
	while (*s && pos < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t put_num(char *buf, size_t pos, size_t cap, unsigned long v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && pos < cap)
		buf[pos++] = digits[--n];
	return pos;
}

static size_t put_hex(char *buf, size_t pos, size_t cap, unsigned long v)
{
	static const char hex[] = "0123456789abcdef";
	char digits[16];
	size_t n = 0;

	do {
		digits[n++] = hex[v & 15];
		v >>= 4;
	} while (v);
	pos = put_str(buf, pos, cap, "0x");
	while (n && pos < cap)
		buf[pos++] = digits[--n];
	return pos;
}

/* The second argument of the trapped call: for ioctl, the request. */
static bool trapped_arg1(const void *uc, unsigned long *arg)
{
	const ucontext_t *ctx = uc;

#if defined(__aarch64__)
	*arg = ctx->uc_mcontext.regs[1];
	return true;
#elif defined(__x86_64__)
	*arg = (unsigned long)ctx->uc_mcontext.gregs[REG_RSI];
	return true;
#else
	(void)ctx;
	(void)arg;
	return false;
#endif
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	const pthread_t self = pthread_self();
	const struct vm *vm = sandbox_vm;
	char msg[192];
	size_t n = 0, cap = sizeof(msg) - 1;
	int nr = si->si_syscall;
	unsigned long req;
	unsigned int i;

	(void)sig;
	console_restore(); /* tcsetattr: async-signal-safe */
	n = put_str(msg, n, cap, "icevmm: seccomp: forbidden system call ");
	n = put_str(msg, n, cap,
		    nr >= 0 && nr < NAMES_MAX && name_off[nr] ? name_pool + name_off[nr] : "?");
	n = put_str(msg, n, cap, " (");
	n = put_num(msg, n, cap, (unsigned long)(unsigned int)nr);
	n = put_str(msg, n, cap, ") ");
	if (nr == SCMP_SYS(ioctl) && trapped_arg1(uc, &req)) {
		n = put_str(msg, n, cap, "request ");
		n = put_hex(msg, n, cap, (unsigned int)req);
		n = put_str(msg, n, cap, " ");
	}
	/* Which file icevmm's own code (a library) wanted: the path, cut short. */
	if (nr == SCMP_SYS(openat) && trapped_arg1(uc, &req) && req) {
		char path[48];

		memccpy(path, (const char *)req, 0, sizeof(path) - 1);
		path[sizeof(path) - 1] = 0;
		n = put_str(msg, n, cap, "of ");
		n = put_str(msg, n, cap, path);
		n = put_str(msg, n, cap, " ");
	}
	n = put_str(msg, n, cap, "in ");
	if (pthread_equal(self, main_thread)) {
		n = put_str(msg, n, cap, "the main thread");
	} else {
		for (i = 0; vm && i < vm->ncpus; i++)
			if (pthread_equal(self, vm->vcpus[i].thread))
				break;
		if (vm && i < vm->ncpus) {
			n = put_str(msg, n, cap, "vCPU ");
			n = put_num(msg, n, cap, i);
		} else {
			n = put_str(msg, n, cap, "thread ");
			n = put_num(msg, n, cap, (unsigned long)syscall(SYS_gettid));
		}
	}
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, n) < 0)
		_exit(EXIT_VMM_ERROR);
	_exit(EXIT_VMM_ERROR);
}

static int install_sigsys_handler(void)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };
	sigset_t sys;

	sigfillset(&sa.sa_mask); /* nothing else runs on top of the report */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	/* A blocked SIGSYS would make the kernel kill icevmm without a word. */
	if (sigaction(SIGSYS, &sa, NULL) || pthread_sigmask(SIG_UNBLOCK, &sys, NULL)) {
		pr_err("seccomp: cannot handle SIGSYS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int load_filter(void)
{
	uint32_t deflt = getenv("ICEVMM_SECCOMP_LOG") ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx = seccomp_init(deflt);
	const char *what = "seccomp_init";
	size_t i;
	int err = -ENOMEM;

	if (!ctx)
		goto fail;
	/* Every thread that already exists, not only this one. */
	what = "filter attributes";
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!err) /* a binary search instead of a linear list of syscall numbers */
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/*
	 * glibc 2.34+ tries clone3 first and falls back to clone on ENOSYS only;
	 * clone3's flags live in memory, where a filter cannot look.
	 */
	if (!err) {
		what = "clone3";
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	}
	/* pthread_kill (the vCPU kicks) and raise: signals to our own threads only */
	if (!err) {
		what = "tgkill";
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	}
	for (i = 0; !err && i < sizeof(allow_list) / sizeof(allow_list[0]); i++) {
		const struct allow *a = &allow_list[i];

		if (a->nr < 0)
			continue; /* e.g. poll on arm64, which has only ppoll */
		what = a->name;
		err = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, a->nr, a->nargs, a->args);
	}
	if (!err) {
		what = "loading the filter";
		err = seccomp_load(ctx);
	}
	if (!err) {
		seccomp_release(ctx);
		return 0;
	}
fail:
	pr_err("seccomp: %s: %s (--no-seccomp runs without the sandbox)", what, strerror(-err));
	seccomp_release(ctx);
	return -1;
}

static void selftest(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	/* Reached only without a filter: with one, SIGSYS has ended icevmm. */
	pr_info("seccomp self-test: socket() was allowed (%s): no filter, or log mode",
		fd < 0 ? strerror(errno) : "got an fd");
	if (fd >= 0)
		close(fd);
}

/*
 * glibc's malloc opens files on two run-time paths, which the filter would
 * refuse: returning a thread arena's free top to the kernel reads
 * /proc/sys/vm/overcommit_memory (once a guest programs many ICE keys, the
 * key queue frees enough on a vCPU thread), and a ninth arena reads
 * /sys/devices/system/cpu/online to size the arena limit. A trim threshold
 * and an arena limit set now keep malloc off both paths. (Freed memory stays
 * in icevmm for reuse: its heap is small and bounded.)
 */
static int malloc_without_files(void)
{
	if (mallopt(M_TRIM_THRESHOLD, 1 << 30) != 1 || mallopt(M_ARENA_MAX, 8) != 1) {
		pr_err("seccomp: cannot tune malloc (mallopt failed)");
		return -1;
	}
	return 0;
}

void sandbox_no_dump(void)
{
	prctl(PR_SET_DUMPABLE, 0);
}

int sandbox_enter(const struct vm *vm, const struct vmm_config *cfg)
{
	if (!cfg->no_seccomp) {
		sandbox_vm = vm;
		main_thread = pthread_self();
		names_init();
		if (malloc_without_files() || install_sigsys_handler() || load_filter())
			return -1;
	}
	if (cfg->seccomp_selftest)
		selftest();
	return 0;
}
