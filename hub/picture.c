/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picture: the store of current reports and the compiler of situational
 * pictures (see picture.h, docs/pictures.md).
 *
 * The store keeps one compact struct merge_report per (org, source_id),
 * with strings interned once (organisations, areas, normalized place
 * names) in one string pool. Compiling a week reads the store once: it
 * counts the reports of the ten weeks around the week (the eight of the
 * baseline, the week, the one after for merging), merges only the reports
 * of the week and its neighbours, and then builds each picture from those
 * tallies. No per-report time zone work is done: the week boundaries are
 * computed once and compared as plain integers.
 */
#include "picture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "week.h"

#define STORE_AREAS    256
#define POOL_MAX       (1024u * 1024 * 1024)
#define BASE_WEEKS     8
#define SPAN_WEEKS     (BASE_WEEKS + 2) /* w-8 .. w+1 */
#define K_THIS         BASE_WEEKS       /* index of the week itself among the span */
#define METRES_PER_DEG 111320.0
#define DEG_TO_RAD     (3.14159265358979323846 / 180.0)

/* --- string pool ---------------------------------------------------------- */

/* Strings by offset; offset 0 is the empty string. */
struct pool {
	char *buf;
	size_t len, cap;
};

static int
pool_put(struct pool *p, const char *s, size_t n, uint32_t *off)
{
	if (n == 0) {
		*off = 0;
		return 0;
	}
	if (p->len + n + 1 > POOL_MAX)
		return -1;
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap * 2 > p->len + n + 1 ? p->cap * 2 : p->len + n + 1;
		char *b = realloc(p->buf, cap);
		if (b == NULL)
			return -1;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->buf[p->len + n] = '\0';
	*off = (uint32_t)p->len;
	p->len += n + 1;
	return 0;
}

static const char *
pool_get(const struct pool *p, uint32_t off)
{
	return p->buf + off;
}

/* --- hash index ------------------------------------------------------------ */

/* Open addressing: slots hold a hash and value + 1 (0 = empty). */
struct slot {
	uint32_t hash;
	uint32_t val;
};

struct index {
	struct slot *slots;
	size_t mask; /* capacity - 1 */
	size_t n;
};

typedef int (*index_eq_fn)(const struct picture_store *ps, uint32_t val, const void *key);

static uint32_t
hash_bytes(const char *s, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int
index_grow(struct index *ix)
{
	size_t cap = ix->slots == NULL ? 1024 : (ix->mask + 1) * 2;
	struct slot *s = calloc(cap, sizeof *s);
	if (s == NULL)
		return -1;
	for (size_t i = 0; ix->slots != NULL && i <= ix->mask; i++) {
		if (ix->slots[i].val == 0)
			continue;
		size_t j = ix->slots[i].hash & (cap - 1);
		while (s[j].val != 0)
			j = (j + 1) & (cap - 1);
		s[j] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = s;
	ix->mask = cap - 1;
	return 0;
}

/* The value stored under key, or -1 with *free_at the slot to insert it at. */
static long
index_find(const struct index *ix, const struct picture_store *ps, uint32_t h, index_eq_fn eq,
           const void *key, size_t *free_at)
{
	size_t i = h & ix->mask;
	for (; ix->slots[i].val != 0; i = (i + 1) & ix->mask) {
		if (ix->slots[i].hash == h && eq(ps, ix->slots[i].val - 1, key))
			return (long)(ix->slots[i].val - 1);
	}
	*free_at = i;
	return -1;
}

/* Makes room for one more entry; may move every slot, so find again afterwards. */
static int
index_reserve(struct index *ix)
{
	if (ix->slots != NULL && (ix->n + 1) * 2 <= ix->mask + 1)
		return 0;
	return index_grow(ix);
}

/* --- the store ------------------------------------------------------------ */

/* Per stored report, beside its merge_report. */
struct meta {
	uint32_t source; /* source_id in the pool */
	uint32_t revision;
	uint32_t desc;  /* upcoming events only: description in the pool */
	uint32_t place; /* upcoming events only: the place as written */
	uint8_t withdrawn;
};

struct place {
	uint32_t norm;    /* normalized name in the pool */
	uint32_t display; /* the first spelling seen */
};

struct picture_store {
	struct merge_report *reps;
	struct meta *meta;
	size_t n, cap, current;
	struct pool pool;
	struct index sources; /* (org, source_id) -> report */
	struct index names;   /* normalized place -> place id */
	struct place *places; /* id 0 = no place */
	size_t n_places, cap_places;
	uint32_t orgs[PICTURE_MAX_ORGS];
	size_t n_orgs;
	uint32_t areas[STORE_AREAS];
	size_t n_areas;
	uint64_t through;
};

struct source_key {
	uint16_t org;
	const char *id;
};

struct picture_store *
picture_store_new(void)
{
	struct picture_store *ps = calloc(1, sizeof *ps);
	if (ps == NULL)
		return NULL;
	/* Offset 0 of the pool is the empty string; place id 0 is "no place". */
	ps->places = calloc(1, sizeof *ps->places);
	ps->pool.buf = calloc(1, 4096);
	if (ps->places == NULL || ps->pool.buf == NULL || index_grow(&ps->sources) != 0 ||
	    index_grow(&ps->names) != 0) {
		picture_store_destroy(&ps);
		return NULL;
	}
	ps->pool.cap = 4096;
	ps->pool.len = 1;
	ps->n_places = ps->cap_places = 1;
	return ps;
}

void
picture_store_destroy(struct picture_store **ps)
{
	if (ps == NULL || *ps == NULL)
		return;
	free((*ps)->reps);
	free((*ps)->meta);
	free((*ps)->pool.buf);
	free((*ps)->sources.slots);
	free((*ps)->names.slots);
	free((*ps)->places);
	free(*ps);
	*ps = NULL;
}

uint64_t
picture_store_through(const struct picture_store *ps)
{
	return ps->through;
}

size_t
picture_store_current(const struct picture_store *ps)
{
	return ps->current;
}

/* The id of name in a small table of pool offsets, adding it when new; -1 when full. */
static int
intern_small(struct picture_store *ps, uint32_t *table, size_t *n, size_t cap, const char *name)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(pool_get(&ps->pool, table[i]), name) == 0)
			return (int)i;
	}
	if (*n >= cap || pool_put(&ps->pool, name, strlen(name), &table[*n]) != 0)
		return -1;
	return (int)(*n)++;
}

