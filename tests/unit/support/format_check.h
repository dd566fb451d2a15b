/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format_check: what the partner format tests share. A fixture holds the
 * format's shipped mapping table and the geography; fixture_translate runs
 * the format's translator over a text as a file and renders what it emits,
 * one line a record ("3 report ID rev=R category/sub area=A at=UTC ...",
 * "5 error ID field: reason", "7 skipped ID reason"), which the tests
 * compare with the lines they expect.
 */
#ifndef ESTHUB_TEST_FORMAT_CHECK_H
#define ESTHUB_TEST_FORMAT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#define SEEN_MAX 32

/* What the translator said, one rendered line a record, and the texts of each report. */
struct seen {
	size_t n;
	char line[SEEN_MAX][320];
	char place[SEEN_MAX][128];
	char description[SEEN_MAX][256];
	char role[SEEN_MAX][64];
	int stop_at; /* emit answers 7 at this record (1-based count); 0 never */
};

struct fixture {
	struct mapping *map;
	struct geo *geo;
	const char *format; /* as --format names it */
	const char *file;   /* the file name the translator is told */
};

/* A cmocka setup's work: *state becomes a fixture of format, with its shipped table. */
int fixture_setup(void **state, const char *format, const char *file);

/* A cmocka teardown. */
int fixture_teardown(void **state);

/*
 * Runs the fixture's translator over len bytes of text as a file; with
 * quotes, each ' of text becomes " (JSON written readably in the tests).
 * Its return value; what it emitted is in s.
 */
int fixture_translate(struct fixture *f, const char *text, size_t len, bool quotes, struct seen *s,
                      char *err, size_t errlen);

#endif
