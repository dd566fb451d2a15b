/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the picture compiler (hub/picture.c) against fixtures
 * computed by hand (docs/pictures.md walks through the same numbers):
 * counts per category, previous week, the 8-week baseline with empty
 * weeks, withdrawn and superseded revisions, merged incidents across the
 * Sunday-midnight boundary, hotspots, upcoming events, contributions, the
 * priority score and its parts, ranks with a tie, the `all` overview; a
 * week at the year boundary and one across the summer-time change; and a
 * real log written with log_append, compiled twice from the store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "picture.h"
#include "wire/timefmt.h"

#define LAT0      58.5650
#define LON0      16.1840
#define M_PER_DEG (6371008.8 * 3.14159265358979323846 / 180.0)
#define NP        -1.0
#define NOW       1790000000
#define N_AREAS   5

#define GATH EST__V1__CATEGORY__CATEGORY_GATHERING
#define VAND EST__V1__CATEGORY__CATEGORY_VANDALISM
#define UPCO EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT

static const char *const areas[N_AREAS] = {"marielund", "hageby", "navestad", "klockaretorpet",
                                           "city"};

/* A report of a fixture; times are Stockholm local ISO 8601, NULL for none. */
struct fx {
	const char *org, *sid;
	uint32_t rev;
	const char *area;
	int cat;
	const char *place;
	double north_m; /* metres north of (LAT0, LON0); NP: no position */
	const char *observed, *starts, *ends;
	int withdrawn;
};

