/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker: one job at a time on a thread of its own, for the hub's loop
 * (the committer's log_append, the compiler's picture compile). The owner
 * fills its job fields and calls worker_start; the thread calls run(arg),
 * which reads the job and writes the result into the owner's fields, then
 * writes an eventfd the loop polls beside its sockets; worker_finish waits
 * for the end. The mutex orders the memory between the two threads (the
 * job going in, the result coming out); the eventfd only wakes.
 */
#ifndef ESTHUB_HUB_WORKER_H
#define ESTHUB_HUB_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct worker;

/*
 * Starts the thread, named name (top -H, perf) at nice value nice (0 for
 * the hub's own priority). NULL (reason in err, prefixed with name) when
 * it cannot.
 */
struct worker *worker_new(const char *name, int nice, void (*run)(void *arg), void *arg, char *err,
                          size_t errlen);

/* Waits for a job in flight, stops the thread, frees; sets *w to NULL. NULL-safe. */
void worker_destroy(struct worker **w);

/* A file descriptor that polls readable (zmq_poll, POLLIN) once the job in flight is done. */
int worker_fd(const struct worker *w);

/* True between worker_start and worker_finish. */
bool worker_busy(const struct worker *w);

/* Runs the job the owner has filled in. Only when not busy. */
void worker_start(struct worker *w);

/* Waits for the job in flight to end (at once when worker_fd is readable). */
void worker_finish(struct worker *w);

#endif
