/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the cross-organisation merge (hub/merge.c): one table of
 * small report sets and the incidents expected of them (distance just
 * under and over 150 m, place names spelt differently, same organisation,
 * other category or area, times just within and just outside the window,
 * spans, a chain across three organisations), each also run in reverse
 * order; place-name normalization; the haversine distance.
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

#include "merge.h"
#include "wire/timefmt.h"

#define T0        1763316000 /* 2025-11-16 19:00 Stockholm */
#define LAT0      58.5800
#define LON0      16.1500
#define M_PER_DEG (6371008.8 * 3.14159265358979323846 / 180.0)
#define MAX_REPS  8

enum { POLICE = 1, MUNI = 2, HOUSING = 3 };
enum { HAGEBY = 1, NAVESTAD = 2 };

/* One report of a case: metres north of (LAT0, LON0) or no position (-1), place id. */
struct rep {
	int org, area, category;
	double north_m; /* < 0: no position */
	uint32_t place;
	int64_t observed_at, starts_at, ends_at;
};

struct merge_case {
	const char *name;
	struct rep reps[MAX_REPS];
	size_t n;
	const char *groups; /* one letter a report: equal letters, one incident */
};

#define V  2 /* vandalism */
#define G  1 /* gathering */
#define NP -1.0

static const struct merge_case cases[] = {
    {"149 m apart",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, HAGEBY, V, 149, 0, T0, 0, 0}},
     2,
     "AA"},
    {"151 m apart",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, HAGEBY, V, 151, 0, T0, 0, 0}},
     2,
     "AB"},
    {"same organisation",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {POLICE, HAGEBY, V, 0, 0, T0, 0, 0}},
     2,
     "AB"},
    {"other category",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, HAGEBY, G, 0, 0, T0, 0, 0}},
     2,
     "AB"},
    {"other area",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, NAVESTAD, V, 0, 0, T0, 0, 0}},
     2,
     "AB"},
    {"same place name, no positions",
     {{POLICE, HAGEBY, V, NP, 7, T0, 0, 0}, {MUNI, HAGEBY, V, NP, 7, T0 + 3600, 0, 0}},
     2,
     "AA"},
    {"other place names, no positions",
     {{POLICE, HAGEBY, V, NP, 7, T0, 0, 0}, {MUNI, HAGEBY, V, NP, 8, T0, 0, 0}},
     2,
     "AB"},
    {"same place name beats distance",
     {{POLICE, HAGEBY, V, 0, 7, T0, 0, 0}, {MUNI, HAGEBY, V, 900, 7, T0, 0, 0}},
     2,
     "AA"},
    {"position against place only",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, HAGEBY, V, NP, 7, T0, 0, 0}},
     2,
     "AB"},
    {"exactly 2 h apart",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, HAGEBY, V, 0, 0, T0 + 7200, 0, 0}},
     2,
     "AA"},
    {"2 h 1 s apart",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0}, {MUNI, HAGEBY, V, 0, 0, T0 + 7201, 0, 0}},
     2,
     "AB"},
    {"within 2 h of a span's end",
     {{POLICE, HAGEBY, G, 0, 0, T0 - 86400, T0, T0 + 7200},
      {MUNI, HAGEBY, G, 50, 0, T0 + 7200 + 7140, 0, 0}},
     2,
     "AA"},
    {"2 h 1 min after a span's end",
     {{POLICE, HAGEBY, G, 0, 0, T0 - 86400, T0, T0 + 7200},
      {MUNI, HAGEBY, G, 50, 0, T0 + 7200 + 7260, 0, 0}},
     2,
     "AB"},
    {"spans overlapping",
     {{POLICE, HAGEBY, G, 0, 0, T0, T0, T0 + 36000},
      {MUNI, HAGEBY, G, 0, 0, T0, T0 + 30000, T0 + 40000}},
     2,
     "AA"},
    {"chain across three organisations",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0},
      {MUNI, HAGEBY, V, 140, 0, T0 + 5400, 0, 0},
      {HOUSING, HAGEBY, V, 280, 0, T0 + 10800, 0, 0}},
     3,
     "AAA"},
    {"two events and a stray",
     {{POLICE, HAGEBY, V, 0, 0, T0, 0, 0},
      {MUNI, HAGEBY, V, 20, 0, T0 + 60, 0, 0},
      {POLICE, HAGEBY, V, 5000, 0, T0, 0, 0},
      {HOUSING, HAGEBY, V, 5010, 0, T0 + 600, 0, 0},
      {HOUSING, HAGEBY, V, 30, 0, T0 + 86400, 0, 0}},
     5,
     "AABBC"},
};

