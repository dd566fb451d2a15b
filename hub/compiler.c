/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compiler: picture compiles on their own thread (see compiler.h). The
 * same hand-off as committer.c: the main thread fills the job under mu and
 * signals cv; the thread compiles, stores the pictures under mu and writes
 * the eventfd, which the main thread polls. The mutex orders the memory
 * (the snapshot going in, the pictures coming out); the eventfd only
 * wakes. The thread touches nothing but the job: the snapshot it owns
 * while it runs, the areas (constant), the pictures it makes.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "compiler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "picture.h"

/* The compile thread's nice value (0..19; higher yields more to the hub's other threads). */
#define COMPILER_NICE 10

struct compiler {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	bool stop;
	bool queued; /* a job waits for the thread (under mu) */
	bool done;   /* the job has ended (under mu) */
	bool busy;   /* main thread's view: started and not finished */
	/* the job */
	struct picture_snapshot *snap;
	const char *const *areas;
	size_t n_areas;
	int64_t now;
	/* its result */
	Est__V1__Picture *out[PICTURE_MAX_AREAS + 1];
	int rc;
	char err[256];
};

static void *
compiler_main(void *arg)
{
	struct compiler *c = arg;
	pthread_setname_np(pthread_self(), "esthub-picture"); /* for top -H and perf */
	/*
	 * A compile can wait; acknowledgements cannot. On a small machine the
	 * compile's half second of merging would take a core from the threads
	 * that receive, commit and acknowledge, so it runs at a lower priority
	 * (Linux: a thread's nice value is its own). Failing leaves it at the
	 * hub's own priority, which only costs latency.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), COMPILER_NICE);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->queued && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->queued)
			break;
		c->queued = false;
		/* The job's fields are not written again until it is finished: read them unlocked.
		 */
		pthread_mutex_unlock(&c->mu);
		Est__V1__Picture *out[PICTURE_MAX_AREAS + 1];
		char err[sizeof c->err] = "";
		int rc = picture_compile_snapshot(c->snap, c->areas, c->n_areas, c->now, out, err,
		                                  sizeof err);
		pthread_mutex_lock(&c->mu);
		memcpy(c->out, out, (c->n_areas + 1) * sizeof *out);
		c->rc = rc;
		memcpy(c->err, err, sizeof err);
		c->done = true;
		/*
		 * Woken after unlocking: this thread runs at a lower priority, and
		 * preempted between the wake-up and the unlock it would keep the
		 * main thread waiting on mu in compiler_finish.
		 */
		pthread_mutex_unlock(&c->mu);
		uint64_t one = 1;
		/* Cannot fail short of a bad fd; a lost wake-up would show as a hang in tests. */
		while (write(c->efd, &one, sizeof one) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct compiler *
compiler_new(char *err, size_t errlen)
{
	struct compiler *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "compiler: out of memory");
		return NULL;
	}
	c->efd = eventfd(0, EFD_CLOEXEC);
	if (c->efd < 0) {
		snprintf(err, errlen, "compiler: cannot make an eventfd: %s", strerror(errno));
		free(c);
		return NULL;
	}
	int rc = pthread_mutex_init(&c->mu, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&c->cv, NULL)) != 0)
		pthread_mutex_destroy(&c->mu);
	if (rc == 0 && (rc = pthread_create(&c->thread, NULL, compiler_main, c)) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
	}
	if (rc != 0) {
		snprintf(err, errlen, "compiler: cannot start its thread: %s", strerror(rc));
		close(c->efd);
		free(c);
		return NULL;
	}
	return c;
}

void
compiler_destroy(struct compiler **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	struct compiler *c = *cp;
	if (c->busy) {
		Est__V1__Picture *out[PICTURE_MAX_AREAS + 1];
		char err[256];
		size_t n = c->n_areas;
		if (compiler_finish(c, out, err, sizeof err) == 0) {
			for (size_t i = 0; i <= n; i++)
				picture_free(&out[i]);
		}
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
compiler_fd(const struct compiler *c)
{
	return c->efd;
}

bool
compiler_busy(const struct compiler *c)
{
	return c->busy;
}

void
compiler_start(struct compiler *c, struct picture_snapshot *s, const char *const *areas,
               size_t n_areas, int64_t now)
{
	pthread_mutex_lock(&c->mu);
	c->snap = s;
	c->areas = areas;
	c->n_areas = n_areas <= PICTURE_MAX_AREAS ? n_areas : PICTURE_MAX_AREAS;
	c->now = now;
	c->done = false;
	c->queued = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	c->busy = true;
}

int
compiler_finish(struct compiler *c, Est__V1__Picture **out, char *err, size_t errlen)
{
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
	memcpy(out, c->out, (c->n_areas + 1) * sizeof *out);
	snprintf(err, errlen, "%s", c->err);
	picture_snapshot_destroy(&c->snap);
	c->done = false;
	pthread_mutex_unlock(&c->mu);
	c->busy = false;
	return rc;
}
