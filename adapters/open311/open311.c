/* SPDX-License-Identifier: Apache-2.0 */
/*
 * open311: the `open311` format, the housing company's fault reports as
 * Open311 GeoReport v2 service requests (partner-formats.md): one JSON
 * array of request objects, read whole with jansson (duplicate keys
 * refused, at most 64 MiB, a UTF-8 byte order mark allowed). Each request
 * is one report whose locator is its index in the array, from 1.
 *
 * `service_request_id` (string or number) is the source id; `service_code`
 * goes through the partner's mapping table (the shipped one skips every
 * code it does not name); `requested_datetime` is observed_at; `address` the
 * place; `lat` and `long` the position (the hub assigns the area);
 * `description` the description. Times must carry their UTC offset, as
 * GeoReport v2 writes them. A closed request is not withdrawn: its fault
 * is mended, what was seen still happened. `status`, `status_notes`,
 * `service_name`, `agency_responsible` and `media_url` are not carried over.
 *
 * Revisions come from the partner: Report.revision is `updated_datetime`
 * (else `requested_datetime`) as Unix seconds, which fit a uint32 until
 * 2106. A later record of a request with a newer update time is therefore
 * a higher revision of the same report, in whatever file or order it
 * comes; one older than a revision already sent is skipped by the outbox.
 * Two records of one request with the same update time but other content
 * are the same revision with other content, which the hub rejects.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runtime/format.h"
#include "runtime/geo.h"
#include "runtime/partner.h"
#include "wire/timefmt.h"

static const char not_open311[] = "not an Open311 service request file";

/* ---- One request ---- */

/* An ISO 8601 time with its UTC offset; 1 when key is absent, -1 an error. */
static int
request_time(struct partner_rec *rec, const json_t *o, const char *key, int64_t *out)
{
	const char *s;
	char err[160];
	if (partner_member_text(rec, o, key, key, &s) != 0)
		return -1;
	if (s == NULL || s[0] == '\0')
		return 1;
	size_t n = strlen(s);
	bool offset = n > 11 && (s[n - 1] == 'Z' || strpbrk(s + 11, "+-") != NULL);
	if (!offset || timefmt_parse(s, out, err, sizeof err) != 0)
		return partner_fail(rec, key,
		                    "not an ISO 8601 time with its UTC offset "
		                    "(2026-11-23T21:40:00+01:00)");
	return 0;
}

static int
request_times(struct partner_rec *rec, const json_t *o)
{
	int64_t updated;
	int rc = request_time(rec, o, "requested_datetime", &rec->r.observed_at);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return partner_fail(rec, "requested_datetime", "missing");
	rc = request_time(rec, o, "updated_datetime", &updated);
	if (rc < 0)
		return -1;
	if (rc > 0)
		updated = rec->r.observed_at;
	if (updated < 0 || updated > (int64_t)UINT32_MAX)
		return partner_fail(rec, rc > 0 ? "requested_datetime" : "updated_datetime",
		                    "outside 1970..2106, the revisions this adapter can number");
	rec->r.revision = (uint32_t)updated;
	return 0;
}

/* A coordinate: a JSON number, or a number in a string (some servers quote them). */
static int
request_coordinate(struct partner_rec *rec, const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return partner_fail(rec, key, "missing: the request cannot be placed");
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	char *end;
	if (s == NULL || s[0] == '\0' || strspn(s, "0123456789.-+") != strlen(s))
		return partner_fail(rec, key, "not a number");
	errno = 0;
	*out = strtod(s, &end); /* the "C" locale: no program calls setlocale */
	if (*end != '\0' || errno != 0 || !isfinite(*out))
		return partner_fail(rec, key, "not a number");
	return 0;
}

static int
request_position(struct partner_rec *rec, const json_t *o)
{
	double lat, lon;
	if (request_coordinate(rec, o, "lat", &lat) || request_coordinate(rec, o, "long", &lon))
		return -1;
	if (!geo_in_sweden(lat, lon))
		return partner_fail(rec, "lat", "the position lies outside Sweden");
	rec->pos.lat = lat;
	rec->pos.lon = lon;
	rec->r.position = &rec->pos;
	return 0;
}

static int
request_texts(struct partner_rec *rec, const json_t *o)
{
	const char *address, *description;
	if (partner_member_text(rec, o, "address", "address", &address) != 0 ||
	    partner_member_text(rec, o, "description", "description", &description) != 0)
		return -1;
	if (address != NULL) {
		char *place = partner_keep(rec, address);
		if (place == NULL)
			return -1;
		partner_text_one_line(place);
		rec->r.place = place;
	}
	if (description != NULL) {
		char *text = partner_keep(rec, description);
		if (text == NULL)
			return -1;
		partner_text_multi_line(text);
		rec->r.description = text;
	}
	return 0;
}

static void
request_translate(struct partner_rec *rec, const struct format_input *input, const json_t *o)
{
	/* Each step says in rec why it failed; the first failure ends the translation. */
	(void)(partner_rec_id(rec, o, "service_request_id") ||
	       partner_rec_category(rec, input->map, o, "service_code") || request_times(rec, o) ||
	       request_position(rec, o) || request_texts(rec, o));
}

static int
open311_read(const struct format_input *input, char *err, size_t errlen)
{
	if (input->map == NULL || input->geo == NULL) {
		snprintf(err, errlen, "open311 needs a mapping table and geography");
		return -1;
	}
	return partner_json_each(input, not_open311, "service requests", request_translate, err,
	                         errlen);
}

const struct format format_open311 = {
    .name = "open311",
    .summary = "Open311 GeoReport v2 service requests (JSON), revisions by update time",
    .own_revision = true,
    .read = open311_read,
};