static void
build(const struct merge_case *mc, int reverse, struct merge_report *out)
{
	for (size_t i = 0; i < mc->n; i++) {
		const struct rep *r = &mc->reps[reverse ? mc->n - 1 - i : i];
		struct merge_report *m = &out[i];
		memset(m, 0, sizeof *m);
		m->seq = 100 + (reverse ? mc->n - 1 - i : i);
		m->org = (uint16_t)r->org;
		m->area = (uint16_t)r->area;
		m->category = (uint8_t)r->category;
		m->place = r->place;
		m->observed_at = r->observed_at;
		m->starts_at = r->starts_at;
		m->ends_at = r->ends_at;
		m->has_position = r->north_m >= 0;
		m->lat = LAT0 + (r->north_m >= 0 ? r->north_m : 0) / M_PER_DEG;
		m->lon = LON0;
	}
}

/* Checks res against the letters: reports share an incident exactly when they share a letter. */
static void
check_groups(const struct merge_case *mc, int reverse, const struct merge_result *res)
{
	char letters[MAX_REPS + 1] = "";
	size_t distinct = 0;
	for (size_t i = 0; i < mc->n; i++) {
		char l = mc->groups[reverse ? mc->n - 1 - i : i];
		letters[i] = l;
		distinct += strchr(letters, l) == &letters[i];
	}
	if (res->n_incidents != distinct)
		fail_msg("%s%s: %zu incidents, want %zu", mc->name, reverse ? " (reversed)" : "",
		         res->n_incidents, distinct);
	for (size_t i = 0; i < mc->n; i++) {
		for (size_t j = 0; j < mc->n; j++) {
			if ((letters[i] == letters[j]) !=
			    (res->incident_of[i] == res->incident_of[j]))
				fail_msg("%s%s: reports %zu and %zu", mc->name,
				         reverse ? " (reversed)" : "", i, j);
		}
	}
}

static void
test_merge_cases(void **state)
{
	struct merge_rules rules;
	(void)state;
	merge_rules_default(&rules);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		for (int reverse = 0; reverse < 2; reverse++) {
			struct merge_report reps[MAX_REPS];
			struct merge_result res;
			build(&cases[c], reverse, reps);
			assert_int_equal(merge_run(reps, cases[c].n, &rules, &res), 0);
			check_groups(&cases[c], reverse, &res);
			merge_result_fini(&res);
		}
	}
}

/* The chain: one incident of three orgs, members in seq order, earliest the police report. */
static void
test_merge_incident_details(void **state)
{
	const struct merge_case *mc = &cases[14];
	struct merge_rules rules;
	struct merge_report reps[MAX_REPS];
	struct merge_result res;
	(void)state;
	merge_rules_default(&rules);
	build(mc, 1, reps);
	assert_int_equal(merge_run(reps, mc->n, &rules, &res), 0);
	assert_int_equal(res.n_incidents, 1);
	assert_int_equal(res.incidents[0].count, 3);
	assert_int_equal(res.incidents[0].n_orgs, 3);
	assert_int_equal(reps[res.incidents[0].earliest].org, POLICE);
	for (uint32_t m = 0; m < 3; m++)
		assert_int_equal(reps[res.members[res.incidents[0].first + m]].seq, 100 + m);
	merge_result_fini(&res);
	/* Two police reports and one municipality report at one place: 2 orgs. */
	build(&cases[0], 0, reps);
	reps[2] = reps[0];
	reps[2].seq = 99;
	assert_int_equal(merge_run(reps, 3, &rules, &res), 0);
	assert_int_equal(res.n_incidents, 1);
	assert_int_equal(res.incidents[0].n_orgs, 2);
	assert_int_equal(res.incidents[0].earliest, 2);
	merge_result_fini(&res);
	assert_int_equal(merge_run(reps, 0, &rules, &res), 0);
	assert_int_equal(res.n_incidents, 0);
	merge_result_fini(&res);
}

