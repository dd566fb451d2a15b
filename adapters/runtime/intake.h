/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intake: reads partner input (a file, or a body POSTed to the HTTP
 * endpoint) through its translator into the outbox, one transaction per
 * input, so an input is queued whole or not at all. Checks what every format
 * must give (a source id, a report of sendable size) and tells about the
 * records that are done at once: those that could not be translated, were
 * skipped, or have the outcome of an earlier record.
 *
 * One struct intake per run holds what the translators read with: the
 * format, its category table (mapping.h) and the geography (geo.h). The
 * command line, the watched directory (watch.h) and the HTTP endpoint
 * (listen.h) all queue through it, from the one thread that owns the outbox.
 */
#ifndef ESTHUB_ADAPTER_INTAKE_H
#define ESTHUB_ADAPTER_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/format.h"
#include "runtime/outbox.h"

struct mapping;
struct geo;

/* The largest packed Report (or measure update) the adapter queues: several fit one envelope. */
#define INTAKE_MAX_REPORT_BYTES (256 * 1024)

enum intake_rc {
	INTAKE_OK = 0,
	INTAKE_FULL,    /* the outbox reached its pending cap: nothing of the input was queued */
	INTAKE_STOPPED, /* a stop was asked for: nothing of the input was queued */
	INTAKE_OPEN,    /* the file cannot be opened: nothing queued */
	INTAKE_INVALID, /* the translator refused the input whole (not its format): nothing queued
	                 */
	INTAKE_ERROR,   /* the outbox failed: nothing queued */
};

/* The outbox rows one input became: ids first_id..last_id, all of them (ids are consecutive). */
struct intake_span {
	int64_t first_id, last_id; /* both 0 when the input held no record */
	size_t done;               /* rows done at once, told to fn after the commit */
};

/* Who hears of an input's rows; any callback may be NULL. */
struct intake_hear {
	/* Each row done at once (untranslatable, skipped, an earlier record's outcome), after the
	 * commit. */
	outbox_row_fn done;
	/*
	 * Each row as it is added, before the commit (forget them unless
	 * INTAKE_OK comes back): id, file, record, source_id, and the revision it
	 * goes out with when known (has_revision); status is OUTBOX_PENDING.
	 */
	outbox_row_fn added;
	void *arg;
};

struct intake;

/*
 * What a run translates with: fmt, the category table map (borrowed; NULL
 * takes the format's shipped default, mapping_default(), owned by the
 * intake) and one geography (geo_new()). NULL with the reason in err. The
 * caller owns the result.
 */
struct intake *intake_new(const struct format *fmt, const struct mapping *map, char *err,
                          size_t errlen);

/* Frees *in and what it owns; sets *in to NULL. NULL-safe. */
void intake_destroy(struct intake **in);

/* The format this intake reads. */
const struct format *intake_format(const struct intake *in);

/* The geography, for area aliases from the configuration (geo_area_alias). Owned by in. */
struct geo *intake_geo(struct intake *in);

/*
 * Queues every record of the file at path into ob and tells hear (may be
 * NULL) about its rows; span (may be NULL) receives the rows the file
 * became. Returns INTAKE_OK, or another intake_rc with the reason in err and
 * nothing of the file queued.
 */
int intake_path(struct intake *in, struct outbox *ob, const char *path,
                const struct intake_hear *hear, struct intake_span *span, char *err, size_t errlen);

/*
 * The same for len bytes at data (not changed; len may be 0), named name in
 * the outbox and in messages.
 */
int intake_memory(struct intake *in, struct outbox *ob, const char *name, char *data, size_t len,
                  const struct intake_hear *hear, struct intake_span *span, char *err,
                  size_t errlen);

/*
 * intake_path with a new intake for fmt and its default table, made for
 * this one file (tests, one-off use); fn hears the rows done at once.
 */
int intake_file(struct outbox *ob, const struct format *fmt, const char *path, outbox_row_fn fn,
                void *arg, char *err, size_t errlen);

#endif
