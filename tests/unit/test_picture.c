/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the picture compiler (hub/picture.c) against fixtures
 * computed by hand (docs/pictures.md walks through the same numbers):
 * counts per category, previous week, the 8-week baseline with empty
 * weeks, withdrawn and superseded revisions, merged incidents across the
 * Sunday-midnight boundary, hotspots, upcoming events, contributions, the
 * priority score and its parts, ranks with a tie, the `all` overview; a
 * week at the year boundary and one across the summer-time change; and a
 * real log written with log_append, compiled twice from the store; and
 * the same week compiled on the compiler thread from a snapshot while the
 * store and the measures change, to the same bytes.
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
#include <poll.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"
#include "picture.h"
#include "week.h"
#include "wire/timefmt.h"

#define LAT0      58.5650
#define LON0      16.1840
#define M_PER_DEG (6371008.8 * 3.14159265358979323846 / 180.0)
#define NP        -1.0
#define NOW       1790000000
#define N_AREAS   5
/* How far the store may move a position: half its unit of 1e-7 degree, and a hair for the sum. */
#define POS_TOL (0.5e-7 + 1e-12)
/* The store's time range: seconds 0 .. UINT32_MAX - 1 from 2000-01-01T00:00:00Z. */
#define T_FIRST 946684800LL
#define T_LAST  (T_FIRST + 0xfffffffeLL)

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
	if (picture_compile(ps, &rules, week, areas, N_AREAS, NULL, 0, NOW, out, err, sizeof err) !=
	    0)
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
	/* The store keeps positions to 1e-7 degree (see test_picture_store_positions). */
	assert_true(fabs(h->position->lat - (LAT0 + north_m / M_PER_DEG)) <= POS_TOL);
	assert_true(fabs(h->position->lon - LON0) <= POS_TOL);
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
	assert_int_equal(picture_compile(ps, &rules, "2026-W54", areas, N_AREAS, NULL, 0, NOW, out,
	                                 err, sizeof err),
	                 -1);
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

/*
 * Two source ids whose 32-bit FNV-1a hashes (the store's index hash, seeded
 * with the first organisation's id 0) are equal: they must stay two reports.
 */
static void
test_picture_store_hash_collision(void **state)
{
	static const struct fx reps[] = {
	    {"police", "r-593089", 0, "hageby", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 0},
	    {"police", "r-1136980", 0, "hageby", GATH, "", 0, "2026-11-18T11:00", NULL, NULL, 0},
	    {"police", "r-593089", 1, "hageby", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 1},
	};
	static const struct cat_row both[] = {{GATH, 1, 1, 0, 0.0}, {VAND, 1, 1, 0, 0.0}};
	static const struct cat_row one[] = {{GATH, 1, 1, 0, 0.0}};
	Est__V1__Picture *out[N_AREAS + 1];
	(void)state;
	struct picture_store *ps = store_of(reps, 2);
	assert_int_equal(picture_store_current(ps), 2);
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], both, 2);
	free_all(out);
	picture_store_destroy(&ps);
	/* withdrawing one withdraws only that one */
	ps = store_of(reps, 3);
	assert_int_equal(picture_store_current(ps), 1);
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], one, 1);
	free_all(out);
	picture_store_destroy(&ps);
}

static uint8_t *pack_content(Est__V1__Picture *p, size_t *len);

/* A small deterministic generator (the test must not depend on rand's implementation). */
static uint32_t
lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*x >> 33);
}

#define CHURN_KEYS 3000
#define CHURN_ADDS 12000

/* One report of the churn: key k at revision rev, its fields drawn from x. */
static void
churn_report(uint64_t *x, unsigned k, uint32_t rev, struct fx *f, char *sid, size_t sidlen)
{
	static const char *const orgs[] = {"police", "municipality", "housing"};
	static const char *const places[] = {"", "", "Hageby torg", "hageby  Torg", "Kvarngatan 2"};
	static const char *const days[] = {"2026-11-09T", "2026-11-12T", "2026-11-16T",
	                                   "2026-11-18T", "2026-11-22T", "2026-11-23T"};
	static const int cats[] = {GATH, VAND, UPCO, EST__V1__CATEGORY__CATEGORY_DISORDER};
	static char times[CHURN_ADDS][3][24];
	static unsigned next;
	char(*t)[24] = times[next++ % CHURN_ADDS];
	snprintf(sid, sidlen, "k%u", k);
	memset(f, 0, sizeof *f);
	f->org = orgs[k % 3];
	f->sid = sid;
	f->rev = rev;
	f->area = areas[lcg(x) % N_AREAS];
	f->cat = cats[lcg(x) % 4];
	f->place = places[lcg(x) % 5];
	f->north_m = lcg(x) % 3 == 0 ? NP : (double)(lcg(x) % 1500);
	const char *day = days[lcg(x) % 6];
	snprintf(t[0], sizeof t[0], "%s%02u:%02u", day, lcg(x) % 24, lcg(x) % 60);
	f->observed = t[0];
	if (lcg(x) % 3 == 0) { /* a span around the time seen */
		snprintf(t[1], sizeof t[1], "%s%02u:00", day, lcg(x) % 24);
		snprintf(t[2], sizeof t[2], "%s23:30", day);
		f->starts = t[1];
		f->ends = lcg(x) % 2 ? t[2] : NULL;
	}
	f->withdrawn = lcg(x) % 10 == 0;
}

/*
 * Revisions in any mix (spans gained and lost, a report turning into an
 * upcoming event and back, withdrawals, stale lower revisions) leave the
 * store exactly as if it had been given only each report's final state:
 * the pictures of both are the same bytes. Thousands of reports grow the
 * index several times over.
 */
