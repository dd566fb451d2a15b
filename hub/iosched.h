/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iosched: ZeroMQ's I/O threads in SCHED_BATCH while ingest is busy, and in
 * the normal policy while it is not.
 *
 * Busy (4 senders x 100 in flight), a waking I/O thread (a frame in, acks
 * to send) took the CPU from the thread that judges and commits about 30
 * times a thousand reports on two CPUs; in SCHED_BATCH a waking thread does
 * not preempt a running one, it runs when a CPU is free or the running
 * thread's slice ends: 1.09x the rate (bench/README.md, "The I/O threads
 * stop preempting the committer"). Light (one sender waiting for each ack,
 * the trickle of reports of an ordinary working week), that wait is on
 * every report's way, twice: its envelope waits in the socket until the I/O
 * thread gets a CPU, and so does its ack. In the normal policy one sender
 * got 1.23x the rate (bench/README.md, "Busy or light: the I/O threads'
 * policy follows the load").
 *
 * So: SCHED_BATCH from an ingest round that handles IOSCHED_BUSY envelopes
 * or more, back to the normal policy once IOSCHED_CALM_MS pass without
 * such a round. Only used where the hub runs in the normal policy and may
 * take SCHED_BATCH and leave it (hub.c: a policy an administrator chose
 * stays theirs).
 */
#ifndef ESTHUB_IOSCHED_H
#define ESTHUB_IOSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Envelopes handled in one ingest round (ingest_batch) that make ingest busy. */
#define IOSCHED_BUSY 64
/* How long after the last busy round the I/O threads go back to the normal policy. */
#define IOSCHED_CALM_MS     1000
#define IOSCHED_MAX_THREADS 8

struct iosched {
	pid_t tids[IOSCHED_MAX_THREADS]; /* ZeroMQ's I/O threads */
	size_t n;                        /* 0: nothing to switch */
	bool batch;      /* the policy they are in: SCHED_BATCH, or the normal one */
	int64_t busy_ms; /* the last busy round */
};

/*
 * Finds the I/O threads of the process's ZeroMQ context: the threads named
 * "ZMQbg/IO/N" in /proc/self/task (they exist once a socket was made),
 * which run in the normal policy until ingest is busy. 0, or -1 with why in
 * err (then s switches nothing).
 */
int iosched_init(struct iosched *s, char *err, size_t errlen);

/*
 * After an ingest round that handled `handled` envelopes (0 on a tick of
 * the main loop), at now_ms (monotonic): switches the I/O threads' policy
 * when the load says so. A switch that fails is said once, and nothing is
 * switched after it.
 */
void iosched_note(struct iosched *s, size_t handled, int64_t now_ms);

#endif
