/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merge: reports of one event from several organisations become one
 * incident (see merge.h). The reports are sorted once by (area, category,
 * start of their time span, seq); within a bucket each report is compared
 * only with the ones that start before its own span ends plus the window,
 * so the work grows with the reports that are actually close in time.
 * Links go into a union-find whose roots are the lowest seq of a group.
 */
#include "merge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_RADIUS_M 6371008.8
#define DEG_TO_RAD     (3.14159265358979323846 / 180.0)
#define ORG_IDS        65536u

/* A report's sort key for the sweep. */
struct key {
	uint16_t area;
	uint8_t category;
	int64_t lo, hi; /* its time: a moment or a span */
	uint64_t seq;
	uint32_t idx;
};

void
merge_rules_default(struct merge_rules *rules)
{
	rules->distance_m = MERGE_DEFAULT_DISTANCE_M;
	rules->window_s = MERGE_DEFAULT_WINDOW_S;
}

double
merge_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double dlat = (lat2 - lat1) * DEG_TO_RAD;
	double dlon = (lon2 - lon1) * DEG_TO_RAD;
	double s1 = sin(dlat / 2), s2 = sin(dlon / 2);
	double a = s1 * s1 + cos(lat1 * DEG_TO_RAD) * cos(lat2 * DEG_TO_RAD) * s2 * s2;
	if (a > 1.0)
		a = 1.0;
	return 2.0 * EARTH_RADIUS_M * asin(sqrt(a));
}

/* The ASCII letter a two-byte UTF-8 Latin-1 letter folds to, or 0 to keep it. */
static char
fold_latin1(unsigned char lead, unsigned char next)
{
	if (lead != 0xC3)
		return 0;
	unsigned char c = (unsigned char)(next | 0x20); /* upper to lower case in U+00C0..U+00DE */
	if (c >= 0xA0 && c <= 0xA5)
		return 'a';
	if (c >= 0xB2 && c <= 0xB6)
		return 'o';
	if (c == 0xB8)
		return 'o';
	if (c >= 0xA8 && c <= 0xAB)
		return 'e';
	if (c >= 0xB9 && c <= 0xBC)
		return 'u';
	return 0;
}

size_t
merge_place_normalize(const char *place, char *out)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)(place != NULL ? place : "");
	for (; *p != '\0' && n + 1 < MERGE_PLACE_MAX; p++) {
		char folded = p[1] != '\0' ? fold_latin1(p[0], p[1]) : 0;
		if (folded != 0) {
			out[n++] = folded;
			p++;
		} else if (*p >= 0x80) {
			out[n++] = (char)*p;
		} else if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')) {
			out[n++] = (char)*p;
		} else if (*p >= 'A' && *p <= 'Z') {
			out[n++] = (char)(*p - 'A' + 'a');
		}
	}
	out[n] = '\0';
	return n;
}

static void
report_time(const struct merge_report *r, int64_t *lo, int64_t *hi)
{
	if (r->starts_at > 0) {
		*lo = r->starts_at;
		*hi = r->ends_at >= r->starts_at ? r->ends_at : r->starts_at;
	} else {
		*lo = *hi = r->observed_at;
	}
}

static int
key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	if (a->area != b->area)
		return a->area < b->area ? -1 : 1;
	if (a->category != b->category)
		return a->category < b->category ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int
same_place(const struct merge_report *a, const struct merge_report *b, double distance_m)
{
	if (a->place != 0 && a->place == b->place)
		return 1;
	if (!a->has_position || !b->has_position)
		return 0;
	/* A degree of latitude is over 111 km: most pairs end here without trigonometry. */
	if (fabs(a->lat - b->lat) * 111000.0 > distance_m)
		return 0;
	return merge_distance_m(a->lat, a->lon, b->lat, b->lon) <= distance_m;
}

static uint32_t
uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/* Joins two groups under the root with the lower seq, so roots do not depend on order. */
static void
uf_union(uint32_t *parent, const struct merge_report *reps, uint32_t a, uint32_t b)
{
	uint32_t ra = uf_find(parent, a), rb = uf_find(parent, b);
	if (ra == rb)
		return;
	if (reps[rb].seq < reps[ra].seq || (reps[rb].seq == reps[ra].seq && rb < ra))
		parent[ra] = rb;
	else
		parent[rb] = ra;
}

static void
keys_fill(struct key *keys, const struct merge_report *reps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		keys[i].area = reps[i].area;
		keys[i].category = reps[i].category;
		report_time(&reps[i], &keys[i].lo, &keys[i].hi);
		keys[i].seq = reps[i].seq;
		keys[i].idx = (uint32_t)i;
	}
	qsort(keys, n, sizeof *keys, key_cmp);
}

/*
 * Compares each report with the later-starting ones of its bucket that are
 * close in time, at most MERGE_MAX_COMPARISONS pairs in all (the keys are in
 * a fixed order, so where a run stops depends only on the reports).
 */
