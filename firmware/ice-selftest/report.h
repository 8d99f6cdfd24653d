/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Check results: one console line per check, a summary line, and the
 * failure count as icevmm's exit status (debug-exit: 64 + failures).
 */
#ifndef ICE_SELFTEST_REPORT_H
#define ICE_SELFTEST_REPORT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Count one check and print "ICE-SELFTEST ok: ..." or "ICE-SELFTEST FAIL: ...".
 * fmt knows %s, %u, %x, %lu, %lx (hex with 0x). Returns ok.
 */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the summary; failures exit through debug-exit, a pass powers off (PSCI SYSTEM_OFF). */
void report_finish(void) __attribute__((noreturn));

/* From the exception vectors (vectors.S): report the exception and finish. */
void exception_fatal(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far)
	__attribute__((noreturn));

#endif
