/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outcome: one printed line per record and the tally behind the exit code.
 * The text comes from partner files and the hub: control characters are
 * printed as spaces so that one record stays one line. See outcome.h.
 */
#include "runtime/outcome.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wire/diag.h"
#include "wire/json.h"

void
outcome_init(struct outcome *o, FILE *out, bool json)
{
	memset(o, 0, sizeof *o);
	o->out = out;
	o->json = json;
}

/* A copy of s with control characters as spaces; NULL stays "". Caller frees. */
static char *
text_clean(const char *s)
{
	char *t = strdup(s ? s : "");
	for (char *p = t; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

static Est__V1__Status
status_wire(enum outbox_status s)
{
	switch (s) {
	case OUTBOX_ACCEPTED:
		return EST__V1__STATUS__STATUS_ACCEPTED;
	case OUTBOX_DUPLICATE:
		return EST__V1__STATUS__STATUS_DUPLICATE;
	case OUTBOX_REJECTED:
		return EST__V1__STATUS__STATUS_REJECTED;
	case OUTBOX_SKIPPED:
	case OUTBOX_PENDING:
		break;
	}
	return EST__V1__STATUS__STATUS_UNSPECIFIED;
}

/* A new string formatted as by printf, or NULL. Caller frees. */
static char *text_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
text_format(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

char *
outcome_format(const struct outbox_row *row)
{
	char revision[16] = "-", tail[32];
	char *id = text_clean(row->source_id ? row->source_id : "-");
	char *file = text_clean(row->file);
	char *reason = text_clean(row->error[0] ? row->error : "-");
	char *line = NULL;
	if (row->has_revision)
		snprintf(revision, sizeof revision, "%" PRIu32, row->revision);
	snprintf(tail, sizeof tail, "%" PRIu64, row->seq);
	bool with_seq = row->status == OUTBOX_ACCEPTED || row->status == OUTBOX_DUPLICATE;
	if (id && file && reason)
		line = text_format("%s:%" PRId64 " %s %s %s %s", file, row->record, id, revision,
		                   outbox_status_name(row->status), with_seq ? tail : reason);
	free(id);
	free(file);
	free(reason);
	return line;
}

static void
print_plain(struct outcome *o, const struct outbox_row *row)
{
	char *line = outcome_format(row);
	if (line)
		fprintf(o->out, "%s\n", line);
	else
		diag_say("out of memory printing the outcome of %s:%" PRId64, row->file,
		         row->record);
	free(line);
}

/* The error text of the Result: with its locator when there is no source id. */
static char *
json_error(const struct outbox_row *row)
{
	if (row->status == OUTBOX_SKIPPED)
		return text_format("skipped: %s", row->error);
	if (row->source_id == NULL)
		return text_format("%s:%" PRId64 ": %s", row->file, row->record, row->error);
	return strdup(row->error);
}

static void
print_json(struct outcome *o, const struct outbox_row *row)
{
	Est__V1__Result res;
	est__v1__result__init(&res);
	char *id = strdup(row->source_id ? row->source_id : "");
	char *error = json_error(row);
	char *text = NULL;
	if (id && error) {
		res.source_id = id;
		res.revision = row->revision;
		res.status = status_wire(row->status);
		res.seq = row->seq;
		res.error = error;
		text = wire_to_json_text(&res.base);
	}
	if (text)
		fprintf(o->out, "%s\n", text);
	else
		diag_say("cannot print the outcome of %s:%" PRId64 " as JSON (not valid UTF-8?)",
		         row->file, row->record);
	free(text);
	free(error);
	free(id);
}

void
outcome_fini(struct outcome *o)
{
	free(o->last_file);
	o->last_file = NULL;
}

/* Whether row is the record just printed; remembers it otherwise. */
static bool
outcome_repeat(struct outcome *o, const struct outbox_row *row)
{
	if (o->last_file && row->record == o->last_record && strcmp(o->last_file, row->file) == 0)
		return true;
	free(o->last_file);
	o->last_file = strdup(row->file);
	o->last_record = row->record;
	return false;
}

void
outcome_print(void *arg, const struct outbox_row *row)
{
	struct outcome *o = arg;
	if (outcome_repeat(o, row))
		return;
	switch (row->status) {
	case OUTBOX_ACCEPTED:
		o->accepted++;
		break;
	case OUTBOX_DUPLICATE:
		o->duplicate++;
		break;
	case OUTBOX_SKIPPED:
		o->skipped++;
		break;
	case OUTBOX_REJECTED:
	case OUTBOX_PENDING:
		o->rejected++;
		break;
	}
	if (o->json)
		print_json(o, row);
	else
		print_plain(o, row);
	fflush(o->out);
}

int
outcome_exit_code(const struct outcome *o)
{
	return o->rejected > 0 ? EXIT_INPUT : EXIT_OK;
}
