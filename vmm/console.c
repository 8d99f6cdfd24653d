// SPDX-License-Identifier: GPL-2.0
/* Host terminal handling for the guest console; see console.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "log.h"

/*
 * Guest output: vCPU threads put bytes into this ring, one writer thread
 * copies them to stdout. A stdout nobody reads then blocks only the writer;
 * when the ring is full, further bytes are dropped (and counted), so a vCPU
 * never waits for the host's reader and a stop never waits for a vCPU stuck
 * in write(2).
 *
 * The writer hands stdout whole lines. icevmm's own messages go to stderr
 * from whichever thread has something to say, and stderr is usually the
 * same terminal, pipe or file as stdout: a guest line written in two pieces
 * could get one of them in its middle ("ICE-SELFTEST ok: disk 0: host-pro"
 * "icevmm: ..." "visioned"), which a person cannot read and a test cannot
 * match. A partial line waits for its newline, a full chunk, the final
 * flush, or CONSOLE_LINE_WAIT_MS with no new byte (a shell prompt, a
 * progress bar); each write(2) of up to a chunk is atomic with respect to
 * stderr's on a pipe or regular file.
 */
#define CONSOLE_WRITER_STACK (256 * 1024)
#define CONSOLE_CHUNK 4096	/* ≤ PIPE_BUF: one write(2) is never split */
#define CONSOLE_LINE_WAIT_MS 50 /* what a typed character's echo may wait */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;	/* writer: bytes arrived (CLOCK_MONOTONIC) */
	pthread_cond_t drained; /* console_flush: ring empty, nothing in write(2) */
	uint8_t buf[CONSOLE_OUT_RING];
	size_t head, len;
	bool busy;     /* the writer holds bytes taken from the ring */
	bool flushing; /* the run is ending: partial lines are held no more */
	bool started;
	unsigned long dropped;
	pthread_t thread;
} tx_ring = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.drained = PTHREAD_COND_INITIALIZER,
};

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* closed or broken stdout: the output is lost, the guest runs on */
		p += w;
		n -= (size_t)w;
	}
}

static uint8_t ring_at(size_t i)
{
	return tx_ring.buf[(tx_ring.head + i) % sizeof(tx_ring.buf)];
}

/*
 * How many of the ring's bytes the writer may take now (lock held): up to a
 * chunk, ending with a newline unless a whole chunk has none or the run is
 * ending; 0 if only a partial line is queued.
 */
static size_t ring_ready(void)
{
	size_t n = tx_ring.len < CONSOLE_CHUNK ? tx_ring.len : CONSOLE_CHUNK;

	if (tx_ring.flushing || n == CONSOLE_CHUNK)
		return n;
	while (n && ring_at(n - 1) != '\n')
		n--;
	return n;
}

/* An absolute time ms from now on clock clk, for pthread_cond_timedwait. */
static struct timespec deadline_in(clockid_t clk, unsigned int ms)
{
	struct timespec t;

