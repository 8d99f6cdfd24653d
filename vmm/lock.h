/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request path's mutex: one futex word, taken and dropped inline.
 *
 * Why not pthread_mutex_t: glibc's lock and unlock are library calls that
 * look at the mutex's type before the atomic operation, about 55
 * instructions a pair, and a 4 KiB ICE request takes five pairs (the
 * transport's queue and register locks, the key store's pin lock, the key's
 * cipher lock). Inline, a pair is two atomic operations and a few
 * instructions: 1373 -> 1100 instructions per 4 KiB ICE read
 * (docs/PERFORMANCE.md). Rust VMMs (Firecracker, Cloud Hypervisor) get the
 * same from std::sync::Mutex, whose fast path is inline too.
 *
 * The word is 0 (free), 1 (held) or 2 (held, and someone may be asleep on
 * it): the classic three-state futex mutex (Drepper, "Futexes Are Tricky",
 * 2011, mutex 3). Lock: 0 -> 1, or else mark it 2 and sleep until we are
 * the one who swapped a 0 out. Unlock: swap in 0; wake one sleeper only if
 * it was 2. Not recursive, no owner check (like PTHREAD_MUTEX_NORMAL);
 * private to the process (FUTEX_*_PRIVATE). The sandbox allows futex, as
 * glibc's own mutexes need it.
 *
 * For the locks a request takes only (a queue's lock is held across its
 * I/O: a waiter sleeps, it does not spin); everything else (the console, the
 * serial port, key programming) keeps pthread mutexes.
 */
#ifndef ICEVMM_VMM_LOCK_H
#define ICEVMM_VMM_LOCK_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

struct vmm_lock {
	atomic_int word; /* 0 free, 1 held, 2 held and contended */
};

static inline void vmm_lock_init(struct vmm_lock *l)
{
	atomic_init(&l->word, 0);
}

/* The slow paths leave errno as they found it, as glibc's own locks do. */
static __attribute__((noinline, cold)) void vmm_lock_wait(struct vmm_lock *l)
{
	int saved = errno;

	/* Whoever swaps a 0 out owns the lock; leaving 2 makes its unlock wake the next one. */
	while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
		syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
	errno = saved;
}

static __attribute__((noinline, cold)) void vmm_lock_wake(struct vmm_lock *l)
{
	int saved = errno;

	syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	errno = saved;
}

static inline void vmm_lock(struct vmm_lock *l)
{
	int free_word = 0;

	if (!atomic_compare_exchange_strong_explicit(&l->word, &free_word, 1, memory_order_acquire,
						     memory_order_relaxed))
		vmm_lock_wait(l);
}

static inline void vmm_unlock(struct vmm_lock *l)
{
	if (atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2)
		vmm_lock_wake(l);
}

#endif