static void
test_picture_store_churn(void **state)
{
	static struct fx last[CHURN_KEYS];
	static char sids[CHURN_KEYS][16], tmp_sid[16];
	static uint64_t last_seq[CHURN_KEYS];
	static uint32_t revs[CHURN_KEYS];
	static unsigned order[CHURN_KEYS];
	uint64_t x = 47;
	unsigned n_order = 0;
	struct picture_store *a = picture_store_new(), *b = picture_store_new();
	Est__V1__Picture *pa[N_AREAS + 1], *pb[N_AREAS + 1];
	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (uint64_t seq = 1; seq <= CHURN_ADDS; seq++) {
		unsigned k = lcg(&x) % CHURN_KEYS;
		int stale = revs[k] > 1 && lcg(&x) % 8 == 0;
		uint32_t rev = stale ? revs[k] - 2 : revs[k];
		struct fx f;
		Est__V1__Report r;
		Est__V1__Position pos;
		churn_report(&x, k, rev, &f, tmp_sid, sizeof tmp_sid);
		report_from(&f, &r, &pos);
		assert_int_equal(picture_store_add(a, seq, f.org, NULL, &r), 0);
		if (stale)
			continue; /* an older revision changes nothing */
		revs[k]++;
		if (last_seq[k] == 0)
			order[n_order++] = k;
		last[k] = f;
		snprintf(sids[k], sizeof sids[k], "%s", tmp_sid);
		last[k].sid = sids[k];
		last_seq[k] = seq;
	}
	/* b: each key's final state only, keys in order of their final seq (any order would do) */
	for (uint64_t seq = 1; seq <= CHURN_ADDS; seq++)
		for (unsigned i = 0; i < n_order; i++) {
			unsigned k = order[i];
			if (last_seq[k] != seq)
				continue;
			Est__V1__Report r;
			Est__V1__Position pos;
			report_from(&last[k], &r, &pos);
			assert_int_equal(picture_store_add(b, seq, last[k].org, NULL, &r), 0);
		}
	assert_int_equal(picture_store_current(a), picture_store_current(b));
	assert_true(picture_store_current(a) > CHURN_KEYS / 2);
	static const char *const weeks[] = {"2026-W46", "2026-W47", "2026-W48"};
	for (size_t w = 0; w < 3; w++) {
		compile_week(a, weeks[w], pa);
		compile_week(b, weeks[w], pb);
		for (size_t i = 0; i <= N_AREAS; i++) {
			size_t la, lb;
			uint8_t *ba = pack_content(pa[i], &la), *bb = pack_content(pb[i], &lb);
			assert_true(pa[i]->n_categories > 0);
			assert_int_equal(la, lb);
			assert_memory_equal(ba, bb, la);
			free(ba);
			free(bb);
		}
		assert_true(pa[N_AREAS]->n_upcoming > 0);
		free_all(pa);
		free_all(pb);
	}
	picture_store_destroy(&a);
	picture_store_destroy(&b);
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

/* Removes the store at path (and its WAL and shared memory) and its directory dir. */
static void
remove_store(const char *dir, const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
		unlink(p);
	}
	rmdir(dir);
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
	assert_int_equal(picture_compile(a, &rules, "2026-W47", areas, N_AREAS, NULL, 0, NOW, pa,
	                                 err, sizeof err),
	                 0);
	assert_int_equal(picture_compile(b, &rules, "2026-W47", areas, N_AREAS, NULL, 0, NOW + 60,
	                                 pb, err, sizeof err),
	                 0);
	assert_int_equal(picture_compile(direct, &rules, "2026-W47", areas, N_AREAS, NULL, 0, NOW,
	                                 pd, err, sizeof err),
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
	remove_store(dir, path);
}

/* Logs r of org as an AREA/reports entry, which must be accepted; returns its seq. */
static uint64_t
log_report(struct log *lg, const char *org, const char *area, Est__V1__Report *r)
{
	Est__V1__LogEntry entry;
	struct log_item item;
	char topic[64], err[256];
	est__v1__log_entry__init(&entry);
	snprintf(topic, sizeof topic, "%s/reports", area);
	entry.org = (char *)(uintptr_t)org;
	entry.topic = topic;
	entry.body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
	entry.report = r;
	memset(&item, 0, sizeof item);
	item.entry = &entry;
	if (log_append(lg, &item, 1, NOW, err, sizeof err) != 0)
		fail_msg("log_append: %s", err);
	assert_int_equal(item.status, EST__V1__STATUS__STATUS_ACCEPTED);
	return item.seq;
}

/* Logs fx[0..n) as report entries; they get seqs first_seq, first_seq + 1, ... */
static void
append_reports(struct log *lg, const struct fx *fx, size_t n, uint64_t first_seq)
{
	for (size_t i = 0; i < n; i++) {
		Est__V1__Report report;
		Est__V1__Position pos;
		report_from(&fx[i], &report, &pos);
		assert_int_equal(log_report(lg, fx[i].org, fx[i].area, &report), first_seq + i);
	}
}

/*
 * The same two colliding source ids in a store loaded from a log, which
 * keeps only their hash and asks the log's reports table whether a report
 * with a matching hash is the same: they stay two reports, at load and when
 * added after a commit, and a revision still replaces only its own.
 */
static void
test_picture_store_hash_collision_log(void **state)
{
	static const struct fx reps[] = {
	    {"police", "r-593089", 0, "hageby", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 0},
	    {"police", "r-1136980", 0, "hageby", GATH, "", 0, "2026-11-18T11:00", NULL, NULL, 0},
	    {"police", "r-593089", 1, "hageby", VAND, "", 0, "2026-11-18T10:00", NULL, NULL, 1},
	    {"police", "r-1136980", 1, "hageby", GATH, "", 0, "2026-11-18T11:00", NULL, NULL, 0},
	};
	static const struct cat_row both[] = {{GATH, 1, 1, 0, 0.0}, {VAND, 1, 1, 0, 0.0}};
	static const struct cat_row one[] = {{GATH, 1, 1, 0, 0.0}};
	char dir[] = "/tmp/test_picture.XXXXXX", path[128], err[256];
	struct log *lg = NULL;
	Est__V1__Picture *out[N_AREAS + 1];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/collide.db", dir);
	assert_int_equal(log_open(&lg, path, LOG_CREATE, err, sizeof err), 0);
	append_reports(lg, reps, 2, 1);
	struct picture_store *ps = picture_store_new();
	assert_int_equal(picture_store_load(ps, lg, 0, err, sizeof err), 0);
	assert_int_equal(picture_store_current(ps), 2);
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], both, 2);
	free_all(out);
	/* withdrawing one after a commit, as the hub adds it, withdraws only that one */
	append_reports(lg, &reps[2], 1, 3);
	Est__V1__Report r;
	Est__V1__Position pos;
	report_from(&reps[2], &r, &pos);
	assert_int_equal(picture_store_add(ps, 3, reps[2].org, NULL, &r), 0);
	assert_int_equal(picture_store_current(ps), 1);
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], one, 1);
	free_all(out);
	/* the other's revision replaces it: still one report, not a third */
	append_reports(lg, &reps[3], 1, 4);
	report_from(&reps[3], &r, &pos);
	assert_int_equal(picture_store_add(ps, 4, reps[3].org, NULL, &r), 0);
	assert_int_equal(picture_store_current(ps), 1);
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], one, 1);
	free_all(out);
	picture_store_destroy(&ps);
	/* and a store loaded from all four entries agrees */
	ps = picture_store_new();
	assert_int_equal(picture_store_load(ps, lg, 0, err, sizeof err), 0);
	assert_int_equal(picture_store_current(ps), 1);
	compile_week(ps, "2026-W47", out);
	check_categories(out[1], one, 1);
	free_all(out);
	picture_store_destroy(&ps);
	log_close(&lg);
	remove_store(dir, path);
}

/* --- trend and area ranks ------------------------------------------------------ */

static void
check_trend(const Est__V1__Picture *p, const char *first_week, const char *last_week,
            const uint32_t reports[12], const uint32_t incidents[12])
{
	assert_int_equal(p->n_trend, 12);
	assert_string_equal(p->trend[0]->week, first_week);
	assert_string_equal(p->trend[11]->week, last_week);
	for (size_t k = 0; k < 12; k++) {
		if (p->trend[k]->reports != reports[k] || p->trend[k]->incidents != incidents[k])
			fail_msg("%s trend %s: %u reports %u incidents, want %u %u", p->area,
			         p->trend[k]->week, p->trend[k]->reports, p->trend[k]->incidents,
			         reports[k], incidents[k]);
	}
}

/*
 * Hageby's 12 weeks W36..W47: police b1 (W38), b2 (W39), b3 b4 (W40), b5..b8
 * (W44, b8 on Sunday 23:00), b9 b10 and v5 moved by its revision plus the
 * upcoming events u1..u3 (W46), and the week itself (6 reports, 4 incidents).
 */
static void
test_picture_trend_and_area_ranks(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	static const uint32_t hr[12] = {0, 0, 1, 1, 2, 0, 0, 0, 4, 0, 6, 6};
	static const uint32_t hi[12] = {0, 0, 1, 1, 2, 0, 0, 0, 4, 0, 6, 4};
	/* all: hageby + klockaretorpet's k1 (W46 incident with k2) + the W47 rest */
	static const uint32_t ar[12] = {0, 0, 1, 1, 2, 0, 0, 0, 4, 0, 7, 11};
	static const uint32_t ai[12] = {0, 0, 1, 1, 2, 0, 0, 0, 4, 0, 7, 8};
	static const double scores[N_AREAS] = {1.5, 7.78125, 1.5, 0.4375, 2.0};
	static const uint32_t ranks[N_AREAS] = {3, 1, 3, 5, 2};
	(void)state;
	compile_week(ps, "2026-W47", out);
	check_trend(out[1], "2026-W36", "2026-W47", hr, hi);
	check_trend(out[5], "2026-W36", "2026-W47", ar, ai);
	for (size_t i = 0; i <= N_AREAS; i++) {
		assert_int_equal(out[i]->n_area_ranks, N_AREAS);
		for (size_t j = 0; j < N_AREAS; j++) {
			const Est__V1__AreaRank *r = out[i]->area_ranks[j];
			assert_string_equal(r->area, areas[j]);
			assert_true(r->priority_score == scores[j]);
			assert_int_equal(r->rank, ranks[j]);
		}
	}
	free_all(out);
	picture_store_destroy(&ps);
}

