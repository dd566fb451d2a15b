/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sender: the adapter's event loop. Takes pending rows from the outbox into
 * envelopes (at most `batch` reports and SENDER_MAX_ENVELOPE_BYTES each; a
 * measure update alone in an envelope with body `measure`),
 * keeps up to `window` of them in flight over the CURVE DEALER connection
 * (wire/client.h), and marks rows done in the outbox as the hub's Acks
 * arrive. Unanswered envelopes are sent again (the hub is idempotent) after
 * a capped, jittered exponential backoff; an Ack with retry_after_ms is
 * honoured; an Ack refusing the whole envelope rejects its records.
 * The only place that polls: the other sources of work of a running adapter
 * (the watched directory, the HTTP endpoint) are hooks polled in its loop,
 * so that everything touching the outbox runs on this one thread.
 */
#ifndef ESTHUB_ADAPTER_SENDER_H
#define ESTHUB_ADAPTER_SENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/outbox.h"

#define SENDER_DEFAULT_BATCH     100
#define SENDER_MAX_BATCH         1000
#define SENDER_DEFAULT_WINDOW    8
#define SENDER_MAX_WINDOW        64
#define SENDER_DEFAULT_TIMEOUT_S 300
/* Packed reports per envelope, well below the hub's frame limit. */
#define SENDER_MAX_ENVELOPE_BYTES (512 * 1024)

/* What a hook's run returns, or-ed together. */
#define SENDER_HOOK_ADDED 1 /* it added rows to the outbox: look for rows to send */
#define SENDER_HOOK_BUSY  2 /* it has work in hand that a stop waits for (a request waiting) */
#define SENDER_MAX_HOOKS  4
/* After a stop in serve mode: how long in-flight answers and busy hooks are waited for. */
#define SENDER_STOP_GRACE_MS 2000

/*
 * Another source of work for the loop. run is called once a round, with
 * readable set when fd (unless -1) has input; it sets *wait_ms to the
 * longest the loop may wait before calling it again (-1: no limit) and
 * returns SENDER_HOOK_* flags. It sees stop_requested() like the loop does.
 */
struct sender_hook {
	int fd;
	int (*run)(void *arg, bool readable, long *wait_ms);
	void *arg;
};

struct sender_options {
	const char *hub;      /* the ingest endpoint */
	const char *hub_cert; /* the hub's public certificate file */
	const char *cert;     /* our secret certificate file */
	unsigned batch;       /* reports per envelope, 1..SENDER_MAX_BATCH */
	unsigned window;      /* envelopes in flight, 1..SENDER_MAX_WINDOW */
	unsigned timeout_s;   /* give up when rows are still unanswered after this */
	/*
	 * Serve (--watch, --listen): run until a stop, never give up on the hub,
	 * and poll the hooks. On a stop, wait up to SENDER_STOP_GRACE_MS for the
	 * answers in flight and for busy hooks, then end with SENDER_STOPPED.
	 */
	bool serve;
	const struct sender_hook *hooks; /* n_hooks of them, at most SENDER_MAX_HOOKS */
	size_t n_hooks;
};

enum sender_end {
	SENDER_DONE = 0, /* every pending row has its outcome */
	SENDER_TIMEOUT,  /* rows left unanswered at the timeout */
	SENDER_REFUSED,  /* the hub refused our certificate */
	SENDER_STOPPED,  /* SIGINT or SIGTERM */
	SENDER_ERROR,    /* cannot connect (bad files, endpoint) or the outbox failed */
};

/*
 * Sends every pending row of ob and calls fn for each row that becomes done
 * (see outbox_finish), until none is left or it has to give up (serve:
 * until a stop). Returns how it ended; for SENDER_TIMEOUT, SENDER_REFUSED and SENDER_ERROR the
 * reason is in err. Rows not done stay pending in the outbox.
 */
enum sender_end sender_run(struct outbox *ob, const struct sender_options *opt, outbox_row_fn fn,
                           void *arg, char *err, size_t errlen);

#endif
