/* SPDX-License-Identifier: Apache-2.0 */
/*
 * committer: runs log_append on a thread of its own, so that the ingest
 * loop receives, decodes and validates the next batch while this one is
 * judged, written and fsynced (the fsync is waiting, not work).
 *
 * Threading contract: between committer_start and committer_finish the
 * struct log belongs to the committer thread and the caller must not touch
 * it (nor the items); after committer_finish it is the caller's again.
 * ingest_batch never returns with a commit in flight, so the rest of the
 * hub (feed, checkpoints, control) only ever sees the log at rest.
 */
#ifndef ESTHUB_HUB_COMMITTER_H
#define ESTHUB_HUB_COMMITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct committer;
struct log;
struct log_item;

/*
 * Starts the thread, when thread is set; without it only committer_run_here
 * may be used. NULL (reason in err) when it cannot.
 */
struct committer *committer_new(struct log *lg, bool thread, char *err, size_t errlen);
/* Waits for a commit in flight, stops the thread, frees; sets *c to NULL. NULL-safe. */
void committer_destroy(struct committer **c);

/*
 * A file descriptor that polls readable (zmq_poll, POLLIN) once the commit
 * in flight is done; -1 without a thread.
 */
int committer_fd(const struct committer *c);

/*
 * Hands items to the thread: log_append(lg, items, n, now). Only with a
 * thread, and when no commit is in flight.
 */
void committer_start(struct committer *c, struct log_item *items, size_t n, int64_t now);

/*
 * The same job run on the caller's thread, for when nothing could be
 * received meanwhile: two thread hand-offs saved (on a busy machine each
 * can wait for a core). committer_finish then returns its result at once.
 */
void committer_run_here(struct committer *c, struct log_item *items, size_t n, int64_t now);

/* True between committer_start and committer_finish (not after committer_run_here). */
bool committer_busy(const struct committer *c);

/*
 * Waits for the commit in flight to end and returns what log_append
 * returned (its reason in err). The log and items are the caller's again.
 */
int committer_finish(struct committer *c, char *err, size_t errlen);

#endif