/*
 * A flood at one place and time (12,000 reports of two organisations
 * within the window: 72 million pairs) stops at the comparison budget,
 * quickly and the same way every time; a real week is far from it.
 */
static void
test_merge_flood_stops_at_budget(void **state)
{
	enum { N = 12000 };
	struct merge_rules rules;
	struct merge_result res, again;
	(void)state;
	merge_rules_default(&rules);
	struct merge_report *reps = calloc(N, sizeof *reps);
	assert_non_null(reps);
	for (uint32_t i = 0; i < N; i++) {
		reps[i].seq = 1 + i;
		reps[i].observed_at = 1764000000 + (int64_t)(i % 60);
		reps[i].lat = 58.5665;
		reps[i].lon = 16.1890;
		reps[i].has_position = 1;
		reps[i].org = (uint16_t)(1 + i % 2);
		reps[i].area = 1;
		reps[i].category = 2;
	}
	assert_int_equal(merge_run(reps, N, &rules, &res), 0);
	assert_true(res.truncated);
	assert_int_equal(res.comparisons, MERGE_MAX_COMPARISONS);
	assert_int_equal(merge_run(reps, N, &rules, &again), 0);
	assert_int_equal(res.n_incidents, again.n_incidents);
	merge_result_fini(&res);
	merge_result_fini(&again);
	/* 200 of them are well inside the budget: one incident, nothing cut. */
	assert_int_equal(merge_run(reps, 200, &rules, &res), 0);
	assert_false(res.truncated);
	assert_int_equal(res.n_incidents, 1);
	merge_result_fini(&res);
	free(reps);
}

static uint32_t
lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*x >> 33);
}

/* The incidents of res as the seqs of their members, in incident order (caller frees). */
static uint64_t *
incident_seqs(const struct merge_report *reps, const struct merge_result *res)
{
	uint64_t *out = calloc(res->n_reports + res->n_incidents + 1, sizeof *out);
	size_t at = 0;
	assert_non_null(out);
	for (size_t g = 0; g < res->n_incidents; g++) {
		const struct merge_incident *inc = &res->incidents[g];
		for (uint32_t k = 0; k < inc->count; k++)
			out[at++] = reps[res->members[inc->first + k]].seq;
		out[at++] = reps[inc->earliest].seq | (uint64_t)inc->n_orgs
		                                          << 48; /* ends the incident */
	}
	return out;
}

/*
 * Thousands of reports in many (area, category) buckets, given in seq order
 * and shuffled: the same incidents (members, first observed, organisations)
 * and the same number of pairs compared, also when the budget runs out in
 * the middle of a bucket (the buckets are swept in a fixed order).
 */