	clock_gettime(clk, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Lock held: has no byte arrived in CONSOLE_LINE_WAIT_MS? */
static bool partial_line_idle(void)
{
	size_t seen = tx_ring.len;
	struct timespec t = deadline_in(CLOCK_MONOTONIC, CONSOLE_LINE_WAIT_MS);

	/* console_tx signals on a newline; any other byte only restarts the wait. */
	return pthread_cond_timedwait(&tx_ring.more, &tx_ring.lock, &t) == ETIMEDOUT &&
	       tx_ring.len == seen;
}

static void *console_writer(void *arg)
{
	uint8_t chunk[CONSOLE_CHUNK];
	size_t i, n;

	(void)arg;
	pthread_mutex_lock(&tx_ring.lock);
	for (;;) {
		while (!tx_ring.len) {
			tx_ring.busy = false;
			pthread_cond_broadcast(&tx_ring.drained);
			pthread_cond_wait(&tx_ring.more, &tx_ring.lock);
		}
		n = ring_ready();
		if (!n) {
			if (!partial_line_idle())
				continue;
			n = tx_ring.len; /* a partial line, shorter than a chunk */
		}
		for (i = 0; i < n; i++)
			chunk[i] = ring_at(i);
		tx_ring.head = (tx_ring.head + n) % sizeof(tx_ring.buf);
		tx_ring.len -= n;
		tx_ring.busy = true;
		pthread_mutex_unlock(&tx_ring.lock);
		write_all(STDOUT_FILENO, chunk, n); /* may block for ever: only this thread waits */
		pthread_mutex_lock(&tx_ring.lock);
	}
	return NULL;
}

static void console_out_start(void)
{
	pthread_condattr_t mono;
	pthread_attr_t attr;
	sigset_t all, old;

	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&tx_ring.more, &mono);
	pthread_condattr_destroy(&mono);

	/*
	 * A small stack: it needs a 4 KiB chunk and a write(2). And a stack
	 * under 2 MiB can never be backed by a transparent huge page, which
	 * the default 8 MiB one is when it lands right below the 2 MiB-aligned
	 * guest RAM (2 MiB of RSS for a thread that uses a few KiB).
	 */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CONSOLE_WRITER_STACK);
	/*
	 * The writer takes no signals (the kick and the signalfd are for
	 * others) but SIGSYS: the kernel delivers a seccomp trap on a thread
	 * that blocks it as the default action, and the process would die
	 * with no line (vmm/sandbox.c). The fault signals likewise.
	 */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	tx_ring.started = !pthread_create(&tx_ring.thread, &attr, console_writer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (tx_ring.started)
		pthread_detach(tx_ring.thread);
}

/*
 * icevmm's own messages go to stderr with plain write(2)s. If stderr is a
 * pipe or FIFO, give this process its own non-blocking open file description
 * of it (reopening /proc/self/fd/2 leaves the one shared with the parent
 * alone): a log line to a reader that has stopped reading is dropped instead
 * of stopping the thread that logs it, the main thread included. Terminals
 * and regular files are left as they are.
 */
static void log_nonblocking(void)
{
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	dup2(fd, STDERR_FILENO);
	close(fd);
}

int console_stdio_open(void)
{
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free number: this one, as the ones below are open. */
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

static struct termios saved_termios;
static bool termios_saved;

void console_restore(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	termios_saved = false;
}

void console_init(void)
{
	struct termios raw;

	log_nonblocking();
	console_out_start();
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return; /* CI: stdin is /dev/null, a pipe or a file; nothing to change */
	termios_saved = true;
	atexit(console_restore);
	raw = saved_termios;
	cfmakeraw(&raw);
	/* Keep output post-processing so icevmm's own messages start a fresh line. */
	raw.c_oflag |= OPOST;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
}

void console_tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	if (!tx_ring.started) {
		/* No writer thread (it could not be created): write directly. */
		write_all(STDOUT_FILENO, &byte, 1);
		return;
	}
	pthread_mutex_lock(&tx_ring.lock);
	if (tx_ring.len < sizeof(tx_ring.buf)) {
		tx_ring.buf[(tx_ring.head + tx_ring.len) % sizeof(tx_ring.buf)] = byte;
		/* Wake the writer for a first byte, or for the end of a line it holds. */
		if (tx_ring.len++ == 0 || byte == '\n')
			pthread_cond_signal(&tx_ring.more);
	} else {
		tx_ring.dropped++;
	}
	pthread_mutex_unlock(&tx_ring.lock);
}

bool console_flush(unsigned int timeout_ms)
{
	struct timespec deadline;
	unsigned long dropped;
	bool done;

	if (!tx_ring.started)
		return true;
	deadline = deadline_in(CLOCK_REALTIME, timeout_ms); /* `drained` is on the default clock */
	pthread_mutex_lock(&tx_ring.lock);
	tx_ring.flushing = true;
	pthread_cond_signal(&tx_ring.more);
	while ((tx_ring.len || tx_ring.busy) &&
	       pthread_cond_timedwait(&tx_ring.drained, &tx_ring.lock, &deadline) != ETIMEDOUT)
		;
	done = !tx_ring.len && !tx_ring.busy;
	dropped = tx_ring.dropped + (done ? 0 : tx_ring.len);
	pthread_mutex_unlock(&tx_ring.lock);
	if (dropped)
		pr_info("%lu bytes of guest console output were dropped: stdout was not being read",
			dropped);
	return done;
}

size_t console_filter(struct console_input *ci, const uint8_t *in, size_t n, uint8_t *out,
		      bool *quit)
{
	size_t i, o = 0;

	*quit = false;
	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (!ci->escape_pending) {
			if (c == CONSOLE_ESCAPE)
				ci->escape_pending = true;
			else
				out[o++] = c;
			continue;
		}
		ci->escape_pending = false;
		if (c == 'x' || c == 'X') {
			*quit = true;
			break;
		}
		if (c != CONSOLE_ESCAPE)
			out[o++] = CONSOLE_ESCAPE; /* not a command: pass both through */
		out[o++] = c;
	}
	return o;
}
