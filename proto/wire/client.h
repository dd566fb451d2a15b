/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client: the connection every client program (est-adapter, est-feed)
 * makes to the hub: a DEALER socket with CURVE, the hub's public key from
 * its certificate, our own keys from our secret certificate; and a socket
 * monitor, so a refused certificate is told apart from a hub that is down.
 */
#ifndef ESTHUB_WIRE_CLIENT_H
#define ESTHUB_WIRE_CLIENT_H

#include <stddef.h>

struct client;

enum client_state {
	CLIENT_CONNECTING = 0, /* no handshake yet since the last change */
	CLIENT_UP,             /* handshake done: the hub accepted our certificate */
	CLIENT_DOWN,           /* the connection dropped; libzmq reconnects by itself */
	CLIENT_REFUSED,        /* the hub refused our certificate */
};

/*
 * Connects a new DEALER socket to endpoint with CURVE. hub_cert is the
 * hub's public certificate file, cert our secret certificate file (0600).
 * Linger 0 (the outbox, not libzmq, keeps what must not be lost), reconnect
 * every 100 ms up to 2 s, ZMTP heartbeats every 2 s (a silent hub is given
 * up after 6 s and reconnected to). Returns NULL with the reason in err (a file that
 * cannot be read, a bad endpoint). The caller owns the result.
 */
struct client *client_new(const char *endpoint, const char *hub_cert, const char *cert, char *err,
                          size_t errlen);

/* Closes the socket and monitor and frees c; sets *c to NULL. NULL-safe. */
void client_destroy(struct client **c);

/* The libzmq socket, for zmq_poll, zmq_msg_send and zmq_msg_recv. Owned by c. */
void *client_socket(struct client *c);

/*
 * Reads the socket monitor's pending events without blocking and returns
 * the latest state (CLIENT_REFUSED sticks until the next successful handshake).
 */
enum client_state client_state(struct client *c);

#endif