/* The trend across the ISO year boundary (2026 has a week 53) and the summer-time change. */
static void
test_picture_trend_year_and_summer(void **state)
{
	static const struct fx year[] = {
	    {"police", "a", 0, "city", VAND, "", NP, "2027-01-04T00:00", NULL, NULL, 0}, /* W01 */
	    {"police", "b", 0, "city", VAND, "", NP, "2027-01-03T23:59", NULL, NULL, 0}, /* W53 */
	    {"police", "c", 0, "city", VAND, "", NP, "2026-12-28T00:00", NULL, NULL, 0}, /* W53 */
	    {"police", "d", 0, "city", VAND, "", NP, "2026-11-09T12:00", NULL, NULL, 0}, /* W46 */
	    {"police", "e", 0, "city", VAND, "", NP, "2026-10-25T12:00", NULL, NULL, 0}, /* W43 */
	    {"police", "f", 0, "city", VAND, "", NP, "2026-10-18T12:00", NULL, NULL, 0}, /* W42 */
	};
	static const uint32_t yr[12] = {1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 1};
	static const struct fx summer[] = {
	    {"police", "a", 0, "city", VAND, "", NP, "2026-03-23T00:00", NULL, NULL, 0}, /* W13 */
	    {"police", "b", 0, "city", VAND, "", NP, "2026-03-22T23:59", NULL, NULL, 0}, /* W12 */
	    {"police", "c", 0, "city", VAND, "", NP, "2026-03-29T23:30", NULL, NULL, 0}, /* W13 */
	    {"police", "d", 0, "city", VAND, "", NP, "2026-03-30T00:00", NULL, NULL, 0}, /* W14 */
	};
	static const uint32_t sr[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1};
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(year, sizeof year / sizeof year[0]);
	(void)state;
	compile_week(ps, "2027-W01", out);
	check_trend(out[4], "2026-W43", "2027-W01", yr, yr);
	assert_string_equal(out[4]->trend[10]->week, "2026-W53");
	free_all(out);
	picture_store_destroy(&ps);
	ps = store_of(summer, sizeof summer / sizeof summer[0]);
	compile_week(ps, "2026-W14", out);
	check_trend(out[4], "2026-W03", "2026-W14", sr, sr);
	free_all(out);
	picture_store_destroy(&ps);
}

/* --- measures ----------------------------------------------------------------------- */

#define KIND(k)   EST__V1__MEASURE_KIND__MEASURE_KIND_##k
#define GROUP(g)  EST__V1__WORKING_GROUP__GROUP_##g
#define STATUS(s) EST__V1__MEASURE_STATUS__MEASURE_STATUS_##s

/* A measure of a fixture; north_m NP: no position; times local, NULL for none. */
struct mfx {
	const char *id, *area, *place;
	double north_m;
	int kind, group, status;
	const char *org;
	const char *starts, *ends;   /* the measure's own times */
	const char *started, *ended; /* what its lifecycle tells (measure_view) */
};

struct mset {
	Est__V1__Measure m[8];
	Est__V1__Position pos[8];
	struct measure_view v[8];
	size_t n;
};

static void
measures_of(const struct mfx *fx, size_t n, struct mset *set)
{
	assert_true(n <= 8);
	set->n = n;
	for (size_t i = 0; i < n; i++) {
		Est__V1__Measure *m = &set->m[i];
		est__v1__measure__init(m);
		est__v1__position__init(&set->pos[i]);
		m->measure_id = (char *)(uintptr_t)fx[i].id;
		m->area = (char *)(uintptr_t)fx[i].area;
		m->place = (char *)(uintptr_t)fx[i].place;
		m->kind = (Est__V1__MeasureKind)fx[i].kind;
		m->group = (Est__V1__WorkingGroup)fx[i].group;
		m->status = (Est__V1__MeasureStatus)fx[i].status;
		m->assigned_org = (char *)(uintptr_t)fx[i].org;
		m->starts_at = local(fx[i].starts);
		m->ends_at = local(fx[i].ends);
		if (fx[i].north_m >= 0) {
			set->pos[i].lat = LAT0 + fx[i].north_m / M_PER_DEG;
			set->pos[i].lon = LON0;
			m->position = &set->pos[i];
		}
		memset(&set->v[i], 0, sizeof set->v[i]);
		set->v[i].m = m;
		set->v[i].first_seq = 100 + (n - i); /* registry order is not creation order */
		set->v[i].last_seq = 200 + i;
		set->v[i].created_at = local("2026-09-01T08:00");
		set->v[i].started_at = local(fx[i].started);
		set->v[i].ended_at = local(fx[i].ended);
	}
}

static void
compile_with(const struct picture_store *ps, const struct picture_rules *rules, const char *week,
             const struct mset *set, Est__V1__Picture **out)
{
	char err[200];
	if (picture_compile(ps, rules, week, areas, N_AREAS, set->v, set->n, NOW, out, err,
	                    sizeof err) != 0)
		fail_msg("picture_compile: %s", err);
}

static uint32_t
count_of(const Est__V1__Picture *p, int kind, int group, int status)
{
	for (size_t i = 0; i < p->n_measure_counts; i++) {
		const Est__V1__MeasureCount *c = p->measure_counts[i];
		if ((int)c->kind == kind && (int)c->group == group && (int)c->status == status)
			return c->count;
	}
	return 0;
}

/*
 * Hageby's measures: police presence in progress at the b-reports' spot
 * (3000 m north), a social outreach decided (counted, not listed), a
 * lighting repair by housing at the same spot done 5-20 October (listed
 * with its follow-up), a cleanup cancelled on 10 November (counted only),
 * and a lighting repair done in August (its follow-up window is over: not
 * in the picture). The follow-up of the October repair: 28 days before
 * 5 October hold b1..b4 (4 incidents), 28 days after 20 October 12:00 hold
 * b5..b10 (6); v5 at 900 m is outside the 250 m.
 */
static const struct mfx hageby_measures[] = {
    {"m-old", "hageby", "", 3000, KIND(LIGHTING), GROUP(SITUATIONAL), STATUS(DONE), "housing", NULL,
     NULL, "2026-08-01T08:00", "2026-08-10T08:00"},
    {"m-presence", "hageby", "", 3000, KIND(PRESENCE), GROUP(SITUATIONAL), STATUS(IN_PROGRESS),
     "police", NULL, NULL, "2026-11-01T08:00", NULL},
    {"m-social", "hageby", "Hageby skola", NP, KIND(OUTREACH), GROUP(SOCIAL), STATUS(DECIDED),
     "municipality", NULL, NULL, NULL, NULL},
    {"m-light", "hageby", "", 3000, KIND(LIGHTING), GROUP(SITUATIONAL), STATUS(DONE), "housing",
     NULL, NULL, "2026-10-05T00:00", "2026-10-20T12:00"},
    {"m-clean", "hageby", "", 0, KIND(CLEANUP), GROUP(SITUATIONAL), STATUS(CANCELLED),
     "municipality", NULL, NULL, NULL, "2026-11-10T08:00"},
};

