/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control: the local control channel between estctl and a running hub.
 * A ZeroMQ REP socket on ipc://DIR/run/control (DIR/run is mode 0700, so only
 * the instance's owner reaches it; it never leaves the machine). estctl
 * sends one ControlRequest and reads one ControlReply.
 */
#ifndef ESTHUB_HUB_CONTROL_H
#define ESTHUB_HUB_CONTROL_H

#include <stddef.h>

#include "est.pb-c.h"

/* "ipc://DIR/run/control" into out; -1 when it does not fit (ipc paths are short). */
int control_endpoint(const char *dir, char *out, size_t outlen);

/*
 * Client side (estctl): sends req to the hub running on instance dir and
 * waits up to timeout_ms for the reply. Returns 0 with *reply set (the
 * caller frees it with est__v1__control_reply__free_unpacked(*reply, NULL)),
 * 1 when no hub answers ("hub not running"; err says how that was found
 * out), -1 on another error (err). A socket file left by a hub that died is
 * found out at once, not after timeout_ms.
 */
int control_call(const char *dir, const Est__V1__ControlRequest *req, int timeout_ms,
                 Est__V1__ControlReply **reply, char *err, size_t errlen);

struct control;
struct hub;

/* Hub side: binds the control socket of dir. NULL with err on failure. */
struct control *control_new(void *zmq_ctx, const char *dir, char *err, size_t errlen);
void control_destroy(struct control **c);
void *control_socket(struct control *c);

#endif
