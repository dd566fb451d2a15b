/* SPDX-License-Identifier: Apache-2.0 */
/*
 * committer: log_append on its own thread (see committer.h). One job at a
 * time: the main thread fills job under mu and signals cv; the thread runs
 * it, stores the result under mu and writes the eventfd, which the main
 * thread polls beside the ingest socket. The mutex orders the memory (the
 * items, the connection's state) between the two threads; the eventfd only
 * wakes.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "committer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "log.h"

struct committer {
	struct log *lg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	bool stop;
	bool queued; /* a job waits for the thread (under mu) */
	bool done;   /* the job has ended (under mu) */
	bool busy;   /* main thread's view: started and not finished */
	bool here;   /* the job ran on the caller's thread (committer_run_here) */
	/* the job */
	struct log_item *items;
	size_t n;
	int64_t now;
	int rc;
	char err[256];
};

static void *
committer_main(void *arg)
{
	struct committer *c = arg;
	pthread_setname_np(pthread_self(), "esthub-commit"); /* for top -H and perf */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->queued && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->queued)
			break;
		c->queued = false;
		pthread_mutex_unlock(&c->mu);
		char err[sizeof c->err] = "";
		int rc = log_append(c->lg, c->items, c->n, c->now, err, sizeof err);
		pthread_mutex_lock(&c->mu);
		c->rc = rc;
		memcpy(c->err, err, sizeof err);
		c->done = true;
		uint64_t one = 1;
		/* Cannot fail short of a bad fd; a lost wake-up would show as a hang in tests. */
		while (write(c->efd, &one, sizeof one) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct committer *
committer_new(struct log *lg, char *err, size_t errlen)
{
	struct committer *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "committer: out of memory");
		return NULL;
	}
	c->lg = lg;
	c->efd = eventfd(0, EFD_CLOEXEC);
	if (c->efd < 0) {
		snprintf(err, errlen, "committer: cannot make an eventfd: %s", strerror(errno));
		free(c);
		return NULL;
	}
	int rc = pthread_mutex_init(&c->mu, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&c->cv, NULL)) != 0)
		pthread_mutex_destroy(&c->mu);
	if (rc == 0 && (rc = pthread_create(&c->thread, NULL, committer_main, c)) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
	}
	if (rc != 0) {
		snprintf(err, errlen, "committer: cannot start its thread: %s", strerror(rc));
		close(c->efd);
		free(c);
		return NULL;
	}
	return c;
}

void
committer_destroy(struct committer **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	struct committer *c = *cp;
	if (c->busy) {
		char err[256];
		(void)committer_finish(c, err, sizeof err);
	}
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	close(c->efd);
	free(c);
	*cp = NULL;
}

int
committer_fd(const struct committer *c)
{
	return c->efd;
}

bool
committer_busy(const struct committer *c)
{
	return c->busy && !c->here;
}

void
committer_run_here(struct committer *c, struct log_item *items, size_t n, int64_t now)
{
	/* The thread is idle (no job in flight): rc and err are this thread's to write. */
	c->rc = log_append(c->lg, items, n, now, c->err, sizeof c->err);
	c->here = true;
	c->busy = true;
}

void
committer_start(struct committer *c, struct log_item *items, size_t n, int64_t now)
{
	pthread_mutex_lock(&c->mu);
	c->items = items;
	c->n = n;
	c->now = now;
	c->done = false;
	c->queued = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	c->busy = true;
}

int
committer_finish(struct committer *c, char *err, size_t errlen)
{
	if (c->here) {
		c->here = false;
		c->busy = false;
		snprintf(err, errlen, "%s", c->err);
		return c->rc;
	}
	uint64_t count;
	/* Blocks until the thread has written it; the flag under mu is what counts. */
	while (read(c->efd, &count, sizeof count) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&c->mu);
	while (!c->done) {
		/* Cannot happen with one job at a time; wait on the fd again to be safe. */
		pthread_mutex_unlock(&c->mu);
		while (read(c->efd, &count, sizeof count) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&c->mu);
	}
	int rc = c->rc;
	snprintf(err, errlen, "%s", c->err);
	c->done = false;
	pthread_mutex_unlock(&c->mu);
	c->busy = false;
	return rc;
}
