// SPDX-License-Identifier: GPL-2.0
/*
 * The main thread's event loop. vCPU threads do the guest's work; this thread
 * waits for: host input for the guest's UART, SIGINT/SIGTERM/SIGHUP (through a
 * signalfd, so no async-signal-safety puzzles), the --timeout deadline, and
 * the stop eventfd written by vm_stop(). Then it ends the run: see run_join().
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "exit_status.h"
#include "log.h"
#include "run.h"

static sigset_t handled_signals;

int run_block_signals(void)
{
	sigemptyset(&handled_signals);
	sigaddset(&handled_signals, SIGINT);
	sigaddset(&handled_signals, SIGTERM);
	sigaddset(&handled_signals, SIGHUP);
	/* Threads created later inherit the mask, so only the signalfd sees these. */
	if (pthread_sigmask(SIG_BLOCK, &handled_signals, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN); /* stdout closed: lose output, keep running */
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Host input waiting for room in the UART's RX FIFO. */
struct pending_input {
	uint8_t buf[512];
	size_t off, len;
};

static void feed_uart(struct serial *uart, struct pending_input *p)
{
	p->off += serial_rx_push(uart, p->buf + p->off, p->len - p->off);
	if (p->off == p->len)
		p->off = p->len = 0;
}

static void read_stdin(struct vm *vm, struct console_input *ci, struct pending_input *p,
		       bool *stdin_open)
{
	uint8_t raw[sizeof(p->buf) / 2];
	bool quit;
	ssize_t n = read(STDIN_FILENO, raw, sizeof(raw));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		*stdin_open = false; /* EOF (e.g. </dev/null in CI): the guest just gets no input */
		return;
	}
	p->len = console_filter(ci, raw, (size_t)n, p->buf, &quit);
	p->off = 0;
	if (quit) {
		console_restore();
		pr_info("quit (Ctrl-A x)");
		vm_stop(vm, EXIT_GUEST_POWEROFF);
	}
}

/* One pending SIGINT/SIGTERM/SIGHUP from the signalfd, or 0. */
static int read_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* Leave now, without the vCPUs: they are blocked where no kick reaches. */
static void __attribute__((noreturn)) run_abandon(int status)
{
	console_restore();
	console_flush(0);
	/*
	 * _exit, not exit: no atexit handlers or device teardown racing the
	 * vCPU threads that still use the devices. A thread blocked in the
	 * kernel (uninterruptible I/O) keeps the process from being reaped
	 * until that I/O returns; everything else ends here.
	 */
	_exit(status);
}

/*
 * The stop policy (README.md, "Stopping"): kick every vCPU and wait for the
 * threads, while still reading the signalfd. A vCPU ends its current exit
 * (an MMIO access, a device request) before it sees the stop, and a request
 * on a slow disk can take long, so:
 *  - a SIGINT/SIGTERM/SIGHUP during the wait ends icevmm at once, with
 *    128 + that signal;
 *  - after RUN_STOP_GRACE_MS without every vCPU back, icevmm says so and
 *    ends with the status the stop asked for.
 * Either way a vCPU's unfinished request is lost, as in a power cut: the
 * guest never saw it complete.
 */
static void run_join(struct vm *vm, int sfd)
{
	int64_t give_up = now_ms() + RUN_STOP_GRACE_MS;
	unsigned int running;

	vm_kick_vcpus(vm);
	for (;;) {
		struct timespec slice;
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		int sig;

		clock_gettime(CLOCK_REALTIME, &slice);
		slice.tv_nsec += 50 * 1000000; /* check for signals every 50 ms */
		if (slice.tv_nsec >= 1000000000) {
			slice.tv_sec++;
			slice.tv_nsec -= 1000000000;
		}
		running = vm_join_vcpus_until(vm, &slice);
		if (!running)
			return;
		if (poll(&pfd, 1, 0) > 0 && (sig = read_signal(sfd))) {
			pr_info("signal %d while waiting for %u vCPU(s) to stop: exiting now", sig,
				running);
			run_abandon(EXIT_SIGNAL_BASE + sig);
		}
		if (now_ms() >= give_up) {
			pr_info("%u vCPU(s) still busy %d ms after the stop (blocked in I/O?): "
				"exiting without them",
				running, RUN_STOP_GRACE_MS);
			run_abandon(vm->exit_status);
		}
	}
}

void run_main_loop(struct vm *vm, struct serial *uart, unsigned int timeout_s)
{
	int64_t deadline = timeout_s ? now_ms() + (int64_t)timeout_s * 1000 : 0;
	struct console_input ci = { 0 };
	struct pending_input pending = { .len = 0 };
	bool stdin_open = true;
	int sfd = signalfd(-1, &handled_signals, SFD_CLOEXEC);

	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		console_restore();
		vm_join_vcpus(vm);
		return;
	}
	while (!atomic_load(&vm->stopping)) {
		struct pollfd fds[3] = {
			{ .fd = vm->stop_fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		/* Don't read more input while the UART still holds back the last batch. */
		nfds_t nfds = (stdin_open && !pending.len) ? 3 : 2;
		int wait = -1;

		if (pending.len)
			wait = 10; /* the guest drains its FIFO; retry soon */
		if (deadline) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				pr_info("--timeout %u s expired; stopping the guest", timeout_s);
				vm_report_vcpus(vm);
				vm_stop(vm, EXIT_TIMEOUT);
				break;
			}
			if (wait < 0 || left < wait)
				wait = (int)left;
		}
		if (poll(fds, nfds, wait) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			vm_stop(vm, EXIT_VMM_ERROR);
			break;
		}
		if (fds[1].revents & POLLIN) {
			int sig = read_signal(sfd);

			if (sig) {
				pr_info("stopping on signal %d", sig);
				vm_stop(vm, EXIT_SIGNAL_BASE + sig);
			}
		}
		if (nfds == 3 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
			read_stdin(vm, &ci, &pending, &stdin_open);
		if (pending.len)
			feed_uart(uart, &pending);
	}
	/* The terminal first: whatever the join does, the user gets a sane one back. */
	console_restore();
	run_join(vm, sfd);
	close(sfd);
}