static void
test_merge_order_and_buckets(void **state)
{
	enum { N = 12000 }; /* the flood: 72 million pairs, over the budget */
	struct merge_rules rules = {.distance_m = 150, .window_s = 7200};
	struct merge_report *sorted = calloc(N, sizeof *sorted),
	                    *shuffled = calloc(N, sizeof *shuffled);
	uint64_t x = 3;
	(void)state;
	assert_non_null(sorted);
	assert_non_null(shuffled);
	for (int flood = 0; flood < 2; flood++) {
		for (uint32_t i = 0; i < N; i++) {
			struct merge_report *r = &sorted[i];
			memset(r, 0, sizeof *r);
			r->seq = 10 + 2 * (uint64_t)i;
			r->observed_at = T0 + (int64_t)(lcg(&x) % (flood ? 600 : 20 * 86400));
			if (lcg(&x) % 4 == 0) {
				r->starts_at = r->observed_at - (int64_t)(lcg(&x) % 3600);
				r->ends_at =
				    lcg(&x) % 2 ? r->starts_at + (int64_t)(lcg(&x) % 20000) : 0;
			}
			r->has_position = !flood && lcg(&x) % 3 != 0; /* a flood: cheap pairs */
			r->lat = LAT0 + (double)(lcg(&x) % 3000) / M_PER_DEG;
			r->lon = LON0;
			r->place = lcg(&x) % 4;
			r->org = (uint16_t)(1 + lcg(&x) % 3);
			r->area = (uint16_t)(flood ? 1 : lcg(&x) % 6);
			r->category = (uint8_t)(flood ? 2 : lcg(&x) % 9);
		}
		memcpy(shuffled, sorted, N * sizeof *sorted);
		for (size_t i = N - 1; i > 0; i--) {
			size_t j = lcg(&x) % (i + 1);
			struct merge_report t = shuffled[i];
			shuffled[i] = shuffled[j];
			shuffled[j] = t;
		}
		rules.distance_m = flood ? 100000 : 150;
		struct merge_result a, b;
		assert_int_equal(merge_run(sorted, N, &rules, &a), 0);
		assert_int_equal(merge_run(shuffled, N, &rules, &b), 0);
		assert_int_equal(a.truncated, flood);
		assert_int_equal(b.truncated, flood);
		assert_int_equal(a.comparisons, b.comparisons);
		assert_int_equal(a.n_incidents, b.n_incidents);
		assert_true(a.n_incidents < N); /* some merged */
		uint64_t *sa = incident_seqs(sorted, &a), *sb = incident_seqs(shuffled, &b);
		assert_memory_equal(sa, sb, (N + a.n_incidents) * sizeof *sa);
		free(sa);
		free(sb);
		merge_result_fini(&a);
		merge_result_fini(&b);
	}
	free(sorted);
	free(shuffled);
}

/* Rules from configuration: 500 m and 10 minutes. */
static void
test_merge_other_rules(void **state)
{
	struct merge_rules rules = {500.0, 600};
	struct merge_report reps[MAX_REPS];
	struct merge_result res;
	(void)state;
	build(&cases[1], 0, reps); /* 151 m, same time */
	assert_int_equal(merge_run(reps, 2, &rules, &res), 0);
	assert_int_equal(res.n_incidents, 1);
	merge_result_fini(&res);
	build(&cases[9], 0, reps); /* 2 h apart */
	assert_int_equal(merge_run(reps, 2, &rules, &res), 0);
	assert_int_equal(res.n_incidents, 2);
	merge_result_fini(&res);
}

static void
test_merge_place_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases_n[] = {
	    {"Hageby Centrum, Trapphus 12", "hagebycentrumtrapphus12"},
	    {"  hageby   centrum trapphus 12 ", "hagebycentrumtrapphus12"},
	    {"Åbackatorget", "abackatorget"},
	    {"ÄNGSGÄRDET", "angsgardet"},
	    {"Öster Tull", "ostertull"},
	    {"Navestad–Skarptorp", "navestad\xe2\x80\x93skarptorp"}, /* other UTF-8 kept */
	    {"Café Ümit", "cafeumit"},
	    {"", ""},
	    {" ,.-", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases_n / sizeof cases_n[0]; i++) {
		char out[MERGE_PLACE_MAX];
		size_t n = merge_place_normalize(cases_n[i].in, out);
		assert_string_equal(out, cases_n[i].out);
		assert_int_equal(n, strlen(cases_n[i].out));
	}
}

static void
test_merge_distance(void **state)
{
	(void)state;
	assert_true(fabs(merge_distance_m(LAT0, LON0, LAT0 + 150 / M_PER_DEG, LON0) - 150) < 0.01);
	/* Hageby to Stockholm centre: 137495.74 m by an independent haversine (Python). */
	double d = merge_distance_m(58.5650, 16.1840, 59.3293, 18.0686);
	assert_true(fabs(d - 137495.74) < 0.1);
	assert_true(merge_distance_m(LAT0, LON0, LAT0, LON0) == 0.0);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge_cases),
	    cmocka_unit_test(test_merge_incident_details),
	    cmocka_unit_test(test_merge_other_rules),
	    cmocka_unit_test(test_merge_flood_stops_at_budget),
	    cmocka_unit_test(test_merge_order_and_buckets),
	    cmocka_unit_test(test_merge_place_normalize),
	    cmocka_unit_test(test_merge_distance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
