/* SPDX-License-Identifier: Apache-2.0 */
/*
 * summary: one line of plain text per log entry, for the people in the
 * working groups who read a feed: "seq topic org local-time summary". Labels
 * are Swedish or English (est-feed --lang), ids stay ids, times are
 * Europe/Stockholm (timefmt_init first).
 */
#ifndef ESTHUB_FEED_SUMMARY_H
#define ESTHUB_FEED_SUMMARY_H

#include <stddef.h>

#include "est.pb-c.h"
#include "i18n.h"

/* Longest description shown, in characters (UTF-8 code points). */
#define SUMMARY_TEXT_CHARS 80

/* Room for any line summary_line writes. */
#define SUMMARY_LINE_MAX 1024

/*
 * Writes e's line (no newline) into out, cut to outlen on a UTF-8 boundary.
 * Control characters in texts become spaces, so a line stays one line.
 */
void summary_line(const Est__V1__LogEntry *e, enum lang lang, char *out, size_t outlen);

#endif