static void
sweep(const struct key *keys, size_t n, const struct merge_report *reps,
      const struct merge_rules *rules, uint32_t *parent, struct merge_result *res)
{
	uint64_t left = MERGE_MAX_COMPARISONS;
	for (size_t i = 0; i < n; i++) {
		const struct key *a = &keys[i];
		int64_t reach = a->hi + rules->window_s;
		for (size_t j = i + 1; j < n; j++) {
			const struct key *b = &keys[j];
			if (b->area != a->area || b->category != a->category || b->lo > reach)
				break;
			if (left-- == 0) {
				res->truncated = 1;
				res->comparisons = MERGE_MAX_COMPARISONS;
				return;
			}
			const struct merge_report *ra = &reps[a->idx], *rb = &reps[b->idx];
			if (ra->org != rb->org && same_place(ra, rb, rules->distance_m))
				uf_union(parent, reps, a->idx, b->idx);
		}
	}
	res->comparisons = MERGE_MAX_COMPARISONS - left;
}

static int
seq_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Whether report x was observed before report y (seq decides a tie). */
static int
observed_before(const struct merge_report *x, const struct merge_report *y)
{
	if (x->observed_at != y->observed_at)
		return x->observed_at < y->observed_at;
	return x->seq < y->seq;
}

/* Numbers the groups by their lowest seq (keys now in seq order) and counts their members. */
static void
number_incidents(const struct key *keys, size_t n, const struct merge_report *reps,
                 uint32_t *parent, struct merge_result *res)
{
	for (size_t k = 0; k < n; k++) {
		uint32_t i = keys[k].idx, root = uf_find(parent, i);
		if (root == i) {
			struct merge_incident *inc = &res->incidents[res->n_incidents];
			memset(inc, 0, sizeof *inc);
			inc->earliest = i;
			res->incident_of[i] = (uint32_t)res->n_incidents++;
		} else {
			res->incident_of[i] = res->incident_of[root];
		}
		struct merge_incident *inc = &res->incidents[res->incident_of[i]];
		inc->count++;
		if (observed_before(&reps[i], &reps[inc->earliest]))
			inc->earliest = i;
	}
}

/* Lays the members out incident by incident, in seq order, and counts distinct orgs. */
static void
group_members(const struct key *keys, size_t n, const struct merge_report *reps, uint32_t *org_seen,
              struct merge_result *res)
{
	size_t at = 0;
	for (size_t g = 0; g < res->n_incidents; g++) {
		res->incidents[g].first = at;
		at += res->incidents[g].count;
		res->incidents[g].count = 0;
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t i = keys[k].idx, g = res->incident_of[i];
		struct merge_incident *inc = &res->incidents[g];
		res->members[inc->first + inc->count++] = i;
		if (org_seen[reps[i].org] != g + 1) {
			org_seen[reps[i].org] = g + 1;
			inc->n_orgs++;
		}
	}
}

static int
result_alloc(struct merge_result *res, size_t n)
{
	memset(res, 0, sizeof *res);
	size_t m = n > 0 ? n : 1;
	res->n_reports = n;
	res->incident_of = calloc(m, sizeof *res->incident_of);
	res->members = calloc(m, sizeof *res->members);
	res->incidents = calloc(m, sizeof *res->incidents);
	if (res->incident_of == NULL || res->members == NULL || res->incidents == NULL) {
		merge_result_fini(res);
		return -1;
	}
	return 0;
}

int
merge_run(const struct merge_report *reps, size_t n, const struct merge_rules *rules,
          struct merge_result *res)
{
	int rc = -1;
	struct key *keys = NULL;
	uint32_t *parent = NULL, *org_seen = NULL;
	if (n > MERGE_MAX_REPORTS || result_alloc(res, n) != 0)
		goto out;
	keys = calloc(n > 0 ? n : 1, sizeof *keys);
	parent = calloc(n > 0 ? n : 1, sizeof *parent);
	org_seen = calloc(ORG_IDS, sizeof *org_seen);
	if (keys == NULL || parent == NULL || org_seen == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		parent[i] = (uint32_t)i;
	keys_fill(keys, reps, n);
	sweep(keys, n, reps, rules, parent, res);
	qsort(keys, n, sizeof *keys, seq_cmp);
	number_incidents(keys, n, reps, parent, res);
	group_members(keys, n, reps, org_seen, res);
	rc = 0;
out:
	if (rc != 0)
		merge_result_fini(res);
	free(org_seen);
	free(parent);
	free(keys);
	return rc;
}

void
merge_result_fini(struct merge_result *res)
{
	if (res == NULL)
		return;
	free(res->incident_of);
	free(res->members);
	free(res->incidents);
	memset(res, 0, sizeof *res);
}
