/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picture: the situational picture (lägesbild) of an area and ISO week.
 *
 * Two halves. A store (struct picture_store) holds the current reports in
 * compact form: per (org, source_id) only the highest revision, withdrawn
 * ones marked so they never count. It is filled from the log once
 * (picture_store_load) and then kept current one report at a time
 * (picture_store_add, cheap enough to call after each commit). The
 * compiler (picture_compile) is a pure function of the store, the rules,
 * the week, the list of areas and the time it is told: it builds the
 * picture of every area and of the whole municipality (`all`) together, so
 * the areas can be ranked against each other. It runs in two steps: a
 * snapshot (picture_snapshot_take: one pass over the store picking the
 * reports of the weeks a compile needs, copies of the names and measures
 * it prints) and the compile proper from the snapshot alone
 * (picture_compile_snapshot: merging, tallies, hotspots, follow-up), which
 * the hub runs on a thread of its own (compiler.h) while the store changes. Counting, baselines,
 * merging (merge.h), the priority score and hotspots are explained with worked examples in
 * docs/pictures.md.
 */
#ifndef ESTHUB_HUB_PICTURE_H
#define ESTHUB_HUB_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"
#include "log.h"
#include "measure_view.h"
#include "merge.h"

/* Caps: areas one compile ranks, organisations and current reports one store holds. */
#define PICTURE_MAX_AREAS   64
#define PICTURE_MAX_ORGS    1024
#define PICTURE_MAX_REPORTS (8u * 1024 * 1024)
/* Est__V1__Category values 0..8. */
#define PICTURE_CATEGORIES 9
/* The id of the municipality overview. */
#define PICTURE_ALL "all"

struct picture_store;
struct picture_snapshot;

/* How pictures are compiled (configuration; picture_rules_default gives the documented defaults).
 */
struct picture_rules {
	struct merge_rules merge;
	double weight[PICTURE_CATEGORIES]; /* points per incident of each category */
	double trend_factor;               /* share of a weight per report above the baseline */
	double confirm_factor;             /* share of a weight per incident two or more orgs saw */
	unsigned hotspots_max;             /* hotspots listed at most */
	double hotspot_cell_m;             /* grid cell of a hotspot without a place name */
	int64_t upcoming_s;                /* how far past the week upcoming events are listed */
	unsigned upcoming_max;             /* upcoming events listed at most */
	double followup_radius_m;          /* a done measure's follow-up circle */
	unsigned followup_weeks;           /* weeks before its start and after its end */
	unsigned flag_weeks; /* weeks a hotspot goes without a measure before a flag */
};

void picture_rules_default(struct picture_rules *rules);

/* An empty store (NULL when out of memory). Caller owns it; picture_store_destroy. */
struct picture_store *picture_store_new(void);
void picture_store_destroy(struct picture_store **ps);

/*
 * Takes the report r logged at seq by org (the entry's org). A report
 * replaces the stored one of the same (org, source_id) when its revision is
 * not lower; a withdrawn one then stops counting. An empty r->area is taken
 * from area_hint (the entry's topic area; may be NULL). Raises the store's
 * through_seq to seq. Returns 0, or -1 when a cap is reached or memory runs
 * out (the store is unchanged but for through_seq).
 */
int picture_store_add(struct picture_store *ps, uint64_t seq, const char *org,
                      const char *area_hint, const Est__V1__Report *r);

/*
 * Starts fetching the memory picture_store_add will look at first for the
 * report (org, source_id): its slot in the store's index, a cache miss a
 * report otherwise. Called for every report of a batch before adding them,
 * the misses overlap instead of following one another. Changes nothing.
 */
void picture_store_prefetch(const struct picture_store *ps, const char *org, const char *source_id);

/*
 * Adds every report entry of the log with seq in 1..through_seq (0: up to
 * the head) and sets through_seq to that seq. Returns 0, or -1 with the
 * reason in err (log error, undecodable body, a cap). An empty store loaded
 * from lg keeps a hash of each report's (org, source_id) instead of the id
 * and reads lg's `reports` table to confirm a matching hash: lg must then
 * outlive the store, and picture_store_add be given only reports logged in
 * lg at their seq, on the thread that uses lg between commits.
 */
int picture_store_load(struct picture_store *ps, struct log *lg, uint64_t through_seq, char *err,
                       size_t errlen);

/*
 * The same, and in the same pass over the log hands every entry that is
 * neither a report nor a picture (purged ones aside) to other(other_arg,
 * ...) as log_scan would, so the hub reads a big log once at start-up, not
 * once per store. A non-zero return of other stops the load with -1; other
 * writes its own reason into err (it is given the same err).
 */
int picture_store_load_also(struct picture_store *ps, struct log *lg, uint64_t through_seq,
                            log_visit_fn other, void *other_arg, char *err, size_t errlen);

/*
 * Notes a picture of the log (picture_store_load does it for every picture
 * entry; the hub for each it appends). The store remembers the end of the
 * latest week that has an `all` picture compiled after the week was over,
 * which is how the scheduler tells that the week's scheduled picture is
 * already in the log.
 */
void picture_store_note(struct picture_store *ps, const Est__V1__Picture *p);

/* period_end of that latest closed week (0: none). */
int64_t picture_store_closed_until(const struct picture_store *ps);

