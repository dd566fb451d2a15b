/* SPDX-License-Identifier: Apache-2.0 */
/*
 * committer: log_append on its own thread (see committer.h), one job at a
 * time through a worker (worker.h): the main thread fills the job, the
 * thread runs it and stores the result, and the worker's eventfd wakes the
 * main thread, which polls it beside the ingest socket.
 */
#include "committer.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "worker.h"

struct committer {
	struct log *lg;
	struct worker *w;
	bool here; /* the job ran on the caller's thread (committer_run_here) */
	bool busy; /* started and not finished (either way) */
	/* the job */
	struct log_item *items;
	size_t n;
	int64_t now;
	/* its result */
	int rc;
	char err[256];
};

/* On the worker's thread: the job in, the result out (worker.h orders the memory). */
static void
committer_job(void *arg)
{
	struct committer *c = arg;
	c->err[0] = '\0';
	c->rc = log_append(c->lg, c->items, c->n, c->now, c->err, sizeof c->err);
}

struct committer *
committer_new(struct log *lg, bool thread, char *err, size_t errlen)
{
	struct committer *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "committer: out of memory");
		return NULL;
	}
	c->lg = lg;
	if (!thread)
		return c;
	c->w = worker_new("esthub-commit", 0, committer_job, c, err, errlen);
	if (c->w == NULL) {
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
	worker_destroy(&c->w);
	free(c);
	*cp = NULL;
}

int
committer_fd(const struct committer *c)
{
	return c->w != NULL ? worker_fd(c->w) : -1;
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
	c->items = items;
	c->n = n;
	c->now = now;
	worker_start(c->w);
	c->busy = true;
}

int
committer_finish(struct committer *c, char *err, size_t errlen)
{
	if (!c->here)
		worker_finish(c->w);
	c->here = false;
	c->busy = false;
	snprintf(err, errlen, "%s", c->err);
	return c->rc;
}