static int
source_eq(const struct picture_store *ps, uint32_t val, const void *key)
{
	const struct source_key *k = key;
	return ps->reps[val].org == k->org &&
	       strcmp(pool_get(&ps->pool, ps->meta[val].source), k->id) == 0;
}

static int
name_eq(const struct picture_store *ps, uint32_t val, const void *key)
{
	return strcmp(pool_get(&ps->pool, ps->places[val].norm), key) == 0;
}

static int
places_reserve(struct picture_store *ps)
{
	if (ps->n_places < ps->cap_places)
		return 0;
	if (ps->n_places >= UINT32_MAX / 2)
		return -1;
	size_t cap = ps->cap_places * 2;
	struct place *p = realloc(ps->places, cap * sizeof *p);
	if (p == NULL)
		return -1;
	ps->places = p;
	ps->cap_places = cap;
	return 0;
}

/* The place id of a place name (0 when it normalizes to nothing); -1 on a cap or memory. */
static long
intern_place(struct picture_store *ps, const char *place)
{
	char norm[MERGE_PLACE_MAX];
	size_t len = merge_place_normalize(place, norm), at = 0;
	if (len == 0)
		return 0;
	uint32_t h = hash_bytes(norm, len, 2166136261u);
	long id = index_find(&ps->names, ps, h, name_eq, norm, &at);
	if (id >= 0)
		return id;
	struct place *p;
	if (index_reserve(&ps->names) != 0 || places_reserve(ps) != 0)
		return -1;
	p = &ps->places[ps->n_places];
	if (pool_put(&ps->pool, norm, len, &p->norm) != 0 ||
	    pool_put(&ps->pool, place, strlen(place), &p->display) != 0)
		return -1;
	(void)index_find(&ps->names, ps, h, name_eq, norm, &at);
	ps->names.slots[at] = (struct slot){h, (uint32_t)ps->n_places + 1};
	ps->names.n++;
	return (long)ps->n_places++;
}

static int
reports_reserve(struct picture_store *ps)
{
	if (ps->n < ps->cap)
		return 0;
	if (ps->n >= PICTURE_MAX_REPORTS)
		return -1;
	size_t cap = ps->cap == 0 ? 4096 : ps->cap * 2;
	struct merge_report *r = realloc(ps->reps, cap * sizeof *r);
	if (r == NULL)
		return -1;
	ps->reps = r;
	struct meta *m = realloc(ps->meta, cap * sizeof *m);
	if (m == NULL)
		return -1;
	ps->meta = m;
	ps->cap = cap;
	return 0;
}

/* Fills slot i from r (org, area and place already interned). */
static int
report_fill(struct picture_store *ps, size_t i, uint64_t seq, const Est__V1__Report *r,
            uint32_t place)
{
	struct merge_report *m = &ps->reps[i];
	struct meta *x = &ps->meta[i];
	m->seq = seq;
	m->observed_at = r->observed_at;
	m->starts_at = r->starts_at;
	m->ends_at = r->ends_at;
	m->has_position = r->position != NULL;
	m->lat = r->position != NULL ? r->position->lat : 0.0;
	m->lon = r->position != NULL ? r->position->lon : 0.0;
	m->place = place;
	m->category =
	    (uint8_t)(r->category >= 0 && r->category < PICTURE_CATEGORIES ? r->category : 0);
	x->revision = r->revision;
	x->withdrawn = r->withdrawn ? 1 : 0;
	x->desc = x->place = 0;
	if (m->category != EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT)
		return 0;
	/* Only upcoming events are listed with their text; keep the rest small. */
	const char *d = r->description != NULL ? r->description : "";
	const char *p = r->place != NULL ? r->place : "";
	if (pool_put(&ps->pool, d, strlen(d), &x->desc) != 0 ||
	    pool_put(&ps->pool, p, strlen(p), &x->place) != 0)
		return -1;
	return 0;
}