static void
test_picture_measures_and_followup(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	struct picture_rules rules;
	struct mset set;
	(void)state;
	picture_rules_default(&rules);
	measures_of(hageby_measures, sizeof hageby_measures / sizeof hageby_measures[0], &set);
	compile_with(ps, &rules, "2026-W47", &set, out);
	const Est__V1__Picture *h = out[1];
	/* listed by creation (first_seq): m-clean? no (cancelled); m-light, m-presence */
	assert_int_equal(h->n_measures, 2);
	assert_string_equal(h->measures[0]->measure_id, "m-light");
	assert_string_equal(h->measures[1]->measure_id, "m-presence");
	assert_int_equal(h->n_measure_counts, 4);
	assert_int_equal(count_of(h, KIND(PRESENCE), GROUP(SITUATIONAL), STATUS(IN_PROGRESS)), 1);
	assert_int_equal(count_of(h, KIND(OUTREACH), GROUP(SOCIAL), STATUS(DECIDED)), 1);
	assert_int_equal(count_of(h, KIND(LIGHTING), GROUP(SITUATIONAL), STATUS(DONE)), 1);
	assert_int_equal(count_of(h, KIND(CLEANUP), GROUP(SITUATIONAL), STATUS(CANCELLED)), 1);
	assert_int_equal(h->n_followups, 1);
	const Est__V1__Followup *f = h->followups[0];
	assert_string_equal(f->measure_id, "m-light");
	assert_true(f->radius_m == 250.0);
	assert_int_equal(f->weeks, 4);
	assert_int_equal(f->before_start, local("2026-09-07T00:00"));
	assert_int_equal(f->before_end, local("2026-10-05T00:00"));
	assert_int_equal(f->after_start, local("2026-10-20T12:00"));
	/* 28 days of 24 hours: summer time ended on 25 October, so 11:00 local */
	assert_int_equal(f->after_end, local("2026-11-17T11:00"));
	assert_int_equal(f->incidents_before, 4);
	assert_int_equal(f->incidents_after, 6);
	/* the social measure's words appear nowhere in a picture */
	for (size_t i = 0; i <= N_AREAS; i++)
		for (size_t k = 0; k < out[i]->n_measures; k++)
			assert_string_not_equal(out[i]->measures[k]->measure_id, "m-social");
	/* other areas have none; `all` has hageby's */
	assert_int_equal(out[0]->n_measures, 0);
	assert_int_equal(out[0]->n_measure_counts, 0);
	assert_int_equal(out[5]->n_measures, 2);
	assert_int_equal(out[5]->n_measure_counts, 4);
	/* the same follow-up through picture_followup; a measure not done has none */
	Est__V1__Followup g;
	est__v1__followup__init(&g);
	assert_int_equal(picture_followup(ps, &rules, &set.v[3], &g), 0);
	assert_int_equal(g.incidents_before, 4);
	assert_int_equal(g.incidents_after, 6);
	assert_string_equal(g.measure_id, "m-light");
	assert_int_equal(picture_followup(ps, &rules, &set.v[1], &g), -1);
	/* a radius of 2200 m reaches v5 (900 m north, 11 November): one more after */
	rules.followup_radius_m = 2200;
	assert_int_equal(picture_followup(ps, &rules, &set.v[3], &g), 0);
	assert_int_equal(g.incidents_after, 7);
	free_all(out);
	picture_store_destroy(&ps);
}

/* --- a store that holds only the weeks after a horizon ------------------------- */

#define HZ_KEYS 1500
#define HZ_ADDS 5000
#define HZ_DAY  86400

/*
 * Logs one report of key k at revision rev, its fields drawn from x, and
 * gives it to the stores in ps[0..n_ps) as the hub does after a commit:
 * observed between March and November 2026, a quarter with spans (some
 * weeks long, reaching over a horizon), upcoming events, withdrawals.
 */
static void
hz_report(struct log *lg, uint64_t *x, unsigned k, uint32_t rev, struct picture_store **ps,
          size_t n_ps)
{
	static const char *const orgs[] = {"police", "municipality", "housing"};
	static const char *const places[] = {"", "", "Hageby torg", "hageby  Torg", "Kvarngatan 2"};
	static const int cats[] = {GATH, VAND, UPCO, EST__V1__CATEGORY__CATEGORY_DISORDER};
	char sid[16];
	struct fx f = {0};
	Est__V1__Report r;
	Est__V1__Position pos;
	snprintf(sid, sizeof sid, "h%u", k);
	f.org = orgs[k % 3];
	f.sid = sid;
	f.rev = rev;
	f.area = areas[lcg(x) % N_AREAS];
	f.cat = cats[lcg(x) % 4];
	f.place = places[lcg(x) % 5];
	f.north_m = lcg(x) % 3 == 0 ? NP : (double)(lcg(x) % 1500);
	f.withdrawn = lcg(x) % 10 == 0;
	report_from(&f, &r, &pos);
	r.observed_at = local("2026-03-02T00:00") + (int64_t)(lcg(x) % 270) * HZ_DAY +
	                (int64_t)(lcg(x) % HZ_DAY);
	if (lcg(x) % 4 == 0) {
		r.starts_at = r.observed_at - (int64_t)(lcg(x) % 3600);
		r.ends_at =
		    r.starts_at + (int64_t)(lcg(x) % 5 == 0 ? lcg(x) % (60 * HZ_DAY) : 7200);
	}
	uint64_t seq = log_report(lg, f.org, f.area, &r);
	for (size_t i = 0; i < n_ps; i++)
		assert_int_equal(picture_store_add(ps[i], seq, f.org, NULL, &r), 0);
}

/* Whether a and b compile week (with set's measures, may be NULL) into the same bytes. */
static int
hz_same(const struct picture_store *a, const struct picture_store *b, const char *week,
        const struct mset *set)
{
	static const struct mset none = {.n = 0};
	struct picture_rules rules;
	Est__V1__Picture *pa[N_AREAS + 1], *pb[N_AREAS + 1];
	int same = 1;
	picture_rules_default(&rules);
	compile_with(a, &rules, week, set != NULL ? set : &none, pa);
	compile_with(b, &rules, week, set != NULL ? set : &none, pb);
	for (size_t i = 0; i <= N_AREAS; i++) {
		size_t la, lb;
		uint8_t *ba = pack_content(pa[i], &la), *bb = pack_content(pb[i], &lb);
		assert_true(pa[i]->n_categories > 0);
		same &= la == lb && memcmp(ba, bb, la) == 0;
		free(ba);
		free(bb);
	}
	free_all(pa);
	free_all(pb);
	return same;
}

static const struct mfx hz_measures[] = {
    /* done, started long before the horizon: its before-span lies there */
    {"m-long", "hageby", "", 500, KIND(LIGHTING), GROUP(SITUATIONAL), STATUS(DONE), "housing", NULL,
     NULL, "2026-05-04T08:00", "2026-11-02T12:00"},
};

/*
 * A store that holds only what lies after its horizon, as the hub's, gives
 * the same pictures as one that holds every report: for the weeks it holds
 * directly, for an old week once picture_store_cover read it back from the
 * log (and not before: that is what the check of the uncovered week shows),
 * after the horizon moved on again, with a follow-up reaching before it,
 * and with reports added after the load that move across it by revision.
 */
