/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compiler: picture compiles on their own thread (see compiler.h), one job
 * at a time through a worker (worker.h), as the committer's commits: the
 * main thread hands over the snapshot, the thread compiles and stores the
 * pictures, and the worker's eventfd wakes the main thread. The thread
 * touches nothing but the job: the snapshot it owns while it runs, the
 * areas (constant), the pictures it makes.
 */
#include "compiler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picture.h"
#include "worker.h"

/*
 * The compile thread's nice value (0..19; higher yields more to the hub's
 * other threads). A compile can wait; acknowledgements cannot: on a small
 * machine its half second of merging would take a core from the threads
 * that receive, commit and acknowledge.
 */
#define COMPILER_NICE 10

struct compiler {
	struct worker *w;
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

/* On the worker's thread: the job in, the result out (worker.h orders the memory). */
static void
compiler_job(void *arg)
{
	struct compiler *c = arg;
	c->err[0] = '\0';
	c->rc = picture_compile_snapshot(c->snap, c->areas, c->n_areas, c->now, c->out, c->err,
	                                 sizeof c->err);
}

struct compiler *
compiler_new(char *err, size_t errlen)
{
	struct compiler *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "compiler: out of memory");
		return NULL;
	}
	c->w = worker_new("esthub-picture", COMPILER_NICE, compiler_job, c, err, errlen);
	if (c->w == NULL) {
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
	if (worker_busy(c->w)) {
		Est__V1__Picture *out[PICTURE_MAX_AREAS + 1];
		char err[256];
		size_t n = c->n_areas;
		if (compiler_finish(c, out, err, sizeof err) == 0) {
			for (size_t i = 0; i <= n; i++)
				picture_free(&out[i]);
		}
	}
	worker_destroy(&c->w);
	free(c);
	*cp = NULL;
}

int
compiler_fd(const struct compiler *c)
{
	return worker_fd(c->w);
}

bool
compiler_busy(const struct compiler *c)
{
	return worker_busy(c->w);
}

void
compiler_start(struct compiler *c, struct picture_snapshot *s, const char *const *areas,
               size_t n_areas, int64_t now)
{
	c->snap = s;
	c->areas = areas;
	c->n_areas = n_areas <= PICTURE_MAX_AREAS ? n_areas : PICTURE_MAX_AREAS;
	c->now = now;
	worker_start(c->w);
}

int
compiler_finish(struct compiler *c, Est__V1__Picture **out, char *err, size_t errlen)
{
	worker_finish(c->w);
	int rc = c->rc;
	memcpy(out, c->out, (c->n_areas + 1) * sizeof *out);
	snprintf(err, errlen, "%s", c->err);
	picture_snapshot_destroy(&c->snap);
	return rc;
}