/* A new slot for (org, source_id) at index slot at; returns its report index or -1. */
static long
report_insert(struct picture_store *ps, const struct source_key *k, uint32_t h)
{
	size_t at = 0;
	uint32_t off;
	if (reports_reserve(ps) != 0 || index_reserve(&ps->sources) != 0 ||
	    pool_put(&ps->pool, k->id, strlen(k->id), &off) != 0)
		return -1;
	(void)index_find(&ps->sources, ps, h, source_eq, k, &at);
	size_t i = ps->n++;
	memset(&ps->reps[i], 0, sizeof ps->reps[i]);
	memset(&ps->meta[i], 0, sizeof ps->meta[i]);
	ps->reps[i].org = k->org;
	ps->meta[i].source = off;
	ps->meta[i].withdrawn = 1; /* not current until filled */
	ps->sources.slots[at] = (struct slot){h, (uint32_t)i + 1};
	ps->sources.n++;
	return (long)i;
}

/* The area of a report: its own, else the area part of its topic. */
static void
report_area(const Est__V1__Report *r, const char *hint, char *out, size_t outlen)
{
	const char *a = r->area != NULL && r->area[0] != '\0' ? r->area : hint != NULL ? hint : "";
	size_t n = strcspn(a, "/");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, a, n);
	out[n] = '\0';
}

int
picture_store_add(struct picture_store *ps, uint64_t seq, const char *org, const char *area_hint,
                  const Est__V1__Report *r)
{
	char area[64];
	if (seq > ps->through)
		ps->through = seq;
	report_area(r, area_hint, area, sizeof area);
	int org_id = intern_small(ps, ps->orgs, &ps->n_orgs, PICTURE_MAX_ORGS, org);
	int area_id = intern_small(ps, ps->areas, &ps->n_areas, STORE_AREAS, area);
	long place = intern_place(ps, r->place != NULL ? r->place : "");
	if (org_id < 0 || area_id < 0 || place < 0 || r->source_id == NULL)
		return -1;
	struct source_key k = {(uint16_t)org_id, r->source_id};
	uint32_t h = hash_bytes(r->source_id, strlen(r->source_id), 2166136261u ^ (uint32_t)org_id);
	size_t at = 0;
	long i = index_find(&ps->sources, ps, h, source_eq, &k, &at);
	if (i >= 0 && r->revision < ps->meta[i].revision)
		return 0; /* an older revision never replaces a newer one */
	if (i < 0 && (i = report_insert(ps, &k, h)) < 0)
		return -1;
	ps->current -= ps->meta[i].withdrawn ? 0 : 1;
	ps->reps[i].area = (uint16_t)area_id;
	int rc = report_fill(ps, (size_t)i, seq, r, (uint32_t)place);
	ps->current += ps->meta[i].withdrawn ? 0 : 1;
	return rc;
}

/* --- loading from the log --------------------------------------------------- */

struct load {
	struct picture_store *ps;
	char *err;
	size_t errlen;
};

static int
load_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
           const uint8_t *hash)
{
	struct load *ld = arg;
	(void)hash;
	if (body == NULL)
		return 0; /* purged (gallring): it no longer counts */
	Est__V1__LogEntry *e = est__v1__log_entry__unpack(NULL, body_len, body);
	if (e == NULL) {
		snprintf(ld->err, ld->errlen, "seq %llu: undecodable entry",
		         (unsigned long long)seq);
		return -1;
	}
	int rc = 0;
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT &&
	    picture_store_add(ld->ps, seq, e->org != NULL ? e->org : "", topic, e->report) != 0) {
		snprintf(ld->err, ld->errlen,
		         "seq %llu: the picture store is full or out of memory",
		         (unsigned long long)seq);
		rc = -1;
	}
	est__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

int
picture_store_load(struct picture_store *ps, struct log *lg, uint64_t through_seq, char *err,
                   size_t errlen)
{
	struct load ld = {ps, err, errlen};
	uint64_t to = through_seq != 0 ? through_seq : log_head_seq(lg);
	if (to == 0)
		return 0;
	if (log_scan(lg, 1, to, load_visit, &ld, err, errlen) != 0)
		return -1;
	if (to > ps->through)
		ps->through = to;
	return 0;
}

/* --- compiling: tallies ------------------------------------------------------ */

void
picture_rules_default(struct picture_rules *rules)
{
	static const double weights[PICTURE_CATEGORIES] = {
	    [EST__V1__CATEGORY__CATEGORY_UNSPECIFIED] = 0.0,
	    [EST__V1__CATEGORY__CATEGORY_GATHERING] = 1.5,
	    [EST__V1__CATEGORY__CATEGORY_VANDALISM] = 1.0,
	    [EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE] = 1.0,
	    [EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT] = 0.5,
	    [EST__V1__CATEGORY__CATEGORY_DISORDER] = 1.5,
	    [EST__V1__CATEGORY__CATEGORY_STAFF_INCIDENT] = 2.0,
	    [EST__V1__CATEGORY__CATEGORY_RUMOUR] = 0.5,
	    [EST__V1__CATEGORY__CATEGORY_OTHER] = 0.5,
	};
	memset(rules, 0, sizeof *rules);
	merge_rules_default(&rules->merge);
	memcpy(rules->weight, weights, sizeof weights);
	rules->trend_factor = 0.5;
	rules->confirm_factor = 0.5;
	rules->hotspots_max = 5;
	rules->hotspot_cell_m = 150.0;
	rules->upcoming_s = 14 * 86400;
	rules->upcoming_max = 50;
}

