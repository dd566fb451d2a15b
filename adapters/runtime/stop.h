/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stop: SIGINT and SIGTERM ask the adapter to stop. The handler only sets
 * a flag; intake and the sender look at it between records and in their
 * loop, and leave the outbox consistent. SIGPIPE is ignored: a peer that
 * hung up is an error return where it happens.
 */
#ifndef ESTHUB_ADAPTER_STOP_H
#define ESTHUB_ADAPTER_STOP_H

#include <stdbool.h>

/*
 * Installs the handlers (again: libraries such as czmq may have put their
 * own in place). Returns 0, or -1 with errno set.
 */
int stop_install(void);

/* Whether a stop was asked for since the program started. */
bool stop_requested(void);

#endif
