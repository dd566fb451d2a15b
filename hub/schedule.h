/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schedule: when the hub compiles pictures by itself (docs/pictures.md,
 * "When pictures are made"). Two kinds:
 *
 *  - the weekly picture: at a local time of one weekday (hub.conf
 *    `schedule = mon 07:00`, Europe/Stockholm) the hub compiles the week
 *    that ended before that day's week, for every area and `all`. A hub
 *    that was down at that time does it at start-up, unless the log
 *    already holds that week's `all` picture compiled after the week ended
 *    (picture_store_closed_until tells);
 *  - the live picture of the current week: once reports have arrived, the
 *    hub republishes it live_interval_seconds after the first new one, so
 *    a partner's burst ends up in one picture and pictures come at most
 *    that often. While reports keep arriving (scheduler_set_busy) a due
 *    live picture waits for a quiet moment, at most one interval more: a
 *    compile over a flood of reports in one week takes up to half a second
 *    of a core the flood needs too.
 *
 * The scheduler only decides; the hub compiles (hub.c: a snapshot on its
 * loop, the rest on the compile thread, compiler.h), one at a time, and
 * asks scheduler_due again only when none runs. Pure but for
 * localtime_r/mktime: call timefmt_init() first.
 */
#ifndef ESTHUB_HUB_SCHEDULE_H
#define ESTHUB_HUB_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "picture.h"

enum schedule_kind {
	SCHEDULE_OFF,
	SCHEDULE_WEEKLY, /* "mon 07:00" */
	SCHEDULE_EVERY,  /* "every 5s": for tests and demos, see docs/pictures.md */
};

struct schedule_spec {
	enum schedule_kind kind;
	int wday;        /* 1 = Monday .. 7 = Sunday */
	int minute;      /* minutes after local midnight */
	int64_t every_s; /* SCHEDULE_EVERY */
};

/*
 * Parses "off", "DAY HH:MM" (DAY one of mon tue wed thu fri sat sun) or
 * "every Ns" (N 1..86400). Returns 0, or -1 with the reason in err.
 */
int schedule_parse(const char *s, struct schedule_spec *out, char *err, size_t errlen);

/*
 * The picture rules and the schedule of cfg ([merge] and [pictures] of
 * hub.conf). Returns 0, or -1 with the reason in err (a schedule that
 * config_load would have refused).
 */
int schedule_configure(const struct config *cfg, struct picture_rules *rules,
                       struct schedule_spec *spec, char *err, size_t errlen);

/* The latest fire time at or before now, and the first one after now (0 when off). */
int64_t schedule_last(const struct schedule_spec *spec, int64_t now);
int64_t schedule_next(const struct schedule_spec *spec, int64_t now);

/* What the scheduler asks the hub to compile. */
enum schedule_due {
	SCHEDULE_NONE,
	SCHEDULE_WEEK, /* the week that ended: every area and `all` */
	SCHEDULE_LIVE, /* the current week */
};

struct scheduler {
	struct schedule_spec spec;
	int64_t next_fire;    /* 0: off */
	long live_interval_s; /* 0: no live picture */
	int64_t live_due;     /* when the pending live picture is due; 0: none pending */
	int busy;             /* reports are arriving (scheduler_set_busy) */
};

/*
 * Starts the scheduler at now. The first fire is the latest one at or
 * before now, so the first scheduler_due tells whether a picture missed
 * while the hub was down must be made.
 */
void scheduler_init(struct scheduler *sc, const struct schedule_spec *spec, long live_interval_s,
                    int64_t now);

/*
 * Once the store is loaded: a log without reports has nothing to picture,
 * so the missed fire is dropped and the first one is the next to come (a
 * fresh instance does not compile empty pictures as soon as it starts).
 */
void scheduler_start(struct scheduler *sc, int has_reports, int64_t now);

/* New reports are in the store (the hub's commit hook calls it). */
void scheduler_changed(struct scheduler *sc, int64_t now);

/*
 * Whether reports are arriving right now: a due live picture then waits
 * until they pause, but never more than live_interval_s past its time.
 */
void scheduler_set_busy(struct scheduler *sc, int busy);

/*
 * What is due at now, if anything, with the week id in week (WEEK_ID_SIZE
 * bytes). closed_until is picture_store_closed_until: a week that ends at
 * or before it has its picture already. has_reports: without any report
 * there is nothing to picture and the fire waits for the next time.
 * Returns one thing at a time (the weekly picture first); call again.
 */
enum schedule_due scheduler_due(struct scheduler *sc, int64_t now, int64_t closed_until,
                                int has_reports, char *week, size_t weeklen);

#endif
