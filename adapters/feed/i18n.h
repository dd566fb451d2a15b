/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i18n: the words and number forms of what est-feed writes for people, in
 * Swedish (the default) and English: labels of categories, measure kinds,
 * statuses and groups, area display names, numbers with a decimal comma in
 * Swedish, ISO weeks ("vecka 47, 2026") and dates in Europe/Stockholm
 * (timefmt_init first). Every label table is complete for every enum value;
 * an unknown value gets the word for "unknown", never NULL.
 */
#ifndef ESTHUB_FEED_I18N_H
#define ESTHUB_FEED_I18N_H

#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"

enum lang { LANG_SV = 0, LANG_EN = 1 };

/* "sv" or "en" -> 0 and *out; -1 otherwise. */
int i18n_lang_parse(const char *s, enum lang *out);
const char *i18n_lang_code(enum lang l);

/* The fixed words of the pages and the terminal summary. */
struct words {
	const char *picture, *week, *period, *compiled, *through_seq, *not_ranked;
	const char *priority, *score, *rank_of, *score_explained, *no_score_parts;
	const char *part_incidents, *part_trend, *part_confirmed, *points;
	const char *categories, *category, *reports, *incidents, *previous_week, *baseline;
	const char *no_categories, *chart_note;
	const char *trend, *trend_note, *no_trend;
	const char *map, *map_note, *map_legend_low, *map_legend_high, *map_no_ranks, *own_area;
	const char *hotspots, *place, *position, *orgs, *no_hotspots, *unnamed_place;
	const char *upcoming, *starts, *ends, *org, *description, *no_upcoming;
	const char *measures, *kind, *group, *status, *assigned, *no_measures;
	const char *followup, *before, *after, *within_m, *no_followups;
	const char *measure_counts, *count, *no_measure_counts;
	const char *flags, *no_flags, *flag_hotspot, *flag_overlap, *weeks_without;
	const char *contributions, *confirmed, *no_contributions;
	const char *index_title, *index_note, *no_pages;
	const char *generated_by, *area;
	const char *top_categories, *vs_baseline, *rank;
};

const struct words *i18n_words(enum lang l);

/* The fixed words of est-feed's line an entry (summary.h); ids stay ids. */
struct line_words {
	const char *invalid_text, *withdrawn, *observed, *from, *updated, *measure, *picture;
	const char *rank, *priority, *through_seq, *checkpoint, *entries, *head, *event;
	const char *no_content;
	char decimal; /* the score's decimal sign */
};

const struct line_words *i18n_line_words(enum lang l);

const char *i18n_category(enum lang l, int category);
const char *i18n_kind(enum lang l, int kind);
const char *i18n_status(enum lang l, int status);
const char *i18n_group(enum lang l, int group);
/* A ScorePart label ("incidents", "trend", "confirmed") in words; other labels as given. */
const char *i18n_part_label(enum lang l, const char *label);
/* The display name of a built-in area id ("all" -> "Hela kommunen"), or NULL when unknown. */
const char *i18n_area_builtin(enum lang l, const char *id);

/*
 * v with at most max_decimals decimals, trailing zeros dropped, a decimal
 * comma in Swedish ("1,25"), a point in English; never "-0".
 */
void i18n_number(enum lang l, double v, int max_decimals, char *out, size_t outlen);

/* "2026-W47" -> "vecka 47, 2026" / "week 47, 2026"; -1 (out untouched) when week is not one. */
int i18n_week(enum lang l, const char *week, char *out, size_t outlen);
/* "2026-W47" -> year and week; -1 when it is not one. */
int i18n_week_parse(const char *week, int *year, int *wk);

/* "16 november 2026" / "16 November 2026" (Europe/Stockholm). */
void i18n_date(enum lang l, int64_t unix_s, char *out, size_t outlen);
/* The days from start to end (exclusive): "16–22 november 2026". */
void i18n_period(enum lang l, int64_t start, int64_t end, char *out, size_t outlen);

#endif
