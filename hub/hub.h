/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hub: the running hub. Wires config, areas, auth, the log, the sockets,
 * ingest, feed and the control channel together and runs the event loop
 * in the calling thread until SIGTERM or SIGINT.
 */
#ifndef ESTHUB_HUB_HUB_H
#define ESTHUB_HUB_HUB_H

/* Serves instance dir in the foreground. Returns the process exit code (0 after a signal). */
int hub_run(const char *dir);

#endif