/* Counts of one slot (an area, the unlisted areas, or `all`). */
struct tally {
	uint32_t reports[BASE_WEEKS + 1][PICTURE_CATEGORIES]; /* weeks w-8 .. w */
	uint32_t incidents[PICTURE_CATEGORIES];
	uint32_t confirmed[PICTURE_CATEGORIES];
};

/* What one organisation contributed to one slot's week. */
struct contrib {
	uint32_t reports, incidents, confirmed;
};

/* An upcoming event of the store, with its sort key. */
struct upcoming {
	int64_t lo;
	uint64_t seq;
	uint32_t idx;
};

struct compile {
	const struct picture_store *ps;
	const struct picture_rules *rules;
	struct week week;
	int64_t bound[SPAN_WEEKS + 1]; /* starts of weeks w-8 .. w+1, then the end of w+1 */
	size_t n_areas;                /* listed areas are slots 0 .. n_areas - 1 */
	size_t n_slots;                /* then one for unlisted areas, then `all` */
	size_t slot_of[STORE_AREAS];
	struct tally *tally;
	struct contrib *contrib;   /* n_slots x n_orgs */
	struct merge_report *cand; /* reports of weeks w-1 .. w+1, for merging */
	size_t n_cand;
	struct upcoming *upcoming; /* upcoming events in the window, sorted by time */
	size_t n_upcoming;
	struct merge_result merged;
	uint32_t *week_inc; /* incidents whose first report lies in week w */
	size_t n_week_inc;
	uint32_t *org_stamp; /* per org: the last incident it was counted for, + 1 */
	uint32_t *org_order; /* orgs by name */
};

static size_t
slot_all(const struct compile *c)
{
	return c->n_slots - 1;
}

static struct contrib *
contrib_at(const struct compile *c, size_t slot, uint16_t org)
{
	return &c->contrib[slot * c->ps->n_orgs + org];
}

/* Index among weeks w-8 .. w+1 of the week holding t, or -1 outside them. */
static int
week_slot(const struct compile *c, int64_t t)
{
	if (t < c->bound[0] || t >= c->bound[SPAN_WEEKS])
		return -1;
	int k = SPAN_WEEKS - 1;
	while (t < c->bound[k])
		k--;
	return k;
}

static void
event_span(const struct merge_report *r, int64_t *lo, int64_t *hi)
{
	*lo = r->starts_at > 0 ? r->starts_at : r->observed_at;
	*hi = r->ends_at >= *lo ? r->ends_at : *lo;
}

/* Whether an upcoming event is not over by the week's start and starts before the look-ahead ends.
 */
static int
upcoming_in_window(const struct compile *c, const struct merge_report *r)
{
	int64_t lo, hi;
	event_span(r, &lo, &hi);
	return hi >= c->bound[K_THIS] && lo < c->bound[K_THIS + 1] + c->rules->upcoming_s;
}

static void
count_report(struct compile *c, const struct merge_report *r, int k)
{
	size_t slots[2] = {c->slot_of[r->area], slot_all(c)};
	for (size_t s = 0; s < 2; s++) {
		c->tally[slots[s]].reports[k][r->category]++;
		if (k == K_THIS)
			contrib_at(c, slots[s], r->org)->reports++;
	}
}

static void
scan_reports(struct compile *c)
{
	const struct picture_store *ps = c->ps;
	for (size_t i = 0; i < ps->n; i++) {
		const struct merge_report *r = &ps->reps[i];
		if (ps->meta[i].withdrawn)
			continue;
		if (r->category == EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT &&
		    upcoming_in_window(c, r))
			c->upcoming[c->n_upcoming++] = (struct upcoming){
			    r->starts_at > 0 ? r->starts_at : r->observed_at, r->seq, (uint32_t)i};
		int k = week_slot(c, r->observed_at);
		if (k >= 0 && k <= K_THIS)
			count_report(c, r, k);
		if (k >= K_THIS - 1)
			c->cand[c->n_cand++] = *r;
	}
}

/* Credits each organisation of incident g once, in its slot and in `all`. */
static void
credit_orgs(struct compile *c, uint32_t g, size_t slot, int confirmed)
{
	const struct merge_incident *inc = &c->merged.incidents[g];
	for (uint32_t m = 0; m < inc->count; m++) {
		uint16_t org = c->cand[c->merged.members[inc->first + m]].org;
		if (c->org_stamp[org] == g + 1)
			continue;
		c->org_stamp[org] = g + 1;
		for (int s = 0; s < 2; s++) {
			struct contrib *ct = contrib_at(c, s == 0 ? slot : slot_all(c), org);
			ct->incidents++;
			ct->confirmed += confirmed ? 1 : 0;
		}
	}
}