/* The fixture of docs/pictures.md, for week 2026-W47 (16-22 November 2026). */
static const struct fx week47[] = {
    /* hageby, vandalism: two orgs at one spot (one incident), one at a named place */
    {"police", "v1", 0, "hageby", VAND, "", 0, "2026-11-17T20:00", NULL, NULL, 0},
    {"municipality", "v2", 0, "hageby", VAND, "", 50, "2026-11-17T21:00", NULL, NULL, 0},
    {"housing", "v3", 0, "hageby", VAND, "Hageby centrum", NP, "2026-11-19T12:00", NULL, NULL, 0},
    /* withdrawn by its second revision */
    {"police", "v4", 0, "hageby", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 0},
    {"police", "v4", 1, "hageby", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 1},
    /* superseded: revision 1 moves it into the week before */
    {"municipality", "v5", 0, "hageby", VAND, "", 900, "2026-11-18T10:00", NULL, NULL, 0},
    {"municipality", "v5", 1, "hageby", VAND, "", 900, "2026-11-11T10:00", NULL, NULL, 0},
    /* earlier weeks: W38 (outside the baseline), W39, W40, W44, W46 */
    {"police", "b1", 0, "hageby", VAND, "", 3000, "2026-09-16T12:00", NULL, NULL, 0},
    {"police", "b2", 0, "hageby", VAND, "", 3000, "2026-09-23T12:00", NULL, NULL, 0},
    {"police", "b3", 0, "hageby", VAND, "", 3000, "2026-09-30T12:00", NULL, NULL, 0},
    {"police", "b4", 0, "hageby", VAND, "", 3000, "2026-10-01T12:00", NULL, NULL, 0},
    {"police", "b5", 0, "hageby", VAND, "", 3000, "2026-10-26T09:00", NULL, NULL, 0},
    {"police", "b6", 0, "hageby", VAND, "", 3000, "2026-10-27T09:00", NULL, NULL, 0},
    {"police", "b7", 0, "hageby", VAND, "", 3000, "2026-10-28T09:00", NULL, NULL, 0},
    {"police", "b8", 0, "hageby", VAND, "", 3000, "2026-11-01T23:00", NULL, NULL, 0},
    {"police", "b9", 0, "hageby", VAND, "", 3000, "2026-11-10T09:00", NULL, NULL, 0},
    {"police", "b10", 0, "hageby", VAND, "", 3000, "2026-11-12T09:00", NULL, NULL, 0},
    /* hageby, gathering: a span and a report 1.5 h after it, same place spelt otherwise */
    {"police", "g1", 0, "hageby", GATH, "Hageby torg", 400, "2026-11-20T20:10", "2026-11-20T18:00",
     "2026-11-20T20:00", 0},
    {"municipality", "g2", 0, "hageby", GATH, "hageby  Torg", NP, "2026-11-20T21:30", NULL, NULL,
     0},
    /* hageby, upcoming events: listed u4 and u1; u2 too late, u3 over */
    {"municipality", "u1", 0, "hageby", UPCO, "Hageby torg", NP, "2026-11-10T08:00",
     "2026-11-28T18:00", "2026-11-28T23:00", 0},
    {"municipality", "u2", 0, "hageby", UPCO, "Hageby torg", NP, "2026-11-10T08:00",
     "2026-12-07T00:00", NULL, 0},
    {"municipality", "u3", 0, "hageby", UPCO, "Hageby torg", NP, "2026-11-10T08:00",
     "2026-11-10T18:00", "2026-11-10T22:00", 0},
    {"municipality", "u4", 0, "hageby", UPCO, "Hageby Centrum", NP, "2026-11-16T08:00",
     "2026-11-18T17:00", NULL, 0},
    /* navestad and marielund: one report each, so equal scores */
    {"police", "n1", 0, "navestad", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 0},
    {"housing", "m1", 0, "marielund", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 0},
    /* city: one event across Sunday midnight into the next week: an incident of W47 */
    {"police", "c1", 0, "city", VAND, "Drottninggatan 1", NP, "2026-11-22T23:50", NULL, NULL, 0},
    {"municipality", "c2", 0, "city", VAND, "Drottninggatan 1", NP, "2026-11-23T00:10", NULL, NULL,
     0},
    /* klockaretorpet: one event across the Sunday midnight before: an incident of W46 */
    {"police", "k1", 0, "klockaretorpet", VAND, "Klockaretorpet C", NP, "2026-11-15T23:50", NULL,
     NULL, 0},
    {"municipality", "k2", 0, "klockaretorpet", VAND, "Klockaretorpet C", NP, "2026-11-16T00:10",
     NULL, NULL, 0},
    /* outside every area: only in `all` */
    {"police", "o1", 0, "outside", VAND, "", NP, "2026-11-18T10:00", NULL, NULL, 0},
};

static int64_t
local(const char *iso)
{
	char err[128];
	int64_t t = 0;
	if (iso == NULL)
		return 0;
	if (timefmt_parse(iso, &t, err, sizeof err) != 0)
		fail_msg("timefmt_parse %s: %s", iso, err);
	return t;
}

/* Fills r (and pos) from f; strings point into f. */
static void
report_from(const struct fx *f, Est__V1__Report *r, Est__V1__Position *pos)
{
	est__v1__report__init(r);
	est__v1__position__init(pos);
	r->source_id = (char *)(uintptr_t)f->sid;
	r->revision = f->rev;
	r->category = (Est__V1__Category)f->cat;
	r->area = (char *)(uintptr_t)f->area;
	r->place = (char *)(uintptr_t)f->place;
	r->observed_at = local(f->observed);
	r->starts_at = local(f->starts);
	r->ends_at = local(f->ends);
	r->withdrawn = f->withdrawn;
	r->description = (char *)(uintptr_t)(f->cat == UPCO ? "konsert" : "");
	if (f->north_m >= 0) {
		pos->lat = LAT0 + f->north_m / M_PER_DEG;
		pos->lon = LON0;
		r->position = pos;
	}
}

static struct picture_store *
store_of(const struct fx *fx, size_t n)
{
	struct picture_store *ps = picture_store_new();
	assert_non_null(ps);
	for (size_t i = 0; i < n; i++) {
		Est__V1__Report r;
		Est__V1__Position pos;
		report_from(&fx[i], &r, &pos);
		assert_int_equal(picture_store_add(ps, i + 1, fx[i].org, NULL, &r), 0);
	}
	return ps;
}

