/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merge: reports of one event from several organisations become one
 * incident (see merge.h). The reports are grouped into buckets of one
 * (area, category), taken in that order, and each bucket sorted by (start
 * of their time span, seq); within a bucket each report is compared only
 * with the ones that start before its own span ends plus the window, so
 * the work grows with the reports that are actually close in time. Only
 * one bucket's sort keys exist at a time: a compile merges a quarter of a
 * million reports, and keys for all of them took 10 MiB. Links go into a
 * union-find whose roots are the lowest seq of a group.
 */
#include "merge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_RADIUS_M 6371008.8
#define DEG_TO_RAD     (3.14159265358979323846 / 180.0)
#define ORG_IDS        65536u

/*
 * A report's sort key for the sweep of its bucket, 16 bytes: its time (a
 * moment or a span) as the start and the length, and the report's rank in
 * (seq, index) order, which breaks ties as the seq did and names the
 * report (see seq_order).
 */
#define KEY_LONG UINT32_MAX /* a span this long or longer: read its end from the report */

struct key {
	int64_t lo;
	uint32_t len;
	uint32_t rank;
};

/* The reports of one (area, category), which are only ever compared with each other. */
struct bucket {
	uint16_t area;
	uint8_t category;
	uint32_t first, count; /* their indexes: by[first .. first + count) of struct buckets */
};

