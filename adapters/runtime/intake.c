/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intake: partner input into the outbox through a translator. The rules
 * every format shares live here; the translators only translate, the
 * outbox keeps the revision rules. See intake.h.
 */
#include "runtime/intake.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/geo.h"
#include "runtime/mapping.h"
#include "runtime/stop.h"
#include "wire/diag.h"
#include "wire/ids.h"

struct intake {
	const struct format *fmt;
	const struct mapping *map; /* what the translator reads with: borrowed or own_map */
	struct mapping *own_map;
	struct geo *geo;
};

/* One input on its way into the outbox. */
struct intake_run {
	struct intake *ctx;
	struct outbox *ob;
	const char *path;
	const struct intake_hear *hear;
	int64_t first_id, last_id; /* the rows of this file */
	int outbox_rc;             /* the outbox's answer when it stopped the file */
};

/*
 * Set before the outbox numbers a report of a format without revisions:
 * still there afterwards, the record took an earlier row's outcome and its
 * revision is not known here.
 */
#define REVISION_UNKNOWN UINT32_MAX

/* Why a translated report cannot be queued, or NULL when it can. */
static const char *
report_problem(const Est__V1__Report *r, char *why, size_t whylen)
{
	if (r->source_id == NULL || r->source_id[0] == '\0')
		return "source_id: required";
	if (!ids_utf8_valid(r->source_id, strlen(r->source_id)))
		return "source_id: not valid UTF-8";
	size_t len = est__v1__report__get_packed_size(r);
	if (len > INTAKE_MAX_REPORT_BYTES) {
		snprintf(why, whylen, "report: %zu bytes packed, more than the limit of %d", len,
		         INTAKE_MAX_REPORT_BYTES);
		return why;
	}
	return NULL;
}

/* Why a translated measure update cannot be queued, or NULL when it can. */
static const char *
measure_problem(const Est__V1__Measure *m, char *why, size_t whylen)
{
	if (m->measure_id == NULL || m->measure_id[0] == '\0')
		return "measure_id: required";
	if (!ids_utf8_valid(m->measure_id, strlen(m->measure_id)))
		return "measure_id: not valid UTF-8";
	size_t len = est__v1__measure__get_packed_size(m);
	if (len > INTAKE_MAX_REPORT_BYTES) {
		snprintf(why, whylen, "measure: %zu bytes packed, more than the limit of %d", len,
		         INTAKE_MAX_REPORT_BYTES);
		return why;
	}
	return NULL;
}

/* The id a record is known by: the report's source id, the measure's id, or the translator's. */
static const char *
record_id(const struct format_record *rec)
{
	if (rec->kind == FORMAT_REPORT)
		return rec->report->source_id;
	if (rec->kind == FORMAT_MEASURE)
		return rec->measure->measure_id;
	return rec->source_id;
}

/* Tells hear->added of a row just added. */
static void
intake_heard(const struct intake_run *in, const struct format_record *rec, int64_t id)
{
	if (in->hear == NULL || in->hear->added == NULL)
		return;
	const Est__V1__Report *r = rec->kind == FORMAT_REPORT ? rec->report : NULL;
	struct outbox_row row = {
	    .id = id,
	    .file = in->path,
	    .record = (int64_t)rec->record,
	    .source_id = record_id(rec),
	    .has_revision = r && (in->ctx->fmt->own_revision || r->revision != REVISION_UNKNOWN),
	    .revision = r ? r->revision : 0,
	    .status = OUTBOX_PENDING,
	    .error = ""};
	if (row.source_id && row.source_id[0] == '\0')
		row.source_id = NULL;
	in->hear->added(in->hear->arg, &row);
}

static int
intake_add(struct intake_run *in, const struct format_record *rec, int64_t *id)
{
	char why[512];
	const char *problem = NULL;
	int64_t record = (int64_t)rec->record;
	bool own = in->ctx->fmt->own_revision;
	switch (rec->kind) {
	case FORMAT_REPORT:
		problem = report_problem(rec->report, why, sizeof why);
		if (problem != NULL)
			return outbox_add_done(in->ob, in->path, record, NULL, OUTBOX_REJECTED,
			                       problem, id);
		if (!own)
			rec->report->revision = REVISION_UNKNOWN;
		return outbox_add_report(in->ob, in->path, record, rec->report, own, id);
	case FORMAT_MEASURE:
		/* No revision rules: the hub judges every update, a repeat is a duplicate. */
		problem = measure_problem(rec->measure, why, sizeof why);
		if (problem != NULL)
			return outbox_add_done(in->ob, in->path, record, NULL, OUTBOX_REJECTED,
			                       problem, id);
		return outbox_add_measure(in->ob, in->path, record, rec->measure, id);
	case FORMAT_SKIPPED:
		return outbox_add_done(in->ob, in->path, record, rec->source_id, OUTBOX_SKIPPED,
		                       rec->reason, id);
	case FORMAT_ERROR:
		break;
	}
	if (rec->field)
		snprintf(why, sizeof why, "%s: %s", rec->field, rec->reason ? rec->reason : "");
	else
		snprintf(why, sizeof why, "%s", rec->reason ? rec->reason : "");
	return outbox_add_done(in->ob, in->path, record, rec->source_id, OUTBOX_REJECTED, why, id);
}

