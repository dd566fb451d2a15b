/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format: the translator interface and the registry of partner formats.
 * A translator reads one input stream in its partner's own format and calls
 * back once per record with a translated est.v1.Report, a measure update
 * (est.v1.Measure: measure_id with a new status and/or outcome, for a
 * format that can carry one), an error naming the record and field, or a
 * "skipped by a mapping rule". It knows nothing of
 * the outbox or the hub: intake.c feeds what it emits into the outbox.
 *
 * Adding a partner format: one translator file that defines
 * `const struct format format_NAME`, and one X(NAME) line in FORMAT_LIST
 * below.
 */
#ifndef ESTHUB_ADAPTER_FORMAT_H
#define ESTHUB_ADAPTER_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "est.pb-c.h"

struct mapping;
struct geo;

/* What a translator says of one record. */
enum format_kind {
	FORMAT_REPORT = 0, /* translated: report is set */
	FORMAT_ERROR,      /* could not be translated: field (may be NULL) and reason */
	FORMAT_SKIPPED,    /* not EST's business by a mapping rule: reason */
	FORMAT_MEASURE,    /* a measure update: measure is set */
};

struct format_record {
	enum format_kind kind;
	/* The record's locator in its file: line or record number, from 1. */
	uint64_t record;
	/* FORMAT_REPORT: the report, borrowed for the call; the callee may change it. */
	Est__V1__Report *report;
	/* FORMAT_MEASURE: the update (measure_id, status, outcome), borrowed for the call. */
	Est__V1__Measure *measure;
	/* FORMAT_ERROR, FORMAT_SKIPPED: the partner's id if known, or NULL. */
	const char *source_id;
	/* FORMAT_ERROR: the proto field or source column at fault, or NULL. */
	const char *field;
	/* FORMAT_ERROR, FORMAT_SKIPPED: why, in English, without personal data. */
	const char *reason;
};

/*
 * Called once per record in file order. Returns 0 to go on; any other value
 * stops the translator, which returns that value.
 */
typedef int (*format_emit_fn)(void *arg, const struct format_record *rec);

/* One input to translate. Fields may be added (a mapping table) without changing translators. */
struct format_input {
	FILE *in;            /* read from here; the caller opens and closes it */
	const char *name;    /* the file name, for messages */
	format_emit_fn emit; /* receives every record */
	void *arg;           /* passed to emit */
	/* The partner's category table (mapping.h); NULL for formats without one. */
	const struct mapping *map;
	/* Coordinate conversion and area names (geo.h); never NULL for partner formats. */
	struct geo *geo;
};

struct format {
	const char *name;    /* as given to --format: "json", "municipality-csv" */
	const char *summary; /* one line for --help */
	/*
	 * Whether the format carries its own revision or update time. If so, the
	 * translator sets Report.revision and the outbox keeps the partner's order
	 * (an older record is skipped); if not, the outbox numbers the revisions.
	 */
	bool own_revision;
	/*
	 * Translates everything in input. Returns 0 at the end of the input,
	 * the nonzero value an emit call returned, or -1 when the stream cannot
	 * be read (reason in err). Errors in the data are records, not failures.
	 */
	int (*read)(const struct format_input *input, char *err, size_t errlen);
};

/* The registry: X(NAME) for each translator `const struct format format_NAME`. */
#define FORMAT_LIST(X)                                                                             \
	X(json)                                                                                    \
	X(municipality_csv)                                                                        \
	X(police_json)                                                                             \
	X(open311)

#define FORMAT_DECLARE(n) extern const struct format format_##n;
FORMAT_LIST(FORMAT_DECLARE)
#undef FORMAT_DECLARE

/* The format registered under name, or NULL. */
const struct format *format_find(const char *name);

/* The i-th registered format (for --help), or NULL past the last one. */
const struct format *format_at(size_t i);

#endif
