// SPDX-License-Identifier: GPL-2.0
/*
 * Results. A passing run powers off through PSCI SYSTEM_OFF (icevmm exits
 * 0); a failing one writes its failure count to icevmm's debug-exit device
 * (a 32-bit store of N to 0x0901_0000 makes icevmm exit with 64 + (N & 63);
 * README.md, "The debug-exit device"). Either way the host needs no console
 * parsing to know the verdict.
 */
#include <stdarg.h>

#include "io.h"
#include "report.h"
#include "uart.h"

#define DEBUG_EXIT_BASE 0x09010000UL
#define DEBUG_EXIT_MAX 63 /* icevmm keeps N & 63: 64 failures must not read as 0 */
#define PSCI_0_2_FN_SYSTEM_OFF 0x84000008U

static unsigned int checks, failures;

static void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool is_long = false;

		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		if (*++fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			uart_puts(va_arg(ap, const char *));
			break;
		case 'u':
			uart_putdec(is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int));
			break;
		case 'x':
			uart_puthex(is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int));
			break;
		case '\0':
			return;
		default:
			uart_putc(*fmt);
			break;
		}
	}
}

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	uart_puts(ok ? "ICE-SELFTEST ok: " : "ICE-SELFTEST FAIL: ");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	uart_puts("\n");
	return ok;
}

/* PSCI 0.2 SYSTEM_OFF over HVC (KVM implements it). */
static void psci_system_off(void)
{
	/* Set x0 right at the asm: a local register variable does not survive calls. */
	register uint64_t x0 asm("x0") = PSCI_0_2_FN_SYSTEM_OFF;

	asm volatile("hvc #0" : "+r"(x0) : : "memory");
}

void report_finish(void)
{
	uart_puts(failures ? "ICE-SELFTEST FAIL " : "ICE-SELFTEST PASS ");
	uart_putdec(failures ? failures : checks);
	uart_puts("/");
	uart_putdec(checks);
	uart_puts("\n");
	if (failures)
		writel(failures < DEBUG_EXIT_MAX ? failures : DEBUG_EXIT_MAX, DEBUG_EXIT_BASE);
	/* Passed (or no debug-exit device): power off. */
	psci_system_off();
	for (;;)
		asm volatile("wfi");
}

void exception_fatal(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far)
{
	check(false, "exception vector %lu ESR_EL1 %lx ELR_EL1 %lx FAR_EL1 %lx", vector, esr, elr,
	      far);
	report_finish();
}