/* The translator's callback: one record into the outbox. */
static int
intake_emit(void *arg, const struct format_record *rec)
{
	struct intake_run *in = arg;
	int64_t id = 0;
	if (stop_requested())
		return INTAKE_STOPPED;
	in->outbox_rc = intake_add(in, rec, &id);
	if (in->outbox_rc == OUTBOX_FULL)
		return INTAKE_FULL;
	if (in->outbox_rc != OUTBOX_OK)
		return INTAKE_ERROR;
	if (in->first_id == 0)
		in->first_id = id;
	in->last_id = id;
	intake_heard(in, rec, id);
	return 0;
}

/* Translates the open stream into the open transaction. */
static int
intake_read(struct intake_run *in, FILE *f, char *err, size_t errlen)
{
	struct format_input input = {.in = f,
	                             .name = in->path,
	                             .emit = intake_emit,
	                             .arg = in,
	                             .map = in->ctx->map,
	                             .geo = in->ctx->geo};
	int rc = in->ctx->fmt->read(&input, err, errlen);
	if (rc < 0)
		return INTAKE_INVALID;
	if (rc == INTAKE_FULL || (rc == INTAKE_ERROR && in->outbox_rc != OUTBOX_OK))
		snprintf(err, errlen, "%s", outbox_error(in->ob));
	else if (rc == INTAKE_STOPPED)
		snprintf(err, errlen, "stopped while reading %s", in->path);
	return rc;
}

/* Counts the rows told at once on their way to hear->done. */
struct told_count {
	const struct intake_hear *hear;
	size_t n;
};

static void
told_count(void *arg, const struct outbox_row *row)
{
	struct told_count *c = arg;
	c->n++;
	if (c->hear && c->hear->done)
		c->hear->done(c->hear->arg, row);
}

/* Queues what the open stream f holds, named name; closes f. */
static int
intake_stream(struct intake *ctx, struct outbox *ob, const char *name, FILE *f,
              const struct intake_hear *hear, struct intake_span *span, char *err, size_t errlen)
{
	struct intake_run in = {.ctx = ctx, .ob = ob, .path = name, .hear = hear};
	struct told_count told = {.hear = hear};
	int rc = outbox_begin(ob) == OUTBOX_OK ? INTAKE_OK : INTAKE_ERROR;
	if (rc != INTAKE_OK)
		snprintf(err, errlen, "%s", outbox_error(ob));
	else
		rc = intake_read(&in, f, err, errlen);
	fclose(f);
	if (rc == INTAKE_OK && outbox_commit(ob) != OUTBOX_OK) {
		snprintf(err, errlen, "%s", outbox_error(ob));
		rc = INTAKE_ERROR;
	}
	if (rc != INTAKE_OK) {
		outbox_rollback(ob);
		return rc;
	}
	if (in.first_id > 0 &&
	    outbox_each_done(ob, in.first_id, in.last_id, told_count, &told) != OUTBOX_OK) {
		/* Queued and committed: the rows are sent; only telling failed. */
		diag_say("%s", outbox_error(ob));
	}
	if (span)
		*span = (struct intake_span){
		    .first_id = in.first_id, .last_id = in.last_id, .done = told.n};
	return INTAKE_OK;
}

int
intake_path(struct intake *in, struct outbox *ob, const char *path, const struct intake_hear *hear,
            struct intake_span *span, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return INTAKE_OPEN;
	}
	return intake_stream(in, ob, path, f, hear, span, err, errlen);
}

int
intake_memory(struct intake *in, struct outbox *ob, const char *name, char *data, size_t len,
              const struct intake_hear *hear, struct intake_span *span, char *err, size_t errlen)
{
	/* fmemopen wants a buffer of at least one byte, even for nothing to read. */
	static char nothing[1];
	FILE *f = fmemopen(len > 0 ? data : nothing, len > 0 ? len : 1, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read the body of %s: %s", name, strerror(errno));
		return INTAKE_ERROR;
	}
	if (len == 0)
		(void)fgetc(f); /* at the end from the start */
	return intake_stream(in, ob, name, f, hear, span, err, errlen);
}

struct intake *
intake_new(const struct format *fmt, const struct mapping *map, char *err, size_t errlen)
{
	struct intake *in = calloc(1, sizeof *in);
	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->fmt = fmt;
	in->map = map;
	if (map == NULL)
		in->map = in->own_map = mapping_default(fmt->name); /* NULL for formats without */
	in->geo = geo_new(err, errlen);
	if (in->geo == NULL) {
		intake_destroy(&in);
		return NULL;
	}
	return in;
}

void
intake_destroy(struct intake **in)
{
	if (in == NULL || *in == NULL)
		return;
	mapping_destroy(&(*in)->own_map);
	geo_destroy(&(*in)->geo);
	free(*in);
	*in = NULL;
}

const struct format *
intake_format(const struct intake *in)
{
	return in->fmt;
}

struct geo *
intake_geo(struct intake *in)
{
	return in->geo;
}

int
intake_file(struct outbox *ob, const struct format *fmt, const char *path, outbox_row_fn fn,
            void *arg, char *err, size_t errlen)
{
	struct intake *in = intake_new(fmt, NULL, err, errlen);
	if (in == NULL)
		return INTAKE_ERROR;
	struct intake_hear hear = {.done = fn, .arg = arg};
	int rc = intake_path(in, ob, path, &hear, NULL, err, errlen);
	intake_destroy(&in);
	return rc;
}
