/* SPDX-License-Identifier: Apache-2.0 */
/* validate: checks of one incoming report (see validate.h). */
#include "validate.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "wire/arena.h"
#include "wire/codec.h"
#include "wire/ids.h"

/* Checks a string field: length, UTF-8, control characters (allowed ones in allow). */
static int
check_text(const char *field, const char *s, size_t max, const char *allow, char *err,
           size_t errlen)
{
	size_t n = strlen(s);
	if (n > max) {
		snprintf(err, errlen, "%s: %zu bytes, more than the limit of %zu", field, n, max);
		return -1;
	}
	size_t control;
	if (!ids_text_scan(s, n, &control)) {
		snprintf(err, errlen, "%s: not valid UTF-8", field);
		return -1;
	}
	for (size_t i = control; i < n; i += 1 + ids_first_control(s + i + 1, n - i - 1)) {
		unsigned char c = (unsigned char)s[i];
		if (!strchr(allow, c)) {
			snprintf(err, errlen, "%s: control character 0x%02x at byte %zu", field, c,
			         i);
			return -1;
		}
	}
	return 0;
}

static int
check_texts(const Est__V1__Report *r, char *err, size_t errlen)
{
	if (r->source_id[0] == '\0') {
		snprintf(err, errlen, "source_id: required (the partner's own id of the report)");
		return -1;
	}
	if (check_text("source_id", r->source_id, VALIDATE_SOURCE_ID_MAX, "", err, errlen) ||
	    check_text("subcategory", r->subcategory, VALIDATE_SUBCATEGORY_MAX, "", err, errlen) ||
	    check_text("place", r->place, VALIDATE_PLACE_MAX, "", err, errlen) ||
	    check_text("description", r->description, VALIDATE_DESCRIPTION_MAX, "\n\r\t", err,
	               errlen) ||
	    check_text("reporter_role", r->reporter_role, VALIDATE_ROLE_MAX, "", err, errlen) ||
	    check_text("area", r->area, 32, "", err, errlen))
		return -1;
	return 0;
}

/* A time field: not before 2000, not further ahead than limit. */
static int
check_time(const char *field, int64_t t, int64_t now, int64_t ahead_s, char *err, size_t errlen)
{
	if (t < VALIDATE_EARLIEST) {
		snprintf(err, errlen, "%s: %lld is before 2000-01-01 (Unix seconds, UTC, expected)",
		         field, (long long)t);
		return -1;
	}
	if (t > now + ahead_s) {
		if (t > 100000000000LL)
			snprintf(err, errlen,
			         "%s: %lld looks like milliseconds; Unix seconds expected", field,
			         (long long)t);
		else
			snprintf(err, errlen,
			         "%s: %lld s in the future, more than the limit of %lld s", field,
			         (long long)(t - now), (long long)ahead_s);
		return -1;
	}
	return 0;
}

static int
check_times(const Est__V1__Report *r, int64_t now, int64_t max_future_s, char *err, size_t errlen)
{
	if (r->observed_at == 0) {
		snprintf(err, errlen, "observed_at: required (when it was observed, Unix seconds)");
		return -1;
	}
	if (check_time("observed_at", r->observed_at, now, max_future_s, err, errlen))
		return -1;
	/* Events may be announced up to two years ahead. */
	const int64_t plan_ahead = 2 * 366 * 86400LL;
	if (r->starts_at && check_time("starts_at", r->starts_at, now, plan_ahead, err, errlen))
		return -1;
	if (r->ends_at && check_time("ends_at", r->ends_at, now, plan_ahead, err, errlen))
		return -1;
	if (r->starts_at && r->ends_at && r->ends_at < r->starts_at) {
		snprintf(err, errlen, "ends_at: before starts_at");
		return -1;
	}
	if (r->category == EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT && r->starts_at == 0) {
		snprintf(err, errlen, "starts_at: required for an upcoming event");
		return -1;
	}
	return 0;
}

