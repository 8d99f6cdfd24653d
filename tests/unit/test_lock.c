// SPDX-License-Identifier: GPL-2.0
/*
 * The request path's futex mutex (vmm/lock.h): mutual exclusion under
 * contention, a waiter that sleeps is woken by the unlock, and the word's
 * three states are what the header says.
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>

#include "../../vmm/lock.h"
#include "unit.h"

#define THREADS 4
#define ROUNDS 100000

static struct vmm_lock lock;
static unsigned long counter; /* plain: only the lock protects it */
static atomic_int inside, most_inside;

static void *hammer(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < ROUNDS; i++) {
		vmm_lock(&lock);
		int n = atomic_fetch_add(&inside, 1) + 1;

		if (n > atomic_load(&most_inside))
			atomic_store(&most_inside, n);
		counter++;
		if (i % 1024 == 0)
			sched_yield(); /* holders get preempted: the others sleep on the futex */
		atomic_fetch_sub(&inside, 1);
		vmm_unlock(&lock);
	}
	return NULL;
}

START_TEST(excludes_under_contention)
{
	pthread_t t[THREADS];

	vmm_lock_init(&lock);
	counter = 0;
	for (unsigned int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (unsigned int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(counter, (unsigned long)THREADS * ROUNDS);
	ck_assert_int_eq(atomic_load(&most_inside), 1);
	ck_assert_int_eq(atomic_load(&lock.word), 0); /* free, no waiter left marked */
}
END_TEST

static atomic_bool got_it;

static void *waiter(void *arg)
{
	(void)arg;
	vmm_lock(&lock);
	atomic_store(&got_it, true);
	vmm_unlock(&lock);
	return NULL;
}

START_TEST(a_sleeping_waiter_is_woken)
{
	pthread_t t;
	unsigned int i;

	vmm_lock_init(&lock);
	vmm_lock(&lock);
	ck_assert_int_eq(atomic_load(&lock.word), 1); /* held, uncontended */
	ck_assert_int_eq(pthread_create(&t, NULL, waiter, NULL), 0);
	/* The waiter marks the word contended before it sleeps. */
	for (i = 0; i < 5000 && atomic_load(&lock.word) != 2; i++)
		usleep(1000);
	ck_assert_int_eq(atomic_load(&lock.word), 2);
	usleep(20000);
	ck_assert(!atomic_load(&got_it)); /* still asleep: we hold it */
	vmm_unlock(&lock);		  /* must wake it, or the join below hangs */
	pthread_join(t, NULL);
	ck_assert(atomic_load(&got_it));
	ck_assert_int_eq(atomic_load(&lock.word), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("futex mutex");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, excludes_under_contention);
	tcase_add_test(tc, a_sleeping_waiter_is_woken);
	suite_add_tcase(s, tc);
	return s;
}