static void
test_picture_store_horizon(void **state)
{
	char dir[] = "/tmp/test_picture.XXXXXX", path[128], err[256];
	static uint32_t revs[HZ_KEYS];
	struct log *lg = NULL;
	struct picture_store *full = picture_store_new(), *h = picture_store_new();
	struct picture_rules rules;
	struct mset set;
	uint64_t x = 8;
	(void)state;
	memset(revs, 0, sizeof revs);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/store.db", dir);
	assert_int_equal(log_open(&lg, path, LOG_CREATE, err, sizeof err), 0);
	for (unsigned i = 0; i < HZ_ADDS; i++) {
		unsigned k = lcg(&x) % HZ_KEYS;
		hz_report(lg, &x, k, revs[k]++, NULL, 0);
	}
	int64_t horizon = local("2026-08-03T00:00"), slack = 7 * HZ_DAY;
	picture_store_set_horizon(h, horizon);
	assert_int_equal(picture_store_load(full, lg, 0, err, sizeof err), 0);
	assert_int_equal(picture_store_load(h, lg, 0, err, sizeof err), 0);
	assert_int_equal(picture_store_horizon(full), INT64_MIN);
	picture_rules_default(&rules);
	measures_of(hz_measures, 1, &set);

	/* W47 merges from W35 (24 August) on: within what h holds */
	assert_true(picture_needs(&rules, "2026-W47", NULL, 0) >= horizon);
	assert_true(hz_same(full, h, "2026-W47", NULL));
	assert_true(hz_same(full, h, "2026-W44", NULL));
	/* W38 merges from W26: before it, so h alone gives another picture */
	int64_t need = picture_needs(&rules, "2026-W38", NULL, 0);
	assert_int_equal(need, local("2026-06-22T00:00"));
	assert_false(hz_same(full, h, "2026-W38", NULL));
	assert_int_equal(picture_store_cover(h, need, slack, err, sizeof err), 0);
	assert_int_equal(picture_store_horizon(h), need);
	assert_true(hz_same(full, h, "2026-W38", NULL));
	/* moving on by less than the slack changes nothing; by more, lets go */
	assert_int_equal(picture_store_cover(h, need + slack - 1, slack, err, sizeof err), 0);
	assert_int_equal(picture_store_horizon(h), need);
	assert_int_equal(picture_store_cover(h, horizon, slack, err, sizeof err), 0);
	assert_int_equal(picture_store_horizon(h), horizon);
	assert_true(hz_same(full, h, "2026-W47", NULL));

	/* m-long's before-span: April 2026, before the horizon */
	Est__V1__Followup a, b;
	est__v1__followup__init(&a);
	est__v1__followup__init(&b);
	assert_int_equal(picture_followup(full, &rules, &set.v[0], &a), 0);
	assert_int_equal(picture_followup(h, &rules, &set.v[0], &b), 0);
	assert_true(a.incidents_before > 0);
	assert_int_equal(a.incidents_before, b.incidents_before);
	assert_int_equal(a.incidents_after, b.incidents_after);
	assert_int_equal(picture_store_horizon(h), horizon); /* read on the side */
	/* a picture that lists it reaches back as far */
	need = picture_needs(&rules, "2026-W47", set.v, set.n);
	assert_true(need < horizon);
	assert_int_equal(picture_store_cover(h, need, slack, err, sizeof err), 0);
	assert_true(hz_same(full, h, "2026-W47", &set));
	assert_int_equal(picture_store_cover(h, horizon, slack, err, sizeof err), 0);

	/* after the load, revisions move reports across the horizon both ways */
	struct picture_store *both[] = {full, h};
	for (unsigned i = 0; i < HZ_ADDS / 2; i++) {
		unsigned k = lcg(&x) % HZ_KEYS;
		hz_report(lg, &x, k, revs[k]++, both, 2);
	}
	assert_true(hz_same(full, h, "2026-W47", NULL));
	assert_true(hz_same(full, h, "2026-W45", NULL));
	need = picture_needs(&rules, "2026-W30", NULL, 0);
	assert_int_equal(picture_store_cover(h, need, slack, err, sizeof err), 0);
	assert_true(hz_same(full, h, "2026-W30", NULL));

	picture_store_destroy(&full);
	picture_store_destroy(&h);
	log_close(&lg);
	remove_store(dir, path);
}

/* Adds n reports of org to ps at seq first.. at one place in Hageby on 18 November, a minute apart.
 */
static void
add_flood(struct picture_store *ps, uint64_t first, size_t n, const char *org, const char *place)
{
	char sid[48];
	for (size_t i = 0; i < n; i++) {
		Est__V1__Report r;
		Est__V1__Position pos;
		struct fx f = {org,  sid,  0, "hageby", GATH, place, 3000, "2026-11-18T18:00",
		               NULL, NULL, 0};
		snprintf(sid, sizeof sid, "flood-%s-%llu", place, (unsigned long long)(first + i));
		report_from(&f, &r, &pos);
		r.observed_at += (int64_t)(i % 600) * 60;
		r.description = (char *)(uintptr_t) "samling";
		assert_int_equal(picture_store_add(ps, first + i, org, NULL, &r), 0);
	}
}

/*
 * Determinism across threads (docs/pictures.md): the week compiled on the
 * compiler thread from a snapshot gives the bytes picture_compile gives
 * over the store the snapshot was taken from, although meanwhile the store
 * grows (its arrays and pool move) and the registry's measures change. The
 * flood of 2,000 reports at one place keeps the thread merging a while, so
 * the changes happen while it runs; under ASan a read of the store from the
 * thread would show as a use after free.
 */
static void
test_picture_compiled_on_thread(void **state)
{
	Est__V1__Picture *sync[N_AREAS + 1], *thr[N_AREAS + 1], *later[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	struct picture_rules rules;
	struct mset set;
	char err[256];
	(void)state;
	picture_rules_default(&rules);
	measures_of(hageby_measures, sizeof hageby_measures / sizeof hageby_measures[0], &set);
	add_flood(ps, 1000, 2000, "police", "Hageby centrum");
	compile_with(ps, &rules, "2026-W47", &set, sync);

	struct compiler *c = compiler_new(err, sizeof err);
	assert_non_null(c);
	struct picture_snapshot *snap =
	    picture_snapshot_take(ps, &rules, "2026-W47", set.v, set.n, err, sizeof err);
	assert_non_null(snap);
	assert_true(picture_snapshot_bytes(snap) > 2000 * sizeof(double));
	assert_false(compiler_busy(c));
	compiler_start(c, snap, areas, N_AREAS, NOW);
	assert_true(compiler_busy(c));
	/* The store and the measures change under the running compile. */
	add_flood(ps, 5000, 6000, "municipality", "Navestad torg");
	set.m[3].status = EST__V1__MEASURE_STATUS__MEASURE_STATUS_CANCELLED;
	set.m[1].place = (char *)(uintptr_t) "Någon annanstans";
	set.v[3].ended_at = 0;
	struct pollfd pfd = {compiler_fd(c), POLLIN, 0};
	assert_int_equal(poll(&pfd, 1, 60000), 1);
	assert_int_equal(compiler_finish(c, thr, err, sizeof err), 0);
	assert_false(compiler_busy(c));
	for (size_t i = 0; i <= N_AREAS; i++) {
		size_t ls, lt;
		uint8_t *bs = pack_content(sync[i], &ls), *bt = pack_content(thr[i], &lt);
		assert_true(ls > 20);
		assert_int_equal(ls, lt);
		assert_memory_equal(bs, bt, ls);
		free(bs);
		free(bt);
	}
	assert_int_equal(thr[1]->n_followups, 1); /* m-light as it was at the snapshot */
	assert_int_equal(thr[1]->followups[0]->incidents_before, 4);
	/* The changes do show in a compile after them: the test would notice a stale one. */
	compile_with(ps, &rules, "2026-W47", &set, later);
	assert_int_equal(later[1]->n_followups, 0);
	assert_int_equal(later[N_AREAS]->trend[11]->reports,
	                 thr[N_AREAS]->trend[11]->reports + 6000);
	/* A compile in flight when the compiler goes is dropped cleanly. */
	snap = picture_snapshot_take(ps, &rules, "2026-W47", set.v, set.n, err, sizeof err);
	assert_non_null(snap);
	compiler_start(c, snap, areas, N_AREAS, NOW);
	compiler_destroy(&c);
	assert_null(c);
	free_all(sync);
	free_all(thr);
	free_all(later);
	picture_store_destroy(&ps);
}

/*
 * Marielund: police vandalism at Marielunds torg in W44, W45, W46 and W47
 * (a hotspot four weeks in a row) and at Kvarngatan in W45..W47 (three).
 */
static const struct fx flagfx[] = {
    {"police", "f1", 0, "marielund", VAND, "Marielunds torg", NP, "2026-10-28T12:00", NULL, NULL,
     0},
    {"police", "f2", 0, "marielund", VAND, "Marielunds torg", NP, "2026-11-04T12:00", NULL, NULL,
     0},
    {"police", "f3", 0, "marielund", VAND, "Marielunds torg", NP, "2026-11-11T12:00", NULL, NULL,
     0},
    {"police", "f4", 0, "marielund", VAND, "Marielunds torg", NP, "2026-11-18T12:00", NULL, NULL,
     0},
    {"police", "f5", 0, "marielund", VAND, "Kvarngatan", NP, "2026-11-05T12:00", NULL, NULL, 0},
    {"police", "f6", 0, "marielund", VAND, "Kvarngatan", NP, "2026-11-12T12:00", NULL, NULL, 0},
    {"police", "f7", 0, "marielund", VAND, "Kvarngatan", NP, "2026-11-19T12:00", NULL, NULL, 0},
};

static size_t
flags_of(const Est__V1__Picture *p, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_flags; i++)
		n += strcmp(p->flags[i]->kind, kind) == 0;
	return n;
}

