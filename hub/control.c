/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control: the local control channel (see control.h). The hub answers the
 * requests in hub.c; this file owns the socket on both sides.
 */
#include "control.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <zmq.h>

#include "instance.h"
#include "wire/codec.h"

#define CONTROL_REPLY_BYTES (1024 * 1024)

struct control {
	void *sock;
	char path[256];
};

int
control_endpoint(const char *dir, char *out, size_t outlen)
{
	/* ipc paths are limited by sockaddr_un (107 bytes). */
	int n = snprintf(out, outlen, "ipc://%s/%s/control", dir, INSTANCE_RUN);
	return (n < 0 || (size_t)n >= outlen || n - 6 > 100) ? -1 : 0;
}

struct control *
control_new(void *zmq_ctx, const char *dir, char *err, size_t errlen)
{
	char run[4096], ep[256];
	if (instance_path(run, sizeof run, dir, INSTANCE_RUN) ||
	    control_endpoint(dir, ep, sizeof ep)) {
		snprintf(err, errlen, "%s: path too long for the control socket", dir);
		return NULL;
	}
	if (mkdir(run, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", run, strerror(errno));
		return NULL;
	}
	chmod(run, 0700);
	struct control *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(c->path, sizeof c->path, "%s", ep + 6);
	/* A socket file left by a hub that died would make bind fail. */
	unlink(c->path);
	c->sock = zmq_socket(zmq_ctx, ZMQ_REP);
	int linger = 500;
	if (c->sock == NULL || zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger) ||
	    zmq_bind(c->sock, ep) != 0) {
		snprintf(err, errlen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
		control_destroy(&c);
		return NULL;
	}
	return c;
}

void
control_destroy(struct control **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	if ((*cp)->sock) {
		zmq_close((*cp)->sock);
		unlink((*cp)->path);
	}
	free(*cp);
	*cp = NULL;
}

void *
control_socket(struct control *c)
{
	return c->sock;
}

/*
 * True when path is a socket nobody listens on: the file a hub killed with
 * SIGKILL leaves behind (control_destroy cannot run). ZeroMQ would retry its
 * connect for the whole timeout; a plain connect is refused at once. A hub
 * that does listen sees a connection close before its greeting, which
 * ZeroMQ drops. Non-blocking, so a full backlog never waits here.
 */
static bool
nobody_listens(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path) >= (int)sizeof sa.sun_path)
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool refused = connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == ECONNREFUSED;
	close(fd);
	return refused;
}

int
control_call(const char *dir, const Est__V1__ControlRequest *req, int timeout_ms,
             Est__V1__ControlReply **reply, char *err, size_t errlen)
{
	char ep[256];
	if (control_endpoint(dir, ep, sizeof ep)) {
		snprintf(err, errlen, "%s: path too long for the control socket", dir);
		return -1;
	}
	if (access(ep + 6, F_OK) != 0) {
		snprintf(err, errlen, "no control socket %s", ep + 6);
		return 1;
	}
	if (nobody_listens(ep + 6)) {
		snprintf(err, errlen, "%s is left from a hub that did not stop cleanly", ep + 6);
		return 1;
	}
	void *ctx = zmq_ctx_new();
	void *sock = zmq_socket(ctx, ZMQ_REQ);
	int zero = 0, rc = -1;
	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
	if (zmq_connect(sock, ep) != 0 || wire_send(sock, &req->base, 0) != 0) {
		snprintf(err, errlen, "nothing answers on %s", ep + 6);
		rc = 1;
		goto out;
	}
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, sock, 0) < 0) {
		zmq_msg_close(&msg);
		snprintf(err, errlen, "nothing answers on %s within %d ms", ep + 6, timeout_ms);
		rc = 1;
		goto out;
	}
	*reply = (Est__V1__ControlReply *)wire_unpack(&est__v1__control_reply__descriptor,
	                                              zmq_msg_data(&msg), zmq_msg_size(&msg),
	                                              CONTROL_REPLY_BYTES, err, errlen);
	zmq_msg_close(&msg);
	rc = *reply ? 0 : -1;
out:
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return rc;
}
