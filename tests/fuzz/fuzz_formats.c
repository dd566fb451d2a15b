/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the translators of partner formats (the folders of
 * adapters/ but runtime and feed): the first byte picks the format from the
 * registry (format_at, modulo their number: '0' json, '1' municipality-csv,
 * '2' police-json, '3' open311), the rest is the file, read through a FILE
 * (fmemopen) as est-adapter reads one, with the format's shipped mapping
 * table and the default geography. Whatever a translator says must be well
 * formed: an error or a skip with a UTF-8 reason; a report that packs, with
 * UTF-8 texts and, from a partner format, a source id, category, time, an
 * area id or a position in Sweden; a measure update (json only) with a
 * measure id, a known status or an outcome, that packs; anything else aborts. Seeds in
 * corpus/formats/ (their first character picks the format).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/format.h"
#include "runtime/geo.h"
#include "runtime/mapping.h"
#include "wire/ids.h"
#include "wire/timefmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_FORMATS 16

static struct geo *fuzz_geo;
static struct mapping *fuzz_maps[FUZZ_MAX_FORMATS];
static size_t fuzz_n_formats;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	(void)argc;
	(void)argv;
	timefmt_init();
	fuzz_geo = geo_new(err, sizeof err);
	if (fuzz_geo == NULL) {
		fprintf(stderr, "geo_new: %s\n", err);
		abort();
	}
	while (fuzz_n_formats < FUZZ_MAX_FORMATS && format_at(fuzz_n_formats)) {
		fuzz_maps[fuzz_n_formats] = mapping_default(format_at(fuzz_n_formats)->name);
		fuzz_n_formats++;
	}
	return 0;
}

static void
fuzz_text(const char *what, const char *s)
{
	if (s == NULL || !ids_utf8_valid(s, strlen(s))) {
		fprintf(stderr, "%s: missing or not UTF-8\n", what);
		abort();
	}
}

/* What a partner translator promises of a report (the json format leaves it to the hub). */
static void
fuzz_partner_report(const Est__V1__Report *r)
{
	if (r->source_id[0] == '\0' || r->observed_at == 0 ||
	    r->category == EST__V1__CATEGORY__CATEGORY_UNSPECIFIED) {
		fprintf(stderr, "a report without source_id, observed_at or category\n");
		abort();
	}
	if (r->area[0] != '\0' && !ids_area_valid(r->area)) {
		fprintf(stderr, "area \"%s\" is no area id\n", r->area);
		abort();
	}
	if (r->area[0] == '\0' && r->position == NULL) {
		fprintf(stderr, "a report with neither area nor position\n");
		abort();
	}
	if (r->position && !geo_in_sweden(r->position->lat, r->position->lon)) {
		fprintf(stderr, "a position outside Sweden\n");
		abort();
	}
}

static void
fuzz_report(const Est__V1__Report *r, bool partner)
{
	fuzz_text("source_id", r->source_id);
	fuzz_text("subcategory", r->subcategory);
	fuzz_text("area", r->area);
	fuzz_text("place", r->place);
	fuzz_text("description", r->description);
	fuzz_text("reporter_role", r->reporter_role);
	if (partner)
		fuzz_partner_report(r);
	size_t len = est__v1__report__get_packed_size(r);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL || est__v1__report__pack(r, buf) != len)
		abort();
	free(buf);
}

/* What the json format promises of a measure update: enough to send, and it packs. */
static void
fuzz_measure(const Est__V1__Measure *m)
{
	fuzz_text("measure_id", m->measure_id);
	fuzz_text("outcome", m->outcome);
	if (m->measure_id[0] == '\0' ||
	    (m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_UNSPECIFIED &&
	     m->outcome[0] == '\0') ||
	    (m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_UNSPECIFIED &&
	     !protobuf_c_enum_descriptor_get_value(&est__v1__measure_status__descriptor,
	                                           (int)m->status))) {
		fprintf(stderr,
		        "a measure update without an id, or with nothing or no known status\n");
		abort();
	}
	size_t len = est__v1__measure__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL || est__v1__measure__pack(m, buf) != len)
		abort();
	free(buf);
}

struct fuzz_run {
	bool partner;
	uint64_t last;
};

static int
fuzz_emit(void *arg, const struct format_record *rec)
{
	struct fuzz_run *run = arg;
	if (rec->record == 0 || rec->record < run->last) {
		fprintf(stderr, "a record without its locator, or out of order\n");
		abort();
	}
	run->last = rec->record;
	switch (rec->kind) {
	case FORMAT_REPORT:
		if (rec->report == NULL)
			abort();
		fuzz_report(rec->report, run->partner);
		return 0;
	case FORMAT_MEASURE:
		if (rec->measure == NULL || run->partner)
			abort();
		fuzz_measure(rec->measure);
		return 0;
	case FORMAT_ERROR:
	case FORMAT_SKIPPED:
		/* Every reason is UTF-8, the json format's too (wire/json.c quotes
		 * back only identifier-like names: regress-json-enum-utf8). */
		fuzz_text("reason", rec->reason);
		if (rec->field)
			fuzz_text("field", rec->field);
		if (rec->source_id)
			fuzz_text("source_id", rec->source_id);
		return 0;
	}
	fprintf(stderr, "unknown record kind %d\n", (int)rec->kind);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || fuzz_n_formats == 0)
		return 0;
	size_t i = data[0] % fuzz_n_formats;
	const struct format *fmt = format_at(i);
	/* fmemopen wants a buffer it may write; an empty one is a valid empty file. */
	char *copy = malloc(size);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	FILE *in = fmemopen(copy, size - 1, "r");
	if (in == NULL)
		abort();
	char err[512];
	struct fuzz_run run = {.partner = strcmp(fmt->name, "json") != 0};
	struct format_input input = {.in = in,
	                             .name = "fuzz",
	                             .emit = fuzz_emit,
	                             .arg = &run,
	                             .map = fuzz_maps[i],
	                             .geo = fuzz_geo};
	err[0] = '\0';
	int rc = fmt->read(&input, err, sizeof err);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1)
		fuzz_text("err", err);
	fclose(in);
	free(copy);
	return 0;
}
