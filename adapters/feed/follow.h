/* SPDX-License-Identifier: Apache-2.0 */
/*
 * follow: one est-feed session with the hub. Subscribes, prints each entry
 * once (plain or JSON), keeps the credit window open, sends a keepalive
 * credit every 10 s, subscribes again after a hub restart or 30 s of
 * silence from where it left off, and keeps the --state file.
 */
#ifndef ESTHUB_FEED_FOLLOW_H
#define ESTHUB_FEED_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

/* The hub serves at most this many topic patterns per subscription. */
#define FOLLOW_MAX_TOPICS 16
/* Pictures are the largest events; the hub builds them, but we still cap. */
#define FOLLOW_MAX_EVENT_BYTES (16 * 1024 * 1024)

struct follow_opts {
	const char *hub;      /* endpoint */
	const char *hub_cert; /* the hub's public certificate */
	const char *cert;     /* our secret certificate */
	const char *topics[FOLLOW_MAX_TOPICS];
	size_t n_topics;
	uint64_t from;          /* Subscribe.from_seq of the first subscription; 0: only new */
	const char *state_path; /* NULL: no state file */
	bool from_state;        /* from is the state file's seq + 1: that seq was had already */
	bool json;
	bool until_head;
	uint32_t credit;    /* window */
	int64_t timeout_ms; /* 0: none */
	/* the hub's sign.pem: pictures and checkpoints must verify with it; NULL: not checked */
	const char *sign_key;
	struct output_opts out; /* pages, CSV, GeoJSON, summary of the pictures */
};

/*
 * Runs the session until *stop is set (by a signal handler), --until-head
 * is satisfied, or an error. Entries go to stdout, status lines to stderr.
 * Returns the exit code (wire/diag.h): 0, or 2 when the hub refused us,
 * did not answer in time, or stdout or the state file failed.
 */
int follow_run(const struct follow_opts *o, volatile sig_atomic_t *stop);

#endif