static void
test_picture_flag_hotspot_without_measure(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(flagfx, sizeof flagfx / sizeof flagfx[0]);
	struct picture_rules rules;
	struct mset none = {.n = 0}, set;
	/* cancelled: does not count; a decided one at the place (spelt otherwise) does */
	static const struct mfx cancelled[] = {
	    {"c", "marielund", "Marielunds torg", NP, KIND(PRESENCE), GROUP(SITUATIONAL),
	     STATUS(CANCELLED), "police", NULL, NULL, NULL, "2026-11-17T08:00"}};
	static const struct mfx decided[] = {{"d", "marielund", "MARIELUNDS  TORG", NP,
	                                      KIND(PRESENCE), GROUP(SITUATIONAL), STATUS(DECIDED),
	                                      "police", NULL, NULL, NULL, NULL}};
	(void)state;
	picture_rules_default(&rules);
	compile_with(ps, &rules, "2026-W47", &none, out);
	assert_int_equal(out[0]->n_hotspots, 2);
	assert_int_equal(out[0]->n_flags, 1);
	const Est__V1__Flag *f = out[0]->flags[0];
	assert_string_equal(f->kind, "hotspot_without_measure");
	assert_string_equal(f->place, "Marielunds torg");
	assert_int_equal(f->weeks, 4);
	assert_null(f->position);
	assert_int_equal(flags_of(out[5], "hotspot_without_measure"), 1);
	assert_int_equal(out[1]->n_flags, 0);
	free_all(out);
	/* two weeks before are enough: Kvarngatan too (3 weeks in a row) */
	rules.flag_weeks = 2;
	compile_with(ps, &rules, "2026-W47", &none, out);
	assert_int_equal(out[0]->n_flags, 2);
	assert_string_equal(out[0]->flags[1]->place, "Kvarngatan");
	assert_int_equal(out[0]->flags[1]->weeks, 3);
	free_all(out);
	/* 0: off */
	rules.flag_weeks = 0;
	compile_with(ps, &rules, "2026-W47", &none, out);
	assert_int_equal(out[0]->n_flags, 0);
	free_all(out);
	rules.flag_weeks = 3;
	measures_of(cancelled, 1, &set);
	compile_with(ps, &rules, "2026-W47", &set, out);
	assert_int_equal(out[0]->n_flags, 1);
	free_all(out);
	measures_of(decided, 1, &set);
	compile_with(ps, &rules, "2026-W47", &set, out);
	assert_int_equal(out[0]->n_flags, 0);
	free_all(out);
	/* W46: Marielunds torg had W44, W45 only before: no flag */
	compile_with(ps, &rules, "2026-W46", &none, out);
	assert_int_equal(out[0]->n_flags, 0);
	free_all(out);
	picture_store_destroy(&ps);
}

/* A measure with a place name and no position is followed up at that place. */
static void
test_picture_followup_by_place(void **state)
{
	struct picture_store *ps = store_of(flagfx, sizeof flagfx / sizeof flagfx[0]);
	struct picture_rules rules;
	struct mset set;
	static const struct mfx fx[] = {
	    {"p", "marielund", "marielunds torg", NP, KIND(CLEANUP), GROUP(SITUATIONAL),
	     STATUS(DONE), "municipality", NULL, NULL, "2026-11-09T00:00", "2026-11-10T00:00"},
	    {"q", "marielund", "", NP, KIND(CLEANUP), GROUP(SITUATIONAL), STATUS(DONE),
	     "municipality", NULL, NULL, "2026-11-09T00:00", "2026-11-10T00:00"},
	    {"r", "marielund", "Ingenstans", NP, KIND(CLEANUP), GROUP(SITUATIONAL), STATUS(DONE),
	     "municipality", NULL, NULL, "2026-11-09T00:00", "2026-11-10T00:00"},
	};
	Est__V1__Followup f;
	(void)state;
	picture_rules_default(&rules);
	measures_of(fx, 3, &set);
	est__v1__followup__init(&f);
	assert_int_equal(picture_followup(ps, &rules, &set.v[0], &f), 0);
	assert_int_equal(f.incidents_before, 2);                           /* f1, f2 */
	assert_int_equal(f.incidents_after, 2);                            /* f3, f4 */
	assert_int_equal(picture_followup(ps, &rules, &set.v[1], &f), -1); /* nowhere to look */
	assert_int_equal(picture_followup(ps, &rules, &set.v[2], &f), 0); /* a place no one named */
	assert_int_equal(f.incidents_before + f.incidents_after, 0);
	picture_store_destroy(&ps);
}

static void
test_picture_flag_overlapping_measures(void **state)
{
	Est__V1__Picture *out[N_AREAS + 1];
	struct picture_store *ps = store_of(week47, sizeof week47 / sizeof week47[0]);
	struct picture_rules rules;
	struct mset set;
	static const struct mfx fx[] = {
	    /* two orgs at Drottninggatan 1 (spelt otherwise), times overlapping: flagged */
	    {"a", "city", "Drottninggatan 1", NP, KIND(PRESENCE), GROUP(UNSPECIFIED),
	     STATUS(PROPOSED), "municipality", "2026-11-20T18:00", "2026-11-20T23:00", NULL, NULL},
	    {"b", "city", "drottninggatan  1", NP, KIND(PRESENCE), GROUP(UNSPECIFIED),
	     STATUS(DECIDED), "police", "2026-11-20T22:00", NULL, NULL, NULL},
	    /* after a's end: no overlap with a, but with b (no end) */
	    {"c", "city", "Drottninggatan 1", NP, KIND(CLEANUP), GROUP(UNSPECIFIED),
	     STATUS(IN_PROGRESS), "housing", "2026-11-21T08:00", "2026-11-21T12:00", NULL, NULL},
	    /* same org as b: never flagged with b; positions 100 m apart: same place as e */
	    {"d", "hageby", "", 0, KIND(PRESENCE), GROUP(SITUATIONAL), STATUS(DECIDED), "police",
	     NULL, NULL, NULL, NULL},
	    {"e", "hageby", "", 100, KIND(LIGHTING), GROUP(SITUATIONAL), STATUS(IN_PROGRESS),
	     "housing", NULL, NULL, NULL, NULL},
	    /* done: not active */
	    {"f", "hageby", "", 0, KIND(LIGHTING), GROUP(SITUATIONAL), STATUS(DONE), "municipality",
	     NULL, NULL, "2026-11-01T08:00", "2026-11-02T08:00"},
	};
	(void)state;
	picture_rules_default(&rules);
	measures_of(fx, sizeof fx / sizeof fx[0], &set);
	compile_with(ps, &rules, "2026-W47", &set, out);
	/* creation order is f, e, d, c, b, a (first_seq counts down) */
	assert_int_equal(flags_of(out[4], "overlapping_measures"), 2);
	const Est__V1__Flag *f = out[4]->flags[out[4]->n_flags - 2];
	assert_string_equal(f->kind, "overlapping_measures");
	assert_int_equal(f->n_measure_ids, 2);
	assert_string_equal(f->measure_ids[0], "c");
	assert_string_equal(f->measure_ids[1], "b");
	assert_string_equal(f->orgs[0], "housing");
	assert_string_equal(f->orgs[1], "police");
	f = out[4]->flags[out[4]->n_flags - 1];
	assert_string_equal(f->measure_ids[0], "b");
	assert_string_equal(f->measure_ids[1], "a");
	assert_int_equal(flags_of(out[1], "overlapping_measures"), 1);
	f = out[1]->flags[out[1]->n_flags - 1];
	assert_string_equal(f->measure_ids[0], "e");
	assert_string_equal(f->measure_ids[1], "d");
	assert_non_null(f->position);
	assert_int_equal(flags_of(out[5], "overlapping_measures"), 3);
	rules.merge.distance_m = 90; /* d and e now 100 m apart: two places */
	free_all(out);
	compile_with(ps, &rules, "2026-W47", &set, out);
	assert_int_equal(flags_of(out[1], "overlapping_measures"), 0);
	free_all(out);
	picture_store_destroy(&ps);
}

