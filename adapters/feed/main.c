/* SPDX-License-Identifier: Apache-2.0 */
/*
 * est-feed: the working groups' side of the hub. Follows area feeds and
 * prints each log entry once, resuming where it left off (see follow.h).
 * main only wires: diagnostics, time zone, options, signals, the session.
 */
#include <signal.h>
#include <string.h>

#include <czmq.h>

#include "follow.h"
#include "options.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGINT/SIGTERM end the session cleanly (state written); SIGPIPE becomes a write error. */
static void
signals_install(void)
{
	/* czmq would install its own handlers on first use: keep ours. */
	zsys_handler_set(NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char **argv)
{
	struct follow_opts opts;
	diag_init(argv[0]);
	timefmt_init();
	int rc = options_parse(argc, argv, &opts);
	if (rc != 0)
		return rc > 0 ? EXIT_OK : -rc;
	signals_install();
	return follow_run(&opts, &stop_requested);
}
