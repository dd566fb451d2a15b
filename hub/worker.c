/* SPDX-License-Identifier: Apache-2.0 */
/* worker: one job at a time on a thread of its own (see worker.h). */
#define _GNU_SOURCE /* pthread_setname_np, gettid */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	bool stop;
	bool queued; /* a job waits for the thread (under mu) */
	bool done;   /* the job has ended (under mu) */
	bool busy;   /* the owner's view: started and not finished */
	void (*run)(void *arg);
	void *arg;
	char name[16]; /* pthread_setname_np takes 15 characters */
	int nice;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_setname_np(pthread_self(), w->name);
	/*
	 * A thread's nice value is its own on Linux. Failing leaves it at the
	 * hub's priority, which only costs the others latency.
	 */
	if (w->nice != 0)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), w->nice);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->queued && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->queued)
			break;
		w->queued = false;
		/* The owner writes the job again only after worker_finish: run it unlocked. */
		pthread_mutex_unlock(&w->mu);
		w->run(w->arg);
		pthread_mutex_lock(&w->mu);
		w->done = true;
		/*
		 * Woken after unlocking: a thread at a lower priority, preempted
		 * between the wake-up and the unlock, would keep the owner waiting
		 * on mu in worker_finish.
		 */
		pthread_mutex_unlock(&w->mu);
		uint64_t one = 1;
		/* Cannot fail short of a bad fd; a lost wake-up would show as a hang in tests. */
		while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct worker *
worker_new(const char *name, int nice, void (*run)(void *arg), void *arg, char *err, size_t errlen)
{
	struct worker *w = calloc(1, sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	w->run = run;
	w->arg = arg;
	w->nice = nice;
	snprintf(w->name, sizeof w->name, "%s", name);
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0) {
		snprintf(err, errlen, "%s: cannot make an eventfd: %s", name, strerror(errno));
		free(w);
		return NULL;
	}
	int rc = pthread_mutex_init(&w->mu, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&w->cv, NULL)) != 0)
		pthread_mutex_destroy(&w->mu);
	if (rc == 0 && (rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot start its thread: %s", name, strerror(rc));
		close(w->efd);
		free(w);
		return NULL;
	}
	return w;
}

void
worker_destroy(struct worker **wp)
{
	if (wp == NULL || *wp == NULL)
		return;
	struct worker *w = *wp;
	if (w->busy)
		worker_finish(w);
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	close(w->efd);
	free(w);
	*wp = NULL;
}

int
worker_fd(const struct worker *w)
{
	return w->efd;
}

bool
worker_busy(const struct worker *w)
{
	return w->busy;
}

void
worker_start(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->done = false;
	w->queued = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->busy = true;
}

void
worker_finish(struct worker *w)
{
	uint64_t count;
	/* Blocks until the thread has written it; the flag under mu is what counts. */
	while (read(w->efd, &count, sizeof count) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		/* Cannot happen with one job at a time; wait on the fd again to be safe. */
		pthread_mutex_unlock(&w->mu);
		while (read(w->efd, &count, sizeof count) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&w->mu);
	}
	w->done = false;
	pthread_mutex_unlock(&w->mu);
	w->busy = false;
}
