/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest: the adapters' side of the hub. Receives envelopes from the
 * ingest ROUTER socket, judges each report on its own (validate.h), appends
 * everything accepted that arrived together in one transaction (group
 * commit: what queued while the last commit ran goes into the next one),
 * acknowledges each envelope only after that commit, and hands the new
 * entries on (to the feed and the pictures).
 */
#ifndef ESTHUB_HUB_INGEST_H
#define ESTHUB_HUB_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "zfd.h"

struct ingest;
struct log;
struct auth;
struct areas;
struct config;

struct log_item;

/*
 * Called after each durable commit with the batch's items (the ACCEPTED
 * ones are new log entries), before the acknowledgements go out.
 */
typedef void (*ingest_commit_fn)(void *arg, const struct log_item *items, size_t n);

/*
 * zs: the bound ingest ROUTER socket (owned by the caller), which ingest
 * tells of each operation on it (zfd.h); on_commit hears of every commit.
 * NULL on allocation failure.
 */
struct ingest *ingest_new(struct zfd *zs, struct log *lg, struct auth *auth,
                          const struct areas *areas, const struct config *cfg,
                          ingest_commit_fn on_commit, void *commit_arg);
void ingest_destroy(struct ingest **in);

/*
 * Lets in take measure updates (Envelope.measure), judged against ms
 * (measure.h; borrowed, kept current by the commit hook). Without it they
 * are refused.
 */
struct measures;
void ingest_set_measures(struct ingest *in, const struct measures *ms);

/*
 * Handles one group commit: everything waiting on the socket, up to
 * limits.max_batch_envelopes. Returns the number of envelopes handled
 * (0: nothing was waiting).
 */
size_t ingest_batch(struct ingest *in, int64_t now_ms);

/*
 * How many acks may wait for one sender to read them (the ingest socket's
 * ZMQ_SNDHWM, set by the hub with ZMQ_ROUTER_MANDATORY): far beyond any
 * sender's window, a bound on what one that never reads can cost.
 */
#define INGEST_ACK_HWM 100000

/* When an envelope last arrived (timefmt_mono_ms), or 0 when none has. */
int64_t ingest_last_ms(const struct ingest *in);

/*
 * Calls fn for each client that sent within the last minute (for estctl
 * status), with the time since its last message; now_ms is ingest_batch's clock.
 */
typedef void (*ingest_visit_fn)(void *arg, const char *name, const char *role, const char *org,
                                int64_t quiet_ms);
void ingest_visit(struct ingest *in, int64_t now_ms, ingest_visit_fn fn, void *arg);

#endif