static void
tally_incidents(struct compile *c)
{
	for (uint32_t g = 0; g < c->merged.n_incidents; g++) {
		const struct merge_incident *inc = &c->merged.incidents[g];
		const struct merge_report *first = &c->cand[inc->earliest];
		if (week_slot(c, first->observed_at) != K_THIS)
			continue;
		c->week_inc[c->n_week_inc++] = g;
		size_t slots[2] = {c->slot_of[first->area], slot_all(c)};
		int confirmed = inc->n_orgs >= 2;
		for (int s = 0; s < 2; s++) {
			c->tally[slots[s]].incidents[first->category]++;
			c->tally[slots[s]].confirmed[first->category] += confirmed ? 1 : 0;
		}
		credit_orgs(c, g, slots[0], confirmed);
	}
}

/* --- compiling: hotspots ---------------------------------------------------- */

/* Where an incident happened: a place name (kind 1) or a grid cell (kind 2). */
struct spot {
	int kind;
	int64_t a, b;   /* place id, or the cell's row and column */
	uint64_t seq;   /* the incident's lowest seq */
	uint32_t g;     /* the incident */
	uint32_t count; /* after grouping: incidents here */
};

/* The place id of an incident's first member that names one, and the mean of its positions. */
static uint32_t
incident_where(const struct compile *c, uint32_t g, double *lat, double *lon, uint32_t *n_pos)
{
	const struct merge_incident *inc = &c->merged.incidents[g];
	uint32_t place = 0;
	*lat = *lon = 0.0;
	*n_pos = 0;
	for (uint32_t m = 0; m < inc->count; m++) {
		const struct merge_report *r = &c->cand[c->merged.members[inc->first + m]];
		if (place == 0)
			place = r->place;
		if (r->has_position) {
			*lat += r->lat;
			*lon += r->lon;
			(*n_pos)++;
		}
	}
	return place;
}

/* The spot of incident g; 0 when it has neither a place nor a position. */
static int
spot_of(const struct compile *c, uint32_t g, struct spot *s)
{
	double lat, lon;
	uint32_t n_pos;
	uint32_t place = incident_where(c, g, &lat, &lon, &n_pos);
	memset(s, 0, sizeof *s);
	s->g = g;
	s->seq = c->cand[c->merged.members[c->merged.incidents[g].first]].seq;
	if (place != 0) {
		s->kind = 1;
		s->a = place;
		return 1;
	}
	if (n_pos == 0)
		return 0;
	/* A grid of cells cell_m high and about cell_m wide at the cell's latitude. */
	double cell_deg = c->rules->hotspot_cell_m / METRES_PER_DEG;
	s->kind = 2;
	s->a = (int64_t)floor(lat / n_pos / cell_deg);
	double row_lat = ((double)s->a + 0.5) * cell_deg;
	s->b = (int64_t)floor(lon / n_pos / (cell_deg / cos(row_lat * DEG_TO_RAD)));
	return 1;
}

static int
spot_by_key(const void *pa, const void *pb)
{
	const struct spot *a = pa, *b = pb;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Most incidents first; the earlier first seq wins a tie. */
static int
spot_by_count(const void *pa, const void *pb)
{
	const struct spot *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Collapses runs of equal keys (sorted) into their first spot with count set; returns groups. */
static size_t
spots_group(struct spot *s, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && s[j].kind == s[i].kind && s[j].a == s[i].a && s[j].b == s[i].b)
			j++;
		s[out] = s[i];
		s[out++].count = (uint32_t)(j - i);
		i = j;
	}
	return out;
}

static int
slot_has(const struct compile *c, size_t slot, const struct merge_report *r)
{
	return slot == slot_all(c) || c->slot_of[r->area] == slot;
}

/* The spots of slot's incidents this week, grouped and ordered; caller frees. */
static struct spot *
spots_collect(const struct compile *c, size_t slot, size_t *n_groups)
{
	struct spot *s = calloc(c->n_week_inc > 0 ? c->n_week_inc : 1, sizeof *s);
	size_t n = 0;
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_week_inc; i++) {
		uint32_t g = c->week_inc[i];
		if (slot_has(c, slot, &c->cand[c->merged.incidents[g].earliest]) &&
		    spot_of(c, g, &s[n]))
			n++;
	}
	qsort(s, n, sizeof *s, spot_by_key);
	n = spots_group(s, n);
	qsort(s, n, sizeof *s, spot_by_count);
	*n_groups = n;
	return s;
}

/* --- compiling: messages ------------------------------------------------------ */

/* What a hotspot sums up over its incidents. */
struct spot_sum {
	uint32_t reports, orgs, n_pos;
	uint32_t categories; /* bit per category */
	double lat, lon;
};

static void
spot_add_incident(struct compile *c, uint32_t g, struct spot_sum *sum)
{
	const struct merge_incident *inc = &c->merged.incidents[g];
	for (uint32_t m = 0; m < inc->count; m++) {
		const struct merge_report *r = &c->cand[c->merged.members[inc->first + m]];
		sum->reports++;
		sum->categories |= 1u << r->category;
		if (r->has_position) {
			sum->lat += r->lat;
			sum->lon += r->lon;
			sum->n_pos++;
		}
		/* org_stamp holds incident + 1 from tallying; a group mark lies beyond that. */
		if (c->org_stamp[r->org] != UINT32_MAX) {
			c->org_stamp[r->org] = UINT32_MAX;
			sum->orgs++;
		}
	}
}