/*
 * The log seq the store covers, and its number of current (not withdrawn)
 * reports; with a horizon, plus the report entries it passed over for it
 * (so it is above 0 whenever the log has a report).
 */
uint64_t picture_store_through(const struct picture_store *ps);
size_t picture_store_current(const struct picture_store *ps);

/*
 * What the store holds in detail. A store holds every report (horizon
 * INT64_MIN) unless told otherwise, before it is filled, by
 * picture_store_set_horizon: then it keeps only the reports whose time lies
 * at or after from, their time being the later of observed_at and the end
 * of their span (starts_at..ends_at). A compile of a week reads reports
 * from 12 weeks before it on, and follow-ups from the weeks before their
 * measure started (picture_needs says from when); the hub keeps about the
 * last 16 weeks, which the weekly and live pictures read, and moves the
 * horizon with picture_store_cover. A store of a year's million reports
 * then holds about a third of them. Only for a store loaded from a log.
 */
void picture_store_set_horizon(struct picture_store *ps, int64_t from);
int64_t picture_store_horizon(const struct picture_store *ps);

/*
 * The earliest report time (as above) a picture_compile of week with these
 * measures reads: the start of the oldest week of its merge, or earlier
 * for the follow-up of a done measure it may list. INT64_MIN for a week id
 * that does not parse.
 */
int64_t picture_needs(const struct picture_rules *rules, const char *week,
                      const struct measure_view *measures, size_t n_measures);

/*
 * Moves the horizon of a store loaded from a log to from: when from is
 * earlier, reads the reports from from on back from the log (as
 * picture_store_load, a pass over the whole log: about 2 s for a million
 * entries); when it is later by slack_s or more, lets go of the reports
 * before it (between the two, nothing changes, so that a horizon moving
 * with the clock costs a pass over the store only once per slack_s).
 * Pointers to ps stay valid. 0, or -1 with err (ps is then unchanged).
 */
int picture_store_cover(struct picture_store *ps, int64_t from, int64_t slack_s, char *err,
                        size_t errlen);

/*
 * Compiles the pictures of week ("2026-W47") for areas[0..n_areas) and
 * then for `all`: out[0..n_areas] receive n_areas + 1 pictures (caller owns
 * each; picture_free). Ranks run over the listed areas; `all` has rank 0.
 * Reports of areas not listed (e.g. `outside`) count only in `all`.
 * generated_at is now; through_seq the store's. measures[0..n_measures)
 * (may be NULL, 0) are the measures the registry knows: each picture lists
 * its area's active ones and the done ones of the follow-up window (social
 * ones only as counts), with follow-ups and flags (docs/pictures.md).
 * Returns 0, or -1 with the reason in err (bad week id, too many areas, out
 * of memory; out is then all NULL).
 */
int picture_compile(const struct picture_store *ps, const struct picture_rules *rules,
                    const char *week, const char *const *areas, size_t n_areas,
                    const struct measure_view *measures, size_t n_measures, int64_t now,
                    Est__V1__Picture **out, char *err, size_t errlen);

/*
 * What one compile of week reads, copied out of ps and measures (see the
 * top of this file): the current reports of the 14 weeks around the week
 * (as the store expands them), the upcoming events of its window with
 * their text, the names of the organisations, areas and places they use,
 * copies of the measures with the reports their follow-ups count, the
 * rules and the store's through_seq. Takes one pass over the store. NULL
 * with the reason in err (bad week id, out of memory). Caller owns it;
 * picture_snapshot_destroy. It shares nothing with ps or measures: once
 * taken, the store and the registry may change or go.
 */
struct picture_snapshot *picture_snapshot_take(const struct picture_store *ps,
                                               const struct picture_rules *rules, const char *week,
                                               const struct measure_view *measures,
                                               size_t n_measures, char *err, size_t errlen);

/* About the bytes a snapshot holds (its arrays and strings). */
size_t picture_snapshot_bytes(const struct picture_snapshot *s);

void picture_snapshot_destroy(struct picture_snapshot **s);

/*
 * picture_compile's second step: the pictures of the snapshot's week for
 * areas[0..n_areas) and `all` into out[0..n_areas], from s alone (it reads
 * nothing else but areas, so it may run on any thread that holds s and
 * areas unchanged). The same bytes as picture_compile over the store s was
 * taken from. Returns 0, or -1 with the reason in err (too many areas, out
 * of memory; out is then all NULL).
 */
int picture_compile_snapshot(const struct picture_snapshot *s, const char *const *areas,
                             size_t n_areas, int64_t now, Est__V1__Picture **out, char *err,
                             size_t errlen);

/*
 * The before and after of the measure v (docs/pictures.md, "Follow-up"):
 * incidents within rules->followup_radius_m of its position (or at its
 * place name when it has no position) in the rules->followup_weeks weeks
 * before v->started_at and after v->ended_at. Fills *out (initialized by
 * the caller with est__v1__followup__init; measure_id points into v->m,
 * so out must not outlive it). Returns 0, or -1 when the measure is not
 * done or has neither position nor place name. When the spans lie before
 * the store's horizon, the follow-up reads a store of its own from the log
 * (and -1 when that fails).
 */
int picture_followup(const struct picture_store *ps, const struct picture_rules *rules,
                     const struct measure_view *v, Est__V1__Followup *out);

/* Frees a picture from picture_compile; sets *p to NULL. NULL-safe. */
void picture_free(Est__V1__Picture **p);

#endif
