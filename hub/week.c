/* SPDX-License-Identifier: Apache-2.0 */
/*
 * week: ISO weeks in Europe/Stockholm (see week.h). The calendar
 * arithmetic is done here on plain dates; libc (TZ set by timefmt_init)
 * only turns local midnights into Unix seconds and back, so summer time
 * is libc's business.
 */
#include "week.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
year_days(int y)
{
	return is_leap(y) ? 366 : 365;
}

/* Weekday of 31 December of year y, Monday 0 .. Sunday 6 (Gregorian, y > 0). */
static int
dec31_weekday(int y)
{
	/* Zeller-like count: 1 January of year 1 was a Monday. */
	int p = (y + y / 4 - y / 100 + y / 400) % 7;
	return (p + 6) % 7;
}

int
week_count(int year)
{
	/* A year has 53 weeks when it ends on a Thursday, or on a Friday in a leap year. */
	int d = dec31_weekday(year);
	return (d == 3 || (d == 4 && is_leap(year))) ? 53 : 52;
}

int
week_of(int64_t t, struct week *w)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		return -1;
	int year = tm.tm_year + 1900;
	int weekday = (tm.tm_wday + 6) % 7; /* Monday 0 */
	/* The ISO week belongs to the year that holds its Thursday. */
	int thursday = tm.tm_yday - weekday + 3;
	if (thursday < 0) {
		year--;
		thursday += year_days(year);
	} else if (thursday >= year_days(year)) {
		thursday -= year_days(year);
		year++;
	}
	w->year = year;
	w->week = thursday / 7 + 1;
	return 0;
}

/* Reads n decimal digits of s into *v; -1 when one is not a digit. */
static int
read_digits(const char *s, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

int
week_parse(const char *s, struct week *w, char *err, size_t errlen)
{
	int year = 0, week = 0;
	if (s == NULL || strlen(s) != 8 || s[4] != '-' || s[5] != 'W' ||
	    read_digits(s, 4, &year) != 0 || read_digits(s + 6, 2, &week) != 0) {
		snprintf(err, errlen, "not a week id of the form YYYY-Www");
		return -1;
	}
	if (year < WEEK_YEAR_MIN || year > WEEK_YEAR_MAX) {
		snprintf(err, errlen, "year out of range %d..%d", WEEK_YEAR_MIN, WEEK_YEAR_MAX);
		return -1;
	}
	if (week < 1 || week > week_count(year)) {
		snprintf(err, errlen, "week %02d does not exist in %04d", week, year);
		return -1;
	}
	w->year = year;
	w->week = week;
	return 0;
}

void
week_format(struct week w, char *out, size_t outlen)
{
	snprintf(out, outlen, "%04d-W%02d", w.year, w.week);
}

/* Unix seconds of local midnight starting day mday (may overflow the month) of January. */
static int
january_midnight(int year, int mday, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mday = mday;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

int
week_bounds(struct week w, int64_t *start, int64_t *end)
{
	/* Week 1 is the week holding 4 January; its Monday is 4 January minus its weekday. */
	int jan4_weekday = (dec31_weekday(w.year - 1) + 4) % 7;
	int monday = 4 - jan4_weekday + 7 * (w.week - 1);
	if (january_midnight(w.year, monday, start) != 0 ||
	    january_midnight(w.year, monday + 7, end) != 0)
		return -1;
	return 0;
}

struct week
week_prev(struct week w)
{
	if (w.week > 1)
		return (struct week){w.year, w.week - 1};
	return (struct week){w.year - 1, week_count(w.year - 1)};
}

struct week
week_next(struct week w)
{
	if (w.week < week_count(w.year))
		return (struct week){w.year, w.week + 1};
	return (struct week){w.year + 1, 1};
}

int
week_equal(struct week a, struct week b)
{
	return a.year == b.year && a.week == b.week;
}
