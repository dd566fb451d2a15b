/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure: the registry of measures (insatser) and the rules of their
 * lifecycle. Every change of a measure is one log entry on AREA/measures
 * carrying the measure's full current state; the registry is the latest
 * state of each, rebuilt from the log at start (measures_load) and kept
 * current after each commit (measures_take). It judges new measures and
 * changes (measures_judge_add, measures_judge_set) into the next state to
 * log, but never writes the log itself: the hub appends what the judges
 * produce and hands the stored entry back to measures_take.
 *
 * Ids are the hub's: "m1", "m2", ... in order of creation (one more than
 * the highest number in the log), so a measure's id never changes and is
 * never reused.
 *
 * Lifecycle (docs/measures.md):
 *   proposed    -> decided, cancelled
 *   decided     -> in_progress, done, cancelled
 *   in_progress -> done, cancelled
 *   done, cancelled: final; only the outcome text may still change.
 * A proposal must be decided before work on it starts (proposed ->
 * in_progress or done is refused); a decided measure may be marked done
 * directly (one-off work such as trimming bushes). A change that keeps the
 * status may change the outcome text.
 *
 * Working group: from the kind (presence, lighting, vegetation, wifi,
 * cleanup, other: situational; outreach, skills_training, leisure,
 * parental_support: social); none in `city`, whose measures are assigned to
 * an organisation only.
 *
 * The views (measure_view.h): started_at is set once the measure went to
 * in_progress (or straight to done): m->starts_at when given, else the
 * logged_at of that change. ended_at once it is done or cancelled:
 * m->ends_at when given, else the logged_at of that change. A measure
 * cancelled before it started has started_at 0.
 */
#ifndef ESTHUB_HUB_MEASURE_H
#define ESTHUB_HUB_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"
#include "measure_view.h"
#include "wire/ids.h"

struct log;
struct measures;

#define MEASURE_ID_MAX          15 /* "m" and up to 14 digits */
#define MEASURE_MAX_COUNT       100000
#define MEASURE_MAX_REPORT_SEQS 256
#define MEASURE_PLACE_MAX       200
#define MEASURE_TEXT_MAX        4000 /* description, outcome */

/* Lower-case words of the command line and of messages: "in_progress", "lighting", "social". */
const char *measure_status_word(int status);
const char *measure_kind_word(int kind);
const char *measure_group_word(int group);

/*
 * What a logged change did, for messages: "measure m1: decided -> done, seq
 * 43", or "measure m1: outcome changed (done), seq 44" when the status stayed.
 */
void measure_change_text(char *out, size_t outlen, const char *id, const char *from_word,
                         int to_status, uint64_t seq);

/* The working group a measure of kind in area belongs to (GROUP_UNSPECIFIED in city). */
Est__V1__WorkingGroup measure_group_of(const char *area, Est__V1__MeasureKind kind);

/*
 * Whether measure id may go from status from to status to. 0, or -1 with
 * the reason in err ("measure m3 is cancelled; a cancelled measure cannot
 * go to in_progress"). The same status is allowed (an outcome change).
 */
int measure_may_change(const char *id, Est__V1__MeasureStatus from, Est__V1__MeasureStatus to,
                       char *err, size_t errlen);

/* An empty registry, NULL when out of memory. The caller owns it: measures_destroy. */
struct measures *measures_new(void);
void measures_destroy(struct measures **ms);

/*
 * Takes every measure entry of the log (seq 1 to the head) in seq order.
 * Returns 0, or -1 with the reason in err (store error, an undecodable
 * entry, the cap).
 */
int measures_load(struct measures *ms, struct log *lg, char *err, size_t errlen);

/*
 * Takes one committed entry: body is the stored serialized LogEntry of seq
 * (as log_item.body). Entries without a measure body are ignored. Returns
 * 0, or -1 with the reason in err (undecodable, cap, memory); the registry
 * is then unchanged. Invalidates views and measures found before.
 */
int measures_take(struct measures *ms, uint64_t seq, const uint8_t *body, size_t body_len,
                  char *err, size_t errlen);

/* The view of measure id, or NULL. Valid until the next measures_take. */
const struct measure_view *measures_find(const struct measures *ms, const char *id);

/* Every measure, in order of creation; *n their number. Valid until the next measures_take. */
const struct measure_view *measures_views(const struct measures *ms, size_t *n);

/*
 * The next state of a measure, ready to log. m borrows strings and arrays
 * from the request judged and from the registry: use it before either
 * changes.
 */
struct measure_draft {
	Est__V1__Measure m;
	char id[MEASURE_ID_MAX + 1];
};

/* A log entry of a measure draft; entry is ready for log_append once measure_entry_init ran. */
struct measure_entry {
	Est__V1__LogEntry entry;
	char topic[IDS_TOPIC_MAX + 1];
};

/* Points me->entry at draft (borrowed) on AREA/measures, from org (borrowed). */
void measure_entry_init(struct measure_entry *me, struct measure_draft *draft, const char *org);

enum measure_verdict {
	MEASURE_REFUSED = -1,  /* err says why */
	MEASURE_CHANGED = 0,   /* draft holds the new state to log */
	MEASURE_UNCHANGED = 1, /* the change changes nothing */
};

/*
 * Judges a new measure (req->measure_id empty; the hub assigns it): area a
 * known area id, kind and assigned_org required, group from the kind,
 * status proposed (default) or decided, ends_at not before starts_at, every
 * report_seq an existing report entry of lg. MEASURE_CHANGED with the new
 * measure in *out, or MEASURE_REFUSED with "field: reason" in err.
 */
int measures_judge_add(const struct measures *ms, struct log *lg, const Est__V1__Measure *req,
                       struct measure_draft *out, char *err, size_t errlen);

/*
 * Judges a change of measure req->measure_id: its status (UNSPECIFIED:
 * unchanged) and outcome (empty: unchanged); every other field must be
 * unset or equal to the measure's. org: the organisation asking (an
 * adapter may change only the measures assigned to it), NULL for the
 * administrator. MEASURE_CHANGED with the new state in *out,
 * MEASURE_UNCHANGED when it changes nothing, MEASURE_REFUSED with the
 * reason in err. *current (may be NULL) receives the measure's view when
 * it exists.
 */
int measures_judge_set(const struct measures *ms, const Est__V1__Measure *req, const char *org,
                       struct measure_draft *out, const struct measure_view **current, char *err,
                       size_t errlen);

#endif