/* Sets *field to s, freeing what it held (the empty default is protobuf-c's shared constant). */
static void
replace_text(ProtobufCAllocator *alloc, char **field, char *s)
{
	if (*field != protobuf_c_empty_string)
		wire_free_with(alloc, *field);
	*field = s;
}

static int
check_place(Est__V1__Report *r, ProtobufCAllocator *alloc, const struct areas *areas, char *err,
            size_t errlen)
{
	if (r->position) {
		double lat = r->position->lat, lon = r->position->lon;
		if (!isfinite(lat) || lat < -90 || lat > 90) {
			snprintf(err, errlen, "position.lat: must be -90..90 degrees (WGS 84)");
			return -1;
		}
		if (!isfinite(lon) || lon < -180 || lon > 180) {
			snprintf(err, errlen, "position.lon: must be -180..180 degrees (WGS 84)");
			return -1;
		}
	}
	if (r->area[0] != '\0') {
		if (strcmp(r->area, "outside") != 0 && !areas_has(areas, r->area)) {
			/* Echo only what looks like an id: free text may be personal data. */
			bool id_like = strspn(r->area, "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
			               strlen(r->area);
			snprintf(err, errlen,
			         "area: unknown area%s%s%s (known: marielund, hageby, navestad, "
			         "klockaretorpet, city, outside)",
			         id_like ? " \"" : "", id_like ? r->area : "", id_like ? "\"" : "");
			return -1;
		}
		return 0;
	}
	if (r->position == NULL) {
		snprintf(err, errlen, "area: required when there is no position");
		return -1;
	}
	char *area =
	    wire_strdup_with(alloc, areas_locate(areas, r->position->lat, r->position->lon));
	if (area == NULL) {
		snprintf(err, errlen, "area: out of memory");
		return -1;
	}
	replace_text(alloc, &r->area, area);
	return 0;
}

int
validate_report(Est__V1__Report *r, ProtobufCAllocator *alloc, const struct areas *areas,
                int64_t now, int64_t max_future_s, char *err, size_t errlen)
{
	if (check_texts(r, err, errlen))
		return -1;
	if (r->category == EST__V1__CATEGORY__CATEGORY_UNSPECIFIED) {
		snprintf(err, errlen, "category: required");
		return -1;
	}
	if (!wire_enum_known(&est__v1__category__descriptor, (int)r->category)) {
		snprintf(err, errlen, "category: unknown value %d", (int)r->category);
		return -1;
	}
	if (check_times(r, now, max_future_s, err, errlen))
		return -1;
	if (r->severity > 5) {
		snprintf(err, errlen, "severity: must be 1..5 (0 = not given), got %u",
		         r->severity);
		return -1;
	}
	if (r->people_count > VALIDATE_PEOPLE_MAX) {
		snprintf(err, errlen, "people_count: must be at most %d, got %u",
		         VALIDATE_PEOPLE_MAX, r->people_count);
		return -1;
	}
	return check_place(r, alloc, areas, err, errlen);
}

int
validate_report_personal(Est__V1__Report *r, ProtobufCAllocator *alloc, enum personal_mode mode,
                         char *err, size_t errlen)
{
	/*
	 * The texts people write. source_id and area are ids: source_id is
	 * often number-like (it would be mistaken for a phone number) and is
	 * the key of idempotency, area is checked against the known areas.
	 */
	struct {
		const char *name;
		char **text;
	} fields[] = {
	    {"subcategory", &r->subcategory},
	    {"place", &r->place},
	    {"description", &r->description},
	    {"reporter_role", &r->reporter_role},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		char *masked = NULL;
		int rc = personal_check_field(fields[i].name, *fields[i].text, mode, &masked, err,
		                              errlen);
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		/* personal.c allocates with malloc; the message's strings come from alloc. */
		char *own = alloc != NULL ? wire_strdup_with(alloc, masked) : masked;
		if (own != masked)
			free(masked);
		if (own == NULL) {
			snprintf(err, errlen, "%s: out of memory", fields[i].name);
			return -1;
		}
		replace_text(alloc, fields[i].text, own);
	}
	return 0;
}
