/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options: est-feed's command line, checked, into struct follow_opts; and
 * where the session starts: --from wins over --state, which resumes after
 * the seq it remembers.
 */
#ifndef ESTHUB_FEED_OPTIONS_H
#define ESTHUB_FEED_OPTIONS_H

#include "follow.h"

/*
 * Parses argv into o. Returns 0 to run, 1 when --help was printed (exit 0),
 * or the exit code of a usage or environment error already reported on
 * stderr (EXIT_INPUT, EXIT_ENV) as a negative number.
 */
int options_parse(int argc, char **argv, struct follow_opts *o);

#endif
