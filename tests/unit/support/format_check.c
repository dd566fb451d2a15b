/* SPDX-License-Identifier: Apache-2.0 */
/* format_check: the partner format tests' fixture and rendering (see format_check.h). */
#include "format_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "runtime/format.h"
#include "runtime/geo.h"
#include "runtime/mapping.h"

int
fixture_setup(void **state, const char *format, const char *file)
{
	char err[256];
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->format = format;
	f->file = file;
	f->map = mapping_default(format);
	assert_non_null(f->map);
	f->geo = geo_new(err, sizeof err);
	if (f->geo == NULL)
		fail_msg("geo_new: %s", err);
	*state = f;
	return 0;
}

int
fixture_teardown(void **state)
{
	struct fixture *f = *state;
	mapping_destroy(&f->map);
	geo_destroy(&f->geo);
	free(f);
	return 0;
}

static void
utc(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *
category_name(int v)
{
	const ProtobufCEnumValue *e =
	    protobuf_c_enum_descriptor_get_value(&est__v1__category__descriptor, v);
	return e ? e->name + strlen("CATEGORY_") : "?";
}

/* One report as a line: what the tests' tables expect. */
static void
render_report(uint64_t record, const Est__V1__Report *r, char *out, size_t outlen)
{
	char at[32], extra[160] = "", t[32];
	size_t n = 0;
	utc(r->observed_at, at, sizeof at);
	if (r->position)
		n += (size_t)snprintf(extra + n, sizeof extra - n, " pos=%.4f,%.4f",
		                      r->position->lat, r->position->lon);
	if (r->people_count)
		n += (size_t)snprintf(extra + n, sizeof extra - n, " people=%u", r->people_count);
	if (r->severity)
		n += (size_t)snprintf(extra + n, sizeof extra - n, " sev=%u", r->severity);
	if (r->starts_at) {
		utc(r->starts_at, t, sizeof t);
		n += (size_t)snprintf(extra + n, sizeof extra - n, " starts=%s", t);
	}
	if (r->ends_at) {
		utc(r->ends_at, t, sizeof t);
		snprintf(extra + n, sizeof extra - n, " ends=%s", t);
	}
	char cat[32];
	snprintf(cat, sizeof cat, "%s", category_name(r->category));
	for (char *p = cat; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	snprintf(out, outlen, "%llu report %s rev=%u %s/%s area=%s at=%s%s%s",
	         (unsigned long long)record, r->source_id, r->revision, cat, r->subcategory,
	         r->area, at, extra, r->withdrawn ? " withdrawn" : "");
}

static int
remember(void *arg, const struct format_record *rec)
{
	struct seen *s = arg;
	assert_true(s->n < SEEN_MAX);
	char *out = s->line[s->n];
	size_t outlen = sizeof s->line[0];
	const char *id = rec->source_id ? rec->source_id : "-";
	switch (rec->kind) {
	case FORMAT_REPORT:
		assert_non_null(rec->report);
		render_report(rec->record, rec->report, out, outlen);
		snprintf(s->place[s->n], sizeof s->place[0], "%s", rec->report->place);
		snprintf(s->description[s->n], sizeof s->description[0], "%s",
		         rec->report->description);
		snprintf(s->role[s->n], sizeof s->role[0], "%s", rec->report->reporter_role);
		break;
	case FORMAT_ERROR:
		snprintf(out, outlen, "%llu error %s %s: %s", (unsigned long long)rec->record, id,
		         rec->field ? rec->field : "-", rec->reason);
		break;
	case FORMAT_SKIPPED:
		snprintf(out, outlen, "%llu skipped %s %s", (unsigned long long)rec->record, id,
		         rec->reason);
		break;
	case FORMAT_MEASURE: /* no format these tests run carries measure updates */
		fail_msg("record %llu: a measure update", (unsigned long long)rec->record);
	}
	s->n++;
	return s->stop_at != 0 && (int)s->n == s->stop_at ? 7 : 0;
}

int
fixture_translate(struct fixture *f, const char *text, size_t len, bool quotes, struct seen *s,
                  char *err, size_t errlen)
{
	FILE *in = tmpfile();
	assert_non_null(in);
	for (size_t i = 0; i < len; i++)
		assert_int_not_equal(fputc(quotes && text[i] == '\'' ? '"' : text[i], in), EOF);
	rewind(in);
	const struct format *fmt = format_find(f->format);
	assert_non_null(fmt);
	struct format_input input = {
	    .in = in, .name = f->file, .emit = remember, .arg = s, .map = f->map, .geo = f->geo};
	err[0] = '\0';
	int rc = fmt->read(&input, err, errlen);
	fclose(in);
	return rc;
}
