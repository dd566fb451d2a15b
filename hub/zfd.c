/* SPDX-License-Identifier: Apache-2.0 */
#include "zfd.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <zmq.h>

int
zfd_init(struct zfd *z, void *sock)
{
	size_t sz = sizeof z->fd;
	z->sock = sock;
	z->settled = false;
	if (sock == NULL || zmq_getsockopt(sock, ZMQ_FD, &z->fd, &sz) != 0) {
		z->fd = -1;
		return -1;
	}
	return 0;
}

void
zfd_received(struct zfd *z, int rc)
{
	z->settled = rc < 0 && zmq_errno() == EAGAIN;
}

bool
zfd_readable(struct zfd *z)
{
	if (z->settled)
		return false;
	int events = 0;
	size_t sz = sizeof events;
	if (zmq_getsockopt(z->sock, ZMQ_EVENTS, &events, &sz) != 0)
		return false; /* a closed context: the loop is stopping */
	bool readable = (events & ZMQ_POLLIN) != 0;
	z->settled = !readable;
	return readable;
}

bool
zfd_woken(struct zfd *z, short revents)
{
	if (!(revents & POLLIN))
		return false;
	z->settled = false;
	return zfd_readable(z);
}