static void
compile_week(const struct picture_store *ps, const char *week, Est__V1__Picture **out)
{
	struct picture_rules rules;
	char err[200];
	picture_rules_default(&rules);
	if (picture_compile(ps, &rules, week, areas, N_AREAS, NOW, out, err, sizeof err) != 0)
		fail_msg("picture_compile: %s", err);
}

static void
free_all(Est__V1__Picture **out)
{
	for (size_t i = 0; i <= N_AREAS; i++)
		picture_free(&out[i]);
}

/* Expected line of a category: category, reports, incidents, previous_week, baseline. */
struct cat_row {
	int category;
	uint32_t reports, incidents, previous;
	double baseline;
};

static void
check_categories(const Est__V1__Picture *p, const struct cat_row *rows, size_t n)
{
	if (p->n_categories != n)
		fail_msg("%s: %zu categories, want %zu", p->area, p->n_categories, n);
	for (size_t i = 0; i < n; i++) {
		const Est__V1__CategoryCount *c = p->categories[i];
		if ((int)c->category != rows[i].category || c->reports != rows[i].reports ||
		    c->incidents != rows[i].incidents || c->previous_week != rows[i].previous ||
		    c->baseline != rows[i].baseline)
			fail_msg("%s: category %d: %u %u %u %g, want %d: %u %u %u %g", p->area,
			         c->category, c->reports, c->incidents, c->previous_week,
			         c->baseline, rows[i].category, rows[i].reports, rows[i].incidents,
			         rows[i].previous, rows[i].baseline);
	}
}

static void
test_picture_week47_counts(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	static const struct cat_row hageby[] = {
	    {GATH, 2, 1, 0, 0.0}, {VAND, 3, 2, 3, 1.25}, {UPCO, 1, 1, 3, 0.375}};
	static const struct cat_row all[] = {
	    {GATH, 2, 1, 0, 0.0}, {VAND, 8, 6, 4, 1.375}, {UPCO, 1, 1, 3, 0.375}};
	static const struct cat_row one[] = {{VAND, 1, 1, 0, 0.0}};
	static const struct cat_row klock[] = {{VAND, 1, 0, 1, 0.125}};
	(void)state;
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], hageby, 3);
	check_categories(out[0], one, 1);
	check_categories(out[2], one, 1);
	check_categories(out[3], klock, 1);
	check_categories(out[4], one, 1);
	check_categories(out[5], all, 3);
	assert_string_equal(out[1]->area, "hageby");
	assert_string_equal(out[5]->area, "all");
	assert_string_equal(out[1]->week, "2026-W47");
	assert_int_equal(out[1]->period_start, local("2026-11-16T00:00"));
	assert_int_equal(out[1]->period_end, local("2026-11-23T00:00"));
	assert_int_equal(out[1]->generated_at, NOW);
	assert_int_equal(out[1]->through_seq, sizeof week47 / sizeof week47[0]);
	assert_int_equal(picture_store_current(ps), 29 - 2); /* v4 withdrawn, v4/v5 once each */
	free_all(out);
	picture_store_destroy(&ps);
	assert_null(ps);
}