/* Sums every incident of slot at the spot of key. */
static void
spot_sum(struct compile *c, size_t slot, const struct spot *key, struct spot_sum *sum)
{
	struct spot s;
	memset(sum, 0, sizeof *sum);
	for (size_t i = 0; i < c->n_week_inc; i++) {
		uint32_t g = c->week_inc[i];
		if (slot_has(c, slot, &c->cand[c->merged.incidents[g].earliest]) &&
		    spot_of(c, g, &s) && s.kind == key->kind && s.a == key->a && s.b == key->b)
			spot_add_incident(c, g, sum);
	}
	for (size_t o = 0; o < c->ps->n_orgs; o++)
		c->org_stamp[o] = 0;
}

static Est__V1__Position *
position_new(double lat, double lon)
{
	Est__V1__Position *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	est__v1__position__init(p);
	p->lat = lat;
	p->lon = lon;
	return p;
}

static int
hotspot_fill(Est__V1__Hotspot *h, const struct compile *c, const struct spot *s,
             const struct spot_sum *sum)
{
	const char *name = s->kind == 1 ? pool_get(&c->ps->pool, c->ps->places[s->a].display) : "";
	h->incidents = s->count;
	h->reports = sum->reports;
	h->org_count = sum->orgs;
	h->place = strdup(name);
	if (h->place == NULL)
		return -1;
	if (sum->n_pos > 0 &&
	    (h->position = position_new(sum->lat / sum->n_pos, sum->lon / sum->n_pos)) == NULL)
		return -1;
	h->categories = calloc(PICTURE_CATEGORIES, sizeof *h->categories);
	if (h->categories == NULL)
		return -1;
	for (int k = 0; k < PICTURE_CATEGORIES; k++) {
		if (sum->categories & (1u << k))
			h->categories[h->n_categories++] = (Est__V1__Category)k;
	}
	return 0;
}

static int
add_hotspots(Est__V1__Picture *p, struct compile *c, size_t slot)
{
	size_t n = 0;
	int rc = -1;
	struct spot *s = spots_collect(c, slot, &n);
	if (s == NULL)
		return -1;
	if (n > c->rules->hotspots_max)
		n = c->rules->hotspots_max;
	p->hotspots = calloc(n > 0 ? n : 1, sizeof *p->hotspots);
	if (p->hotspots == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct spot_sum sum;
		Est__V1__Hotspot *h = calloc(1, sizeof *h);
		if (h == NULL)
			goto out;
		est__v1__hotspot__init(h);
		p->hotspots[p->n_hotspots++] = h;
		spot_sum(c, slot, &s[i], &sum);
		if (hotspot_fill(h, c, &s[i], &sum) != 0)
			goto out;
	}
	rc = 0;
out:
	free(s);
	return rc;
}