struct buckets {
	struct bucket *b; /* sorted by (area, category) once all are known */
	size_t n, cap;
	uint32_t *slot; /* (area, category) -> bucket index + 1, open addressing */
	size_t mask;
	uint32_t *by; /* report indexes grouped by bucket, in input order within one */
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
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (a->rank > b->rank) - (a->rank < b->rank);
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

/* --- buckets ----------------------------------------------------------------- */

static uint32_t
bucket_hash(uint16_t area, uint8_t category)
{
	return ((uint32_t)area << 8 | category) * 2654435761u;
}

/* The slot of (area, category): the one holding its bucket or the empty one for it. */
static size_t
bucket_slot(const struct buckets *bk, uint16_t area, uint8_t category)
{
	size_t i = bucket_hash(area, category) & bk->mask;
	for (; bk->slot[i] != 0; i = (i + 1) & bk->mask) {
		const struct bucket *b = &bk->b[bk->slot[i] - 1];
		if (b->area == area && b->category == category)
			break;
	}
	return i;
}

/* Rebuilds the slots for cap (a power of two) slots, e.g. after the buckets moved. */
static int
buckets_index(struct buckets *bk, size_t cap)
{
	uint32_t *slot = calloc(cap, sizeof *slot);
	if (slot == NULL)
		return -1;
	free(bk->slot);
	bk->slot = slot;
	bk->mask = cap - 1;
	for (size_t k = 0; k < bk->n; k++)
		bk->slot[bucket_slot(bk, bk->b[k].area, bk->b[k].category)] = (uint32_t)(k + 1);
	return 0;
}

/* The bucket of r, added when new. NULL when out of memory. */
static struct bucket *
bucket_of(struct buckets *bk, const struct merge_report *r)
{
	size_t i = bucket_slot(bk, r->area, r->category);
	if (bk->slot[i] != 0)
		return &bk->b[bk->slot[i] - 1];
	if (bk->n == bk->cap) {
		size_t cap = bk->cap * 2;
		struct bucket *b = realloc(bk->b, cap * sizeof *b);
		if (b == NULL)
			return NULL;
		bk->b = b;
		bk->cap = cap;
	}
	bk->b[bk->n] = (struct bucket){r->area, r->category, 0, 0};
	bk->slot[i] = (uint32_t)++bk->n;
	/* At most half full, so probes stay short. */
	if (bk->n * 2 > bk->mask + 1 && buckets_index(bk, (bk->mask + 1) * 2) != 0)
		return NULL;
	return &bk->b[bk->n - 1];
}

static int
bucket_cmp(const void *pa, const void *pb)
{
	const struct bucket *a = pa, *b = pb;
	if (a->area != b->area)
		return a->area < b->area ? -1 : 1;
	return (a->category > b->category) - (a->category < b->category);
}

static void
buckets_fini(struct buckets *bk)
{
	free(bk->b);
	free(bk->slot);
	free(bk->by);
	memset(bk, 0, sizeof *bk);
}

/* Groups the n reports by (area, category) into bk, the buckets in sweep order. */
static int
buckets_make(struct buckets *bk, const struct merge_report *reps, size_t n)
{
	memset(bk, 0, sizeof *bk);
	bk->cap = 16;
	bk->b = malloc(bk->cap * sizeof *bk->b);
	bk->by = malloc((n > 0 ? n : 1) * sizeof *bk->by);
	if (bk->b == NULL || bk->by == NULL || buckets_index(bk, 64) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct bucket *b = bucket_of(bk, &reps[i]);
		if (b == NULL)
			return -1;
		b->count++;
	}
	qsort(bk->b, bk->n, sizeof *bk->b, bucket_cmp);
	if (buckets_index(bk, bk->mask + 1) != 0)
		return -1;
	uint32_t at = 0;
	for (size_t k = 0; k < bk->n; k++) {
		bk->b[k].first = at;
		at += bk->b[k].count;
		bk->b[k].count = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct bucket *b =
		    &bk->b[bk->slot[bucket_slot(bk, reps[i].area, reps[i].category)] - 1];
		bk->by[b->first + b->count++] = (uint32_t)i;
	}
	return 0;
}

/* --- the sweep ----------------------------------------------------------------- */

/* The report of rank k (see struct key, seq_order). */
static uint32_t
nth(const uint32_t *order, size_t k)
{
	return order != NULL ? order[k] : (uint32_t)k;
}

/* keys[0..b->count): the reports of bucket b, in sweep order; rank: per report (NULL: its index).
 */
static void
keys_fill(struct key *keys, const struct buckets *bk, const struct bucket *b,
          const struct merge_report *reps, const uint32_t *rank)
{
	for (uint32_t k = 0; k < b->count; k++) {
		uint32_t i = bk->by[b->first + k];
		int64_t hi;
		report_time(&reps[i], &keys[k].lo, &hi);
		keys[k].len =
		    (uint64_t)(hi - keys[k].lo) < KEY_LONG ? (uint32_t)(hi - keys[k].lo) : KEY_LONG;
		keys[k].rank = rank != NULL ? rank[i] : i;
	}
	qsort(keys, b->count, sizeof *keys, key_cmp);
}

/* Where the links are made: the reports, in what order, and what is left of the budget. */
struct sweep {
	const struct merge_report *reps;
	const uint32_t *order; /* see seq_order */
	const struct merge_rules *rules;
	uint32_t *parent;
	uint64_t left;
};

/*
 * Compares each report of one bucket with the later-starting ones that are
 * close in time, taking the pairs from sw->left (the keys are in a fixed
 * order, and the buckets too, so where a run stops depends only on the
 * reports). 0, or -1 when the budget ran out.
 */
static int
sweep(struct sweep *sw, const struct key *keys, size_t n)
{
	const struct merge_report *reps = sw->reps;
	for (size_t i = 0; i < n; i++) {
		const struct key *a = &keys[i];
		uint32_t ia = nth(sw->order, a->rank);
		int64_t lo, hi = a->lo + a->len;
		if (a->len == KEY_LONG)
			report_time(&reps[ia], &lo, &hi);
		int64_t reach = hi + sw->rules->window_s;
		for (size_t j = i + 1; j < n; j++) {
			const struct key *b = &keys[j];
			if (b->lo > reach)
				break;
			if (sw->left == 0)
				return -1;
			sw->left--;
			uint32_t ib = nth(sw->order, b->rank);
			if (reps[ia].org != reps[ib].org &&
			    same_place(&reps[ia], &reps[ib], sw->rules->distance_m))
				uf_union(sw->parent, reps, ia, ib);
		}
	}
	return 0;
}

/*
 * Links every bucket's reports in turn, at most MERGE_MAX_COMPARISONS pairs
 * in all. order: see seq_order.
 */
static int
link_all(const struct merge_report *reps, size_t n, const struct merge_rules *rules,
         const uint32_t *order, uint32_t *parent, struct merge_result *res)
{
	struct buckets bk;
	struct key *keys = NULL;
	uint32_t *rank = NULL;
	struct sweep sw = {reps, order, rules, parent, MERGE_MAX_COMPARISONS};
	int rc = -1;
	if (buckets_make(&bk, reps, n) != 0)
		goto out;
	if (order != NULL && (rank = malloc(n * sizeof *rank)) == NULL)
		goto out;
	for (size_t k = 0; order != NULL && k < n; k++)
		rank[order[k]] = (uint32_t)k;
	uint32_t most = 1;
	for (size_t k = 0; k < bk.n; k++)
		most = bk.b[k].count > most ? bk.b[k].count : most;
	keys = malloc(most * sizeof *keys);
	if (keys == NULL)
		goto out;
	for (size_t k = 0; k < bk.n && !res->truncated; k++) {
		keys_fill(keys, &bk, &bk.b[k], reps, rank);
		res->truncated = sweep(&sw, keys, bk.b[k].count) != 0;
	}
	res->comparisons = MERGE_MAX_COMPARISONS - sw.left;
	rc = 0;
out:
	free(rank);
	free(keys);
	buckets_fini(&bk);
	return rc;
}

/* --- numbering ----------------------------------------------------------------- */

struct by_seq {
	uint64_t seq;
	uint32_t idx;
};

static int
seq_cmp(const void *pa, const void *pb)
{
	const struct by_seq *a = pa, *b = pb;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/*
 * The report indexes in (seq, index) order into *order, or NULL when the
 * input is in that order already (a compile's reports are: the store keeps
 * them by seq), which spares an array of the size of the input. 0 or -1.
 */
static int
seq_order(const struct merge_report *reps, size_t n, uint32_t **order)
{
	*order = NULL;
	size_t i = 1;
	while (i < n && reps[i - 1].seq <= reps[i].seq)
		i++;
	if (i >= n)
		return 0;
	struct by_seq *s = malloc(n * sizeof *s);
	*order = malloc(n * sizeof **order);
	if (s == NULL || *order == NULL) {
		free(s);
		free(*order);
		*order = NULL;
		return -1;
	}
	for (i = 0; i < n; i++)
		s[i] = (struct by_seq){reps[i].seq, (uint32_t)i};
	qsort(s, n, sizeof *s, seq_cmp);
	for (i = 0; i < n; i++)
		(*order)[i] = s[i].idx;
	free(s);
	return 0;
}

/* Whether report x was observed before report y (seq decides a tie). */
static int
observed_before(const struct merge_report *x, const struct merge_report *y)
{
	if (x->observed_at != y->observed_at)
		return x->observed_at < y->observed_at;
	return x->seq < y->seq;
}

/* Numbers the groups by their lowest seq and counts their members. */
static void
number_incidents(const uint32_t *order, size_t n, const struct merge_report *reps, uint32_t *parent,
                 struct merge_result *res)
{
	for (size_t k = 0; k < n; k++) {
		uint32_t i = nth(order, k), root = uf_find(parent, i);
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
group_members(const uint32_t *order, size_t n, const struct merge_report *reps, uint32_t *org_seen,
              struct merge_result *res)
{
	uint32_t at = 0; /* n <= MERGE_MAX_REPORTS */
	for (size_t g = 0; g < res->n_incidents; g++) {
		res->incidents[g].first = at;
		at += res->incidents[g].count;
		res->incidents[g].count = 0;
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t i = nth(order, k), g = res->incident_of[i];
		struct merge_incident *inc = &res->incidents[g];
		res->members[inc->first + inc->count++] = i;
		if (org_seen[reps[i].org] != g + 1) {
			org_seen[reps[i].org] = g + 1;
			inc->n_orgs++;
		}
	}
}

/* The result's arrays, incidents for as many as the union-find has roots. */
static int
result_alloc(struct merge_result *res, size_t n, uint32_t *parent)
{
	size_t m = n > 0 ? n : 1, roots = 0;
	for (size_t i = 0; i < n; i++)
		roots += uf_find(parent, (uint32_t)i) == i;
	res->n_reports = n;
	res->incident_of = calloc(m, sizeof *res->incident_of);
	res->members = calloc(m, sizeof *res->members);
	res->incidents = calloc(roots > 0 ? roots : 1, sizeof *res->incidents);
	return res->incident_of && res->members && res->incidents ? 0 : -1;
}

int
merge_run(const struct merge_report *reps, size_t n, const struct merge_rules *rules,
          struct merge_result *res)
{
	int rc = -1;
	uint32_t *parent = NULL, *org_seen = NULL, *order = NULL;
	memset(res, 0, sizeof *res);
	if (n > MERGE_MAX_REPORTS)
		goto out;
	parent = malloc((n > 0 ? n : 1) * sizeof *parent);
	if (parent == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		parent[i] = (uint32_t)i;
	/* The links first, then the result: the sweep's arrays are gone by then. */
	if (seq_order(reps, n, &order) != 0 || link_all(reps, n, rules, order, parent, res) != 0 ||
	    result_alloc(res, n, parent) != 0)
		goto out;
	org_seen = calloc(ORG_IDS, sizeof *org_seen);
	if (org_seen == NULL)
		goto out;
	number_incidents(order, n, reps, parent, res);
	group_members(order, n, reps, org_seen, res);
	rc = 0;
out:
	if (rc != 0)
		merge_result_fini(res);
	free(order);
	free(org_seen);
	free(parent);
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
