/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ISO weeks in Europe/Stockholm (hub/week.c): week ids of
 * local times around year boundaries, weeks per year, parsing, the bounds
 * of a week (168 hours, 167 and 169 across the summer-time changes),
 * previous and next, and a round trip over eleven years of weeks. Expected
 * values were checked against Python's date.isocalendar().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "week.h"
#include "wire/timefmt.h"

static int64_t
local(const char *iso)
{
	char err[128];
	int64_t t = 0;
	if (timefmt_parse(iso, &t, err, sizeof err) != 0)
		fail_msg("timefmt_parse %s: %s", iso, err);
	return t;
}

static void
test_week_of(void **state)
{
	static const struct {
		const char *when, *week;
	} cases[] = {
	    {"2026-11-16T00:00", "2026-W47"},
	    {"2026-11-15T23:59:59", "2026-W46"},
	    {"2025-12-29T00:00", "2026-W01"},
	    {"2025-12-28T23:59:59", "2025-W52"},
	    {"2026-01-01T12:00", "2026-W01"},
	    {"2026-12-28T00:00", "2026-W53"},
	    {"2027-01-01T00:00", "2026-W53"},
	    {"2027-01-03T23:59:59", "2026-W53"},
	    {"2027-01-04T00:00", "2027-W01"},
	    {"2021-01-03T12:00", "2020-W53"},
	    {"2024-12-30T00:00", "2025-W01"},
	    {"2026-03-29T03:30", "2026-W13"},
	    {"2026-10-25T02:30+01:00", "2026-W43"},
	    /* UTC Sunday 23:30 is already Monday in Stockholm. */
	    {"2027-01-03T23:30Z", "2027-W01"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct week w;
		char id[WEEK_ID_SIZE];
		assert_int_equal(week_of(local(cases[i].when), &w), 0);
		week_format(w, id, sizeof id);
		if (strcmp(id, cases[i].week) != 0)
			fail_msg("%s: got %s, want %s", cases[i].when, id, cases[i].week);
	}
}

static void
test_week_count(void **state)
{
	static const int years[][2] = {{2004, 53}, {2009, 53}, {2015, 53}, {2020, 53},
	                               {2021, 52}, {2025, 52}, {2026, 53}, {2027, 52},
	                               {2032, 53}, {2000, 52}, {2100, 52}};
	(void)state;
	for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
		if (week_count(years[i][0]) != years[i][1])
			fail_msg("%d: got %d weeks", years[i][0], week_count(years[i][0]));
	}
}

static void
test_week_parse(void **state)
{
	static const struct {
		const char *text;
		int ok;
		const char *why;
	} cases[] = {
	    {"2026-W47", 1, ""},
	    {"2026-W53", 1, ""},
	    {"2027-W01", 1, ""},
	    {"2025-W53", 0, "week 53 does not exist in 2025"},
	    {"2026-W54", 0, "week 54 does not exist in 2026"},
	    {"2026-W00", 0, "week 00 does not exist in 2026"},
	    {"2026-w01", 0, "form"},
	    {"2026W01", 0, "form"},
	    {"26-W01", 0, "form"},
	    {"2026-W1", 0, "form"},
	    {"2026-W011", 0, "form"},
	    {"", 0, "form"},
	    {"0999-W01", 0, "year out of range"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct week w = {0, 0};
		char err[128] = "", id[WEEK_ID_SIZE];
		int rc = week_parse(cases[i].text, &w, err, sizeof err);
		if ((rc == 0) != cases[i].ok)
			fail_msg("%s: rc %d (%s)", cases[i].text, rc, err);
		if (!cases[i].ok) {
			if (strstr(err, cases[i].why) == NULL)
				fail_msg("%s: reason \"%s\"", cases[i].text, err);
			continue;
		}
		week_format(w, id, sizeof id);
		assert_string_equal(id, cases[i].text);
	}
}

static void
test_week_bounds(void **state)
{
	static const struct {
		const char *week, *start;
		int hours;
	} cases[] = {
	    {"2026-W47", "2026-11-16T00:00+01:00", 168},
	    {"2026-W13", "2026-03-23T00:00+01:00", 167}, /* summer time starts 29 March */
	    {"2026-W43", "2026-10-19T00:00+02:00", 169}, /* and ends 25 October */
	    {"2026-W53", "2026-12-28T00:00+01:00", 168},
	    {"2027-W01", "2027-01-04T00:00+01:00", 168},
	    {"2026-W01", "2025-12-29T00:00+01:00", 168},
	    {"2020-W53", "2020-12-28T00:00+01:00", 168},
	    {"2026-W27", "2026-06-29T00:00+02:00", 168},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct week w;
		char err[128];
		int64_t start, end;
		assert_int_equal(week_parse(cases[i].week, &w, err, sizeof err), 0);
		assert_int_equal(week_bounds(w, &start, &end), 0);
		if (start != local(cases[i].start) || end - start != cases[i].hours * 3600)
			fail_msg("%s: start %lld, %lld hours", cases[i].week, (long long)start,
			         (long long)((end - start) / 3600));
	}
}

static void
test_week_prev_next(void **state)
{
	static const char *const chain[] = {"2025-W51", "2025-W52", "2026-W01", "2026-W02"};
	static const char *const chain53[] = {"2026-W52", "2026-W53", "2027-W01"};
	char err[128], id[WEEK_ID_SIZE];
	struct week w;
	(void)state;
	assert_int_equal(week_parse(chain[0], &w, err, sizeof err), 0);
	for (size_t i = 1; i < 4; i++) {
		w = week_next(w);
		week_format(w, id, sizeof id);
		assert_string_equal(id, chain[i]);
	}
	assert_int_equal(week_parse(chain53[2], &w, err, sizeof err), 0);
	for (int i = 1; i >= 0; i--) {
		w = week_prev(w);
		week_format(w, id, sizeof id);
		assert_string_equal(id, chain53[i]);
	}
}

/* Every week of 2020..2030: week_of of its first and last second is itself; weeks abut. */
static void
test_week_round_trip(void **state)
{
	struct week w = {2020, 1}, got;
	int64_t start, end, prev_end = 0;
	(void)state;
	while (w.year <= 2030) {
		assert_int_equal(week_bounds(w, &start, &end), 0);
		if (prev_end != 0)
			assert_int_equal(start, prev_end);
		assert_true(end - start >= 167 * 3600 && end - start <= 169 * 3600);
		assert_int_equal(week_of(start, &got), 0);
		assert_true(week_equal(got, w));
		assert_int_equal(week_of(end - 1, &got), 0);
		assert_true(week_equal(got, w));
		assert_true(week_equal(week_prev(week_next(w)), w));
		prev_end = end;
		w = week_next(w);
	}
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_week_of),        cmocka_unit_test(test_week_count),
	    cmocka_unit_test(test_week_parse),     cmocka_unit_test(test_week_bounds),
	    cmocka_unit_test(test_week_prev_next), cmocka_unit_test(test_week_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