/* The log's pictures tell which week's scheduled picture is in already. */
static void
test_picture_store_closed_until(void **state)
{
	struct picture_store *ps = picture_store_new();
	Est__V1__Picture p;
	(void)state;
	est__v1__picture__init(&p);
	p.area = (char *)(uintptr_t) "all";
	p.period_start = local("2026-11-16T00:00");
	p.period_end = local("2026-11-23T00:00");
	p.generated_at = p.period_end - 1; /* a live picture: the week was not over */
	picture_store_note(ps, &p);
	assert_int_equal(picture_store_closed_until(ps), 0);
	p.area = (char *)(uintptr_t) "hageby"; /* one area alone does not close the week */
	p.generated_at = p.period_end;
	picture_store_note(ps, &p);
	assert_int_equal(picture_store_closed_until(ps), 0);
	p.area = (char *)(uintptr_t) "all";
	picture_store_note(ps, &p);
	assert_int_equal(picture_store_closed_until(ps), p.period_end);
	p.period_end -= 7 * 86400; /* an older week compiled later changes nothing */
	picture_store_note(ps, &p);
	assert_int_equal(picture_store_closed_until(ps), local("2026-11-23T00:00"));
	picture_store_destroy(&ps);
}

/* A withdrawn highest revision stays withdrawn whatever lower revision comes after it. */
static void
test_picture_store_withdrawn_then_lower(void **state)
{
	static const struct fx reps[] = {
	    {"police", "x", 3, "city", VAND, "", NP, "2026-11-18T10:00", NULL, NULL, 1},
	    {"police", "x", 2, "city", VAND, "", NP, "2026-11-18T10:00", NULL, NULL, 0},
	    {"police", "x", 0, "city", VAND, "", NP, "2026-11-18T10:00", NULL, NULL, 0},
	};
	struct picture_store *ps = store_of(reps, 3);
	Est__V1__Picture *out[N_AREAS + 1];
	(void)state;
	assert_int_equal(picture_store_current(ps), 0);
	compile_week(ps, "2026-W47", out);
	assert_int_equal(out[4]->n_categories, 0);
	free_all(out);
	picture_store_destroy(&ps);
}

/* --- the store's compact record (struct rec in hub/picture.c) ------------------ */

#define N_POS 100

/*
 * Stores pos[i] (lat, lon) as report i at its own place "P<i>" in Hageby in
 * 2026-W47 and reads each back as the position of its hotspot: a hotspot
 * of one report shows that report's position as the store gives it.
 */
static void
positions_through_store(const double (*pos)[2], size_t n, double (*got)[2])
{
	struct picture_store *ps = picture_store_new();
	struct picture_rules rules;
	Est__V1__Picture *out[N_AREAS + 1];
	char err[200], sid[16], place[16];
	assert_non_null(ps);
	assert_true(n <= N_POS);
	for (size_t i = 0; i < n; i++) {
		Est__V1__Report r;
		Est__V1__Position p;
		est__v1__report__init(&r);
		est__v1__position__init(&p);
		snprintf(sid, sizeof sid, "p%zu", i);
		snprintf(place, sizeof place, "P%zu", i);
		r.source_id = sid;
		r.area = (char *)(uintptr_t) "hageby";
		r.category = VAND;
		r.place = place;
		r.observed_at = local("2026-11-18T10:00") + (int64_t)i;
		p.lat = pos[i][0];
		p.lon = pos[i][1];
		r.position = &p;
		assert_int_equal(picture_store_add(ps, i + 1, "police", NULL, &r), 0);
	}
	picture_rules_default(&rules);
	rules.hotspots_max = N_POS;
	if (picture_compile(ps, &rules, "2026-W47", areas, N_AREAS, NULL, 0, NOW, out, err,
	                    sizeof err) != 0)
		fail_msg("picture_compile: %s", err);
	assert_int_equal(out[1]->n_hotspots, n);
	for (size_t k = 0; k < n; k++) {
		const Est__V1__Hotspot *h = out[1]->hotspots[k];
		char *end;
		assert_non_null(h->position);
		long i = strtol(h->place + 1, &end, 10);
		assert_true(h->place[0] == 'P' && *end == '\0' && i >= 0 && (size_t)i < n);
		got[i][0] = h->position->lat;
		got[i][1] = h->position->lon;
	}
	free_all(out);
	picture_store_destroy(&ps);
}

/* A position with at most 7 decimals comes back from the store bit-identical. */
static void
test_picture_store_positions(void **state)
{
	static const char *const fixed[][2] = {
	    {"90", "180"},
	    {"-90", "-180"},
	    {"58.565", "16.184"},
	    {"58.5650001", "16.1839999"},
	    {"0.0000001", "-0.0000001"},
	    {"89.9999999", "179.9999999"},
	    {"-89.9999999", "-179.9999999"},
	    {"1e-7", "0.1"},
	    {"12.3456789", "-98.7654321"},
	};
	const size_t n_fixed = sizeof fixed / sizeof fixed[0];
	double pos[N_POS][2], got[N_POS][2];
	char text[32];
	uint64_t x = 7;
	(void)state;
	for (size_t i = 0; i < N_POS; i++) {
		for (int c = 0; c < 2; c++) {
			if (i < n_fixed) {
				pos[i][c] = strtod(fixed[i][c], NULL);
				continue;
			}
			/* d.ddddddd with 1 to 7 decimals, both signs, up to 90 / 180 degrees */
			uint32_t whole = lcg(&x) % (c == 0 ? 90u : 180u),
			         frac = lcg(&x) % 10000000u;
			int decimals = 1 + (int)(lcg(&x) % 7);
			snprintf(text, sizeof text, "%s%u.%07u", lcg(&x) % 2 ? "-" : "", whole,
			         frac);
			text[strlen(text) - (size_t)(7 - decimals)] = '\0';
			pos[i][c] = strtod(text, NULL);
		}
	}
	positions_through_store(pos, N_POS, got);
	for (size_t i = 0; i < N_POS; i++)
		for (int c = 0; c < 2; c++)
			if (memcmp(&got[i][c], &pos[i][c], sizeof got[i][c]) != 0)
				fail_msg("position %zu.%d: stored %.17g, got %.17g back", i, c,
				         pos[i][c], got[i][c]);
}

/* Any other position moves by at most half the store's unit, 0.5e-7 degree. */
static void
test_picture_store_positions_bound(void **state)
{
	double pos[N_POS][2], got[N_POS][2], worst = 0.0;
	uint64_t x = 11;
	(void)state;
	for (size_t i = 0; i < N_POS; i++) {
		pos[i][0] = -90.0 + 180.0 * (lcg(&x) / 4294967296.0);
		pos[i][1] = -180.0 + 360.0 * (lcg(&x) / 4294967296.0);
	}
	/* ties and near-ties of the unit: x.xxxxxxx5 and just either side of it */
	pos[0][0] = 58.56500005;
	pos[0][1] = -16.18400005;
	pos[1][0] = 58.565000049999;
	pos[1][1] = 58.565000050001;
	positions_through_store(pos, N_POS, got);
	for (size_t i = 0; i < N_POS; i++)
		for (int c = 0; c < 2; c++) {
			double d = fabs(got[i][c] - pos[i][c]);
			if (d > POS_TOL)
				fail_msg("position %zu.%d: stored %.17g, got %.17g back (%.3g off)",
				         i, c, pos[i][c], got[i][c], d);
			worst = d > worst ? d : worst;
		}
	/* it does round: random positions have more than 7 decimals */
	assert_true(worst > 1e-8);
}

struct tx {
	const char *org, *sid;
	int cat;
	int64_t observed;
};

