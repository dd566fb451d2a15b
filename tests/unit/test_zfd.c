/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zfd on real ZeroMQ sockets over TCP loopback, as the hub's main loop
 * uses it (hub.c serve): a ROUTER polled by its ZMQ_FD, asked for
 * ZMQ_EVENTS only when its state may have changed. What must hold: no
 * message ever waits unseen while the loop sleeps on the descriptor.
 */
#define _POSIX_C_SOURCE 200809L /* rand_r, nanosleep */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "zfd.h"

struct pair {
	void *ctx;
	void *router; /* the hub's side */
	void *dealer; /* a sender's */
	char ep[64];
};

static void
pair_open(struct pair *p)
{
	p->ctx = zmq_ctx_new();
	assert_non_null(p->ctx);
	p->router = zmq_socket(p->ctx, ZMQ_ROUTER);
	assert_int_equal(zmq_bind(p->router, "tcp://127.0.0.1:*"), 0);
	size_t len = sizeof p->ep;
	assert_int_equal(zmq_getsockopt(p->router, ZMQ_LAST_ENDPOINT, p->ep, &len), 0);
	p->dealer = zmq_socket(p->ctx, ZMQ_DEALER);
	assert_int_equal(zmq_connect(p->dealer, p->ep), 0);
}

static void
pair_close(struct pair *p)
{
	int linger = 0;
	zmq_setsockopt(p->router, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(p->dealer, ZMQ_LINGER, &linger, sizeof linger);
	zmq_close(p->dealer);
	zmq_close(p->router);
	zmq_ctx_term(p->ctx);
}

static bool
fd_fires(int fd, int timeout_ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* Polls z's descriptor up to timeout_ms as the hub's loop does: whether a message waits. */
static bool
woken(struct zfd *z, int timeout_ms)
{
	struct pollfd pfd = {z->fd, POLLIN, 0};
	return poll(&pfd, 1, timeout_ms) == 1 && zfd_woken(z, pfd.revents);
}

/* Waits (up to 5 s, on the descriptor as the hub does) until the router has a message. */
static void
await_readable(struct zfd *z)
{
	bool ready = zfd_readable(z);
	for (int i = 0; i < 50 && !ready; i++)
		ready = woken(z, 100);
	assert_true(ready);
}

/* One message from the router: routing id and body; false when none waits. */
static bool
router_recv(struct zfd *z, zmq_msg_t *rid, char *body, size_t cap)
{
	zmq_msg_init(rid);
	int rc = zmq_msg_recv(rid, z->sock, ZMQ_DONTWAIT);
	zfd_received(z, rc);
	if (rc < 0) {
		assert_int_equal(zmq_errno(), EAGAIN);
		zmq_msg_close(rid);
		return false;
	}
	int n = zmq_recv(z->sock, body, cap - 1, 0);
	assert_true(n >= 0);
	body[(size_t)n < cap ? (size_t)n : cap - 1] = '\0';
	return true;
}

static void
router_reply(struct zfd *z, zmq_msg_t *rid, const char *body)
{
	zfd_used(z);
	assert_true(zmq_msg_send(rid, z->sock, ZMQ_SNDMORE) >= 0);
	assert_true(zmq_send(z->sock, body, strlen(body), 0) >= 0);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/*
 * A receive that found nothing settles the socket: no ask until it is used
 * again, and its descriptor fires for the next message.
 */
static void
test_a_receive_that_found_nothing_settles(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p);
	struct zfd z;
	assert_int_equal(zfd_init(&z, p.router), 0);
	assert_true(z.fd >= 0);
	assert_false(z.settled);

	assert_int_equal(zmq_send(p.dealer, "A", 1, 0), 1);
	await_readable(&z);
	zmq_msg_t rid;
	char body[16];
	assert_true(router_recv(&z, &rid, body, sizeof body));
	assert_string_equal(body, "A");
	zmq_msg_close(&rid);
	assert_false(router_recv(&z, &rid, body, sizeof body));
	assert_true(z.settled);
	assert_false(zfd_readable(&z));

	assert_int_equal(zmq_send(p.dealer, "B", 1, 0), 1);
	assert_true(woken(&z, 5000));
	assert_true(router_recv(&z, &rid, body, sizeof body));
	assert_string_equal(body, "B");
	zmq_msg_close(&rid);
	pair_close(&p);
}

/*
 * The case the asks are for: a message arrives after the receive that
 * found nothing, and the reply sent before the loop sleeps processes the
 * command that announced it, so the descriptor no longer fires for it.
 * The send marks the socket used, and the ask before sleeping sees it.
 */
static void
test_a_send_takes_the_wake_up_and_the_ask_sees_the_message(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p);
	struct zfd z;
	assert_int_equal(zfd_init(&z, p.router), 0);

	assert_int_equal(zmq_send(p.dealer, "A", 1, 0), 1);
	await_readable(&z);
	zmq_msg_t rid;
	char body[16];
	assert_true(router_recv(&z, &rid, body, sizeof body));
	zmq_msg_t none;
	assert_false(router_recv(&z, &none, body, sizeof body));

	assert_int_equal(zmq_send(p.dealer, "B", 1, 0), 1);
	assert_true(fd_fires(z.fd, 5000)); /* B's announcement waits in the mailbox */
	sleep_ms(20);                      /* past libzmq's pause between command rounds on send */
	router_reply(&z, &rid, "ack A");
	/* What makes the ask needed: the send took the wake-up (libzmq 4.3). */
	assert_false(fd_fires(z.fd, 0));
	assert_true(zfd_readable(&z));
	assert_true(router_recv(&z, &rid, body, sizeof body));
	assert_string_equal(body, "B");
	zmq_msg_close(&rid);
	pair_close(&p);
}

/* A sender with up to WINDOW messages in flight, in bursts with pauses. */
#define STREAM_N 3000
#define WINDOW   8

struct sender {
	void *ctx;
	const char *ep;
	int acked;
};

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	void *d = zmq_socket(s->ctx, ZMQ_DEALER);
	int timeout = 5000, linger = 0;
	zmq_setsockopt(d, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
	zmq_connect(d, s->ep);
	unsigned seed = 7;
	int sent = 0;
	while (s->acked < STREAM_N) {
		while (sent < STREAM_N && sent - s->acked < WINDOW) {
			char msg[16];
			int n = snprintf(msg, sizeof msg, "%d", sent);
			zmq_send(d, msg, (size_t)n, 0);
			sent++;
			if (rand_r(&seed) % 4 == 0)
				break;
		}
		char buf[16];
		if (zmq_recv(d, buf, sizeof buf, 0) < 0)
			break; /* 5 s without an ack: the loop below failed */
		s->acked++;
		if (rand_r(&seed) % 64 == 0)
			sleep_ms(rand_r(&seed) % 3);
	}
	zmq_close(d);
	return NULL;
}

/*
 * The hub's loop (hub.c serve) against a sender whose messages arrive
 * while replies go out: every message is received and answered, and the
 * loop never sleeps a whole poll timeout while one waits.
 */
static void
test_the_loop_never_sleeps_on_a_waiting_message(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p);
	struct zfd z;
	assert_int_equal(zfd_init(&z, p.router), 0);
	struct sender s = {.ctx = p.ctx, .ep = p.ep};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sender_main, &s), 0);

	int received = 0, timeouts = 0, batches = 0;
	while (received < STREAM_N && timeouts < 3) {
		bool ready = zfd_readable(&z);
		struct pollfd pfd = {z.fd, POLLIN, 0};
		int n = poll(&pfd, 1, ready ? 0 : 1000);
		if (n == 0 && !ready) {
			timeouts++;
			continue;
		}
		ready = ready || zfd_woken(&z, pfd.revents);
		if (!ready)
			continue;
		/* As ingest_batch: take what waits, then answer it all. */
		zmq_msg_t rids[64];
		char body[16];
		int k = 0;
		while (k < 64 && router_recv(&z, &rids[k], body, sizeof body))
			k++;
		if (++batches % 8 == 0)
			sleep_ms(2); /* a commit's fdatasync between the receive and the answers */
		for (int i = 0; i < k; i++)
			router_reply(&z, &rids[i], "ack");
		received += k;
	}
	pthread_join(t, NULL);
	assert_int_equal(timeouts, 0);
	assert_int_equal(received, STREAM_N);
	assert_int_equal(s.acked, STREAM_N);
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_receive_that_found_nothing_settles),
	    cmocka_unit_test(test_a_send_takes_the_wake_up_and_the_ask_sees_the_message),
	    cmocka_unit_test(test_the_loop_never_sleeps_on_a_waiting_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