static int
upcoming_cmp(const void *pa, const void *pb)
{
	const struct upcoming *a = pa, *b = pb;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int
upcoming_fill(Est__V1__UpcomingEvent *u, const struct compile *c, uint32_t i)
{
	const struct picture_store *ps = c->ps;
	const struct merge_report *r = &ps->reps[i];
	u->seq = r->seq;
	u->starts_at = r->starts_at > 0 ? r->starts_at : r->observed_at;
	u->ends_at = r->ends_at;
	u->place = strdup(pool_get(&ps->pool, ps->meta[i].place));
	u->description = strdup(pool_get(&ps->pool, ps->meta[i].desc));
	u->org = strdup(pool_get(&ps->pool, ps->orgs[r->org]));
	u->area = strdup(pool_get(&ps->pool, ps->areas[r->area]));
	return u->place && u->description && u->org && u->area ? 0 : -1;
}

static int
add_upcoming(Est__V1__Picture *p, const struct compile *c, size_t slot)
{
	size_t cap =
	    c->n_upcoming < c->rules->upcoming_max ? c->n_upcoming : c->rules->upcoming_max;
	p->upcoming = calloc(cap > 0 ? cap : 1, sizeof *p->upcoming);
	if (p->upcoming == NULL)
		return -1;
	for (size_t k = 0; k < c->n_upcoming && p->n_upcoming < cap; k++) {
		uint32_t i = c->upcoming[k].idx;
		if (!slot_has(c, slot, &c->ps->reps[i]))
			continue;
		Est__V1__UpcomingEvent *u = calloc(1, sizeof *u);
		if (u == NULL)
			return -1;
		est__v1__upcoming_event__init(u);
		p->upcoming[p->n_upcoming++] = u;
		if (upcoming_fill(u, c, i) != 0)
			return -1;
	}
	return 0;
}

static int
add_contributions(Est__V1__Picture *p, const struct compile *c, size_t slot)
{
	p->contributions = calloc(c->ps->n_orgs > 0 ? c->ps->n_orgs : 1, sizeof *p->contributions);
	if (p->contributions == NULL)
		return -1;
	for (size_t k = 0; k < c->ps->n_orgs; k++) {
		uint16_t org = (uint16_t)c->org_order[k];
		const struct contrib *ct = contrib_at(c, slot, org);
		if (ct->reports == 0 && ct->incidents == 0)
			continue;
		Est__V1__Contribution *x = calloc(1, sizeof *x);
		if (x == NULL)
			return -1;
		est__v1__contribution__init(x);
		p->contributions[p->n_contributions++] = x;
		x->org = strdup(pool_get(&c->ps->pool, c->ps->orgs[org]));
		x->reports = ct->reports;
		x->incidents = ct->incidents;
		x->confirmed = ct->confirmed;
		if (x->org == NULL)
			return -1;
	}
	return 0;
}

static double
baseline_of(const struct tally *t, int cat)
{
	uint32_t sum = 0;
	for (int k = 0; k < BASE_WEEKS; k++)
		sum += t->reports[k][cat];
	return (double)sum / BASE_WEEKS;
}

static int
add_categories(Est__V1__Picture *p, const struct tally *t)
{
	p->categories = calloc(PICTURE_CATEGORIES, sizeof *p->categories);
	if (p->categories == NULL)
		return -1;
	for (int k = 0; k < PICTURE_CATEGORIES; k++) {
		double base = baseline_of(t, k);
		uint32_t now = t->reports[K_THIS][k], prev = t->reports[K_THIS - 1][k];
		if (now == 0 && prev == 0 && base == 0.0 && t->incidents[k] == 0)
			continue;
		Est__V1__CategoryCount *cc = calloc(1, sizeof *cc);
		if (cc == NULL)
			return -1;
		est__v1__category_count__init(cc);
		cc->category = (Est__V1__Category)k;
		cc->reports = now;
		cc->incidents = t->incidents[k];
		cc->previous_week = prev;
		cc->baseline = base;
		p->categories[p->n_categories++] = cc;
	}
	return 0;
}

/* Adds one term of the score (when it is not zero) and its points to the total. */
static int
add_part(Est__V1__Picture *p, const char *label, int cat, double amount, double weight)
{
	double points = amount * weight;
	if (points == 0.0)
		return 0;
	Est__V1__ScorePart *sp = calloc(1, sizeof *sp);
	if (sp == NULL)
		return -1;
	est__v1__score_part__init(sp);
	p->score_parts[p->n_score_parts++] = sp;
	sp->label = strdup(label);
	sp->category = (Est__V1__Category)cat;
	sp->amount = amount;
	sp->weight = weight;
	sp->points = points;
	p->priority_score += points;
	return sp->label != NULL ? 0 : -1;
}

/*
 * score = sum over categories c of
 *   w_c * incidents_c                                  ("incidents")
 * + w_c * trend_factor * max(0, reports_c - baseline_c)  ("trend")
 * + w_c * confirm_factor * confirmed_c                 ("confirmed")
 */
static int
add_score(Est__V1__Picture *p, const struct tally *t, const struct picture_rules *rules)
{
	p->score_parts = calloc(3 * PICTURE_CATEGORIES, sizeof *p->score_parts);
	if (p->score_parts == NULL)
		return -1;
	for (int k = 0; k < PICTURE_CATEGORIES; k++) {
		double w = rules->weight[k];
		double above = (double)t->reports[K_THIS][k] - baseline_of(t, k);
		if (add_part(p, "incidents", k, t->incidents[k], w) != 0 ||
		    add_part(p, "trend", k, above > 0 ? above : 0.0, w * rules->trend_factor) !=
		        0 ||
		    add_part(p, "confirmed", k, t->confirmed[k], w * rules->confirm_factor) != 0)
			return -1;
	}
	return 0;
}

static Est__V1__Picture *
picture_build(struct compile *c, size_t slot, const char *area, int64_t now)
{
	char id[WEEK_ID_SIZE];
	Est__V1__Picture *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	est__v1__picture__init(p);
	week_format(c->week, id, sizeof id);
	p->area = strdup(area);
	p->week = strdup(id);
	p->period_start = c->bound[K_THIS];
	p->period_end = c->bound[K_THIS + 1];
	p->generated_at = now;
	p->through_seq = c->ps->through;
	if (p->area == NULL || p->week == NULL || add_categories(p, &c->tally[slot]) != 0 ||
	    add_score(p, &c->tally[slot], c->rules) != 0 || add_hotspots(p, c, slot) != 0 ||
	    add_upcoming(p, c, slot) != 0 || add_contributions(p, c, slot) != 0)
		picture_free(&p);
	return p;
}

void
picture_free(Est__V1__Picture **p)
{
	if (p == NULL || *p == NULL)
		return;
	est__v1__picture__free_unpacked(*p, NULL);
	*p = NULL;
}

/* --- compiling: the whole week ------------------------------------------------ */

static int
week_span(struct compile *c, const char *id, char *err, size_t errlen)
{
	struct week w;
	if (week_parse(id, &c->week, err, errlen) != 0)
		return -1;
	w = c->week;
	for (int k = 0; k < BASE_WEEKS; k++)
		w = week_prev(w);
	for (int k = 0; k < SPAN_WEEKS; k++, w = week_next(w)) {
		int64_t end;
		if (week_bounds(w, &c->bound[k], &end) != 0) {
			snprintf(err, errlen, "week: no local time for %s", id);
			return -1;
		}
		c->bound[k + 1] = end;
	}
	return 0;
}

static void
slots_map(struct compile *c, const char *const *areas, size_t n_areas)
{
	const struct picture_store *ps = c->ps;
	c->n_areas = n_areas;
	c->n_slots = n_areas + 2;
	for (size_t a = 0; a < ps->n_areas; a++) {
		c->slot_of[a] = n_areas;
		for (size_t i = 0; i < n_areas; i++) {
			if (strcmp(pool_get(&ps->pool, ps->areas[a]), areas[i]) == 0) {
				c->slot_of[a] = i;
				break;
			}
		}
	}
}

/* Organisations in name order (insertion sort: there are few). */
static void
orgs_order(struct compile *c)
{
	const struct picture_store *ps = c->ps;
	for (size_t i = 0; i < ps->n_orgs; i++) {
		size_t j = i;
		for (; j > 0; j--) {
			const char *prev = pool_get(&ps->pool, ps->orgs[c->org_order[j - 1]]);
			if (strcmp(prev, pool_get(&ps->pool, ps->orgs[i])) <= 0)
				break;
			c->org_order[j] = c->org_order[j - 1];
		}
		c->org_order[j] = (uint32_t)i;
	}
}

static int
compile_alloc(struct compile *c)
{
	size_t n = c->ps->n > 0 ? c->ps->n : 1, orgs = c->ps->n_orgs > 0 ? c->ps->n_orgs : 1;
	c->tally = calloc(c->n_slots, sizeof *c->tally);
	c->contrib = calloc(c->n_slots * orgs, sizeof *c->contrib);
	c->cand = malloc(n * sizeof *c->cand);
	c->upcoming = malloc(n * sizeof *c->upcoming);
	c->org_stamp = calloc(orgs, sizeof *c->org_stamp);
	c->org_order = calloc(orgs, sizeof *c->org_order);
	return c->tally && c->contrib && c->cand && c->upcoming && c->org_stamp && c->org_order
	           ? 0
	           : -1;
}

static void
compile_fini(struct compile *c)
{
	merge_result_fini(&c->merged);
	free(c->week_inc);
	free(c->org_order);
	free(c->org_stamp);
	free(c->upcoming);
	free(c->cand);
	free(c->contrib);
	free(c->tally);
}

/* Scans, merges and tallies: everything the pictures are then built from. */
static int
compile_tally(struct compile *c)
{
	scan_reports(c);
	qsort(c->upcoming, c->n_upcoming, sizeof *c->upcoming, upcoming_cmp);
	if (merge_run(c->cand, c->n_cand, &c->rules->merge, &c->merged) != 0)
		return -1;
	c->week_inc =
	    malloc((c->merged.n_incidents > 0 ? c->merged.n_incidents : 1) * sizeof *c->week_inc);
	if (c->week_inc == NULL)
		return -1;
	tally_incidents(c);
	orgs_order(c);
	return 0;
}

/* Competition ranking of the area pictures: 1 + the number of areas scoring higher. */
static void
rank_areas(Est__V1__Picture **out, size_t n_areas)
{
	for (size_t i = 0; i < n_areas; i++) {
		uint32_t higher = 0;
		for (size_t j = 0; j < n_areas; j++)
			higher += out[j]->priority_score > out[i]->priority_score;
		out[i]->rank = higher + 1;
		out[i]->ranked_areas = (uint32_t)n_areas;
	}
	out[n_areas]->rank = 0;
	out[n_areas]->ranked_areas = (uint32_t)n_areas;
}

int
picture_compile(const struct picture_store *ps, const struct picture_rules *rules, const char *week,
                const char *const *areas, size_t n_areas, int64_t now, Est__V1__Picture **out,
                char *err, size_t errlen)
{
	struct compile c;
	int rc = -1;
	memset(&c, 0, sizeof c);
	c.ps = ps;
	c.rules = rules;
	for (size_t i = 0; i <= n_areas && i <= PICTURE_MAX_AREAS; i++)
		out[i] = NULL;
	if (n_areas > PICTURE_MAX_AREAS) {
		snprintf(err, errlen, "areas: more than %d", PICTURE_MAX_AREAS);
		return -1;
	}
	if (week_span(&c, week, err, errlen) != 0)
		goto out;
	slots_map(&c, areas, n_areas);
	snprintf(err, errlen, "out of memory");
	if (compile_alloc(&c) != 0 || compile_tally(&c) != 0)
		goto out;
	for (size_t i = 0; i <= n_areas; i++) {
		out[i] = picture_build(&c, i < n_areas ? i : slot_all(&c),
		                       i < n_areas ? areas[i] : PICTURE_ALL, now);
		if (out[i] == NULL)
			goto out;
	}
	rank_areas(out, n_areas);
	err[0] = '\0';
	rc = 0;
out:
	for (size_t i = 0; rc != 0 && i <= n_areas; i++)
		picture_free(&out[i]);
	compile_fini(&c);
	return rc;
}
