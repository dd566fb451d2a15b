/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of hub/schedule.c: parsing `schedule = ...`, the fire times of
 * a weekly schedule in Stockholm time (also across the summer-time change),
 * which week a fire compiles and when it is already in the log, the live
 * picture's timing, and that hub.conf's defaults are the compiler's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config.h"
#include "picture.h"
#include "schedule.h"
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
test_schedule_parse(void **state)
{
	struct schedule_spec s;
	char err[256];
	(void)state;
	assert_int_equal(schedule_parse("mon 07:00", &s, err, sizeof err), 0);
	assert_int_equal(s.kind, SCHEDULE_WEEKLY);
	assert_int_equal(s.wday, 1);
	assert_int_equal(s.minute, 7 * 60);
	assert_int_equal(schedule_parse("sun 23:59", &s, err, sizeof err), 0);
	assert_int_equal(s.wday, 7);
	assert_int_equal(schedule_parse("off", &s, err, sizeof err), 0);
	assert_int_equal(s.kind, SCHEDULE_OFF);
	assert_int_equal(schedule_parse("every 5s", &s, err, sizeof err), 0);
	assert_int_equal(s.every_s, 5);
	static const char *const bad[] = {
	    "monday 07:00", "mon 7:00", "mon 24:00", "mon 07:60", "Mon 07:00",
	    "every 5",      "every 0s", "every 5m",  "",          "mon 07:00 "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (schedule_parse(bad[i], &s, err, sizeof err) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, bad[i] + (strncmp(bad[i], "every ", 6) == 0 ? 6 : 0)));
	}
}

static void
test_schedule_times(void **state)
{
	struct schedule_spec s;
	char err[256];
	(void)state;
	assert_int_equal(schedule_parse("mon 07:00", &s, err, sizeof err), 0);
	/* Thursday 26 November 2026 */
	int64_t now = local("2026-11-26T12:00");
	assert_int_equal(schedule_last(&s, now), local("2026-11-23T07:00"));
	assert_int_equal(schedule_next(&s, now), local("2026-11-30T07:00"));
	/* exactly at the fire time: that is the last, the next is a week on */
	now = local("2026-11-23T07:00");
	assert_int_equal(schedule_last(&s, now), now);
	assert_int_equal(schedule_next(&s, now), local("2026-11-30T07:00"));
	/* across the change to summer time (29 March 2026): 07:00 local on both Mondays */
	now = local("2026-03-25T12:00");
	assert_int_equal(schedule_next(&s, now), local("2026-03-30T07:00"));
	assert_int_equal(schedule_next(&s, now) - schedule_last(&s, now), 7 * 86400 - 3600);
	assert_int_equal(schedule_parse("off", &s, err, sizeof err), 0);
	assert_int_equal(schedule_last(&s, now), 0);
	assert_int_equal(schedule_next(&s, now), 0);
	assert_int_equal(schedule_parse("every 10s", &s, err, sizeof err), 0);
	assert_int_equal(schedule_last(&s, 1005), 1000);
	assert_int_equal(schedule_next(&s, 1005), 1010);
}

static void
test_scheduler_weekly(void **state)
{
	struct schedule_spec s;
	struct scheduler sc;
	char err[256], week[16];
	(void)state;
	assert_int_equal(schedule_parse("mon 07:00", &s, err, sizeof err), 0);
	/* A hub started on Thursday of W48 with reports: W47 is due at once (missed on Monday). */
	int64_t now = local("2026-11-26T12:00");
	scheduler_init(&sc, &s, 0, now);
	scheduler_start(&sc, 1, now);
	assert_int_equal(scheduler_due(&sc, now, 0, 1, week, sizeof week), SCHEDULE_WEEK);
	assert_string_equal(week, "2026-W47");
	assert_int_equal(scheduler_due(&sc, now + 1, 0, 1, week, sizeof week), SCHEDULE_NONE);
	/* ... unless the log has W47's `all` picture compiled after it ended */
	scheduler_init(&sc, &s, 0, now);
	scheduler_start(&sc, 1, now);
	assert_int_equal(scheduler_due(&sc, now, local("2026-11-23T00:00"), 1, week, sizeof week),
	                 SCHEDULE_NONE);
	/* next Monday 07:00 it is W48's turn */
	now = local("2026-11-30T07:00");
	assert_int_equal(
	    scheduler_due(&sc, now - 1, local("2026-11-23T00:00"), 1, week, sizeof week),
	    SCHEDULE_NONE);
	assert_int_equal(scheduler_due(&sc, now, local("2026-11-23T00:00"), 1, week, sizeof week),
	                 SCHEDULE_WEEK);
	assert_string_equal(week, "2026-W48");
	/* a fresh instance without reports does not compile empty pictures at start-up */
	now = local("2026-11-26T12:00");
	scheduler_init(&sc, &s, 0, now);
	scheduler_start(&sc, 0, now);
	assert_int_equal(scheduler_due(&sc, now + 60, 0, 1, week, sizeof week), SCHEDULE_NONE);
	/* the year boundary: Monday 4 January 2027 compiles 2026-W53 (also when the hub
	 * slept through the fires in between: the latest fire counts) */
	now = local("2027-01-04T07:00");
	assert_int_equal(scheduler_due(&sc, now, 0, 1, week, sizeof week), SCHEDULE_WEEK);
	assert_string_equal(week, "2026-W53");
}

