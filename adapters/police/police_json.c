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
#include "runtime/mapping.h"
#include "runtime/partner.h"
#include "wire/timefmt.h"

#define POLICE_ECHO_MAX 40
#define POLICE_OWNED    4

static const char not_police[] = "not a police events file";

/* One event on its way to a report. */
struct event {
	Est__V1__Report r;
	Est__V1__Position pos;
	char number[32]; /* a numeric id as decimal text */
	char sub[80];
	char area[32];
	char *owned[POLICE_OWNED]; /* copies of the event's texts */
	size_t n_owned;
	char why[256];
	enum format_kind kind;
	const char *field;
	const char *reason;
	bool no_memory;
};

/* ---- Text helpers ---- */

/* A copy of s without surrounding white space, kept by ev; NULL when out of memory. */
static char *
event_keep(struct event *ev, const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	char *c = ev->n_owned < POLICE_OWNED ? malloc(n + 1) : NULL;
	if (c == NULL) {
		ev->no_memory = true;
		return NULL;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	ev->owned[ev->n_owned++] = c;
	return c;
}

static int
event_fail(struct event *ev, const char *field, const char *reason)
{
	ev->kind = FORMAT_ERROR;
	ev->field = field;
	ev->reason = reason;
	return -1;
}

/*
 * The string member key of o: its text, or NULL when absent or null. -1
 * (an error on ev naming field) when it is there but no string, or holds a
 * NUL character.
 */
static int
member_text(struct event *ev, const json_t *o, const char *key, const char *field, const char **out)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return event_fail(ev, field, "not a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return event_fail(ev, field, "holds a NUL character");
	*out = json_string_value(v);
	return 0;
}

/* Writes "what \"value\"" or, for a long value, "what this value" into ev->why. */
static const char *
event_echo(struct event *ev, const char *what, const char *value)
{
	if (strlen(value) <= POLICE_ECHO_MAX && strpbrk(value, "\r\n\t") == NULL)
		snprintf(ev->why, sizeof ev->why, "%s \"%s\"", what, value);
	else
		snprintf(ev->why, sizeof ev->why, "%s this value", what);
	return ev->why;
}

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

static int
event_id(struct event *ev, const json_t *o)
{
	const json_t *v = json_object_get(o, "id");
	if (v == NULL || json_is_null(v))
		return event_fail(ev, "id", "missing");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return event_fail(ev, "id", "a negative number");
		snprintf(ev->number, sizeof ev->number, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		ev->r.source_id = ev->number;
		return 0;
	}
	const char *s;
	if (json_is_real(v))
		return event_fail(ev, "id", "not a whole number");
	if (member_text(ev, o, "id", "id", &s) != 0)
		return event_fail(ev, "id", "not a number or a string");
	char *id = event_keep(ev, s);
	if (id == NULL)
		return -1;
	partner_text_one_line(id);
	if (id[0] == '\0')
		return event_fail(ev, "id", "missing");
	ev->r.source_id = id;
	return 0;
}

static int
event_type(struct event *ev, const struct mapping *map, const json_t *o)
{
	const char *type, *sub = "";
	Est__V1__Category category = EST__V1__CATEGORY__CATEGORY_UNSPECIFIED;
	if (member_text(ev, o, "type", "type", &type) != 0)
		return -1;
	if (type == NULL || type[0] == '\0')
		return event_fail(ev, "type", "missing");
	enum mapping_action a = mapping_lookup(map, type, &category, &sub);
	if (a == MAP_SKIP) {
		ev->kind = FORMAT_SKIPPED;
		ev->reason = event_echo(ev, "not EST's business by the mapping rule for", type);
		return -1;
	}
	if (a != MAP_REPORT)
		return event_fail(ev, "type", event_echo(ev, "no mapping rule for", type));
	ev->r.category = category;
	snprintf(ev->sub, sizeof ev->sub, "%s", sub);
	ev->r.subcategory = ev->sub;
	return 0;
}

/* "2026-11-23 21:34:07 +01:00" (or ISO 8601 with T and no space) to Unix seconds. */
static int
event_time(struct event *ev, const json_t *o)
{
	static const char bad[] = "not a date and time with its UTC offset "
	                          "(2026-11-23 21:34:07 +01:00)";
	const char *s;
	char text[48], err[160];
	if (member_text(ev, o, "datetime", "datetime", &s) != 0)
		return -1;
	if (s == NULL || s[0] == '\0')
		return event_fail(ev, "datetime", "missing");
	if (strlen(s) < 11 || strlen(s) >= sizeof text)
		return event_fail(ev, "datetime", bad);
	snprintf(text, sizeof text, "%s", s);
	/* The police write a space before the offset; ISO 8601 has none. */
	char *space = strrchr(text, ' ');
	if (space && space > text + 10 && space[1] != '\0' && strchr("+-Z", space[1]))
		memmove(space, space + 1, strlen(space + 1) + 1);
	size_t n = strlen(text);
	bool offset = text[n - 1] == 'Z' || strpbrk(text + 11, "+-") != NULL;
	if (!offset || timefmt_parse(text, &ev->r.observed_at, err, sizeof err) != 0)
		return event_fail(ev, "datetime", bad);
	return 0;
}

/* location.gps, "lat,lon", into the position. 1 when there is none. */
static int
event_gps(struct event *ev, const json_t *loc)
{
	const char *gps;
	char buf[64];
	double lat, lon;
	if (member_text(ev, loc, "gps", "location.gps", &gps) != 0)
		return -1;
	if (gps == NULL || gps[0] == '\0')
		return 1;
	if (strlen(gps) >= sizeof buf)
		return event_fail(ev, "location.gps", "not \"lat,lon\" in degrees");
	snprintf(buf, sizeof buf, "%s", gps);
	char *comma = strchr(buf, ',');
	if (comma == NULL || strchr(comma + 1, ',') != NULL)
		return event_fail(ev, "location.gps", "not \"lat,lon\" in degrees");
	*comma = '\0';
	if (number_parse(buf, &lat) != 0 || number_parse(comma + 1, &lon) != 0)
		return event_fail(ev, "location.gps", "not \"lat,lon\" in degrees");
	if (!geo_in_sweden(lat, lon))
		return event_fail(ev, "location.gps", "the position lies outside Sweden");
	ev->pos.lat = lat;
	ev->pos.lon = lon;
	ev->r.position = &ev->pos;
	return 0;
}

static int
event_location(struct event *ev, struct geo *geo, const json_t *o)
{
	const json_t *loc = json_object_get(o, "location");
	const char *name = NULL;
	int rc = 1;
	if (loc != NULL && !json_is_null(loc) && !json_is_object(loc))
		return event_fail(ev, "location", "not an object");
	if (json_is_object(loc)) {
		if (member_text(ev, loc, "name", "location.name", &name) != 0)
			return -1;
		if ((rc = event_gps(ev, loc)) < 0)
			return -1;
	}
	if (name != NULL) {
		char *town = event_keep(ev, name);
		if (town == NULL)
			return -1;
		partner_text_one_line(town);
		const char *area = geo_area_id(geo, town);
		if (area != NULL) {
			snprintf(ev->area, sizeof ev->area, "%s", area);
			ev->r.area = ev->area;
		}
	}
	if (rc > 0 && ev->r.area[0] == '\0')
		return event_fail(ev, "location.gps",
		                  "missing, and location.name is no EST area: the event cannot "
		                  "be placed");
	return 0;
}

static int
event_summary_text(struct event *ev, const json_t *o)
{
	const char *summary;
	if (member_text(ev, o, "summary", "summary", &summary) != 0)
		return -1;
	if (summary != NULL) {
		char *text = event_keep(ev, summary);
		if (text == NULL)
			return -1;
		partner_text_multi_line(text);
		ev->r.description = text;
	}
	return 0;
}

static void
event_translate(struct event *ev, const struct format_input *input, const json_t *o)
{
	ev->kind = FORMAT_REPORT;
	if (!json_is_object(o)) {
		event_fail(ev, NULL, "not a JSON object");
		return;
	}
	if (event_is_summary(o)) {
		event_id(ev, o); /* only to name it, when it has an id */
		ev->kind = FORMAT_SKIPPED;
		ev->field = NULL;
		ev->reason = "a summary, not an event";
		return;
	}
	if (event_id(ev, o) || event_type(ev, input->map, o) || event_time(ev, o) ||
	    event_location(ev, input->geo, o) || event_summary_text(ev, o))
		return;
}

/*
 * Translates and emits the event at index (from 1). The emit's answer; 0
 * with *no_memory set when out of memory.
 */
static int
event_emit(const struct format_input *input, uint64_t index, const json_t *o, bool *no_memory)
{
	struct event ev;
	memset(&ev, 0, sizeof ev);
	est__v1__report__init(&ev.r);
	est__v1__position__init(&ev.pos);
	event_translate(&ev, input, o);
	int rc = 0;
	*no_memory = ev.no_memory;
	if (!ev.no_memory) {
		struct format_record rec = {
		    .kind = ev.kind, .record = index, .field = ev.field, .reason = ev.reason};
		if (ev.kind == FORMAT_REPORT)
			rec.report = &ev.r;
		else if (ev.r.source_id[0] != '\0')
			rec.source_id = ev.r.source_id;
		rc = input->emit(input->arg, &rec);
	}
	for (size_t i = 0; i < ev.n_owned; i++)
		free(ev.owned[i]);
	return rc;
}

static int
police_read(const struct format_input *input, char *err, size_t errlen)
{
	if (input->map == NULL || input->geo == NULL) {
		snprintf(err, errlen, "police-json needs a mapping table and geography");
		return -1;
	}
	return partner_json_each(input, not_police, "events", event_emit, err, errlen);
}

const struct format format_police_json = {
    .name = "police-json",
    .summary = "the police's events feed (a JSON array; type mapped by table)",
    .own_revision = false,
    .read = police_read,
};
