/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intake: partner files into the outbox through a translator. The rules
 * every format shares live here; the translators only translate, the
 * outbox keeps the revision rules. See intake.h.
 */
#include "runtime/intake.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/stop.h"
#include "wire/ids.h"

/* One file on its way into the outbox. */
struct intake {
	struct outbox *ob;
	const struct format *fmt;
	const char *path;
	int64_t first_id, last_id; /* the rows of this file */
	int outbox_rc;             /* the outbox's answer when it stopped the file */
};

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

static int
intake_add(struct intake *in, const struct format_record *rec, int64_t *id)
{
	char why[512];
	const char *problem = NULL;
	int64_t record = (int64_t)rec->record;
	switch (rec->kind) {
	case FORMAT_REPORT:
		problem = report_problem(rec->report, why, sizeof why);
		if (problem == NULL)
			return outbox_add_report(in->ob, in->path, record, rec->report,
			                         in->fmt->own_revision, id);
		return outbox_add_done(in->ob, in->path, record, NULL, OUTBOX_REJECTED, problem,
		                       id);
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
	struct intake *in = arg;
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
	return 0;
}

/* Translates the open file into the open transaction. */
static int
intake_read(struct intake *in, FILE *f, char *err, size_t errlen)
{
	struct format_input input = {.in = f, .name = in->path, .emit = intake_emit, .arg = in};
	int rc = in->fmt->read(&input, err, errlen);
	if (rc < 0)
		return INTAKE_ERROR;
	if (rc == INTAKE_FULL || (rc == INTAKE_ERROR && in->outbox_rc != OUTBOX_OK))
		snprintf(err, errlen, "%s", outbox_error(in->ob));
	else if (rc == INTAKE_STOPPED)
		snprintf(err, errlen, "stopped while reading %s", in->path);
	return rc;
}

int
intake_file(struct outbox *ob, const struct format *fmt, const char *path, outbox_row_fn fn,
            void *arg, char *err, size_t errlen)
{
	struct intake in = {.ob = ob, .fmt = fmt, .path = path};
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return INTAKE_ERROR;
	}
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
	if (in.first_id > 0 && outbox_each_done(ob, in.first_id, in.last_id, fn, arg)) {
		snprintf(err, errlen, "%s", outbox_error(ob));
		return INTAKE_ERROR;
	}
	return INTAKE_OK;
}
