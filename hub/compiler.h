/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compiler: compiles situational pictures on a thread of its own, so that
 * the hub's loop keeps receiving and acknowledging reports while a compile
 * merges (up to half a second over a flood of reports at one place).
 *
 * The main thread takes a snapshot of what the compile reads
 * (picture_snapshot_take: short, one pass over the store) and hands it
 * over with compiler_start; the thread runs picture_compile_snapshot on it
 * alone, never on the picture store, which keeps changing meanwhile. When
 * it is done, compiler_fd polls readable and compiler_finish gives the
 * pictures back; the hub logs and publishes them on its own thread, as
 * every append happens there. One compile at a time: a picture due while
 * one runs waits (compiler_busy).
 */
#ifndef ESTHUB_HUB_COMPILER_H
#define ESTHUB_HUB_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"

struct compiler;
struct picture_snapshot;

/* Starts the thread. NULL (reason in err) when it cannot. */
struct compiler *compiler_new(char *err, size_t errlen);

/*
 * Waits for a compile in flight and drops its pictures, stops the thread,
 * frees; sets *c to NULL. NULL-safe.
 */
void compiler_destroy(struct compiler **c);

/* A file descriptor that polls readable (zmq_poll, POLLIN) once the compile in flight is done. */
int compiler_fd(const struct compiler *c);

/* True between compiler_start and compiler_finish. */
bool compiler_busy(const struct compiler *c);

/*
 * Hands the thread picture_compile_snapshot(s, areas, n_areas, now). Takes
 * ownership of s; areas[0..n_areas) (at most PICTURE_MAX_AREAS) must stay
 * unchanged until compiler_finish. Only when not busy.
 */
void compiler_start(struct compiler *c, struct picture_snapshot *s, const char *const *areas,
                    size_t n_areas, int64_t now);

/*
 * Waits for the compile in flight to end (at once when compiler_fd is
 * readable), frees its snapshot and returns what picture_compile_snapshot
 * returned: 0 with out[0..n_areas] the pictures (caller owns each;
 * picture_free), or -1 with the reason in err and out all NULL.
 */
int compiler_finish(struct compiler *c, Est__V1__Picture **out, char *err, size_t errlen);

#endif
