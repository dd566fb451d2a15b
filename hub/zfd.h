/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zfd: a ZeroMQ socket polled by its ZMQ_FD, asked (ZMQ_EVENTS) only when
 * its state may have changed.
 *
 * zmq_poll asks every socket item for ZMQ_EVENTS before it sleeps and again
 * after, each ask two system calls (getpid, and a poll of the socket's
 * mailbox), and polls every descriptor once without waiting before it
 * polls them waiting. With the ingest and the feed sockets as its items,
 * one sender waiting for each ack cost the main loop 10 polls and 10
 * getpids a report (strace), where the reference loop, with one socket,
 * has 7 and 7; with zfd, 6 and 7. On the virtual machines these run on a
 * system call costs about a microsecond, on every report's way.
 *
 * ZMQ_FD is readable when commands reached the socket's mailbox since it
 * was last emptied, and any operation on the socket (a send, a receive, an
 * ask) may empty it, taking the wake-up of a message that then waits
 * unseen. So a socket is asked after every operation on it, except one:
 * a receive that found nothing emptied the mailbox and found no message, as
 * an ask that says "not readable" would; until the socket is used again,
 * its descriptor fires for whatever comes next. The modules that own the
 * sockets (ingest, feed) say which operation they made (zfd_used,
 * zfd_received); the loop asks (zfd_readable) before it sleeps and when the
 * descriptor fired (zfd_woken).
 */
#ifndef ESTHUB_ZFD_H
#define ESTHUB_ZFD_H

#include <stdbool.h>

struct zfd {
	void *sock;
	int fd;       /* its ZMQ_FD; -1 when it could not be had */
	bool settled; /* known not readable since the last operation on it */
};

/* 0, or -1 when the socket has no ZMQ_FD (then it cannot be polled this way). */
int zfd_init(struct zfd *z, void *sock);

/*
 * Whether a message waits. Asks the socket unless it is settled; an ask
 * that says "not readable" settles it.
 */
bool zfd_readable(struct zfd *z);

/*
 * After a receive that returned rc (zmq_msg_recv's, before anything else
 * touches errno): settled when it found nothing (EAGAIN), used otherwise.
 */
void zfd_received(struct zfd *z, int rc);

/* After a send: the socket must be asked again. */
static inline void
zfd_used(struct zfd *z)
{
	z->settled = false;
}

/*
 * After poll(2) gave the descriptor's revents: whether a message waits,
 * asked when the descriptor fired (commands wait in the socket's mailbox).
 */
bool zfd_woken(struct zfd *z, short revents);

#endif
