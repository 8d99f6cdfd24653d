/* SPDX-License-Identifier: GPL-2.0 */
/* Polled output on icevmm's 16550A console UART. */
#ifndef ICE_SELFTEST_UART_H
#define ICE_SELFTEST_UART_H

#include <stdint.h>

void uart_putc(char c);
void uart_puts(const char *s);
void uart_puthex(uint64_t v);
void uart_putdec(uint64_t v);

#endif
