/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client: the CURVE DEALER connection of client programs, with a socket
 * monitor to tell a refused certificate from a hub that is down (see
 * client.h). Each client has its own ZeroMQ context.
 */
#include "wire/client.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "wire/cert.h"
#include "wire/crypto.h"

#define CLIENT_HEARTBEAT_MS 2000

struct client {
	void *ctx;
	void *sock;
	void *monitor;
	enum client_state state;
};

static int
set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof v);
}

/* Sets CURVE client keys on sock from the two certificate files. */
static int
set_keys(void *sock, const char *hub_cert, const char *cert_path, char *err, size_t errlen)
{
	uint8_t server_key[32];
	if (cert_read_public_key(hub_cert, server_key, err, errlen))
		return -1;
	zcert_t *cert = cert_load_secret(cert_path, err, errlen);
	if (cert == NULL)
		return -1;
	int rc = 0;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, zcert_public_key(cert), 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32)) {
		snprintf(err, errlen, "cannot set CURVE keys: %s", zmq_strerror(zmq_errno()));
		rc = -1;
	}
	cert_destroy(&cert);
	return rc;
}

static int
start_monitor(struct client *c, char *err, size_t errlen)
{
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://client-monitor-%p", (void *)c);
	int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_DISCONNECTED;
	if (zmq_socket_monitor(c->sock, ep, events) != 0)
		goto bad;
	c->monitor = zmq_socket(c->ctx, ZMQ_PAIR);
	if (c->monitor == NULL || set_int(c->monitor, ZMQ_LINGER, 0) || zmq_connect(c->monitor, ep))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "cannot monitor the connection: %s", zmq_strerror(zmq_errno()));
	return -1;
}

struct client *
client_new(const char *endpoint, const char *hub_cert, const char *cert, char *err, size_t errlen)
{
	struct client *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ctx = zmq_ctx_new();
	c->sock = c->ctx ? zmq_socket(c->ctx, ZMQ_DEALER) : NULL;
	if (c->sock == NULL) {
		snprintf(err, errlen, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
		goto bad;
	}
	if (set_keys(c->sock, hub_cert, cert, err, errlen))
		goto bad;
	/* ZMTP heartbeats: a hub that vanished without closing (a cut cable, a
	 * frozen host) is noticed within seconds and the socket reconnects. */
	if (set_int(c->sock, ZMQ_LINGER, 0) || set_int(c->sock, ZMQ_RECONNECT_IVL, 100) ||
	    set_int(c->sock, ZMQ_RECONNECT_IVL_MAX, 2000) ||
	    set_int(c->sock, ZMQ_HEARTBEAT_IVL, CLIENT_HEARTBEAT_MS) ||
	    set_int(c->sock, ZMQ_HEARTBEAT_TIMEOUT, 3 * CLIENT_HEARTBEAT_MS) ||
	    set_int(c->sock, ZMQ_HEARTBEAT_TTL, 3 * CLIENT_HEARTBEAT_MS)) {
		snprintf(err, errlen, "cannot set socket options: %s", zmq_strerror(zmq_errno()));
		goto bad;
	}
	if (start_monitor(c, err, errlen))
		goto bad;
	if (zmq_connect(c->sock, endpoint) != 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", endpoint,
		         zmq_strerror(zmq_errno()));
		goto bad;
	}
	return c;
bad:
	client_destroy(&c);
	return NULL;
}

void
client_destroy(struct client **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	struct client *c = *cp;
	if (c->sock) {
		zmq_socket_monitor(c->sock, NULL, 0);
		zmq_close(c->sock);
	}
	if (c->monitor)
		zmq_close(c->monitor);
	if (c->ctx)
		zmq_ctx_term(c->ctx);
	free(c);
	*cp = NULL;
}

void *
client_socket(struct client *c)
{
	return c->sock;
}

enum client_state
client_state(struct client *c)
{
	for (;;) {
		zmq_msg_t ev, addr;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, c->monitor, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			break;
		}
		uint16_t event = 0;
		if (zmq_msg_size(&ev) >= 2)
			memcpy(&event, zmq_msg_data(&ev), 2);
		int more = zmq_msg_more(&ev);
		zmq_msg_close(&ev);
		if (more) {
			zmq_msg_init(&addr);
			zmq_msg_recv(&addr, c->monitor, 0);
			zmq_msg_close(&addr);
		}
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			c->state = CLIENT_UP;
		else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
			c->state = CLIENT_REFUSED;
		else if (event == ZMQ_EVENT_DISCONNECTED && c->state != CLIENT_REFUSED)
			c->state = CLIENT_DOWN;
	}
	return c->state;
}