static void
test_picture_week47_scores(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	static const double scores[N_AREAS + 1] = {1.5, 7.78125, 1.5, 0.4375, 2.0, 14.71875};
	static const uint32_t ranks[N_AREAS + 1] = {3, 1, 3, 5, 2, 0};
	(void)state;
	compile_week(ps, "2026-W47", out);
	for (size_t i = 0; i <= N_AREAS; i++) {
		double sum = 0;
		for (size_t k = 0; k < out[i]->n_score_parts; k++)
			sum += out[i]->score_parts[k]->points;
		if (out[i]->priority_score != scores[i] || sum != scores[i] ||
		    out[i]->rank != ranks[i] || out[i]->ranked_areas != N_AREAS)
			fail_msg("%s: score %g (parts %g) rank %u, want %g rank %u", out[i]->area,
			         out[i]->priority_score, sum, out[i]->rank, scores[i], ranks[i]);
	}
	/* Hageby's parts, in category order then incidents, trend, confirmed. */
	static const struct {
		const char *label;
		int category;
		double amount, weight, points;
	} parts[] = {
	    {"incidents", GATH, 1, 1.5, 1.5},   {"trend", GATH, 2, 0.75, 1.5},
	    {"confirmed", GATH, 1, 0.75, 0.75}, {"incidents", VAND, 2, 1, 2},
	    {"trend", VAND, 1.75, 0.5, 0.875},  {"confirmed", VAND, 1, 0.5, 0.5},
	    {"incidents", UPCO, 1, 0.5, 0.5},   {"trend", UPCO, 0.625, 0.25, 0.15625},
	};
	assert_int_equal(out[1]->n_score_parts, sizeof parts / sizeof parts[0]);
	for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
		const Est__V1__ScorePart *sp = out[1]->score_parts[k];
		assert_string_equal(sp->label, parts[k].label);
		assert_int_equal(sp->category, parts[k].category);
		assert_true(sp->amount == parts[k].amount && sp->weight == parts[k].weight &&
		            sp->points == parts[k].points);
	}
	free_all(out);
	picture_store_destroy(&ps);
}

static void
check_hotspot(const Est__V1__Hotspot *h, const char *place, uint32_t incidents, uint32_t reports,
              uint32_t orgs, double north_m, uint32_t cats)
{
	uint32_t got = 0;
	assert_string_equal(h->place, place);
	assert_int_equal(h->incidents, incidents);
	assert_int_equal(h->reports, reports);
	assert_int_equal(h->org_count, orgs);
	for (size_t k = 0; k < h->n_categories; k++)
		got |= 1u << h->categories[k];
	assert_int_equal(got, cats);
	if (north_m < 0) {
		assert_null(h->position);
		return;
	}
	assert_non_null(h->position);
	assert_true(fabs(h->position->lat - (LAT0 + north_m / M_PER_DEG)) < 1e-9);
	assert_true(fabs(h->position->lon - LON0) < 1e-9);
}

static void
test_picture_week47_hotspots_upcoming(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	(void)state;
	compile_week(ps, "2026-W47", out);
	const Est__V1__Picture *h = out[1];
	assert_int_equal(h->n_hotspots, 3);
	/* Hageby centrum: v3 and u4 (two incidents); then by first seq: v1+v2's cell, the square.
	 */
	check_hotspot(h->hotspots[0], "Hageby centrum", 2, 2, 2, NP, 1u << VAND | 1u << UPCO);
	check_hotspot(h->hotspots[1], "", 1, 2, 2, 25, 1u << VAND);
	check_hotspot(h->hotspots[2], "Hageby torg", 1, 2, 2, 400, 1u << GATH);
	assert_int_equal(h->n_upcoming, 2);
	assert_int_equal(h->upcoming[0]->seq, 23);
	assert_int_equal(h->upcoming[0]->starts_at, local("2026-11-18T17:00"));
	assert_string_equal(h->upcoming[0]->place, "Hageby Centrum");
	assert_int_equal(h->upcoming[1]->seq, 20);
	assert_int_equal(h->upcoming[1]->ends_at, local("2026-11-28T23:00"));
	assert_string_equal(h->upcoming[1]->org, "municipality");
	assert_string_equal(h->upcoming[1]->area, "hageby");
	assert_string_equal(h->upcoming[1]->description, "konsert");
	assert_int_equal(out[5]->n_upcoming, 2);
	assert_int_equal(out[0]->n_upcoming, 0);
	/* `all`: hageby's cell holds navestad's and marielund's reports too (same spot) */
	assert_int_equal(out[5]->n_hotspots, 4);
	check_hotspot(out[5]->hotspots[0], "", 3, 4, 3, 12.5, 1u << VAND);
	free_all(out);
	picture_store_destroy(&ps);
}

