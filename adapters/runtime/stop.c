/* SPDX-License-Identifier: Apache-2.0 */
/* stop: a flag set by SIGINT and SIGTERM; SIGPIPE ignored. See stop.h. */
#include "runtime/stop.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;

static void
stop_on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int
stop_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = stop_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	/* A partner closing its HTTP connection early is an error return, not a signal. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

bool
stop_requested(void)
{
	return stop_flag != 0;
}
