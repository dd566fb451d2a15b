/* SPDX-License-Identifier: Apache-2.0 */
/* iosched: see iosched.h. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "iosched.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/diag.h"

#define IO_PREFIX "ZMQbg/IO/"

/* Whether thread tid of this process is one of ZeroMQ's I/O threads (by its name). */
static bool
is_io_thread(const char *tid)
{
	char path[64], name[32] = "";
	snprintf(path, sizeof path, "/proc/self/task/%s/comm", tid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return false; /* ended meanwhile */
	bool got = fgets(name, sizeof name, f) != NULL;
	fclose(f);
	return got && strncmp(name, IO_PREFIX, strlen(IO_PREFIX)) == 0;
}

int
iosched_init(struct iosched *s, char *err, size_t errlen)
{
	*s = (struct iosched){0};
	DIR *d = opendir("/proc/self/task");
	if (d == NULL) {
		snprintf(err, errlen, "cannot list /proc/self/task: %s", strerror(errno));
		return -1;
	}
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || !is_io_thread(e->d_name))
			continue;
		if (n == IOSCHED_MAX_THREADS) {
			n++;
			break;
		}
		s->tids[n++] = (pid_t)strtol(e->d_name, NULL, 10);
	}
	closedir(d);
	if (n == 0 || n > IOSCHED_MAX_THREADS) {
		snprintf(err, errlen,
		         n == 0 ? "no thread named " IO_PREFIX "N"
		                : "more than %d threads named " IO_PREFIX "N",
		         IOSCHED_MAX_THREADS);
		return -1;
	}
	s->n = n;
	return 0;
}

/* Every I/O thread into policy (SCHED_BATCH or SCHED_OTHER); on failure, stops switching. */
static void
switch_to(struct iosched *s, int policy)
{
	const struct sched_param zero = {0};
	for (size_t i = 0; i < s->n; i++) {
		if (sched_setscheduler(s->tids[i], policy, &zero) == 0)
			continue;
		diag_say("ZeroMQ's I/O thread %ld cannot go into %s (%s); the I/O threads' policy "
		         "stays as it is now",
		         (long)s->tids[i],
		         policy == SCHED_BATCH ? "SCHED_BATCH" : "the normal policy",
		         strerror(errno));
		s->n = 0;
		return;
	}
	s->batch = policy == SCHED_BATCH;
}

void
iosched_note(struct iosched *s, size_t handled, int64_t now_ms)
{
	if (s->n == 0)
		return;
	if (handled >= IOSCHED_BUSY) {
		s->busy_ms = now_ms;
		if (!s->batch)
			switch_to(s, SCHED_BATCH);
	} else if (s->batch && now_ms - s->busy_ms >= IOSCHED_CALM_MS) {
		switch_to(s, SCHED_OTHER);
	}
}
