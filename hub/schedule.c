/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schedule: when pictures are compiled (see schedule.h).
 */
#include "schedule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "week.h"

static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int
parse_every(const char *s, struct schedule_spec *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno != 0 || end == s || strcmp(end, "s") != 0 || n < 1 || n > 86400) {
		snprintf(err, errlen,
		         "\"every %s\": expected a number of seconds 1..86400 followed by s, "
		         "e.g. every 5s",
		         s);
		return -1;
	}
	out->kind = SCHEDULE_EVERY;
	out->every_s = n;
	return 0;
}

static int
two_digits(const char *s, int max, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out <= max ? 0 : -1;
}

int
schedule_parse(const char *s, struct schedule_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (strcmp(s, "off") == 0) {
		out->kind = SCHEDULE_OFF;
		return 0;
	}
	if (strncmp(s, "every ", 6) == 0)
		return parse_every(s + 6, out, err, errlen);
	int hh, mm;
	for (int d = 0; d < 7; d++) {
		if (strncmp(s, days[d], 3) != 0 || s[3] != ' ')
			continue;
		const char *t = s + 4;
		if (strlen(t) != 5 || t[2] != ':' || two_digits(t, 23, &hh) != 0 ||
		    two_digits(t + 3, 59, &mm) != 0)
			break;
		out->kind = SCHEDULE_WEEKLY;
		out->wday = d + 1;
		out->minute = hh * 60 + mm;
		return 0;
	}
	snprintf(err, errlen,
	         "\"%s\": expected a weekday and a local time like \"mon 07:00\" (mon tue wed thu "
	         "fri sat sun, 00:00..23:59), or off",
	         s);
	return -1;
}

int
schedule_configure(const struct config *cfg, struct picture_rules *rules,
                   struct schedule_spec *spec, char *err, size_t errlen)
{
	picture_rules_default(rules);
	rules->merge.distance_m = cfg->merge_distance_m;
	rules->merge.window_s = cfg->merge_window_seconds;
	rules->weight[EST__V1__CATEGORY__CATEGORY_GATHERING] = cfg->weight_gathering;
	rules->weight[EST__V1__CATEGORY__CATEGORY_VANDALISM] = cfg->weight_vandalism;
	rules->weight[EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE] = cfg->weight_unsafe_place;
	rules->weight[EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT] = cfg->weight_upcoming_event;
	rules->weight[EST__V1__CATEGORY__CATEGORY_DISORDER] = cfg->weight_disorder;
	rules->weight[EST__V1__CATEGORY__CATEGORY_STAFF_INCIDENT] = cfg->weight_staff_incident;
	rules->weight[EST__V1__CATEGORY__CATEGORY_RUMOUR] = cfg->weight_rumour;
	rules->weight[EST__V1__CATEGORY__CATEGORY_OTHER] = cfg->weight_other;
	rules->trend_factor = cfg->trend_factor;
	rules->confirm_factor = cfg->confirm_factor;
	rules->hotspots_max = (unsigned)cfg->hotspots_max;
	rules->hotspot_cell_m = cfg->hotspot_cell_m;
	rules->upcoming_s = (int64_t)cfg->upcoming_days * 86400;
	rules->upcoming_max = (unsigned)cfg->upcoming_max;
	rules->followup_radius_m = cfg->followup_radius_m;
	rules->followup_weeks = (unsigned)cfg->followup_weeks;
	rules->flag_weeks = (unsigned)cfg->flag_weeks;
	return schedule_parse(cfg->schedule, spec, err, errlen);
}

/* The fire time in week w: its weekday at the time, local (mktime settles summer time). */
static int64_t
fire_in(const struct schedule_spec *spec, struct week w)
{
	int64_t start, end;
	struct tm tm;
	if (week_bounds(w, &start, &end) != 0)
		return 0;
	time_t t = (time_t)start;
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	tm.tm_mday += spec->wday - 1;
	tm.tm_hour = spec->minute / 60;
	tm.tm_min = spec->minute % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	return t == (time_t)-1 ? 0 : (int64_t)t;
}

int64_t
schedule_last(const struct schedule_spec *spec, int64_t now)
{
	struct week w;
	if (spec->kind == SCHEDULE_EVERY)
		return now - now % spec->every_s;
	if (spec->kind != SCHEDULE_WEEKLY || week_of(now, &w) != 0)
		return 0;
	int64_t t = fire_in(spec, w);
	return t <= now ? t : fire_in(spec, week_prev(w));
}

int64_t
schedule_next(const struct schedule_spec *spec, int64_t now)
{
	struct week w;
	if (spec->kind == SCHEDULE_EVERY)
		return now - now % spec->every_s + spec->every_s;
	if (spec->kind != SCHEDULE_WEEKLY || week_of(now, &w) != 0)
		return 0;
	int64_t t = fire_in(spec, w);
	return t > now ? t : fire_in(spec, week_next(w));
}

void
scheduler_init(struct scheduler *sc, const struct schedule_spec *spec, long live_interval_s,
               int64_t now)
{
	memset(sc, 0, sizeof *sc);
	sc->spec = *spec;
	sc->live_interval_s = live_interval_s;
	sc->next_fire = schedule_last(spec, now);
}

void
scheduler_start(struct scheduler *sc, int has_reports, int64_t now)
{
	if (!has_reports)
		sc->next_fire = schedule_next(&sc->spec, now);
}

void
scheduler_changed(struct scheduler *sc, int64_t now)
{
	if (sc->live_interval_s > 0 && sc->live_due == 0)
		sc->live_due = now + sc->live_interval_s;
}

void
scheduler_set_busy(struct scheduler *sc, int busy)
{
	sc->busy = busy;
}

enum schedule_due
scheduler_due(struct scheduler *sc, int64_t now, int64_t closed_until, int has_reports, char *week,
              size_t weeklen)
{
	struct week w;
	if (sc->next_fire != 0 && now >= sc->next_fire) {
		/* The week before the one the fire time lies in has just ended. The
		 * latest fire time, not the one waited for: after a suspend the
		 * week due is the one before the latest fire. */
		int64_t fired = schedule_last(&sc->spec, now), start, end;
		sc->next_fire = schedule_next(&sc->spec, now);
		if (has_reports && week_of(fired, &w) == 0 &&
		    week_bounds(week_prev(w), &start, &end) == 0 && end > closed_until) {
			week_format(week_prev(w), week, weeklen);
			return SCHEDULE_WEEK;
		}
	}
	if (sc->live_due != 0 && now >= sc->live_due &&
	    (!sc->busy || now >= sc->live_due + sc->live_interval_s)) {
		sc->live_due = 0;
		if (week_of(now, &w) == 0) {
			week_format(w, week, weeklen);
			return SCHEDULE_LIVE;
		}
	}
	return SCHEDULE_NONE;
}
