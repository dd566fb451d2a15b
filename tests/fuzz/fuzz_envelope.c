/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: what an adapter can send. Decodes the input as an Envelope
 * with the hub's size cap and validates every report as ingest does.
 * A measure update in it is judged as ingest judges one from the housing
 * company against a registry of two measures (one its own), and a change
 * is packed as the entry it would log. Every refusal's text must be valid
 * UTF-8 without control characters: a partner's developer reads it.
 * Also decodes it as a FeedRequest and checks its topics, as feed does,
 * and reads its fields raw as ingest does for a frame it cannot decode
 * (wire_peek_request_id, wire_field_next), and checks the text checks
 * (ids_text_scan, ids_first_control) against a byte-at-a-time reference.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/support/text_reference.h"
#include "areas.h"
#include "measure.h"
#include "validate.h"
#include "wire/arena.h"
#include "wire/codec.h"
#include "wire/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct areas *areas;

static void
load_areas(void)
{
	char path[] = "/tmp/esthub-fuzz-areas-XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(areas_default_geojson);
	if (fd < 0 || write(fd, areas_default_geojson, len) != (ssize_t)len)
		abort();
	close(fd);
	int problems = 0;
	areas = areas_load(path, stderr, &problems);
	unlink(path);
	if (areas == NULL)
		abort();
}

static struct measures *measures;

/* A measure as the log holds it, taken into the registry at seq. */
static void
measure_take(uint64_t seq, const char *id, const char *org, Est__V1__MeasureStatus status)
{
	char id_buf[16], org_buf[16], area[] = "hageby", place[] = "Gångtunneln norr om centrum",
	                              description[] = "Ny belysning i tunneln.",
	                              entry_org[] = "municipality", topic[] = "hageby/measures";
	snprintf(id_buf, sizeof id_buf, "%s", id);
	snprintf(org_buf, sizeof org_buf, "%s", org);
	Est__V1__Measure m;
	est__v1__measure__init(&m);
	m.measure_id = id_buf;
	m.area = area;
	m.place = place;
	m.kind = EST__V1__MEASURE_KIND__MEASURE_KIND_LIGHTING;
	m.group = EST__V1__WORKING_GROUP__GROUP_SITUATIONAL;
	m.assigned_org = org_buf;
	m.status = status;
	m.starts_at = 1795000000;
	m.ends_at = 1795600000;
	m.description = description;
	Est__V1__LogEntry e;
	est__v1__log_entry__init(&e);
	e.seq = seq;
	e.logged_at = 1794990000 + (int64_t)seq;
	e.org = entry_org;
	e.topic = topic;
	e.body_case = EST__V1__LOG_ENTRY__BODY_MEASURE;
	e.measure = &m;
	uint8_t buf[512];
	char err[256];
	size_t len = est__v1__log_entry__get_packed_size(&e);
	if (len > sizeof buf)
		abort();
	est__v1__log_entry__pack(&e, buf);
	if (measures_take(measures, seq, buf, len, err, sizeof err) != 0)
		abort();
}

static void
load_measures(void)
{
	measures = measures_new();
	if (measures == NULL)
		abort();
	measure_take(10, "m1", "housing", EST__V1__MEASURE_STATUS__MEASURE_STATUS_DECIDED);
	measure_take(11, "m2", "police", EST__V1__MEASURE_STATUS__MEASURE_STATUS_IN_PROGRESS);
}

/* A refusal a partner reads: one line of valid UTF-8, no control character. */
static void
check_reason(const char *err)
{
	size_t n = strlen(err), control;
	if (n == 0 || !ids_text_scan(err, n, &control) || control != n)
		abort();
}

/* A measure update judged as ingest's commit_measure does, from the housing company. */
static void
fuzz_measure(const Est__V1__Measure *m)
{
	char err[512];
	struct measure_draft d;
	const struct measure_view *cur;
	int v = measures_judge_set(measures, m, "housing", &d, &cur, err, sizeof err);
	if (v == MEASURE_REFUSED) {
		check_reason(err);
		return;
	}
	if (cur == NULL)
		abort();
	if (v != MEASURE_CHANGED)
		return;
	struct measure_entry me;
	measure_entry_init(&me, &d, "housing");
	size_t len = est__v1__log_entry__get_packed_size(&me.entry);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		abort();
	if (est__v1__log_entry__pack(&me.entry, buf) != len)
		abort();
	free(buf);
}

static void
fuzz_feed_request(const uint8_t *data, size_t size)
{
	char err[256];
	Est__V1__FeedRequest *req = (Est__V1__FeedRequest *)wire_unpack(
	    &est__v1__feed_request__descriptor, data, size, 65536, err, sizeof err);
	if (req == NULL)
		return;
	if (req->body_case == EST__V1__FEED_REQUEST__BODY_SUBSCRIBE)
		for (size_t i = 0; i < req->subscribe->n_topics; i++)
			if (ids_topic_pattern_valid(req->subscribe->topics[i]))
				(void)ids_topic_match(req->subscribe->topics[i], "hageby/reports");
	est__v1__feed_request__free_unpacked(req, NULL);
}

/*
 * Decodes data as an Envelope with alloc (NULL: malloc; else the arena, as
 * ingest does) and validates its reports as ingest does, masking personal
 * data so the replaced strings are exercised too.
 */
static void
fuzz_envelope(const uint8_t *data, size_t size, ProtobufCAllocator *alloc)
{
	char err[512];
	Est__V1__Envelope *env = (Est__V1__Envelope *)wire_unpack_in(
	    &est__v1__envelope__descriptor, data, size, 1024 * 1024, alloc, err, sizeof err);
	if (env == NULL)
		return;
	if (env->body_case == EST__V1__ENVELOPE__BODY_REPORTS)
		for (size_t i = 0; i < env->reports->n_reports; i++) {
			Est__V1__Report *r = env->reports->reports[i];
			/* now: after both the seeds of 2025 and the sample week's of 2026 */
			if (validate_report(r, alloc, areas, 1796000000, 86400, err, sizeof err) !=
			    0)
				check_reason(err);
			else if (validate_report_personal(r, alloc, PERSONAL_MASK, err,
			                                  sizeof err) != 0)
				check_reason(err);
		}
	else if (env->body_case == EST__V1__ENVELOPE__BODY_MEASURE)
		fuzz_measure(env->measure);
	if (alloc == NULL)
		est__v1__envelope__free_unpacked(env, NULL);
}

/* Every field read raw: each one inside the input, and the walk ends. */
static void
fuzz_fields(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct wire_field f;
	while (wire_field_next(&p, end, &f) == 0)
		if (p > end || (f.type == 2 && (f.bytes < data || f.bytes + f.value > end)))
			abort();
	(void)wire_peek_request_id(data, size);
}

/* The text checks say what the byte-at-a-time reference says. */
static void
fuzz_text_scan(const uint8_t *data, size_t size)
{
	size_t control, want_control = text_reference_control(data, size);
	bool valid = ids_text_scan((const char *)data, size, &control);
	if (valid != text_reference_utf8(data, size) || (valid && control != want_control) ||
	    ids_first_control((const char *)data, size) != want_control)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_arena arena;
	static int arena_ready;
	if (areas == NULL)
		load_areas();
	if (measures == NULL)
		load_measures();
	if (!arena_ready) {
		wire_arena_init(&arena);
		arena_ready = 1;
	}
	fuzz_envelope(data, size, NULL);
	fuzz_envelope(data, size, &arena.alloc);
	wire_arena_reset(&arena);
	fuzz_feed_request(data, size);
	fuzz_fields(data, size);
	fuzz_text_scan(data, size);
	return 0;
}