static void
check_contribution(const Est__V1__Contribution *c, const char *org, uint32_t reports,
                   uint32_t incidents, uint32_t confirmed)
{
	assert_string_equal(c->org, org);
	if (c->reports != reports || c->incidents != incidents || c->confirmed != confirmed)
		fail_msg("%s: %u %u %u", org, c->reports, c->incidents, c->confirmed);
}

static void
test_picture_week47_contributions(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	(void)state;
	compile_week(ps, "2026-W47", out);
	assert_int_equal(out[1]->n_contributions, 3);
	check_contribution(out[1]->contributions[0], "housing", 1, 1, 0);
	check_contribution(out[1]->contributions[1], "municipality", 3, 3, 2);
	check_contribution(out[1]->contributions[2], "police", 2, 2, 2);
	assert_int_equal(out[3]->n_contributions, 1); /* klockaretorpet: k2, its incident was W46 */
	check_contribution(out[3]->contributions[0], "municipality", 1, 0, 0);
	assert_int_equal(out[5]->n_contributions, 3);
	check_contribution(out[5]->contributions[0], "housing", 2, 2, 0);
	check_contribution(out[5]->contributions[1], "municipality", 4, 4, 3);
	check_contribution(out[5]->contributions[2], "police", 5, 5, 3);
	assert_int_equal(out[1]->n_measures, 0);
	free_all(out);
	picture_store_destroy(&ps);
}

/* The week before: klockaretorpet's midnight event is its incident; hageby's W46 figures. */
static void
test_picture_week46(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	static const struct cat_row hageby[] = {{VAND, 3, 3, 0, 1.0}, {UPCO, 3, 3, 0, 0.0}};
	static const struct cat_row klock[] = {{VAND, 1, 1, 0, 0.0}};
	(void)state;
	compile_week(ps, "2026-W46", out);
	check_categories(out[1], hageby, 2);
	check_categories(out[3], klock, 1);
	free_all(out);
	picture_store_destroy(&ps);
}

/* 2027-W01: the week before is 2026-W53, the baseline 2026-W46..W53. */
static void
test_picture_year_boundary(void **state)
{
	static const struct fx reps[] = {
	    {"police", "a", 0, "city", VAND, "", NP, "2027-01-04T00:00", NULL, NULL, 0}, /* W01 */
	    {"police", "b", 0, "city", VAND, "", NP, "2027-01-03T23:59", NULL, NULL, 0}, /* W53 */
	    {"police", "c", 0, "city", VAND, "", NP, "2026-12-28T00:00", NULL, NULL, 0}, /* W53 */
	    {"police", "d", 0, "city", VAND, "", NP, "2026-11-09T12:00", NULL, NULL, 0}, /* W46 */
	    {"police", "e", 0, "city", VAND, "", NP, "2026-11-08T12:00", NULL, NULL, 0}, /* W45 */
	    {"police", "f", 0, "city", VAND, "", NP, "2027-01-10T23:59", NULL, NULL, 0}, /* W01 */
	    {"police", "g", 0, "city", VAND, "", NP, "2027-01-11T00:00", NULL, NULL, 0}, /* W02 */
	};
	static const struct cat_row city[] = {{VAND, 2, 2, 2, 0.375}};
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(reps, sizeof reps / sizeof reps[0]);
	(void)state;
	compile_week(ps, "2027-W01", out);
	check_categories(out[4], city, 1);
	assert_int_equal(out[4]->period_start, local("2027-01-04T00:00"));
	free_all(out);
	picture_store_destroy(&ps);
}

