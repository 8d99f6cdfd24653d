// SPDX-License-Identifier: GPL-2.0
/* Host terminal handling for the guest console; see console.h. */
#include <errno.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

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
	/*
	 * A closed stdout loses guest output; the guest must not notice. No
	 * retry on EINTR: the only signal a vCPU thread takes is the stop kick,
	 * and a stuck stdout reader must not keep icevmm from stopping.
	 */
	if (write(STDOUT_FILENO, &byte, 1) < 0)
		return;
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
