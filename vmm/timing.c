// SPDX-License-Identifier: GPL-2.0
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "timing.h"

static int64_t start_ns;
static _Atomic int64_t first_run_ns;

/* Written by the main thread before the vCPU threads exist; read after. */
static struct {
	const char *name;
	int64_t end_ns;
} phases[TIMING_MAX_PHASES];
static unsigned int nphases;

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void timing_start(void)
{
	start_ns = now_ns(CLOCK_MONOTONIC);
	nphases = 0;
}

void timing_phase_done(const char *phase)
{
	if (nphases < TIMING_MAX_PHASES)
		phases[nphases++] = (typeof(phases[0])){ phase, now_ns(CLOCK_MONOTONIC) };
}

void timing_first_run(void)
{
	int64_t zero = 0;

	if (!atomic_load_explicit(&first_run_ns, memory_order_relaxed))
		atomic_compare_exchange_strong(&first_run_ns, &zero, now_ns(CLOCK_MONOTONIC));
}

void timing_read(double *wall_ms, double *cpu_ms, double *first_run_ms)
{
	int64_t first = atomic_load(&first_run_ns);

	*wall_ms = (double)(now_ns(CLOCK_MONOTONIC) - start_ns) / 1e6;
	/* Process CPU time counts from exec, a hair before main(): close enough. */
	*cpu_ms = (double)now_ns(CLOCK_PROCESS_CPUTIME_ID) / 1e6;
	*first_run_ms = first ? (double)(first - start_ns) / 1e6 : -1;
}

void timing_phases_format(char *buf, size_t len)
{
	int64_t from = start_ns;
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < nphases && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s %.1f ms", i ? ", " : "",
				 phases[i].name, (double)(phases[i].end_ns - from) / 1e6);

		if (n < 0)
			break;
		used += (size_t)n;
		from = phases[i].end_ns;
	}
}