static struct picture_store *
store_of_times(const struct tx *tx, size_t n)
{
	struct picture_store *ps = picture_store_new();
	assert_non_null(ps);
	for (size_t i = 0; i < n; i++) {
		Est__V1__Report r;
		est__v1__report__init(&r);
		r.source_id = (char *)(uintptr_t)tx[i].sid;
		r.area = (char *)(uintptr_t) "city";
		r.category = (Est__V1__Category)tx[i].cat;
		r.place = (char *)(uintptr_t) "Torget";
		r.observed_at = tx[i].observed;
		assert_int_equal(picture_store_add(ps, i + 1, tx[i].org, NULL, &r), 0);
	}
	assert_int_equal(picture_store_current(ps), n);
	return ps;
}

static void
compile_week_of(const struct picture_store *ps, int64_t t, Est__V1__Picture **out)
{
	struct week w;
	char id[WEEK_ID_SIZE];
	assert_int_equal(week_of(t, &w), 0);
	week_format(w, id, sizeof id);
	compile_week(ps, id, out);
}

#define UNSA EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE
#define DISO EST__V1__CATEGORY__CATEGORY_DISORDER
#define OTHR EST__V1__CATEGORY__CATEGORY_OTHER

/*
 * observed_at at the edges of the store's 32-bit range (2000-01-01 to
 * 2136-02-07) and beyond them, where the store keeps the time aside: every
 * time stays exact to the second. Two reports of one spot are one incident
 * exactly 2 h apart and two at 2 h 1 s, so a time moved by one second, or
 * clamped to the range, changes an incident count.
 */
static void
test_picture_store_observed_edges(void **state)
{
	static const struct tx low[] = {
	    {"police", "a1", VAND, T_FIRST - 1}, /* before the range */
	    {"municipality", "a2", VAND, T_FIRST + 7199},
	    {"police", "b1", GATH, T_FIRST - 2},
	    {"municipality", "b2", GATH, T_FIRST + 7199},
	    {"police", "c1", UNSA, T_FIRST}, /* the first second of the range */
	    {"municipality", "c2", UNSA, T_FIRST + 7200},
	    {"police", "d1", DISO, T_FIRST},
	    {"municipality", "d2", DISO, T_FIRST + 7201},
	    {"police", "e1", OTHR, T_FIRST - 7 * 86400},     /* the week before */
	    {"police", "e2", OTHR, T_FIRST - 8 * 7 * 86400}, /* 8 weeks before */
	    {"police", "e3", OTHR, -1},                      /* 1969: in no week of the span */
	    {"police", "e4", OTHR, 0},
	};
	static const struct tx high[] = {
	    {"police", "a1", VAND, T_LAST - 7199},
	    {"municipality", "a2", VAND, T_LAST + 1}, /* after the range */
	    {"police", "b1", GATH, T_LAST - 7200},
	    {"municipality", "b2", GATH, T_LAST + 1},
	    {"police", "c1", UNSA, T_LAST}, /* the last second of the range */
	    {"municipality", "c2", UNSA, T_LAST - 7200},
	    {"police", "d1", DISO, T_LAST},
	    {"municipality", "d2", DISO, T_LAST - 7201},
	    {"police", "e1", OTHR, T_LAST + 1 - 7 * 86400},
	    {"police", "e2", OTHR, INT64_MAX}, /* far beyond any week */
	};
	static const struct cat_row low_city[] = {{GATH, 2, 2, 0, 0.0},
	                                          {VAND, 2, 1, 0, 0.0},
	                                          {UNSA, 2, 1, 0, 0.0},
	                                          {DISO, 2, 2, 0, 0.0},
	                                          {OTHR, 0, 0, 1, 0.25}};
	static const struct cat_row high_city[] = {{GATH, 2, 2, 0, 0.0},
	                                           {VAND, 2, 1, 0, 0.0},
	                                           {UNSA, 2, 1, 0, 0.0},
	                                           {DISO, 2, 2, 0, 0.0},
	                                           {OTHR, 0, 0, 1, 0.125}};
	Est__V1__Picture *out[N_AREAS + 1];
	(void)state;
	struct picture_store *ps = store_of_times(low, sizeof low / sizeof low[0]);
	compile_week_of(ps, T_FIRST, out);
	assert_string_equal(out[4]->week, "1999-W52");
	check_categories(out[4], low_city, 5);
	assert_true(out[4]->period_start < T_FIRST - 2 && out[4]->period_end > T_FIRST + 7201);
	free_all(out);
	picture_store_destroy(&ps);

	ps = store_of_times(high, sizeof high / sizeof high[0]);
	compile_week_of(ps, T_LAST, out);
	assert_string_equal(out[4]->week, "2136-W06");
	check_categories(out[4], high_city, 5);
	assert_true(out[4]->period_start < T_LAST - 7201 && out[4]->period_end > T_LAST + 1);
	free_all(out);
	picture_store_destroy(&ps);
}

/*
 * The store keeps a seq in 32 bits: UINT32_MAX is kept (an upcoming event
 * lists its seq), a higher one is refused and changes nothing, a revision
 * with one included. So is a position the store cannot hold.
 */
static void
test_picture_store_refuses(void **state)
{
	const uint64_t top = UINT32_MAX;
	struct picture_store *ps = picture_store_new();
	Est__V1__Picture *out[N_AREAS + 1];
	Est__V1__Report r;
	Est__V1__Position p;
	(void)state;
	est__v1__report__init(&r);
	est__v1__position__init(&p);
	r.source_id = (char *)(uintptr_t) "u1";
	r.area = (char *)(uintptr_t) "city";
	r.category = UPCO;
	r.observed_at = local("2026-11-10T08:00");
	r.starts_at = local("2026-11-18T17:00");
	r.description = (char *)(uintptr_t) "konsert";
	assert_int_equal(picture_store_add(ps, top, "municipality", NULL, &r), 0);
	r.revision = 1;
	r.withdrawn = 1;
	assert_int_equal(picture_store_add(ps, top + 1, "municipality", NULL, &r), -1);
	r.source_id = (char *)(uintptr_t) "u2";
	assert_int_equal(picture_store_add(ps, UINT64_MAX, "municipality", NULL, &r), -1);
	r.withdrawn = 0;
	r.position = &p;
	p.lat = 200.0;
	assert_int_equal(picture_store_add(ps, 7, "municipality", NULL, &r), -1);
	p.lat = NAN;
	assert_int_equal(picture_store_add(ps, 7, "municipality", NULL, &r), -1);
	p.lat = 58.5;
	p.lon = -180.5;
	assert_int_equal(picture_store_add(ps, 7, "municipality", NULL, &r), -1);
	assert_int_equal(picture_store_current(ps), 1);
	assert_int_equal(picture_store_through(ps), top);
	compile_week(ps, "2026-W47", out);
	assert_int_equal(out[4]->n_upcoming, 1);
	assert_int_equal(out[4]->upcoming[0]->seq, top);
	assert_int_equal(out[4]->through_seq, top);
	free_all(out);
	picture_store_destroy(&ps);
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
	    cmocka_unit_test(test_picture_store_hash_collision),
	    cmocka_unit_test(test_picture_store_hash_collision_log),
	    cmocka_unit_test(test_picture_store_churn),
	    cmocka_unit_test(test_picture_from_log),
	    cmocka_unit_test(test_picture_store_horizon),
	    cmocka_unit_test(test_picture_trend_and_area_ranks),
	    cmocka_unit_test(test_picture_trend_year_and_summer),
	    cmocka_unit_test(test_picture_measures_and_followup),
	    cmocka_unit_test(test_picture_flag_hotspot_without_measure),
	    cmocka_unit_test(test_picture_followup_by_place),
	    cmocka_unit_test(test_picture_flag_overlapping_measures),
	    cmocka_unit_test(test_picture_store_closed_until),
	    cmocka_unit_test(test_picture_store_withdrawn_then_lower),
	    cmocka_unit_test(test_picture_store_positions),
	    cmocka_unit_test(test_picture_store_positions_bound),
	    cmocka_unit_test(test_picture_store_observed_edges),
	    cmocka_unit_test(test_picture_store_refuses),
	    cmocka_unit_test(test_picture_compiled_on_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
