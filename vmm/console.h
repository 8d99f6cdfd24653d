/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of the guest console: stdin/stdout. A terminal on stdin is put
 * in raw mode (so Ctrl-C, arrows etc. reach the guest) and restored on every
 * exit path; Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A to the guest.
 */
#ifndef ICEVMM_CONSOLE_H
#define ICEVMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct console_input {
	bool escape_pending;
};

/* Guest output icevmm holds while stdout is slow; more is dropped. */
#define CONSOLE_OUT_RING (64 * 1024)

/*
 * First thing in main(): a standard stream a supervisor closed (`icevmm
 * <&-`) gets /dev/null, so no fd icevmm opens later takes its number (the
 * run loop would read its signalfd as console input, the console write
 * guest output into a KVM fd). Returns 0, or -1 if /dev/null cannot be
 * opened (then there is no stderr to say so).
 */
int console_stdio_open(void);
/*
 * Before the vCPUs start: raw mode if stdin is a terminal (the restore is
 * registered with atexit()), the guest-output writer thread, and a
 * non-blocking stderr if it is a pipe (log lines never block a thread).
 */
void console_init(void);
/* Safe to call more than once, and before console_init(). */
void console_restore(void);
/*
 * Guest → host: one byte towards stdout. Never blocks on stdout: the byte
 * goes into a ring that a writer thread drains; when the ring is full the
 * byte is dropped. The writer hands stdout whole lines, so icevmm's messages
 * on the same terminal or file never land inside a guest line; a partial
 * line goes out after 50 ms without a new byte. Signature fits serial's tx
 * hook.
 */
void console_tx(void *ctx, uint8_t byte);
/*
 * At the end of a run: wait up to timeout_ms for the writer to hand every
 * queued byte to stdout, a partial last line included (from now on nothing
 * is held back). Returns false if it could not (stdout not being read); says
 * how many bytes were lost, if any.
 */
bool console_flush(unsigned int timeout_ms);

/*
 * Filter host input through the escape state machine: copies the bytes meant
 * for the guest to out (room for 2 * n bytes) and returns their count; sets
 * *quit when Ctrl-A x was typed (bytes after it are dropped).
 */
size_t console_filter(struct console_input *ci, const uint8_t *in, size_t n, uint8_t *out,
		      bool *quit);

#endif
