/* SPDX-License-Identifier: Apache-2.0 */
/*
 * police_json: the `police-json` format, the events the police publish
 * (partner-formats.md): one JSON array of event objects, read whole with
 * jansson (duplicate keys refused, at most 64 MiB, a UTF-8 byte order mark
 * allowed). Each event is one report whose locator is its index in the
 * array, from 1; the outbox numbers the revisions.
 *
 * `id` (number or string) is the source id; `type` goes through the
 * partner's mapping table, after summaries ("Sammanfattning natt", in
 * `type` or `name`), which are not events, have been skipped; `datetime`
 * ("2026-11-23 21:34:07 +01:00") must carry its UTC offset; `summary` is the
 * description; `location.gps` ("lat,lon") is the position. The hub assigns
 * the area from the position unless `location.name` is an EST area name
 * (geo.h). `location.name` names a municipality, town or district
 * ("Norrköping"), never a place: as a place name it would make every event
 * of the town one hotspot and merge unrelated events (merge.h matches place
 * names), so it only finds the area. `url` and `name` are not carried over.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "runtime/format.h"
#include "runtime/geo.h"
#include "runtime/partner.h"
#include "wire/timefmt.h"

static const char not_police[] = "not a police events file";

/* Parses a decimal number with a point ("58.5669"), spaces around it allowed. 0, or -1. */
static int
number_parse(const char *s, double *out)
{
	while (*s == ' ')
		s++;
	if (*s == '\0' || strspn(s, "0123456789.-+ ") != strlen(s))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end); /* the "C" locale: no program calls setlocale */
	while (*end == ' ')
		end++;
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* ---- One event ---- */

/* Whether the event is a summary of a period ("Sammanfattning natt"), not an event. */
static bool
event_is_summary(const json_t *o)
{
	static const char word[] = "sammanfattning";
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *name = json_string_value(json_object_get(o, "name"));
	if (type && strncasecmp(type, word, sizeof word - 1) == 0)
		return true;
	for (size_t i = 0; name && name[i]; i++)
		if (strncasecmp(name + i, word, sizeof word - 1) == 0)
			return true;
	return false;
}

/* "2026-11-23 21:34:07 +01:00" (or ISO 8601 with T and no space) to Unix seconds. */
static int
event_time(struct partner_rec *rec, const json_t *o)
{
	static const char bad[] = "not a date and time with its UTC offset "
	                          "(2026-11-23 21:34:07 +01:00)";
	const char *s;
	char text[48], err[160];
	if (partner_member_text(rec, o, "datetime", "datetime", &s) != 0)
		return -1;
	if (s == NULL || s[0] == '\0')
		return partner_fail(rec, "datetime", "missing");
	if (strlen(s) < 11 || strlen(s) >= sizeof text)
		return partner_fail(rec, "datetime", bad);
	snprintf(text, sizeof text, "%s", s);
	/* The police write a space before the offset; ISO 8601 has none. */
	char *space = strrchr(text, ' ');
	if (space && space > text + 10 && space[1] != '\0' && strchr("+-Z", space[1]))
		memmove(space, space + 1, strlen(space + 1) + 1);
	size_t n = strlen(text);
	bool offset = text[n - 1] == 'Z' || strpbrk(text + 11, "+-") != NULL;
	if (!offset || timefmt_parse(text, &rec->r.observed_at, err, sizeof err) != 0)
		return partner_fail(rec, "datetime", bad);
	return 0;
}

/* location.gps, "lat,lon", into the position. 1 when there is none. */
static int
event_gps(struct partner_rec *rec, const json_t *loc)
{
	const char *gps;
	char buf[64];
	double lat, lon;
	if (partner_member_text(rec, loc, "gps", "location.gps", &gps) != 0)
		return -1;
	if (gps == NULL || gps[0] == '\0')
		return 1;
	if (strlen(gps) >= sizeof buf)
		return partner_fail(rec, "location.gps", "not \"lat,lon\" in degrees");
	snprintf(buf, sizeof buf, "%s", gps);
	char *comma = strchr(buf, ',');
	if (comma == NULL || strchr(comma + 1, ',') != NULL)
		return partner_fail(rec, "location.gps", "not \"lat,lon\" in degrees");
	*comma = '\0';
	if (number_parse(buf, &lat) != 0 || number_parse(comma + 1, &lon) != 0)
		return partner_fail(rec, "location.gps", "not \"lat,lon\" in degrees");
	if (!geo_in_sweden(lat, lon))
		return partner_fail(rec, "location.gps", "the position lies outside Sweden");
	rec->pos.lat = lat;
	rec->pos.lon = lon;
	rec->r.position = &rec->pos;
	return 0;
}

static int
event_location(struct partner_rec *rec, struct geo *geo, const json_t *o)
{
	const json_t *loc = json_object_get(o, "location");
	const char *name = NULL;
	int rc = 1;
	if (loc != NULL && !json_is_null(loc) && !json_is_object(loc))
		return partner_fail(rec, "location", "not an object");
	if (json_is_object(loc)) {
		if (partner_member_text(rec, loc, "name", "location.name", &name) != 0)
			return -1;
		if ((rc = event_gps(rec, loc)) < 0)
			return -1;
	}
	if (name != NULL) {
		char *town = partner_keep(rec, name);
		if (town == NULL)
			return -1;
		partner_text_one_line(town);
		const char *area = geo_area_id(geo, town);
		if (area != NULL) {
			snprintf(rec->area, sizeof rec->area, "%s", area);
			rec->r.area = rec->area;
		}
	}
	if (rc > 0 && rec->r.area[0] == '\0')
		return partner_fail(rec, "location.gps",
		                    "missing, and location.name is no EST area: the event cannot "
		                    "be placed");
	return 0;
}

static int
event_summary_text(struct partner_rec *rec, const json_t *o)
{
	const char *summary;
	if (partner_member_text(rec, o, "summary", "summary", &summary) != 0)
		return -1;
	if (summary != NULL) {
		char *text = partner_keep(rec, summary);
		if (text == NULL)
			return -1;
		partner_text_multi_line(text);
		rec->r.description = text;
	}
	return 0;
}

static void
event_translate(struct partner_rec *rec, const struct format_input *input, const json_t *o)
{
	if (event_is_summary(o)) {
		(void)partner_rec_id(rec, o, "id"); /* only to name it, when it has an id */
		rec->kind = FORMAT_SKIPPED;
		rec->field = NULL;
		rec->reason = "a summary, not an event";
		return;
	}
	/* Each step says in rec why it failed; the first failure ends the translation. */
	(void)(partner_rec_id(rec, o, "id") || partner_rec_category(rec, input->map, o, "type") ||
	       event_time(rec, o) || event_location(rec, input->geo, o) ||
	       event_summary_text(rec, o));
}

static int
police_read(const struct format_input *input, char *err, size_t errlen)
{
	if (input->map == NULL || input->geo == NULL) {
		snprintf(err, errlen, "police-json needs a mapping table and geography");
		return -1;
	}
	return partner_json_each(input, not_police, "events", event_translate, err, errlen);
}

const struct format format_police_json = {
    .name = "police-json",
    .summary = "the police's events feed (a JSON array; type mapped by table)",
    .own_revision = false,
    .read = police_read,
};
