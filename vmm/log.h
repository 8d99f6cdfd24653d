/* SPDX-License-Identifier: GPL-2.0 */
/* One-line messages to stderr, prefixed with the program name. Never pass key material. */
#ifndef ICEVMM_LOG_H
#define ICEVMM_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define pr_err(fmt, ...) fprintf(stderr, "icevmm: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...) fprintf(stderr, "icevmm: " fmt "\n", ##__VA_ARGS__)

/*
 * Messages a guest can trigger at will are rate-limited (a burst of 5 per
 * 5 s per call site), so a hostile guest cannot flood the host's logs. The
 * windows are on CLOCK_MONOTONIC: a wall clock stepped backwards would
 * silence a call site until it caught up, and time(2) is a system call the
 * sandbox does not allow where there is no vDSO (clock_gettime it does).
 */
struct log_ratelimit {
	int64_t window; /* CLOCK_MONOTONIC seconds the current window began */
	unsigned int count;
};

static inline bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	struct timespec ts;
	int64_t now, start = __atomic_load_n(&rl->window, __ATOMIC_RELAXED);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec;
	if (now - start >= 5 && __atomic_compare_exchange_n(&rl->window, &start, now, false,
							    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		__atomic_store_n(&rl->count, 0, __ATOMIC_RELAXED);
	return __atomic_fetch_add(&rl->count, 1, __ATOMIC_RELAXED) < 5;
}

#define pr_guest(fmt, ...)                                                                         \
	do {                                                                                       \
		static struct log_ratelimit __rl;                                                  \
		if (log_ratelimit_ok(&__rl))                                                       \
			pr_info(fmt, ##__VA_ARGS__);                                               \
	} while (0)

#endif
