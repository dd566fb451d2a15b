/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iosched on real threads of this process named as ZeroMQ names its I/O
 * threads ("ZMQbg/IO/N"): found by their names, left in the normal policy
 * while rounds are light, in SCHED_BATCH from a busy round, and back in the
 * normal policy IOSCHED_CALM_MS after the last busy one; other threads are
 * never touched. tests/integration/test_ingest.py watches the hub's own
 * I/O threads do the same under a real load.
 */
#define _GNU_SOURCE /* SCHED_BATCH, gettid, pthread_setname_np */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "iosched.h"

struct named {
	pthread_t t;
	const char *name;
	pid_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int phase; /* 1: named and its tid told; 2: may end */
};

static void *
named_main(void *arg)
{
	struct named *n = arg;
	pthread_setname_np(pthread_self(), n->name);
	pthread_mutex_lock(&n->mu);
	n->tid = gettid();
	n->phase = 1;
	pthread_cond_broadcast(&n->cv);
	while (n->phase != 2)
		pthread_cond_wait(&n->cv, &n->mu);
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

static void
named_start(struct named *n, const char *name)
{
	*n = (struct named){.name = name};
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	assert_int_equal(pthread_create(&n->t, NULL, named_main, n), 0);
	pthread_mutex_lock(&n->mu);
	while (n->phase != 1)
		pthread_cond_wait(&n->cv, &n->mu);
	pthread_mutex_unlock(&n->mu);
}

static void
named_stop(struct named *n)
{
	pthread_mutex_lock(&n->mu);
	n->phase = 2;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->t, NULL);
}

static void
test_no_io_threads(void **state)
{
	struct iosched s;
	char err[256];
	(void)state;
	assert_int_equal(iosched_init(&s, err, sizeof err), -1);
	assert_string_equal(err, "no thread named ZMQbg/IO/N");
	iosched_note(&s, IOSCHED_BUSY, 0); /* switches nothing, and says nothing */
	assert_false(s.batch);
}

static void
test_batch_while_busy(void **state)
{
	struct named io[2], other;
	struct iosched s;
	char err[256];
	(void)state;
	named_start(&io[0], "ZMQbg/IO/0");
	named_start(&io[1], "ZMQbg/IO/1");
	named_start(&other, "ZMQbg/Reaper");
	assert_int_equal(iosched_init(&s, err, sizeof err), 0);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sched_getscheduler(io[i].tid), SCHED_OTHER);

	iosched_note(&s, IOSCHED_BUSY - 1, 1000); /* light */
	for (int i = 0; i < 2; i++)
		assert_int_equal(sched_getscheduler(io[i].tid), SCHED_OTHER);
	iosched_note(&s, IOSCHED_BUSY, 2000); /* busy */
	for (int i = 0; i < 2; i++)
		assert_int_equal(sched_getscheduler(io[i].tid), SCHED_BATCH);
	assert_int_equal(sched_getscheduler(other.tid), SCHED_OTHER);
	assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
	iosched_note(&s, 0, 2000 + IOSCHED_CALM_MS / 2);
	iosched_note(&s, IOSCHED_BUSY * 10, 2000 + IOSCHED_CALM_MS - 1); /* busy again */
	iosched_note(&s, 1, 2000 + 2 * IOSCHED_CALM_MS - 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sched_getscheduler(io[i].tid), SCHED_BATCH);
	iosched_note(&s, 1, 2000 + 2 * IOSCHED_CALM_MS - 1); /* calm since the last busy round */
	for (int i = 0; i < 2; i++)
		assert_int_equal(sched_getscheduler(io[i].tid), SCHED_OTHER);
	assert_false(s.batch);

	named_stop(&io[0]);
	named_stop(&io[1]);
	named_stop(&other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_io_threads),
	    cmocka_unit_test(test_batch_while_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
