/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listen: the HTTP endpoint of `est-adapter --listen HOST:PORT`, where a
 * partner system POSTs its native JSON (the adapter's --format; for `json`
 * one Report object, an array of them, or one a line) to `/` or `/reports`.
 * The body goes through intake into the outbox (durable) in one
 * transaction; the request then waits up to wait_ms for the hub's answers
 * and gets a JSON array with one object a record:
 *   {"record":N,"sourceId":"..","revision":R,"status":S,"seq":"..","error":".."}
 * S is accepted, duplicate, rejected or skipped, or queued for a record that
 * is durable in the outbox but not yet answered (the hub is away): it is
 * delivered later.
 *
 * Status codes: 200 every record has its outcome; 202 some are queued;
 * 400 the body is empty, not the format, or no record of it could be
 * translated (the array says why, or {"error":".."}); 404 another path;
 * 405 another method; 413 a body over max_body_bytes; 503 the outbox is full
 * (--max-pending) or the adapter is stopping (Retry-After); 500 the outbox
 * failed. Errors other than per record are {"error":".."}.
 *
 * Plain HTTP without authentication: bind it to loopback or a network only
 * the partner's system reaches. libmicrohttpd runs in the sender's loop
 * (external epoll mode, a sender hook), so the outbox is touched from one
 * thread only; a waiting request is a suspended connection.
 */
#ifndef ESTHUB_ADAPTER_LISTEN_H
#define ESTHUB_ADAPTER_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/intake.h"
#include "runtime/outbox.h"

#define LISTEN_DEFAULT_WAIT_MS        5000
#define LISTEN_MAX_WAIT_MS            300000
#define LISTEN_DEFAULT_MAX_BODY_BYTES (4 * 1024 * 1024)
#define LISTEN_MAX_BODY_LIMIT         (64 * 1024 * 1024)
/* Connections served at once; more are refused by the listening socket's backlog. */
#define LISTEN_MAX_CONNECTIONS 64
/* A connection idle this long is closed. */
#define LISTEN_IDLE_TIMEOUT_S 30
/* After a stop, a waiting request is answered within this. */
#define LISTEN_STOP_WAIT_MS 1000

struct listen_options {
	const char *address;   /* HOST:PORT (HOST a name, an IPv4 address or [IPv6]); port 0: any */
	unsigned wait_ms;      /* how long a request waits for the hub's answers */
	size_t max_body_bytes; /* the largest body taken */
};

struct listen;

/*
 * Binds opt->address and serves. Reads bodies with in into ob; tell (with
 * arg) hears every record that is done at once (the sender's rows come
 * through listen_row). NULL with the reason in err (a bad address, a port
 * in use). The caller owns the result; in and ob are borrowed.
 */
struct listen *listen_new(const struct listen_options *opt, struct intake *in, struct outbox *ob,
                          outbox_row_fn tell, void *arg, char *err, size_t errlen);

/* Answers what still waits (queued), closes the socket and frees *l; sets *l to NULL. NULL-safe. */
void listen_destroy(struct listen **l);

/* The descriptor to poll for input. */
int listen_fd(const struct listen *l);

/* The port it listens on (the one the system chose for port 0). */
uint16_t listen_port(const struct listen *l);

/* The sender hook (sender.h): serves HTTP, answers requests whose time is up. arg: the listen. */
int listen_run(void *arg, bool readable, long *wait_ms);

/* A row became done (the sender's answer): noted in the request waiting for it, if any. */
void listen_row(struct listen *l, const struct outbox_row *row);

#endif
