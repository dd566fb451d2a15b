/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpoint: whether a text is a ZeroMQ endpoint esthub's programs can use,
 * told before anything binds or connects to it: libzmq only says "Invalid
 * argument", and only when the hub already runs. The forms (the contract's
 * EP): tcp://HOST:PORT, HOST a name or an IPv4 address (no IPv6: the
 * sockets do not enable it), PORT 1..65535; where the hub binds, HOST may
 * also be * (every interface) or an interface's name, and PORT * (the
 * system chooses); or ipc://PATH, a Unix socket's path.
 */
#ifndef ESTHUB_WIRE_ENDPOINT_H
#define ESTHUB_WIRE_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

enum endpoint_use {
	ENDPOINT_BIND,    /* the hub's own: * allowed for the host and the port */
	ENDPOINT_CONNECT, /* a client's: the hub's real address */
};

/*
 * 0 when ep is an endpoint for use, else -1 with why it is not in why
 * (one clause, e.g. "no port: expected tcp://HOST:PORT").
 */
int endpoint_check(const char *ep, enum endpoint_use use, char *why, size_t whylen);

/* Whether ep lets the system choose its port (tcp://HOST:*). */
bool endpoint_port_chosen(const char *ep);

#endif
