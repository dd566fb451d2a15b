/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed: the subscribers of the feed socket. Each subscription has topic
 * patterns (filtered by access.h), the next seq to consider and a credit
 * window. One code path serves both catch-up and live delivery: from the
 * in-memory cache of recent entries when the next seq is still there, from
 * the store otherwise. A slow subscriber is never dropped from: it simply
 * stops receiving, and later reads on from wherever it stopped, so its cost
 * to the hub is one small struct.
 */
#ifndef ESTHUB_HUB_FEED_H
#define ESTHUB_HUB_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "zfd.h"

struct feed;
struct auth;
struct config;

/*
 * zs: the bound feed ROUTER socket (owned by the caller), which the feed
 * tells of each operation on it (zfd.h). NULL on allocation failure.
 */
struct feed *feed_new(struct zfd *zs, struct log *lg, struct auth *auth, const struct config *cfg);
void feed_destroy(struct feed **f);

/* Receives and handles every request waiting on the socket (Subscribe, credit). */
void feed_receive(struct feed *f, int64_t now_ms);

/* Keeps the entries just appended (the ACCEPTED items) in the cache. */
void feed_publish(struct feed *f, const struct log_item *items, size_t n);

/* Drops seq from the cache of recent entries (gallring purged its body: only the store answers). */
void feed_forget(struct feed *f, uint64_t seq);

/*
 * Sends what subscribers may receive now, a bounded amount per subscriber
 * per call. Returns true when there is more to send (call again soon).
 */
bool feed_pump(struct feed *f);

/* Forgets subscribers silent too long and ends those whose certificate was revoked. */
void feed_tick(struct feed *f, int64_t now_ms);

/*
 * Calls fn for each subscription (for estctl status), with the time since
 * its last request; now_ms is feed_tick's clock.
 */
typedef void (*feed_visit_fn)(void *arg, const char *name, const char *role, const char *org,
                              uint64_t next_seq, int64_t quiet_ms);
void feed_visit(struct feed *f, int64_t now_ms, feed_visit_fn fn, void *arg);

#endif
