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
#include "runtime/mapping.h"
#include "runtime/partner.h"
#include "wire/timefmt.h"

#define OPEN311_ECHO_MAX 40
#define OPEN311_OWNED    4

static const char not_open311[] = "not an Open311 service request file";

/* One service request on its way to a report. */
struct request {
	Est__V1__Report r;
	Est__V1__Position pos;
	char number[32]; /* a numeric id as decimal text */
	char sub[80];
	char *owned[OPEN311_OWNED]; /* copies of the request's texts */
	size_t n_owned;
	char why[256];
	enum format_kind kind;
	const char *field;
	const char *reason;
	bool no_memory;
};

/* ---- Text helpers ---- */

/* A copy of s without surrounding white space, kept by rq; NULL when out of memory. */
static char *
request_keep(struct request *rq, const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	char *c = rq->n_owned < OPEN311_OWNED ? malloc(n + 1) : NULL;
	if (c == NULL) {
		rq->no_memory = true;
		return NULL;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	rq->owned[rq->n_owned++] = c;
	return c;
}

static int
request_fail(struct request *rq, const char *field, const char *reason)
{
	rq->kind = FORMAT_ERROR;
	rq->field = field;
	rq->reason = reason;
	return -1;
}

/*
 * The string member key of o: its text, or NULL when absent or null. -1
 * (an error on rq naming key) when it is there but no string, or holds a
 * NUL character.
 */
static int
member_text(struct request *rq, const json_t *o, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return request_fail(rq, key, "not a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return request_fail(rq, key, "holds a NUL character");
	*out = json_string_value(v);
	return 0;
}

/* Writes "what \"value\"" or, for a long value, "what this value" into rq->why. */
static const char *
request_echo(struct request *rq, const char *what, const char *value)
{
	if (strlen(value) <= OPEN311_ECHO_MAX && strpbrk(value, "\r\n\t") == NULL)
		snprintf(rq->why, sizeof rq->why, "%s \"%s\"", what, value);
	else
		snprintf(rq->why, sizeof rq->why, "%s this value", what);
	return rq->why;
}

/* ---- One request ---- */

static int
request_id(struct request *rq, const json_t *o)
{
	const json_t *v = json_object_get(o, "service_request_id");
	const char *s;
	if (v == NULL || json_is_null(v))
		return request_fail(rq, "service_request_id", "missing");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return request_fail(rq, "service_request_id", "a negative number");
		snprintf(rq->number, sizeof rq->number, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		rq->r.source_id = rq->number;
		return 0;
	}
	if (!json_is_string(v))
		return request_fail(rq, "service_request_id", "not a string or a whole number");
	if (member_text(rq, o, "service_request_id", &s) != 0)
		return -1;
	char *id = request_keep(rq, s);
	if (id == NULL)
		return -1;
	partner_text_one_line(id);
	if (id[0] == '\0')
		return request_fail(rq, "service_request_id", "missing");
	rq->r.source_id = id;
	return 0;
}

static int
request_code(struct request *rq, const struct mapping *map, const json_t *o)
{
	const char *code, *sub = "";
	Est__V1__Category category = EST__V1__CATEGORY__CATEGORY_UNSPECIFIED;
	if (member_text(rq, o, "service_code", &code) != 0)
		return -1;
	if (code == NULL || code[0] == '\0')
		return request_fail(rq, "service_code", "missing");
	enum mapping_action a = mapping_lookup(map, code, &category, &sub);
	if (a == MAP_SKIP) {
		rq->kind = FORMAT_SKIPPED;
		rq->reason = request_echo(rq, "not EST's business by the mapping rule for", code);
		return -1;
	}
	if (a != MAP_REPORT)
		return request_fail(rq, "service_code",
		                    request_echo(rq, "no mapping rule for", code));
	rq->r.category = category;
	snprintf(rq->sub, sizeof rq->sub, "%s", sub);
	rq->r.subcategory = rq->sub;
	return 0;
}

/* An ISO 8601 time with its UTC offset; 1 when key is absent, -1 an error. */
static int
request_time(struct request *rq, const json_t *o, const char *key, int64_t *out)
{
	const char *s;
	char err[160];
	if (member_text(rq, o, key, &s) != 0)
		return -1;
	if (s == NULL || s[0] == '\0')
		return 1;
	size_t n = strlen(s);
	bool offset = n > 11 && (s[n - 1] == 'Z' || strpbrk(s + 11, "+-") != NULL);
	if (!offset || timefmt_parse(s, out, err, sizeof err) != 0)
		return request_fail(rq, key,
		                    "not an ISO 8601 time with its UTC offset "
		                    "(2026-11-23T21:40:00+01:00)");
	return 0;
}

static int
request_times(struct request *rq, const json_t *o)
{
	int64_t updated;
	int rc = request_time(rq, o, "requested_datetime", &rq->r.observed_at);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return request_fail(rq, "requested_datetime", "missing");
	rc = request_time(rq, o, "updated_datetime", &updated);
	if (rc < 0)
		return -1;
	if (rc > 0)
		updated = rq->r.observed_at;
	if (updated < 0 || updated > (int64_t)UINT32_MAX)
		return request_fail(rq, rc > 0 ? "requested_datetime" : "updated_datetime",
		                    "outside 1970..2106, the revisions this adapter can number");
	rq->r.revision = (uint32_t)updated;
	return 0;
}

/* A coordinate: a JSON number, or a number in a string (some servers quote them). */
static int
request_coordinate(struct request *rq, const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return request_fail(rq, key, "missing: the request cannot be placed");
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	char *end;
	if (s == NULL || s[0] == '\0' || strspn(s, "0123456789.-+") != strlen(s))
		return request_fail(rq, key, "not a number");
	errno = 0;
	*out = strtod(s, &end); /* the "C" locale: no program calls setlocale */
	if (*end != '\0' || errno != 0 || !isfinite(*out))
		return request_fail(rq, key, "not a number");
	return 0;
}

static int
request_position(struct request *rq, const json_t *o)
{
	double lat, lon;
	if (request_coordinate(rq, o, "lat", &lat) || request_coordinate(rq, o, "long", &lon))
		return -1;
	if (!geo_in_sweden(lat, lon))
		return request_fail(rq, "lat", "the position lies outside Sweden");
	rq->pos.lat = lat;
	rq->pos.lon = lon;
	rq->r.position = &rq->pos;
	return 0;
}

static int
request_texts(struct request *rq, const json_t *o)
{
	const char *address, *description;
	if (member_text(rq, o, "address", &address) != 0 ||
	    member_text(rq, o, "description", &description) != 0)
		return -1;
	if (address != NULL) {
		char *place = request_keep(rq, address);
		if (place == NULL)
			return -1;
		partner_text_one_line(place);
		rq->r.place = place;
	}
	if (description != NULL) {
		char *text = request_keep(rq, description);
		if (text == NULL)
			return -1;
		partner_text_multi_line(text);
		rq->r.description = text;
	}
	return 0;
}

static void
request_translate(struct request *rq, const struct format_input *input, const json_t *o)
{
	rq->kind = FORMAT_REPORT;
	if (!json_is_object(o)) {
		request_fail(rq, NULL, "not a JSON object");
		return;
	}
	if (request_id(rq, o) || request_code(rq, input->map, o) || request_times(rq, o) ||
	    request_position(rq, o) || request_texts(rq, o))
		return;
}

/*
 * Translates and emits the request at index (from 1). The emit's answer;
 * 0 with *no_memory set when out of memory.
 */
static int
request_emit(const struct format_input *input, uint64_t index, const json_t *o, bool *no_memory)
{
	struct request rq;
	memset(&rq, 0, sizeof rq);
	est__v1__report__init(&rq.r);
	est__v1__position__init(&rq.pos);
	request_translate(&rq, input, o);
	int rc = 0;
	*no_memory = rq.no_memory;
	if (!rq.no_memory) {
		struct format_record rec = {
		    .kind = rq.kind, .record = index, .field = rq.field, .reason = rq.reason};
		if (rq.kind == FORMAT_REPORT)
			rec.report = &rq.r;
		else if (rq.r.source_id[0] != '\0')
			rec.source_id = rq.r.source_id;
		rc = input->emit(input->arg, &rec);
	}
	for (size_t i = 0; i < rq.n_owned; i++)
		free(rq.owned[i]);
	return rc;
}

static int
open311_read(const struct format_input *input, char *err, size_t errlen)
{
	if (input->map == NULL || input->geo == NULL) {
		snprintf(err, errlen, "open311 needs a mapping table and geography");
		return -1;
	}
	return partner_json_each(input, not_open311, "service requests", request_emit, err, errlen);
}

const struct format format_open311 = {
    .name = "open311",
    .summary = "Open311 GeoReport v2 service requests (JSON), revisions by update time",
    .own_revision = true,
    .read = open311_read,
};
