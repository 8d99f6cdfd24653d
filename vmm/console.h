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

/* Raw mode if stdin is a terminal; registers the restore with atexit(). */
void console_init(void);
void console_restore(void);
/* Guest → host: one byte to stdout. Signature fits serial's tx hook. */
void console_tx(void *ctx, uint8_t byte);

/*
 * Filter host input through the escape state machine: copies the bytes meant
 * for the guest to out (room for 2 * n bytes) and returns their count; sets
 * *quit when Ctrl-A x was typed (bytes after it are dropped).
 */
size_t console_filter(struct console_input *ci, const uint8_t *in, size_t n, uint8_t *out,
		      bool *quit);

#endif
