/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention: the rules of gallring (docs/retention.md). Which entries of
 * the log have expired at a time T, by kind and, for reports, by category;
 * and when the daily purge is due. The rules only decide: log_purge
 * (log.h) removes the bodies, the hub (hub.c) runs it daily and on
 * `estctl purge`, estctl shows a plan with --dry-run.
 *
 * What expires:
 *  - a report by its own time (observed_at; for an upcoming event ends_at,
 *    else starts_at), and only as a whole: every revision of an (org,
 *    source_id) goes when its highest revision has expired, never a lower
 *    one alone (it would count again in the picture store at the next start);
 *  - a measure as a whole too: all updates of a measure_id once its latest
 *    update was logged longer ago than measures_days;
 *  - pictures, audit events and checkpoints by logged_at, one by one; the
 *    last checkpoint of the log never (partners verify against it).
 * A period of 0 days keeps that kind for ever.
 */
#ifndef ESTHUB_HUB_RETENTION_H
#define ESTHUB_HUB_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "est.pb-c.h"
#include "log.h"

#define RETENTION_CATEGORIES 9 /* Est__V1__Category values 0..8 */
#define RETENTION_DAY_S      86400

/* The kinds a plan counts, for reports one per category. */
enum retention_label {
	RETENTION_REPORT = 0, /* + category: RETENTION_REPORT .. RETENTION_REPORT + 8 */
	RETENTION_MEASURE = RETENTION_CATEGORIES,
	RETENTION_PICTURE,
	RETENTION_CHECKPOINT,
	RETENTION_AUDIT,
	RETENTION__LABELS
};

/* Periods in days (0: keep for ever) and the daily purge time. */
struct retention_rules {
	long report_days[RETENTION_CATEGORIES]; /* resolved: an override or reports_days */
	long measures_days;
	long pictures_days;
	long checkpoints_days;
	long audit_days;
	int purge_minute; /* minutes after local midnight (Europe/Stockholm) */
};

/* The rules of cfg's [retention] section (config_load has checked them). */
void retention_configure(const struct config *cfg, struct retention_rules *rules);

/* Parses "HH:MM" (00:00..23:59) into minutes after midnight. 0, or -1 with the reason in err. */
int retention_clock_parse(const char *s, int *minute, char *err, size_t errlen);

/*
 * The latest local time minute-of-day at or before now, and the first one
 * after now (Europe/Stockholm; call timefmt_init first). On a day when the
 * clock skips that time (the March change) it is the same minute an hour on.
 */
int64_t retention_last_due(int minute, int64_t now);
int64_t retention_next_due(int minute, int64_t now);

/* "reports/rumour", "measures", ... */
const char *retention_label_name(enum retention_label label);

/*
 * A plan: what has expired at now. Feed it every entry with a body in seq
 * order (retention_plan_scan over a log, or retention_plan_note), then
 * retention_plan_finish decides. The caller owns it: retention_plan_destroy.
 *
 * A plan keeps 16 bytes per report or measure and per other entry that has
 * expired, and of the key of a whole ((org, source_id), measure_id) only a
 * 64-bit hash. Where two wholes with one hash could be decided differently,
 * finishing reads their entries again and tells them apart by the real key
 * (the log scanned, or the reader retention_plan_reread names), so a
 * collision never changes what is purged.
 */
struct retention_plan;
struct retention_plan *retention_plan_new(const struct retention_rules *rules, int64_t now);
void retention_plan_destroy(struct retention_plan **plan);

/* Notes one entry (seq, its decoded body). 0, or -1 when out of memory (or once finished). */
int retention_plan_note(struct retention_plan *plan, uint64_t seq, const Est__V1__LogEntry *e);

/* Notes every entry of lg that still has its body; finishing reads from lg again. 0, or -1 with
 * err. */
int retention_plan_scan(struct retention_plan *plan, struct log *lg, char *err, size_t errlen);

/*
 * For a plan fed by retention_plan_note: where finishing reads the entry
 * at seq again. fn returns it decoded, valid until its next call (the plan
 * only reads it), or NULL with the reason in err.
 */
typedef const Est__V1__LogEntry *(*retention_reread_fn)(void *arg, uint64_t seq, char *err,
                                                        size_t errlen);
void retention_plan_reread(struct retention_plan *plan, retention_reread_fn fn, void *arg);

/*
 * Decides (once every entry is noted; a second call changes nothing). 0, or
 * -1 with err: out of memory, or an entry could not be read again. After
 * -1 the plan is good only for retention_plan_destroy.
 */
int retention_plan_finish(struct retention_plan *plan, char *err, size_t errlen);

/*
 * For tests only: the hash of a whole's key, the key being a, the unit
 * separator (0x1f), b: (org, source_id) for a report, ("", measure_id)
 * for a measure. A hash that maps many keys to one value forces the
 * collisions a real hash almost never shows. NULL: the plan's own. Call
 * before noting.
 */
typedef uint64_t (*retention_hash_fn)(const char *a, const char *b);
void retention_plan_hash_for_tests(struct retention_plan *plan, retention_hash_fn fn);

/* The expired seqs, ascending; valid until the plan is destroyed. */
const uint64_t *retention_plan_seqs(const struct retention_plan *plan, size_t *n);

/* How many expired entries one label has, and the lowest and highest seq among them. */
struct retention_count {
	uint64_t entries;
	uint64_t first_seq, last_seq;
};
void retention_plan_count(const struct retention_plan *plan, enum retention_label label,
                          struct retention_count *out);

/*
 * One line per label with expired entries, "reports/rumour: 3 entries,
 * seq 2..4, 9" (the seq ranges, shortened with ", ..." past a few), into
 * out; "nothing has expired" when none. Returns the total count.
 */
uint64_t retention_plan_format(const struct retention_plan *plan, char *out, size_t outlen);

/*
 * The purge itself: plans at now over every entry of lg and, unless
 * dry_run, removes the bodies of what expired (log_purge). *out (the caller
 * owns it) tells what went, or would go. 0, or -1 with err (nothing purged).
 */
int retention_purge(struct log *lg, const struct retention_rules *rules, int64_t now, int dry_run,
                    struct retention_plan **out, char *err, size_t errlen);

/*
 * When the last purge ran, from DIR/data/purged_at (0 when never or
 * unreadable), and recording one. The record decides whether a purge was
 * missed while the hub was down. retention_mark_run: 0, or -1 with err.
 */
#define RETENTION_MARK "data/purged_at"
int64_t retention_last_run(const char *dir);
int retention_mark_run(const char *dir, int64_t when, char *err, size_t errlen);

#endif