static void
test_scheduler_live(void **state)
{
	struct schedule_spec s;
	struct scheduler sc;
	char err[256], week[16];
	(void)state;
	assert_int_equal(schedule_parse("off", &s, err, sizeof err), 0);
	int64_t now = local("2026-11-26T12:00");
	scheduler_init(&sc, &s, 300, now);
	assert_int_equal(scheduler_due(&sc, now, 0, 1, week, sizeof week), SCHEDULE_NONE);
	scheduler_changed(&sc, now);
	scheduler_changed(&sc, now + 100); /* the same burst: still due at now + 300 */
	assert_int_equal(scheduler_due(&sc, now + 299, 0, 1, week, sizeof week), SCHEDULE_NONE);
	assert_int_equal(scheduler_due(&sc, now + 300, 0, 1, week, sizeof week), SCHEDULE_LIVE);
	assert_string_equal(week, "2026-W48");
	assert_int_equal(scheduler_due(&sc, now + 301, 0, 1, week, sizeof week), SCHEDULE_NONE);
	scheduler_changed(&sc, now + 400);
	assert_int_equal(scheduler_due(&sc, now + 700, 0, 1, week, sizeof week), SCHEDULE_LIVE);
	/* While reports arrive, a due live picture waits for a pause... */
	scheduler_changed(&sc, now + 800);
	scheduler_set_busy(&sc, 1);
	assert_int_equal(scheduler_due(&sc, now + 1100, 0, 1, week, sizeof week), SCHEDULE_NONE);
	scheduler_set_busy(&sc, 0);
	assert_int_equal(scheduler_due(&sc, now + 1101, 0, 1, week, sizeof week), SCHEDULE_LIVE);
	/* ...but at most one interval past its time. */
	scheduler_changed(&sc, now + 1200);
	scheduler_set_busy(&sc, 1);
	assert_int_equal(scheduler_due(&sc, now + 1799, 0, 1, week, sizeof week), SCHEDULE_NONE);
	assert_int_equal(scheduler_due(&sc, now + 1800, 0, 1, week, sizeof week), SCHEDULE_LIVE);
	assert_int_equal(scheduler_due(&sc, now + 1801, 0, 1, week, sizeof week), SCHEDULE_NONE);
	scheduler_set_busy(&sc, 0);
	/* 0: no live picture */
	scheduler_init(&sc, &s, 0, now);
	scheduler_changed(&sc, now);
	assert_int_equal(scheduler_due(&sc, now + 86400, 0, 1, week, sizeof week), SCHEDULE_NONE);
}

/* hub.conf's defaults give the compiler's documented defaults. */
static void
test_schedule_configure_defaults(void **state)
{
	struct config cfg;
	struct picture_rules want, got;
	struct schedule_spec s;
	char err[256];
	(void)state;
	config_defaults(&cfg);
	picture_rules_default(&want);
	assert_int_equal(schedule_configure(&cfg, &got, &s, err, sizeof err), 0);
	assert_memory_equal(&want, &got, sizeof want);
	assert_int_equal(s.kind, SCHEDULE_WEEKLY);
	assert_int_equal(cfg.live_interval_seconds, 300);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schedule_parse),
	    cmocka_unit_test(test_schedule_times),
	    cmocka_unit_test(test_scheduler_weekly),
	    cmocka_unit_test(test_scheduler_live),
	    cmocka_unit_test(test_schedule_configure_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
