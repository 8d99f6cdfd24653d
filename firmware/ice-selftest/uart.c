// SPDX-License-Identifier: GPL-2.0
/*
 * Polled 16550A transmitter at icevmm's fixed console address (README.md,
 * "The guest machine"). Byte-wide registers: THR at +0, LSR at +5. Every
 * access is a VM exit, so output is kept short by the callers.
 */
#include "io.h"
#include "uart.h"

#define UART_BASE 0x09000000UL
#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_SPIN_MAX 100000

void uart_putc(char c)
{
	unsigned int spins = 0;

	/* Bounded: a wedged UART must not hang the run before debug-exit. */
	while (!(readb(UART_BASE + UART_LSR) & UART_LSR_THRE) && ++spins < UART_SPIN_MAX)
		;
	writeb((uint8_t)c, UART_BASE + UART_THR);
}

void uart_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc('\r');
		uart_putc(*s);
	}
}

void uart_puthex(uint64_t v)
{
	char buf[19];
	int i = (int)sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	uart_puts(&buf[i]);
}

void uart_putdec(uint64_t v)
{
	char buf[21];
	int i = (int)sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	uart_puts(&buf[i]);
}
