/* SPDX-License-Identifier: Apache-2.0 */
/*
 * week: ISO 8601 weeks in Europe/Stockholm, as the pictures use them. A
 * week runs from Monday 00:00 local time to the next Monday 00:00, so it
 * lasts 168 hours, or 167 and 169 hours across the summer-time changes.
 * Its id is "YYYY-Www" with the ISO week-numbering year ("2026-W53",
 * "2027-W01"). Pure functions over localtime_r/mktime: call timefmt_init()
 * (wire/timefmt.h) once before using them.
 */
#ifndef ESTHUB_HUB_WEEK_H
#define ESTHUB_HUB_WEEK_H

#include <stddef.h>
#include <stdint.h>

/* Bytes a week id needs, NUL included ("2026-W47"). */
#define WEEK_ID_SIZE 9
/* Years a week id may name. */
#define WEEK_YEAR_MIN 1971
#define WEEK_YEAR_MAX 9998

struct week {
	int year; /* ISO week-numbering year */
	int week; /* 1..52, or 53 in the years that have it */
};

/* The number of ISO weeks of year (52 or 53). */
int week_count(int year);

/* The week holding the Unix time t in Stockholm. Returns 0, or -1 when t is out of range. */
int week_of(int64_t t, struct week *w);

/*
 * Parses "YYYY-Www" (exactly, W upper case) into *w. Returns 0, or -1 with
 * the reason in err ("week 53 does not exist in 2025").
 */
int week_parse(const char *s, struct week *w, char *err, size_t errlen);

/* Writes the id of w ("2026-W47") into out (at least WEEK_ID_SIZE bytes). */
void week_format(struct week w, char *out, size_t outlen);

/*
 * The Unix seconds of Monday 00:00 Stockholm time starting w (*start) and
 * of the next Monday 00:00 (*end). Returns 0, or -1 when mktime fails.
 */
int week_bounds(struct week w, int64_t *start, int64_t *end);

/* The week before w and the week after it. */
struct week week_prev(struct week w);
struct week week_next(struct week w);

/* Whether a and b are the same week. */
int week_equal(struct week a, struct week b);

#endif
