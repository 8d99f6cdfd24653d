/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest test programs (icefs.c, icekey.c) share: hex and stdin
 * helpers (keys and key blobs travel between the test scripts and the kernel
 * as hex text or raw bytes on stdin, never on a command line where ps could
 * see them) and the subcommand dispatch.
 */
#ifndef ICEVMM_GUEST_CLI_H
#define ICEVMM_GUEST_CLI_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static inline int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2 * n hex digits; returns the byte count or -1. */
static inline long parse_hex(const char *s, size_t len, uint8_t *out, size_t max)
{
	size_t i;

	if (len % 2 || len / 2 > max)
		return -1;
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)i;
}

/* Reads all of stdin (at most max bytes; more is an error, EMSGSIZE). */
static inline long read_stdin(uint8_t *buf, size_t max)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return (long)n;
		n += (size_t)r;
		if (n > max) {
			errno = EMSGSIZE;
			return -1;
		}
	}
}

/*
 * Hex text on stdin (trailing newline or spaces allowed) into out: the byte
 * count, -1 with errno for a read error, -2 for text that is not hex or too
 * long. text must hold 2 * max + 2 bytes; it is wiped.
 */
static inline long read_hex_stdin(char *text, uint8_t *out, size_t max)
{
	long n = read_stdin((uint8_t *)text, 2 * max + 1);

	if (n < 0)
		return errno == EMSGSIZE ? -2 : -1;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	n = parse_hex(text, (size_t)n, out, max);
	memset(text, 0, 2 * max + 2);
	return n < 0 ? -2 : n;
}

/* Wipes a key buffer so that the compiler cannot drop the stores. */
static inline void wipe(void *p, size_t n)
{
	memset(p, 0, n);
	__asm__ volatile("" : : "r"(p) : "memory");
}

struct guest_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/*
 * PROG SUBCOMMAND ARGS...: runs the subcommand of cmds[0..n) named argv[1]
 * with the arguments after it, its name in *cmd_name; then stdout must
 * flush. usage() for anything else.
 */
static inline int guest_dispatch(const struct guest_cmd *cmds, size_t n, const char **cmd_name,
				 int (*usage)(void), int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return usage();
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			*cmd_name = cmds[i].name;
			ret = cmds[i].fn(argc - 2, argv + 2);
			if (fflush(stdout) != 0 && ret == 0) {
				fprintf(stderr, "%s: stdout: %s\n", argv[0], strerror(errno));
				ret = 1;
			}
			return ret;
		}
	}
	return usage();
}

#endif