/* 2026-W13 ends with the change to summer time: 167 hours, its last hour is 23:00-24:00 CEST. */
static void
test_picture_summer_time(void **state)
{
	static const struct fx reps[] = {
	    {"police", "a", 0, "city", VAND, "", NP, "2026-03-23T00:00", NULL, NULL, 0}, /* W13 */
	    {"police", "b", 0, "city", VAND, "", NP, "2026-03-22T23:59", NULL, NULL, 0}, /* W12 */
	    {"police", "c", 0, "city", VAND, "", NP, "2026-03-29T23:30", NULL, NULL, 0}, /* W13 */
	    {"police", "d", 0, "city", VAND, "", NP, "2026-03-30T00:00", NULL, NULL, 0}, /* W14 */
	};
	static const struct cat_row city[] = {{VAND, 2, 2, 1, 0.125}};
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(reps, sizeof reps / sizeof reps[0]);
	(void)state;
	compile_week(ps, "2026-W13", out);
	check_categories(out[4], city, 1);
	assert_int_equal(out[4]->period_end - out[4]->period_start, 167 * 3600);
	free_all(out);
	picture_store_destroy(&ps);
}

/* Nothing at all: no categories, score 0, every area shares rank 1. */
static void
test_picture_empty(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = picture_store_new();
	struct picture_rules rules;
	char err[200];
	(void)state;
	compile_week(ps, "2026-W47", out);
	for (size_t i = 0; i < N_AREAS; i++) {
		assert_int_equal(out[i]->n_categories, 0);
		assert_int_equal(out[i]->rank, 1);
		assert_true(out[i]->priority_score == 0.0);
	}
	assert_int_equal(out[N_AREAS]->rank, 0);
	free_all(out);
	picture_rules_default(&rules);
	assert_int_equal(
	    picture_compile(ps, &rules, "2026-W54", areas, N_AREAS, NOW, out, err, sizeof err), -1);
	assert_non_null(strstr(err, "week 54"));
	assert_null(out[0]);
	picture_store_destroy(&ps);
}

/* The store keeps the highest revision; an older one arriving later changes nothing. */
static void
test_picture_store_revisions(void **state)
{
	static const struct fx reps[] = {
	    {"police", "x", 2, "", VAND, "", NP, "2026-11-18T10:00", NULL, NULL, 0},
	    {"police", "x", 1, "city", GATH, "", NP, "2026-11-18T10:00", NULL, NULL, 0},
	    {"housing", "x", 0, "city", GATH, "", NP, "2026-11-18T10:00", NULL, NULL, 1},
	};
	struct picture_store *ps = picture_store_new();
	Est__V1__Picture *out[N_AREAS + 1];
	static const struct cat_row navestad[] = {{VAND, 1, 1, 0, 0.0}};
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		Est__V1__Report r;
		Est__V1__Position pos;
		report_from(&reps[i], &r, &pos);
		/* the empty area of the first is taken from its topic */
		assert_int_equal(picture_store_add(ps, 10 + i, reps[i].org, "navestad/reports", &r),
		                 0);
	}
	assert_int_equal(picture_store_current(ps), 1);
	assert_int_equal(picture_store_through(ps), 12);
	compile_week(ps, "2026-W47", out);
	check_categories(out[2], navestad, 1);
	assert_int_equal(out[4]->n_categories, 0);
	free_all(out);
	picture_store_destroy(&ps);
}

/* --- from a real log ------------------------------------------------------------ */

static void
append_fixture(struct log *lg)
{
	size_t n = sizeof week47 / sizeof week47[0];
	Est__V1__LogEntry entries[sizeof week47 / sizeof week47[0]];
	Est__V1__Report reports[sizeof week47 / sizeof week47[0]];
	Est__V1__Position pos[sizeof week47 / sizeof week47[0]];
	struct log_item items[sizeof week47 / sizeof week47[0]];
	char topics[sizeof week47 / sizeof week47[0]][64], err[256];
	for (size_t i = 0; i < n; i++) {
		est__v1__log_entry__init(&entries[i]);
		report_from(&week47[i], &reports[i], &pos[i]);
		snprintf(topics[i], sizeof topics[i], "%s/reports", week47[i].area);
		entries[i].org = (char *)(uintptr_t)week47[i].org;
		entries[i].topic = topics[i];
		entries[i].body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
		entries[i].report = &reports[i];
		memset(&items[i], 0, sizeof items[i]);
		items[i].entry = &entries[i];
	}
	if (log_append(lg, items, n, NOW, err, sizeof err) != 0)
		fail_msg("log_append: %s", err);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(items[i].seq, i + 1);
}

/* Packs p with generated_at cleared into a new buffer (caller frees). */
static uint8_t *
pack_content(Est__V1__Picture *p, size_t *len)
{
	p->generated_at = 0;
	*len = est__v1__picture__get_packed_size(p);
	uint8_t *buf = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	est__v1__picture__pack(p, buf);
	return buf;
}

static void
test_picture_from_log(void **state)
{
	char dir[] = "/tmp/test_picture.XXXXXX", path[128], err[256];
	struct log *lg = NULL;
	struct picture_store *a = picture_store_new(), *b = picture_store_new();
	struct picture_store *direct = store_of(week47, sizeof week47 / sizeof week47[0]);
	struct picture_rules rules;
	Est__V1__Picture *pa[N_AREAS + 1], *pb[N_AREAS + 1], *pd[N_AREAS + 1];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/store.db", dir);
	assert_int_equal(log_open(&lg, path, LOG_CREATE, err, sizeof err), 0);
	append_fixture(lg);
	assert_int_equal(picture_store_load(a, lg, 0, err, sizeof err), 0);
	assert_int_equal(picture_store_load(b, lg, 0, err, sizeof err), 0);
	assert_int_equal(picture_store_through(a), sizeof week47 / sizeof week47[0]);
	picture_rules_default(&rules);
	assert_int_equal(
	    picture_compile(a, &rules, "2026-W47", areas, N_AREAS, NOW, pa, err, sizeof err), 0);
	assert_int_equal(
	    picture_compile(b, &rules, "2026-W47", areas, N_AREAS, NOW + 60, pb, err, sizeof err),
	    0);
	assert_int_equal(
	    picture_compile(direct, &rules, "2026-W47", areas, N_AREAS, NOW, pd, err, sizeof err),
	    0);
	for (size_t i = 0; i <= N_AREAS; i++) {
		size_t la, lb, ld;
		uint8_t *ba = pack_content(pa[i], &la), *bb = pack_content(pb[i], &lb),
		        *bd = pack_content(pd[i], &ld);
		assert_true(la > 20);
		assert_int_equal(la, lb);
		assert_memory_equal(ba, bb, la);
		assert_int_equal(la, ld); /* the store built by hand and the one loaded agree */
		assert_memory_equal(ba, bd, la);
		free(ba);
		free(bb);
		free(bd);
	}
	free_all(pa);
	free_all(pb);
	free_all(pd);
	picture_store_destroy(&a);
	picture_store_destroy(&b);
	picture_store_destroy(&direct);
	log_close(&lg);
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
		unlink(p);
	}
	rmdir(dir);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_picture_week47_counts),
	    cmocka_unit_test(test_picture_week47_scores),
	    cmocka_unit_test(test_picture_week47_hotspots_upcoming),
	    cmocka_unit_test(test_picture_week47_contributions),
	    cmocka_unit_test(test_picture_week46),
	    cmocka_unit_test(test_picture_year_boundary),
	    cmocka_unit_test(test_picture_summer_time),
	    cmocka_unit_test(test_picture_empty),
	    cmocka_unit_test(test_picture_store_revisions),
	    cmocka_unit_test(test_picture_from_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
