/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picture: the store of current reports and the compiler of situational
 * pictures (see picture.h, docs/pictures.md).
 *
 * The store keeps one 24-byte struct rec per (org, source_id), with
 * strings interned once (organisations, areas, normalized place names) in
 * one string pool; spans and upcoming events' text sit in a side table.
 * Compiling a week reads the store once: it counts the reports of the ten
 * weeks around the week (the eight of the baseline, the week, the one
 * after for merging), merges only the reports of the week and its
 * neighbours, and then builds each picture from those tallies. No
 * per-report time zone work is done: the week boundaries are computed once
 * and compared as plain integers.
 */
#include "picture.h"

#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thp.h"
#include "validate.h"
#include "week.h"
#include "wire/diag.h"

#define STORE_AREAS 256
#define POOL_MAX    (1024u * 1024 * 1024)
#define BASE_WEEKS  8
#define TREND_WEEKS 12
/* w-12 .. w+1: the trend's weeks w-11 .. w, with one week on either side
 * so that merging sees an incident's reports across both boundaries. */
#define SPAN_WEEKS     (TREND_WEEKS + 2)
#define K_THIS         TREND_WEEKS /* index of the week itself among the span */
#define K_FIRST        1           /* index of the oldest week of the trend */
#define WEEK_S         (7 * 86400)
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
	struct slot *s = thp_calloc(cap, sizeof *s);
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

/*
 * One stored report: what counting and merging read, 24 bytes (a million
 * of them: 23 MiB). The rest lives beside it only where needed: the
 * identity (struct key) for revisions, and an ext row for the few reports
 * with a span, an upcoming event's text or a far observed_at. With its key
 * and index slot a report takes about 40 bytes (a million: about 38 MiB).
 *
 * seq: a log seq in 32 bits. 4 billion entries is far beyond any
 * instance's life (a thousand reports an hour for almost 500 years), so
 * the store refuses a larger seq with an error (check_report) rather than
 * widen every record for it.
 *
 * observed: observed_at as seconds from STORE_EPOCH (2000-01-01, the
 * earliest observed_at ingest accepts, VALIDATE_EARLIEST), which reaches
 * to 2136-02-07. A time outside that (only a store filled by hand can have
 * one, or a log after 2136) is kept exact too: OBS_FAR, and the time itself
 * in the ext row (see obs_pack, rec_observed). Nothing is clamped.
 *
 * lat, lon: degrees in units of 1e-7 (about 1 cm), see pos_pack.
 */
struct rec {
	uint32_t seq;
	uint32_t observed; /* observed_at - STORE_EPOCH, or OBS_FAR */
	int32_t lat, lon;  /* valid with REC_POS; 1e-7 degree, see pos_pack */
	uint32_t place;    /* place id, 0 = none */
	uint16_t org;
	uint8_t area;  /* < STORE_AREAS */
	uint8_t flags; /* category (REC_CATEGORY) and the bits below */
};
_Static_assert(sizeof(struct rec) == 24,
               "struct rec is the store's per-report cost: keep it small");
#define REC_CATEGORY  0x0fu
#define REC_POS       0x10u
#define REC_WITHDRAWN 0x20u
#define REC_EXT       0x40u /* has an ext row */
#define REC_DEAD      0x80u /* replaced by a later revision at a higher index; with WITHDRAWN */

/*
 * Per stored report: the hash of its (org, source_id) and its revision. The
 * source id itself is not kept when the store was loaded from a log (a
 * million of them took about 20 MiB): a hash that matches is confirmed
 * against the log's `reports` table (log_report_at), so two ids with one
 * hash stay two reports. That read happens for a revision, almost never
 * otherwise (a new id matches some stored hash with a chance of about
 * n / 2^32). A store filled by hand (tests, benchmarks) has no log: there
 * id is the source id's offset in the pool instead, and the hash is
 * computed from it when needed.
 */
struct key {
	uint32_t id; /* with a log: source_hash; without: source_id in the pool */
	uint32_t revision;
};

/*
 * starts_at/ends_at when given, an upcoming event's text, and a far
 * observed_at; sorted by idx. 32 bytes: far fills what was padding.
 */
struct ext {
	uint32_t idx;
	uint32_t desc;  /* upcoming events only: description in the pool */
	uint32_t place; /* upcoming events only: the place as written */
	uint32_t far;   /* with OBS_FAR only: the int64_t observed_at's 8 bytes in the pool */
	int64_t starts_at, ends_at;
};

struct place {
	uint32_t norm;    /* normalized name in the pool */
	uint32_t display; /* the first spelling seen */
};

/* One table of the index of source ids: open addressing over mask + 1 slots. */
struct src_table {
	uint32_t *slots;
	size_t mask;
};

struct picture_store {
	struct rec *reps; /* in the order stored (a revision moves to the end) */
	struct key *keys;
	struct log *lg; /* the log the store was loaded from (see struct key), or NULL */
	size_t n, cap, current;
	size_t dead; /* records with REC_DEAD, dropped by store_compact */
	struct ext *ext;
	size_t n_ext, cap_ext;
	struct pool pool;
	/* (org, source_id) -> report: see source_slot; grows a part at a time (source_reserve) */
	struct src_table src;     /* where new keys go */
	struct src_table src_old; /* being moved into src (slots NULL when not) */
	size_t src_moved;         /* reports before this one are in src, not src_old */
	size_t src_upto;          /* src_old holds the reports before this one */
	uint32_t *src_next;       /* the next table's memory, made ready ahead (source_ready) */
	size_t src_next_ready;    /* of it, the bytes zeroed */
	size_t src_n;             /* keys, in both tables */
	struct index names;       /* normalized place -> place id */
	struct place *places;     /* id 0 = no place */
	size_t n_places, cap_places;
	uint32_t orgs[PICTURE_MAX_ORGS];
	size_t n_orgs;
	uint32_t areas[STORE_AREAS];
	size_t n_areas;
	uint64_t through;
	int64_t closed_until; /* see picture_store_closed_until */
	/* Reports whose time (rec_time_in) lies before it are not held (see set_horizon). */
	int64_t horizon;
	size_t early; /* report entries passed over for it (picture_store_current) */
};

/* --- the record's compact fields ------------------------------------------- */

#define STORE_EPOCH ((int64_t)VALIDATE_EARLIEST)
#define OBS_FAR     UINT32_MAX
#define POS_SCALE   1e7 /* units of a stored degree */

/* observed_at as a record holds it: seconds from STORE_EPOCH, or OBS_FAR when it does not fit. */
static uint32_t
obs_pack(int64_t t)
{
	if (t >= STORE_EPOCH && t - STORE_EPOCH < (int64_t)OBS_FAR)
		return (uint32_t)(t - STORE_EPOCH);
	return OBS_FAR;
}

/*
 * A position in units of 1e-7 degree, rounded to the nearest. A position
 * given with at most 7 decimals comes back (pos_unpack) bit-identical to
 * the double it was parsed into: that double is the correctly rounded
 * double of a decimal k / 10^7; x * 1e7 is within far less than 0.5 of
 * the integer k (|x| <= 180, so the error is a few 1e-7 of a unit), so
 * llround gives k exactly, and k / 1e7 (k and 1e7 both exact doubles, the
 * division correctly rounded) is again the correctly rounded double of
 * k / 10^7. Any other position moves by at most 0.5e-7 degree (5.6 mm of
 * latitude). The one exception is -0.0, which comes back as 0.0; no
 * figure can tell them apart (sums of positions start at 0.0). check_report
 * keeps |deg| <= 180, so the result fits an int32_t.
 */
static int32_t
pos_pack(double deg)
{
	return (int32_t)llround(deg * POS_SCALE);
}

static double
pos_unpack(int32_t v)
{
	return (double)v / POS_SCALE;
}

struct source_key {
	uint16_t org;
	const char *org_name;
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
	ps->src.slots = calloc(1024, sizeof *ps->src.slots);
	ps->src.mask = 1023;
	ps->horizon = INT64_MIN;
	if (ps->places == NULL || ps->pool.buf == NULL || ps->src.slots == NULL ||
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
	free((*ps)->keys);
	free((*ps)->ext);
	free((*ps)->pool.buf);
	free((*ps)->src.slots);
	free((*ps)->src_old.slots);
	free((*ps)->src_next);
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
	return ps->current + ps->early;
}

void
picture_store_set_horizon(struct picture_store *ps, int64_t from)
{
	if (ps->n == 0)
		ps->horizon = from;
}

int64_t
picture_store_horizon(const struct picture_store *ps)
{
	return ps->horizon;
}

int64_t
picture_store_closed_until(const struct picture_store *ps)
{
	return ps->closed_until;
}

void
picture_store_note(struct picture_store *ps, const Est__V1__Picture *p)
{
	if (p->area != NULL && strcmp(p->area, PICTURE_ALL) == 0 &&
	    p->generated_at >= p->period_end && p->period_end > ps->closed_until)
		ps->closed_until = p->period_end;
}

/* The id of name in a small table of n pool offsets; -1 when it is not there. */
static int
find_small(const struct picture_store *ps, const uint32_t *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pool_get(&ps->pool, table[i]), name) == 0)
			return (int)i;
	}
	return -1;
}

/* The id of name in a small table of pool offsets, adding it when new; -1 when full. */
static int
intern_small(struct picture_store *ps, uint32_t *table, size_t *n, size_t cap, const char *name)
{
	int id = find_small(ps, table, *n, name);
	if (id >= 0)
		return id;
	if (*n >= cap || pool_put(&ps->pool, name, strlen(name), &table[*n]) != 0)
		return -1;
	return (int)(*n)++;
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
	/* Doubling: realloc of a large block moves pages rather than copying them. */
	size_t cap = ps->cap == 0 ? 4096 : ps->cap * 2;
	struct rec *r = realloc(ps->reps, cap * sizeof *r);
	if (r == NULL)
		return -1;
	ps->reps = r;
	struct key *k = realloc(ps->keys, cap * sizeof *k);
	if (k == NULL)
		return -1;
	ps->keys = k;
	ps->cap = cap;
	return 0;
}

/* --- (org, source_id) -> report --------------------------------------------- */

static uint32_t
source_hash(uint16_t org, const char *id)
{
	return hash_bytes(id, strlen(id), 2166136261u ^ (uint32_t)org);
}

/* The source_hash of stored report i (see struct key). */
static uint32_t
key_hash(const struct picture_store *ps, size_t i)
{
	if (ps->lg != NULL)
		return ps->keys[i].id;
	return source_hash(ps->reps[i].org, pool_get(&ps->pool, ps->keys[i].id));
}

/*
 * A slot is 4 bytes: the report index + 1 in the low SRC_IDX_BITS bits and
 * the top bits of the key's hash above them, so a probe rarely has to look
 * at a report that is not the one sought (each such look is a cache miss).
 */
#define SRC_IDX_BITS 24
#define SRC_IDX_MASK ((1u << SRC_IDX_BITS) - 1)
_Static_assert(PICTURE_MAX_REPORTS < SRC_IDX_MASK, "a report index must fit a source slot");

static uint32_t
source_tag(uint32_t h)
{
	return h & ~SRC_IDX_MASK;
}

/* The report index a slot holds + 1; 0 when empty. */
static uint32_t
source_val(uint32_t slot)
{
	return slot & SRC_IDX_MASK;
}

/*
 * Whether stored report v (same org, same hash) is k: by its source id
 * when the store keeps them, else by asking the log whether the entry at
 * v's seq is k's. 1 yes, 0 no, -1 when the log cannot be read.
 */
static int
source_same(const struct picture_store *ps, uint32_t v, const struct source_key *k)
{
	char err[256];
	if (ps->lg == NULL)
		return strcmp(pool_get(&ps->pool, ps->keys[v].id), k->id) == 0;
	int rc = log_report_at(ps->lg, ps->reps[v].seq, k->org_name, k->id, err, sizeof err);
	if (rc < 0)
		diag_say(
		    "picture store: cannot tell report %s of %s from another with its hash: %s",
		    k->id, k->org_name, err);
	return rc;
}

/*
 * Looks for (org, id), hash h, in t from h's home on: *found gets the slot
 * holding it, or NULL. In the old table of a move (see source_reserve) a
 * slot of a report moved already, or of one replaced by a revision since,
 * is passed over. The full key is compared whenever the hash matches, so
 * two ids with one hash are never taken for one report. 0, or -1 when that
 * comparison could not be made (the log could not be read).
 */
static int
table_find(const struct picture_store *ps, const struct src_table *t, bool old,
           const struct source_key *k, uint32_t h, uint32_t **found)
{
	*found = NULL;
	for (size_t i = h & t->mask; t->slots[i] != 0; i = (i + 1) & t->mask) {
		if (source_tag(t->slots[i]) != source_tag(h))
			continue;
		uint32_t v = source_val(t->slots[i]) - 1;
		if (old && (v < ps->src_moved || (ps->reps[v].flags & REC_DEAD)))
			continue;
		if ((ps->lg != NULL && ps->keys[v].id != h) || ps->reps[v].org != k->org)
			continue;
		int same = source_same(ps, v, k);
		if (same < 0)
			return -1;
		if (same) {
			*found = &t->slots[i];
			break;
		}
	}
	return 0;
}

/*
 * The slot holding (org, id) into *slot, or NULL when no table holds it;
 * *old tells whether the slot is in the old table of a move. 0, or -1 as
 * table_find.
 */
static int
source_slot(const struct picture_store *ps, const struct source_key *k, uint32_t h, uint32_t **slot,
            bool *old)
{
	*old = ps->src_old.slots != NULL;
	if (*old && table_find(ps, &ps->src_old, true, k, h, slot) != 0)
		return -1;
	if (*old && *slot != NULL)
		return 0;
	*old = false;
	return table_find(ps, &ps->src, false, k, h, slot);
}

/* Puts slot value v of a key with hash h into the first empty slot of its probe in t. */
static void
table_put(struct src_table *t, uint32_t h, uint32_t v)
{
	size_t j = h & t->mask;
	while (t->slots[j] != 0)
		j = (j + 1) & t->mask;
	t->slots[j] = v;
}

/*
 * Puts the live reports [from, to) into the new table, reading them and
 * their source ids front to back (a walk over the old table's slots would
 * jump around them, a cache miss a report).
 */
static size_t
source_put_reports(struct picture_store *ps, size_t from, size_t to)
{
	size_t n = 0;
	for (size_t i = from; i < to; i++) {
		if (ps->reps[i].flags & REC_DEAD)
			continue;
		uint32_t h = key_hash(ps, i);
		table_put(&ps->src, h, source_tag(h) | (uint32_t)(i + 1));
		n++;
	}
	return n;
}

/*
 * Makes s (cap slots, zeroed) the only table, filled from the live reports
 * (every live report is in the index once). A move going on is dropped
 * with the old table.
 */
static void
source_rebuild(struct picture_store *ps, uint32_t *s, size_t cap)
{
	free(ps->src.slots);
	free(ps->src_old.slots);
	free(ps->src_next);
	ps->src = (struct src_table){s, cap - 1};
	ps->src_old = (struct src_table){0};
	ps->src_next = NULL;
	ps->src_next_ready = 0;
	ps->src_moved = ps->src_upto = 0;
	ps->src_n = source_put_reports(ps, 0, ps->n); /* fewer when records were let go */
}

/* Moves the next `count` reports of the old table into the new one; frees the old one when done. */
static void
source_move(struct picture_store *ps, size_t count)
{
	size_t end = count < ps->src_upto - ps->src_moved ? ps->src_moved + count : ps->src_upto;
	(void)source_put_reports(ps, ps->src_moved, end);
	ps->src_moved = end;
	if (end == ps->src_upto) {
		free(ps->src_old.slots);
		ps->src_old = (struct src_table){0};
		ps->src_moved = ps->src_upto = 0;
	}
}

/*
 * Room for one more key at a load of at most 3/4. Growing moves the keys
 * a part at a time rather than all at once, which stalled the hub's main
 * thread (and so every acknowledgement) for about 60 ms at 786,432 reports
 * and twice that at each later doubling. A new table of twice the size goes
 * beside the old one, which then holds the reports below src_upto (the
 * store's size then); each later reserve puts the next SRC_MOVE of those
 * reports into the new table, in report order, src_moved counting them.
 * Meanwhile a key is in one of the two: in the old one while its report
 * is at or past src_moved (and below src_upto), else in the new one;
 * source_slot looks in both, the old one passing over the slots of reports
 * moved already. A new report goes into the new table, and so does a
 * revision of a report not moved yet (report_move), as its record moves
 * past src_upto: the old slot, left pointing at the dead record, is passed
 * over as well. Reports below src_upto are at most twice the keys (the
 * store compacts when more than half are dead), so 3/2 of the old table's
 * size: the move ends after at most 3/16 of that size in keys added, and
 * the new table (twice the size) grows again only after 3/4 of it.
 */
#define SRC_MOVE 8

/*
 * The next table's memory is made ready ahead of the growth, a part at a
 * time: each fresh page costs a fault on its first write (about 10 us on
 * this project's VMs, 23 ms for the 2,048 pages of an 8 MiB table), and a
 * move's first part alone writes all over the new table. From a load of
 * 5/8 on, each reserve zeroes the next SRC_READY bytes of it (by hand:
 * malloc'd, its pages are first written here). The next table has 8 bytes
 * for each slot of this one and 1/8 of this one's size in keys comes
 * before the growth: 64 bytes a key would do. 0, or -1 when out of memory.
 */
#define SRC_READY 256
static int
source_ready(struct picture_store *ps, size_t bytes)
{
	size_t cap = ps->src.mask + 1, size = cap * 2 * sizeof *ps->src_next;
	if (ps->src_next == NULL && (ps->src_next = thp_malloc(size)) == NULL)
		return -1;
	size_t n = bytes < size - ps->src_next_ready ? bytes : size - ps->src_next_ready;
	memset((char *)ps->src_next + ps->src_next_ready, 0, n);
	ps->src_next_ready += n;
	return 0;
}

static int
source_reserve(struct picture_store *ps)
{
	if (ps->src_old.slots != NULL)
		source_move(ps, SRC_MOVE);
	size_t cap = ps->src.mask + 1;
	if ((ps->src_n + 1) * 8 > cap * 5)
		(void)source_ready(ps, SRC_READY); /* failing, the growth tries again */
	if ((ps->src_n + 1) * 4 <= cap * 3)
		return 0;
	if (source_ready(ps, SIZE_MAX) != 0)
		return -1;
	/* A move not ended yet (keys came faster than it) ends first. */
	if (ps->src_old.slots != NULL)
		source_move(ps, SIZE_MAX);
	ps->src_old = ps->src;
	ps->src = (struct src_table){ps->src_next, cap * 2 - 1};
	ps->src_next = NULL;
	ps->src_next_ready = 0;
	ps->src_moved = 0;
	ps->src_upto = ps->n;
	return 0;
}

/* --- ext rows ------------------------------------------------------------------ */

/* The position of report i's ext row, or where it would go. */
static size_t
ext_find(const struct picture_store *ps, uint32_t i)
{
	size_t lo = 0, hi = ps->n_ext;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ps->ext[mid].idx < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct ext *
ext_of(const struct picture_store *ps, uint32_t i)
{
	if (!(ps->reps[i].flags & REC_EXT))
		return NULL;
	return &ps->ext[ext_find(ps, i)];
}

/*
 * ext_of for a pass over the reports in order: the ext rows are in report
 * order too, so the cursor *at (0 before the first report) walks them
 * beside i instead of a binary search for each (which was 9 of the
 * snapshot's 15 ms on 1M reports).
 */
static const struct ext *
ext_walk(const struct picture_store *ps, size_t *at, size_t i)
{
	if (!(ps->reps[i].flags & REC_EXT))
		return NULL;
	while (ps->ext[*at].idx < i)
		(*at)++;
	return &ps->ext[*at];
}

/* Report i's ext row, added when missing (new reports come last, so it is mostly an append). */
static struct ext *
ext_get(struct picture_store *ps, uint32_t i)
{
	size_t at = ext_find(ps, i);
	if (at < ps->n_ext && ps->ext[at].idx == i)
		return &ps->ext[at];
	if (ps->n_ext == ps->cap_ext) {
		size_t cap = ps->cap_ext == 0 ? 256 : ps->cap_ext * 2;
		struct ext *e = realloc(ps->ext, cap * sizeof *e);
		if (e == NULL)
			return NULL;
		ps->ext = e;
		ps->cap_ext = cap;
	}
	memmove(&ps->ext[at + 1], &ps->ext[at], (ps->n_ext - at) * sizeof *ps->ext);
	ps->n_ext++;
	memset(&ps->ext[at], 0, sizeof ps->ext[at]);
	ps->ext[at].idx = i;
	return &ps->ext[at];
}

static void
ext_drop(struct picture_store *ps, uint32_t i)
{
	size_t at = ext_find(ps, i);
	if (at < ps->n_ext && ps->ext[at].idx == i) {
		memmove(&ps->ext[at], &ps->ext[at + 1], (ps->n_ext - at - 1) * sizeof *ps->ext);
		ps->n_ext--;
	}
}

/* Report i's observed_at (see struct rec), given its ext row x (ext_of, ext_walk). */
static int64_t
rec_observed(const struct picture_store *ps, size_t i, const struct ext *x)
{
	int64_t t;
	if (ps->reps[i].observed != OBS_FAR)
		return STORE_EPOCH + ps->reps[i].observed;
	/* A far one always has an ext row (report_fill). */
	memcpy(&t, pool_get(&ps->pool, x->far), sizeof t);
	return t;
}

/* Report i of the store as the merge sees it, given its ext row x (ext_of, ext_walk). */
static void
rec_expand_with(const struct picture_store *ps, size_t i, const struct ext *x,
                struct merge_report *m)
{
	const struct rec *r = &ps->reps[i];
	m->seq = r->seq;
	m->observed_at = rec_observed(ps, i, x);
	m->starts_at = x != NULL ? x->starts_at : 0;
	m->ends_at = x != NULL ? x->ends_at : 0;
	m->lat = pos_unpack(r->lat);
	m->lon = pos_unpack(r->lon);
	m->place = r->place;
	m->org = r->org;
	m->area = r->area;
	m->category = (uint8_t)(r->flags & REC_CATEGORY);
	m->has_position = (r->flags & REC_POS) ? 1 : 0;
}

/* Report i of the store as the merge sees it. */
static void
rec_expand(const struct picture_store *ps, size_t i, struct merge_report *m)
{
	rec_expand_with(ps, i, ext_of(ps, (uint32_t)i), m);
}

static int
rec_withdrawn(const struct picture_store *ps, size_t i)
{
	return (ps->reps[i].flags & REC_WITHDRAWN) != 0;
}

/*
 * The time that decides whether a report is held (see
 * picture_store_set_horizon): the later of observed_at and the end of its
 * time as the pictures see it (event_span: its span, when it gives one).
 * Every use of a report in a compile or a follow-up is bounded below by
 * one of the two.
 */
static int64_t
time_held(int64_t observed_at, int64_t starts_at, int64_t ends_at)
{
	int64_t lo = starts_at > 0 ? starts_at : observed_at;
	int64_t hi = ends_at >= lo ? ends_at : lo;
	return hi > observed_at ? hi : observed_at;
}

/* Report i's time as the horizon sees it, given its ext row x (ext_walk: NULL when none). */
static int64_t
rec_time_in(const struct picture_store *ps, size_t i, const struct ext *x)
{
	return time_held(rec_observed(ps, i, x), x != NULL ? x->starts_at : 0,
	                 x != NULL ? x->ends_at : 0);
}

/* Fills report i from r (org, area and place already interned). */
static int
report_fill(struct picture_store *ps, size_t i, uint64_t seq, const Est__V1__Report *r,
            uint32_t place)
{
	struct rec *m = &ps->reps[i];
	uint8_t category =
	    (uint8_t)(r->category >= 0 && r->category < PICTURE_CATEGORIES ? r->category : 0);
	int upcoming = category == EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT;
	m->seq = (uint32_t)seq; /* check_report: seq <= UINT32_MAX */
	m->observed = obs_pack(r->observed_at);
	m->lat = r->position != NULL ? pos_pack(r->position->lat) : 0;
	m->lon = r->position != NULL ? pos_pack(r->position->lon) : 0;
	m->place = place;
	m->flags = (uint8_t)(category | (r->position != NULL ? REC_POS : 0) |
	                     (r->withdrawn ? REC_WITHDRAWN : 0));
	ps->keys[i].revision = r->revision;
	int far = m->observed == OBS_FAR;
	if (r->starts_at == 0 && r->ends_at == 0 && !upcoming && !far) {
		ext_drop(ps, (uint32_t)i);
		return 0;
	}
	struct ext *x = ext_get(ps, (uint32_t)i);
	if (x == NULL)
		return -1;
	m->flags |= REC_EXT;
	x->starts_at = r->starts_at;
	x->ends_at = r->ends_at;
	x->desc = x->place = x->far = 0;
	/* The pool holds these 8 bytes like a string's (pool_put copies n bytes); read by memcpy.
	 */
	if (far &&
	    pool_put(&ps->pool, (const char *)&r->observed_at, sizeof r->observed_at, &x->far) != 0)
		return -1;
	if (!upcoming)
		return 0;
	/* Only upcoming events are listed with their text; keep the rest small. */
	const char *d = r->description != NULL ? r->description : "";
	const char *p = r->place != NULL ? r->place : "";
	if (pool_put(&ps->pool, d, strlen(d), &x->desc) != 0 ||
	    pool_put(&ps->pool, p, strlen(p), &x->place) != 0)
		return -1;
	return 0;
}

/*
 * Drops the dead records (see report_move), keeping the order of the rest,
 * their ext rows with them, and rebuilds the index for the new positions.
 */
static int
store_compact(struct picture_store *ps, size_t cap)
{
	size_t w = 0, er = 0, ew = 0;
	/* The new index first: once records move, the old one is wrong. */
	uint32_t *slots = calloc(cap, sizeof *slots);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < ps->n; i++) {
		while (er < ps->n_ext && ps->ext[er].idx < i)
			er++; /* the row of a dead record */
		if (ps->reps[i].flags & REC_DEAD)
			continue;
		if ((ps->reps[i].flags & REC_EXT) && er < ps->n_ext && ps->ext[er].idx == i) {
			ps->ext[ew] = ps->ext[er++];
			ps->ext[ew++].idx = (uint32_t)w;
		}
		ps->reps[w] = ps->reps[i];
		ps->keys[w++] = ps->keys[i];
	}
	ps->n = w;
	ps->n_ext = ew;
	ps->dead = 0;
	source_rebuild(ps, slots, cap);
	return 0;
}

/*
 * A later revision of report i goes to a new record at the end rather than
 * over the old one, which is marked dead: so the records stay in seq order
 * and a report that gains a span or text only ever appends an ext row
 * (inserting one in the middle of a big table would move all behind it).
 * The index slot holding i is pointed at the new record, or in the old
 * table of a move (`old`), the new record gets a slot in the new table
 * under its key's hash h (see source_reserve). Returns its index (i itself when no record can be
 * added: then ext_get may insert mid-table).
 */
static long
report_move(struct picture_store *ps, size_t i, uint32_t *slot, bool old, uint32_t h)
{
	if (reports_reserve(ps) != 0)
		return (long)i; /* at the cap or out of memory: over the old one after all */
	size_t j = ps->n++;
	ps->reps[j] = ps->reps[i];
	ps->reps[j].flags = ps->reps[i].flags & (uint8_t)~REC_EXT;
	ps->keys[j] = ps->keys[i];
	ps->reps[i].flags = REC_WITHDRAWN | REC_DEAD;
	ps->dead++;
	if (old)
		table_put(&ps->src, h, source_tag(h) | (uint32_t)(j + 1));
	else
		*slot = (*slot & ~SRC_IDX_MASK) | (uint32_t)(j + 1);
	return (long)j;
}

/*
 * A new report for (org, source_id), known not to be stored; returns its
 * index or -1. Its slot is the first empty one of its probe in the new
 * table (where source_slot would not find it either).
 */
static long
report_insert(struct picture_store *ps, const struct source_key *k, uint32_t h)
{
	uint32_t off = 0;
	if (reports_reserve(ps) != 0 || source_reserve(ps) != 0 ||
	    (ps->lg == NULL && pool_put(&ps->pool, k->id, strlen(k->id), &off) != 0))
		return -1;
	size_t i = ps->n++;
	memset(&ps->reps[i], 0, sizeof ps->reps[i]);
	ps->reps[i].org = k->org;
	ps->reps[i].flags = REC_WITHDRAWN; /* not current until filled */
	ps->keys[i] = (struct key){ps->lg != NULL ? h : off, 0};
	table_put(&ps->src, h, source_tag(h) | ((uint32_t)i + 1));
	ps->src_n++;
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

/*
 * What the compact record cannot hold (see struct rec, pos_pack): a seq
 * above UINT32_MAX, a position that is not a number of degrees within
 * -180..180. Ingest never lets such a position in (validate.c); a log that
 * long is beyond any instance's life. 0, or -1 with the reason in err.
 */
static int
check_report(uint64_t seq, const Est__V1__Report *r, char *err, size_t errlen)
{
	if (seq > UINT32_MAX) {
		snprintf(err, errlen,
		         "seq %llu: above %lu, the highest seq the picture store keeps (4 billion "
		         "entries; a log this long needs a wider store)",
		         (unsigned long long)seq, (unsigned long)UINT32_MAX);
		return -1;
	}
	if (r->position != NULL &&
	    !(fabs(r->position->lat) <= 180.0 && fabs(r->position->lon) <= 180.0)) {
		snprintf(err, errlen,
		         "seq %llu: position: not within -180..180 degrees, so the picture store "
		         "cannot keep it",
		         (unsigned long long)seq);
		return -1;
	}
	return 0;
}

/*
 * A report (revision) before the horizon: not held. A held earlier revision
 * i stops counting but stays, withdrawn, so that its key and revision are
 * still known (the log never holds a lower revision after a higher one:
 * ingest refuses it, so a report not held at all needs no record).
 */
static int
report_pass(struct picture_store *ps, long i, uint32_t revision)
{
	if (i < 0) {
		ps->early++;
		return 0;
	}
	ps->current -= rec_withdrawn(ps, (size_t)i) ? 0 : 1;
	ps->reps[i].flags |= REC_WITHDRAWN;
	ps->keys[i].revision = revision;
	return 0;
}

void
picture_store_prefetch(const struct picture_store *ps, const char *org, const char *source_id)
{
	int o = org != NULL ? find_small(ps, ps->orgs, ps->n_orgs, org) : -1;
	if (o < 0 || source_id == NULL)
		return;
	uint32_t h = source_hash((uint16_t)o, source_id);
	__builtin_prefetch(&ps->src.slots[h & ps->src.mask]);
	if (ps->src_old.slots != NULL)
		__builtin_prefetch(&ps->src_old.slots[h & ps->src_old.mask]);
}

int
picture_store_add(struct picture_store *ps, uint64_t seq, const char *org, const char *area_hint,
                  const Est__V1__Report *r)
{
	char area[64], err[256];
	/* Said here, since the caller's message cannot know the reason (memory, a cap or this). */
	if (check_report(seq, r, err, sizeof err) != 0) {
		diag_say("picture store: report %s of %s not counted: %s",
		         r->source_id != NULL ? r->source_id : "", org, err);
		return -1;
	}
	if (seq > ps->through)
		ps->through = seq;
	report_area(r, area_hint, area, sizeof area);
	int org_id = intern_small(ps, ps->orgs, &ps->n_orgs, PICTURE_MAX_ORGS, org);
	int area_id = intern_small(ps, ps->areas, &ps->n_areas, STORE_AREAS, area);
	long place = intern_place(ps, r->place != NULL ? r->place : "");
	if (org_id < 0 || area_id < 0 || place < 0 || r->source_id == NULL)
		return -1;
	/* At the cap, dead records make room (compacting moves slots: before the lookup). */
	if (ps->n >= PICTURE_MAX_REPORTS && ps->dead > 0 &&
	    store_compact(ps, ps->src.mask + 1) != 0)
		return -1;
	struct source_key k = {(uint16_t)org_id, org, r->source_id};
	uint32_t h = source_hash(k.org, k.id);
	uint32_t *slot = NULL;
	bool old = false;
	if (source_slot(ps, &k, h, &slot, &old) != 0)
		return -1;
	long i = slot != NULL ? (long)source_val(*slot) - 1 : -1;
	if (i >= 0 && r->revision < ps->keys[i].revision)
		return 0; /* an older revision never replaces a newer one */
	if (time_held(r->observed_at, r->starts_at, r->ends_at) < ps->horizon)
		return report_pass(ps, i, r->revision);
	if (i >= 0) {
		ps->current -= rec_withdrawn(ps, (size_t)i) ? 0 : 1;
		i = report_move(ps, (size_t)i, slot, old, h);
	} else if ((i = report_insert(ps, &k, h)) < 0) {
		return -1;
	}
	ps->reps[i].area = (uint8_t)area_id;
	int rc = report_fill(ps, (size_t)i, seq, r, (uint32_t)place);
	ps->current += rec_withdrawn(ps, (size_t)i) ? 0 : 1;
	/* Dead records cost their 32 bytes until dropped: at most as many as live ones. */
	if (ps->dead > 1024 && ps->dead * 2 > ps->n && store_compact(ps, ps->src.mask + 1) != 0)
		return -1;
	return rc;
}

/* --- loading from the log --------------------------------------------------- */

/*
 * A bump allocator for unpacking one entry at a time: each entry's strings
 * and submessages come from one block that is reused for the next, instead
 * of a dozen malloc/free pairs per entry a million times over. free does
 * nothing; arena_reset takes everything back at once.
 */
struct arena {
	uint8_t *buf;
	size_t cap, used;
	void **big; /* blocks that did not fit, freed at reset */
	size_t n_big, cap_big;
	int failed;
};

static void *
arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	size = (size + 15) & ~(size_t)15;
	if (a->used + size <= a->cap) {
		void *p = a->buf + a->used;
		a->used += size;
		return p;
	}
	if (a->n_big == a->cap_big) {
		size_t cap = a->cap_big == 0 ? 16 : a->cap_big * 2;
		void **b = realloc(a->big, cap * sizeof *b);
		if (b == NULL) {
			a->failed = 1;
			return NULL;
		}
		a->big = b;
		a->cap_big = cap;
	}
	void *p = malloc(size);
	if (p == NULL)
		a->failed = 1;
	else
		a->big[a->n_big++] = p;
	return p;
}

static void
arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

static void
arena_reset(struct arena *a)
{
	for (size_t i = 0; i < a->n_big; i++)
		free(a->big[i]);
	a->n_big = 0;
	a->used = 0;
	a->failed = 0;
}

/*
 * Which body a packed LogEntry carries: the field number of its oneof
 * (10 report, 12 picture, ...), found by walking the top-level fields
 * without decoding them; 0 when the walk fails (the caller then decodes
 * it all, and unpacking says what is wrong).
 */
static unsigned
body_field(const uint8_t *b, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint64_t tag = 0, v = 0;
		int shift = 0;
		while (i < len && shift < 64) {
			tag |= (uint64_t)(b[i] & 0x7f) << shift;
			shift += 7;
			if ((b[i++] & 0x80) == 0)
				break;
		}
		unsigned field = (unsigned)(tag >> 3), type = (unsigned)(tag & 7);
		if (field >= 10 && field <= 14)
			return field;
		if (type == 0) {
			while (i < len && (b[i] & 0x80))
				i++;
			i++;
		} else if (type == 1) {
			i += 8;
		} else if (type == 5) {
			i += 4;
		} else if (type == 2) {
			shift = 0;
			while (i < len && shift < 64) {
				v |= (uint64_t)(b[i] & 0x7f) << shift;
				shift += 7;
				if ((b[i++] & 0x80) == 0)
					break;
			}
			if (v > len - (i < len ? i : len))
				return 0;
			i += (size_t)v;
		} else {
			return 0;
		}
	}
	return 0;
}

struct load {
	struct picture_store *ps;
	struct arena arena;
	ProtobufCAllocator alloc;
	log_visit_fn other; /* every other entry, may be NULL */
	void *other_arg;
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
	/* Only reports and pictures are decoded here; the rest goes to other as it is. */
	unsigned field = body_field(body, body_len);
	if (field != 0 && field != 10 && field != 12)
		return ld->other != NULL
		           ? ld->other(ld->other_arg, seq, topic, body, body_len, hash)
		           : 0;
	arena_reset(&ld->arena);
	Est__V1__LogEntry *e = est__v1__log_entry__unpack(&ld->alloc, body_len, body);
	if (e == NULL) {
		snprintf(ld->err, ld->errlen, "seq %llu: %s", (unsigned long long)seq,
		         ld->arena.failed ? "out of memory" : "undecodable entry");
		return -1;
	}
	if (e->body_case != EST__V1__LOG_ENTRY__BODY_PICTURE &&
	    e->body_case != EST__V1__LOG_ENTRY__BODY_REPORT)
		return ld->other != NULL
		           ? ld->other(ld->other_arg, seq, topic, body, body_len, hash)
		           : 0;
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_PICTURE && e->picture != NULL)
		picture_store_note(ld->ps, e->picture);
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT && e->report != NULL &&
	    check_report(seq, e->report, ld->err, ld->errlen) != 0)
		return -1;
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT &&
	    picture_store_add(ld->ps, seq, e->org != NULL ? e->org : "", topic, e->report) != 0) {
		snprintf(
		    ld->err, ld->errlen,
		    "seq %llu: the picture store is full, out of memory, or cannot read the log",
		    (unsigned long long)seq);
		return -1;
	}
	return 0;
}

/* Gives back what growing by doubling left unused, once the load is done. */
static void
store_shrink(struct picture_store *ps)
{
	if (ps->dead > 0)
		(void)store_compact(ps, ps->src.mask + 1); /* failing, the dead only cost memory */
	if (ps->src_old.slots != NULL)
		source_move(ps,
		            SIZE_MAX); /* a load takes long anyway: the old table's memory back */
	size_t n = ps->n > 0 ? ps->n : 1;
	struct rec *r = realloc(ps->reps, n * sizeof *r);
	struct key *k = realloc(ps->keys, n * sizeof *k);
	if (r != NULL)
		ps->reps = r;
	if (k != NULL)
		ps->keys = k;
	if (r != NULL && k != NULL)
		ps->cap = n;
	char *b = realloc(ps->pool.buf, ps->pool.len);
	if (b != NULL) {
		ps->pool.buf = b;
		ps->pool.cap = ps->pool.len;
	}
	struct ext *e = ps->n_ext > 0 ? realloc(ps->ext, ps->n_ext * sizeof *e) : NULL;
	if (e != NULL) {
		ps->ext = e;
		ps->cap_ext = ps->n_ext;
	}
	/* The unpacking and the index growth left freed memory behind: hand it back. */
	malloc_trim(0);
}

int
picture_store_load(struct picture_store *ps, struct log *lg, uint64_t through_seq, char *err,
                   size_t errlen)
{
	return picture_store_load_also(ps, lg, through_seq, NULL, NULL, err, errlen);
}

int
picture_store_load_also(struct picture_store *ps, struct log *lg, uint64_t through_seq,
                        log_visit_fn other, void *other_arg, char *err, size_t errlen)
{
	struct load ld = {
	    .ps = ps, .other = other, .other_arg = other_arg, .err = err, .errlen = errlen};
	/* An empty store keeps hashes only and asks lg when one matches (see struct key). */
	if (ps->n == 0)
		ps->lg = lg;
	uint64_t to = through_seq != 0 ? through_seq : log_head_seq(lg);
	if (to == 0)
		return 0;
	ld.arena.cap = 64 * 1024;
	ld.arena.buf = malloc(ld.arena.cap);
	if (ld.arena.buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ld.alloc = (ProtobufCAllocator){arena_alloc, arena_free, &ld.arena};
	int rc = log_scan(lg, 1, to, load_visit, &ld, err, errlen);
	arena_reset(&ld.arena);
	free(ld.arena.big);
	free(ld.arena.buf);
	if (rc != 0)
		return -1;
	if (to > ps->through)
		ps->through = to;
	store_shrink(ps);
	return 0;
}

/* Lets go of the reports whose time lies before from (see picture_store_cover). */
static void
store_drop_before(struct picture_store *ps, int64_t from)
{
	size_t at = 0;
	for (size_t i = 0; i < ps->n; i++) {
		const struct ext *x = ext_walk(ps, &at, i);
		if ((ps->reps[i].flags & REC_DEAD) || rec_time_in(ps, i, x) >= from)
			continue;
		ps->current -= rec_withdrawn(ps, i) ? 0 : 1;
		ps->early++;
		ps->reps[i].flags = REC_WITHDRAWN | REC_DEAD;
		ps->dead++;
	}
	/*
	 * The index shrinks with the store. On failure (out of memory) the dead
	 * records only cost memory and the index stays as it was.
	 */
	size_t cap = 1024;
	while ((ps->n - ps->dead) * 4 > cap * 3)
		cap *= 2;
	if (ps->dead > 0)
		(void)store_compact(ps, cap < ps->src.mask + 1 ? cap : ps->src.mask + 1);
	ps->horizon = from;
	store_shrink(ps);
}

/* A new store of what ps's log holds from `from` on; NULL with err. */
static struct picture_store *
store_reload(const struct picture_store *ps, int64_t from, char *err, size_t errlen)
{
	struct picture_store *fresh = picture_store_new();
	if (fresh == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fresh->horizon = from;
	if (picture_store_load(fresh, ps->lg, 0, err, errlen) != 0)
		picture_store_destroy(&fresh);
	return fresh;
}

int
picture_store_cover(struct picture_store *ps, int64_t from, int64_t slack_s, char *err,
                    size_t errlen)
{
	if (ps->lg == NULL || (from >= ps->horizon && from - ps->horizon < slack_s))
		return 0;
	if (from > ps->horizon) {
		store_drop_before(ps, from);
		return 0;
	}
	struct picture_store *fresh = store_reload(ps, from, err, errlen);
	if (fresh == NULL)
		return -1;
	/* The contents change places, so pointers to ps stay good; the old ones go with fresh. */
	struct picture_store old = *ps;
	*ps = *fresh;
	*fresh = old;
	picture_store_destroy(&fresh);
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
	rules->followup_radius_m = 250.0;
	rules->followup_weeks = 4;
	rules->flag_weeks = 3;
}

/* Counts of one slot (an area, the unlisted areas, or `all`). */
struct tally {
	uint32_t reports[SPAN_WEEKS]
	                [PICTURE_CATEGORIES];   /* by week index; K_FIRST .. K_THIS used */
	uint32_t week_incidents[SPAN_WEEKS];    /* the same, incidents of any category */
	uint32_t incidents[PICTURE_CATEGORIES]; /* of the week itself */
	uint32_t confirmed[PICTURE_CATEGORIES];
};

/* What one organisation contributed to one slot's week. */
struct contrib {
	uint32_t reports, incidents, confirmed;
};

/* An upcoming event of the window, with its sort key and its text copied out of the store. */
struct upcoming {
	int64_t lo;
	struct merge_report r;
	uint32_t place,
	    desc; /* the place as written and the description, in the snapshot's strings */
};

/* The name of a place some report of a snapshot names (for hotspots), sorted by id. */
struct place_name {
	uint32_t id;      /* the store's place id */
	uint32_t display; /* the place as first written, in the snapshot's strings */
};

/* What the compiler derives once from each measure (see measures_locate). */
struct measure_where {
	const struct measure_view *v;
	uint64_t first_seq;
	char norm[MERGE_PLACE_MAX]; /* normalized place name, "" when none */
	uint32_t place;             /* its place id in the store, 0 when no report names it */
	int active;                 /* proposed, decided or in progress */
	long job;                   /* its follow-up among compile.jobs, -1: none */
};

struct fu_job;
struct spot;

/*
 * Everything a compile reads, taken from the store, the measure registry
 * and the rules by picture_snapshot_take and owned by the snapshot alone:
 * the compiler never looks at the store, so it may run on another thread
 * while the store keeps changing (its arrays and pool move when they grow).
 */
struct picture_snapshot {
	struct picture_rules rules;
	struct week week;
	struct week weeks[SPAN_WEEKS]; /* w-12 .. w+1 */
	int64_t bound[SPAN_WEEKS + 1]; /* starts of weeks w-12 .. w+1, then the end of w+1 */
	uint64_t through;
	struct merge_report *cand; /* current reports of weeks w-12 .. w+1, in store order */
	size_t n_cand;
	struct upcoming *upcoming; /* upcoming events in the window, sorted by time */
	size_t n_upcoming, cap_upcoming;
	struct pool strings;             /* copies of the names and texts below */
	uint32_t orgs[PICTURE_MAX_ORGS]; /* the store's organisations by id */
	size_t n_orgs;
	uint32_t areas[STORE_AREAS]; /* the store's areas by id */
	size_t n_areas;
	struct place_name *places; /* the places cand names */
	size_t n_places;
	struct measure_view *views; /* copies: each m is the snapshot's own */
	size_t n_measures;
	struct measure_where *where; /* per view, in creation order */
	struct fu_job *jobs;         /* the follow-ups to count, with their reports */
	size_t n_jobs;
};

struct compile {
	const struct picture_snapshot *in;
	const struct picture_rules *rules;
	struct week week;
	struct week weeks[SPAN_WEEKS]; /* w-12 .. w+1 */
	int64_t bound[SPAN_WEEKS + 1]; /* starts of weeks w-12 .. w+1, then the end of w+1 */
	size_t n_areas;                /* listed areas are slots 0 .. n_areas - 1 */
	size_t n_slots;                /* then one for unlisted areas, then `all` */
	size_t slot_of[STORE_AREAS];
	struct tally *tally;
	struct contrib *contrib;         /* n_slots x n_orgs */
	const struct merge_report *cand; /* the snapshot's */
	size_t n_cand;
	const struct upcoming *upcoming; /* the snapshot's */
	size_t n_upcoming;
	struct merge_result merged;
	uint32_t *week_inc; /* incidents whose first report lies in week w */
	size_t n_week_inc;
	uint32_t *org_stamp;   /* per org: the last incident it was counted for, + 1 */
	uint32_t *org_order;   /* orgs by name */
	int8_t *inc_k;         /* per incident: the week index of its first report */
	struct spot *inc_spot; /* per incident of the weeks before: where (flags only) */
	const char *const *area_names;
	/* The snapshot's measures (may be none) and what the compiler derives from them. */
	size_t n_measures;
	const struct measure_where *where;
	const struct fu_job *jobs; /* the follow-ups of the done measures the pictures list */
	size_t n_jobs;
	uint32_t (*fu_counts)[2]; /* per job: incidents before and after */
};

static size_t
slot_all(const struct compile *c)
{
	return c->n_slots - 1;
}

static struct contrib *
contrib_at(const struct compile *c, size_t slot, uint16_t org)
{
	return &c->contrib[slot * c->in->n_orgs + org];
}

/* Index among weeks w-12 .. w+1 (bound) of the week holding t, or -1 outside them. */
static int
span_slot(const int64_t bound[SPAN_WEEKS + 1], int64_t t)
{
	if (t < bound[0] || t >= bound[SPAN_WEEKS])
		return -1;
	int k = SPAN_WEEKS - 1;
	while (t < bound[k])
		k--;
	return k;
}

static int
week_slot(const struct compile *c, int64_t t)
{
	return span_slot(c->bound, t);
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
upcoming_in_window(const struct picture_snapshot *s, const struct merge_report *r)
{
	int64_t lo, hi;
	event_span(r, &lo, &hi);
	return hi >= s->bound[K_THIS] && lo < s->bound[K_THIS + 1] + s->rules.upcoming_s;
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

/* Counts the snapshot's reports of the trend weeks (the rest are there for merging). */
static void
count_reports(struct compile *c)
{
	for (size_t i = 0; i < c->n_cand; i++) {
		int k = week_slot(c, c->cand[i].observed_at);
		if (k >= K_FIRST && k <= K_THIS)
			count_report(c, &c->cand[i], k);
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
		int k = week_slot(c, first->observed_at);
		size_t slots[2] = {c->slot_of[first->area], slot_all(c)};
		c->inc_k[g] = (int8_t)k;
		if (k >= K_FIRST && k <= K_THIS) {
			c->tally[slots[0]].week_incidents[k]++;
			c->tally[slots[1]].week_incidents[k]++;
		}
		if (k != K_THIS)
			continue;
		c->week_inc[c->n_week_inc++] = g;
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
	for (size_t o = 0; o < c->in->n_orgs; o++)
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
place_name_by_id(const void *pa, const void *pb)
{
	const struct place_name *a = pa, *b = pb;
	return (a->id > b->id) - (a->id < b->id);
}

/* The place with the store's id as first written ("" when the snapshot does not name it). */
static const char *
snapshot_place(const struct picture_snapshot *in, uint32_t id)
{
	struct place_name key = {id, 0};
	const struct place_name *p =
	    in->n_places > 0 ? bsearch(&key, in->places, in->n_places, sizeof key, place_name_by_id)
	                     : NULL;
	return pool_get(&in->strings, p != NULL ? p->display : 0);
}

static int
hotspot_fill(Est__V1__Hotspot *h, const struct compile *c, const struct spot *s,
             const struct spot_sum *sum)
{
	const char *name = s->kind == 1 ? snapshot_place(c->in, (uint32_t)s->a) : "";
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

static int flag_hotspot(Est__V1__Picture *p, struct compile *c, size_t slot, const struct spot *s,
                        const Est__V1__Hotspot *h);

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
		if (hotspot_fill(h, c, &s[i], &sum) != 0 || flag_hotspot(p, c, slot, &s[i], h) != 0)
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
	return (a->r.seq > b->r.seq) - (a->r.seq < b->r.seq);
}

static int
upcoming_fill(Est__V1__UpcomingEvent *u, const struct compile *c, const struct upcoming *e)
{
	const struct picture_snapshot *in = c->in;
	const struct merge_report *r = &e->r;
	u->seq = r->seq;
	u->starts_at = r->starts_at > 0 ? r->starts_at : r->observed_at;
	u->ends_at = r->ends_at;
	u->place = strdup(pool_get(&in->strings, e->place));
	u->description = strdup(pool_get(&in->strings, e->desc));
	u->org = strdup(pool_get(&in->strings, in->orgs[r->org]));
	u->area = strdup(pool_get(&in->strings, in->areas[r->area]));
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
		const struct upcoming *e = &c->upcoming[k];
		if (slot != slot_all(c) && c->slot_of[e->r.area] != slot)
			continue;
		Est__V1__UpcomingEvent *u = calloc(1, sizeof *u);
		if (u == NULL)
			return -1;
		est__v1__upcoming_event__init(u);
		p->upcoming[p->n_upcoming++] = u;
		if (upcoming_fill(u, c, e) != 0)
			return -1;
	}
	return 0;
}

static int
add_contributions(Est__V1__Picture *p, const struct compile *c, size_t slot)
{
	const struct picture_snapshot *in = c->in;
	p->contributions = calloc(in->n_orgs > 0 ? in->n_orgs : 1, sizeof *p->contributions);
	if (p->contributions == NULL)
		return -1;
	for (size_t k = 0; k < in->n_orgs; k++) {
		uint16_t org = (uint16_t)c->org_order[k];
		const struct contrib *ct = contrib_at(c, slot, org);
		if (ct->reports == 0 && ct->incidents == 0)
			continue;
		Est__V1__Contribution *x = calloc(1, sizeof *x);
		if (x == NULL)
			return -1;
		est__v1__contribution__init(x);
		p->contributions[p->n_contributions++] = x;
		x->org = strdup(pool_get(&in->strings, in->orgs[org]));
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
	for (int k = K_THIS - BASE_WEEKS; k < K_THIS; k++)
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

/* --- compiling: trend and ranks ----------------------------------------------- */

static int
add_trend(Est__V1__Picture *p, const struct compile *c, const struct tally *t)
{
	p->trend = calloc(TREND_WEEKS, sizeof *p->trend);
	if (p->trend == NULL)
		return -1;
	for (int k = K_FIRST; k <= K_THIS; k++) {
		char id[WEEK_ID_SIZE];
		Est__V1__WeekCount *wc = calloc(1, sizeof *wc);
		if (wc == NULL)
			return -1;
		est__v1__week_count__init(wc);
		p->trend[p->n_trend++] = wc;
		week_format(c->weeks[k], id, sizeof id);
		wc->week = strdup(id);
		for (int cat = 0; cat < PICTURE_CATEGORIES; cat++)
			wc->reports += t->reports[k][cat];
		wc->incidents = t->week_incidents[k];
		if (wc->week == NULL)
			return -1;
	}
	return 0;
}

/* Every picture lists the score and rank of every ranked area, so one picture can colour a map. */
static int
add_area_ranks(Est__V1__Picture **out, size_t n_areas)
{
	for (size_t i = 0; i <= n_areas; i++) {
		Est__V1__Picture *p = out[i];
		p->area_ranks = calloc(n_areas > 0 ? n_areas : 1, sizeof *p->area_ranks);
		if (p->area_ranks == NULL)
			return -1;
		for (size_t j = 0; j < n_areas; j++) {
			Est__V1__AreaRank *ar = calloc(1, sizeof *ar);
			if (ar == NULL)
				return -1;
			est__v1__area_rank__init(ar);
			p->area_ranks[p->n_area_ranks++] = ar;
			ar->area = strdup(out[j]->area);
			ar->priority_score = out[j]->priority_score;
			ar->rank = out[j]->rank;
			if (ar->area == NULL)
				return -1;
		}
	}
	return 0;
}

/* --- measures: where they are, follow-up, flags ---------------------------------- */

static int
measure_active(const Est__V1__Measure *m)
{
	return m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_PROPOSED ||
	       m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_DECIDED ||
	       m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_IN_PROGRESS;
}

/* The place id of a normalized place name, 0 when no report names it. */
static uint32_t
place_lookup(const struct picture_store *ps, const char *norm)
{
	size_t at = 0, len = strlen(norm);
	if (len == 0)
		return 0;
	long id =
	    index_find(&ps->names, ps, hash_bytes(norm, len, 2166136261u), name_eq, norm, &at);
	return id > 0 ? (uint32_t)id : 0;
}

static int
measure_by_seq(const void *pa, const void *pb)
{
	const struct measure_where *a = pa, *b = pb;
	return (a->first_seq > b->first_seq) - (a->first_seq < b->first_seq);
}

/* Normalizes every measure's place once, and orders them by creation (registry order may vary). */
static void
measures_locate(struct picture_snapshot *s, const struct picture_store *ps)
{
	for (size_t i = 0; i < s->n_measures; i++) {
		struct measure_where *w = &s->where[i];
		const struct measure_view *v = &s->views[i];
		w->v = v;
		w->first_seq = v->first_seq;
		merge_place_normalize(v->m->place != NULL ? v->m->place : "", w->norm);
		w->place = place_lookup(ps, w->norm);
		w->active = measure_active(v->m);
	}
	qsort(s->where, s->n_measures, sizeof *s->where, measure_by_seq);
}

/* Where a follow-up looks: a circle, a place name, or both. */
struct near {
	int has_pos;
	double lat, lon;
	uint32_t place;
	double radius_m;
};

/* Whether r lies within radius of n (a cheap box test before the great circle) or at its place. */
static int
report_near(const struct merge_report *r, const struct near *n, double radius)
{
	if (n->place != 0 && r->place == n->place)
		return 1;
	if (!n->has_pos || !r->has_position)
		return 0;
	double dlat = fabs(r->lat - n->lat) * METRES_PER_DEG;
	double dlon = fabs(r->lon - n->lon) * METRES_PER_DEG * cos(n->lat * DEG_TO_RAD);
	if (dlat > radius * 1.01 + 1.0 || dlon > radius * 1.01 + 1.0)
		return 0;
	return merge_distance_m(n->lat, n->lon, r->lat, r->lon) <= radius;
}

static int
incident_near(const struct merge_report *cand, const struct merge_result *res,
              const struct merge_incident *inc, const struct near *n)
{
	for (uint32_t m = 0; m < inc->count; m++) {
		if (report_near(&cand[res->members[inc->first + m]], n, n->radius_m))
			return 1;
	}
	return 0;
}

/*
 * One follow-up to count: incidents with a report near n whose first
 * report lies in [span[0], span[1]) or [span[2], span[3]) (fu_job_count's
 * counts[0] and counts[1]). The snapshot gathers its reports into cand.
 * Upcoming events are announcements, not incidents, and are left out. The
 * merge sees the reports within radius + merge distance and the merge
 * window around the spans, so an incident is linked as the picture would
 * link it.
 */
struct fu_job {
	struct near n;
	int64_t span[4];
	struct merge_report *cand;
	size_t k, cap;
};

static int
fu_job_wants(const struct fu_job *j, const struct merge_rules *mr, const struct merge_report *r)
{
	int64_t lo, hi;
	event_span(r, &lo, &hi);
	if (!(hi >= j->span[0] - mr->window_s && lo < j->span[1] + mr->window_s) &&
	    !(hi >= j->span[2] - mr->window_s && lo < j->span[3] + mr->window_s))
		return 0;
	return report_near(r, &j->n, j->n.radius_m + mr->distance_m);
}

static int
fu_job_push(struct fu_job *j, const struct merge_report *r)
{
	if (j->k == j->cap) {
		size_t cap = j->cap == 0 ? 256 : j->cap * 2;
		struct merge_report *grown = realloc(j->cand, cap * sizeof *grown);
		if (grown == NULL)
			return -1;
		j->cand = grown;
		j->cap = cap;
	}
	j->cand[j->k++] = *r;
	return 0;
}

/* Merges the reports j gathered and counts its incidents before and after into counts. */
static int
fu_job_count(const struct fu_job *j, const struct merge_rules *mr, uint32_t counts[2])
{
	struct merge_result res;
	if (merge_run(j->cand, j->k, mr, &res) != 0)
		return -1;
	counts[0] = counts[1] = 0;
	for (size_t g = 0; g < res.n_incidents; g++) {
		const struct merge_incident *inc = &res.incidents[g];
		int64_t t = j->cand[inc->earliest].observed_at;
		if (!incident_near(j->cand, &res, inc, &j->n))
			continue;
		for (int s = 0; s < 2; s++)
			counts[s] += t >= j->span[2 * s] && t < j->span[2 * s + 1] ? 1 : 0;
	}
	merge_result_fini(&res);
	return 0;
}

/*
 * Gathers the reports of every job in one pass over the store (a compile
 * has a few jobs, the store a million reports); fu_job_count counts them.
 */
static int
fu_jobs_collect(const struct picture_store *ps, const struct merge_rules *mr, struct fu_job *jobs,
                size_t n_jobs)
{
	int rc = 0;
	for (size_t i = 0; i < ps->n && rc == 0 && n_jobs > 0; i++) {
		struct merge_report one, *r = &one;
		if (rec_withdrawn(ps, i) || (ps->reps[i].flags & REC_CATEGORY) ==
		                                EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT)
			continue;
		rec_expand(ps, i, &one);
		for (size_t j = 0; j < n_jobs && rc == 0; j++) {
			if (fu_job_wants(&jobs[j], mr, r))
				rc = fu_job_push(&jobs[j], r);
		}
	}
	return rc;
}

/* Sets up the job of the done measure v (place: its place id); -1 when it has nowhere to look. */
static int
fu_job_init(struct fu_job *j, const struct picture_rules *rules, const struct measure_view *v,
            uint32_t place)
{
	const Est__V1__Measure *m = v->m;
	memset(j, 0, sizeof *j);
	if (m == NULL || m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE)
		return -1;
	if (m->position == NULL && (m->place == NULL || m->place[0] == '\0'))
		return -1;
	j->n.radius_m = rules->followup_radius_m;
	j->n.place = place;
	if (m->position != NULL) {
		j->n.has_pos = 1;
		j->n.lat = m->position->lat;
		j->n.lon = m->position->lon;
	}
	/* Plain 7-day spans: a measure starts and ends at any time of day, not on a Monday. */
	int64_t w = (int64_t)rules->followup_weeks * WEEK_S;
	int64_t start = v->started_at > 0 ? v->started_at : v->created_at;
	int64_t end = v->ended_at > 0 ? v->ended_at : start;
	j->span[0] = start - w;
	j->span[1] = start;
	j->span[2] = end;
	j->span[3] = end + w;
	return 0;
}

static void
fu_job_out(const struct fu_job *j, const uint32_t counts[2], const struct picture_rules *rules,
           const struct measure_view *v, Est__V1__Followup *out)
{
	out->measure_id = v->m->measure_id;
	out->radius_m = rules->followup_radius_m;
	out->weeks = rules->followup_weeks;
	out->before_start = j->span[0];
	out->before_end = j->span[1];
	out->after_start = j->span[2];
	out->after_end = j->span[3];
	out->incidents_before = counts[0];
	out->incidents_after = counts[1];
}

/* The earliest report time the follow-up of v reads (fu_job_init, fu_job_wants). */
static int64_t
followup_from(const struct picture_rules *rules, const struct measure_view *v)
{
	int64_t start = v->started_at > 0 ? v->started_at : v->created_at;
	return start - (int64_t)rules->followup_weeks * WEEK_S - rules->merge.window_s;
}

static int
followup_count(const struct picture_store *ps, const struct picture_rules *rules,
               const struct measure_view *v, Est__V1__Followup *out)
{
	char norm[MERGE_PLACE_MAX];
	struct fu_job j;
	uint32_t counts[2];
	merge_place_normalize(v->m->place != NULL ? v->m->place : "", norm);
	if (fu_job_init(&j, rules, v, place_lookup(ps, norm)) != 0)
		return -1;
	int rc = fu_jobs_collect(ps, &rules->merge, &j, 1);
	if (rc == 0)
		rc = fu_job_count(&j, &rules->merge, counts);
	free(j.cand);
	if (rc != 0)
		return -1;
	fu_job_out(&j, counts, rules, v, out);
	return 0;
}

int
picture_followup(const struct picture_store *ps, const struct picture_rules *rules,
                 const struct measure_view *v, Est__V1__Followup *out)
{
	char err[256];
	if (v == NULL || v->m == NULL)
		return -1;
	if (ps->lg == NULL || v->m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE ||
	    followup_from(rules, v) >= ps->horizon)
		return followup_count(ps, rules, v, out);
	/* Before what ps holds: counted over a store of the log read for it, then let go. */
	struct picture_store *t = store_reload(ps, followup_from(rules, v), err, sizeof err);
	if (t == NULL) {
		diag_say("pictures: the follow-up of measure %s cannot read the log: %s",
		         v->m->measure_id != NULL ? v->m->measure_id : "", err);
		return -1;
	}
	int rc = followup_count(t, rules, v, out);
	picture_store_destroy(&t);
	return rc;
}

int64_t
picture_needs(const struct picture_rules *rules, const char *week,
              const struct measure_view *measures, size_t n_measures)
{
	struct week w;
	int64_t first, this_start, end;
	char err[128];
	if (week_parse(week, &w, err, sizeof err) != 0 || week_bounds(w, &this_start, &end) != 0)
		return INT64_MIN; /* picture_compile refuses it */
	struct week oldest = w;
	for (int k = 0; k < K_THIS; k++)
		oldest = week_prev(oldest);
	if (week_bounds(oldest, &first, &end) != 0)
		return INT64_MIN;
	/* The follow-ups a picture may list: of done measures relevant to the week
	 * (measure_relevant). */
	int64_t ended_by = this_start - (int64_t)rules->followup_weeks * WEEK_S;
	for (size_t i = 0; measures != NULL && i < n_measures; i++) {
		const struct measure_view *v = &measures[i];
		if (v->m == NULL || v->m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE ||
		    (v->ended_at != 0 && v->ended_at < ended_by))
			continue;
		if (followup_from(rules, v) < first)
			first = followup_from(rules, v);
	}
	return first;
}

/* Whether a measure belongs to slot: its area's pictures, and every measure in `all`. */
static int
measure_in_slot(const struct compile *c, size_t slot, const Est__V1__Measure *m)
{
	if (slot == slot_all(c))
		return 1;
	return slot < c->n_areas && m->area != NULL && strcmp(m->area, c->area_names[slot]) == 0;
}

/* Active, or ended (done or cancelled) no longer ago than the follow-up weeks before the week. */
static int
measure_relevant(const struct picture_snapshot *s, const struct measure_where *w)
{
	const Est__V1__Measure *m = w->v->m;
	if (w->active)
		return 1;
	if (m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE &&
	    m->status != EST__V1__MEASURE_STATUS__MEASURE_STATUS_CANCELLED)
		return 0;
	return w->v->ended_at == 0 ||
	       w->v->ended_at >= s->bound[K_THIS] - (int64_t)s->rules.followup_weeks * WEEK_S;
}

/* A deep copy through the wire form (the registry owns the original). */
static Est__V1__Measure *
measure_copy(const Est__V1__Measure *m)
{
	size_t len = est__v1__measure__get_packed_size(m);
	uint8_t *buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		return NULL;
	est__v1__measure__pack(m, buf);
	Est__V1__Measure *copy = est__v1__measure__unpack(NULL, len, buf);
	free(buf);
	return copy;
}

/*
 * The follow-ups of the done measures any picture of the compile lists,
 * with their reports gathered together in one pass over the store (the
 * compile counts them).
 */
static int
followups_prepare(struct picture_snapshot *s, const struct picture_store *ps)
{
	s->jobs = calloc(s->n_measures > 0 ? s->n_measures : 1, sizeof *s->jobs);
	if (s->jobs == NULL)
		return -1;
	for (size_t i = 0; i < s->n_measures; i++) {
		struct measure_where *w = &s->where[i];
		w->job = -1;
		if (w->v->m->group == EST__V1__WORKING_GROUP__GROUP_SOCIAL ||
		    !measure_relevant(s, w) ||
		    fu_job_init(&s->jobs[s->n_jobs], &s->rules, w->v, w->place) != 0)
			continue;
		w->job = (long)s->n_jobs++;
	}
	return fu_jobs_collect(ps, &s->rules.merge, s->jobs, s->n_jobs);
}

static int
add_followup(Est__V1__Picture *p, const struct compile *c, const struct measure_where *w)
{
	Est__V1__Followup tmp;
	if (w->job < 0)
		return 0; /* no position or place: nothing to follow up */
	est__v1__followup__init(&tmp);
	fu_job_out(&c->jobs[w->job], c->fu_counts[w->job], c->rules, w->v, &tmp);
	Est__V1__Followup *f = malloc(sizeof *f);
	if (f == NULL)
		return -1;
	*f = tmp;
	f->measure_id = strdup(tmp.measure_id != NULL ? tmp.measure_id : "");
	p->followups[p->n_followups++] = f;
	return f->measure_id != NULL ? 0 : -1;
}

#define N_KINDS    11
#define N_GROUPS   3
#define N_STATUSES 6

static int
clamp_enum(int v, int n)
{
	return v >= 0 && v < n ? v : 0;
}

static int
add_measure_counts(Est__V1__Picture *p, const uint32_t counts[N_KINDS][N_GROUPS][N_STATUSES])
{
	p->measure_counts = calloc(N_KINDS * N_GROUPS * N_STATUSES, sizeof *p->measure_counts);
	if (p->measure_counts == NULL)
		return -1;
	for (int k = 0; k < N_KINDS; k++)
		for (int g = 0; g < N_GROUPS; g++)
			for (int s = 0; s < N_STATUSES; s++) {
				if (counts[k][g][s] == 0)
					continue;
				Est__V1__MeasureCount *mc = calloc(1, sizeof *mc);
				if (mc == NULL)
					return -1;
				est__v1__measure_count__init(mc);
				mc->kind = (Est__V1__MeasureKind)k;
				mc->group = (Est__V1__WorkingGroup)g;
				mc->status = (Est__V1__MeasureStatus)s;
				mc->count = counts[k][g][s];
				p->measure_counts[p->n_measure_counts++] = mc;
			}
	return 0;
}

/*
 * The measures of slot: listed when active or done in the follow-up window
 * and not of the social group (a picture is read by both groups of an
 * area); counted by kind, group and status when relevant at all.
 */
static int
add_measures(Est__V1__Picture *p, const struct compile *c, size_t slot)
{
	uint32_t counts[N_KINDS][N_GROUPS][N_STATUSES];
	size_t n = c->n_measures > 0 ? c->n_measures : 1;
	memset(counts, 0, sizeof counts);
	p->measures = calloc(n, sizeof *p->measures);
	p->followups = calloc(n, sizeof *p->followups);
	if (p->measures == NULL || p->followups == NULL)
		return -1;
	for (size_t i = 0; i < c->n_measures; i++) {
		const struct measure_where *w = &c->where[i];
		const Est__V1__Measure *m = w->v->m;
		if (!measure_in_slot(c, slot, m) || !measure_relevant(c->in, w))
			continue;
		counts[clamp_enum(m->kind, N_KINDS)][clamp_enum(m->group, N_GROUPS)]
		      [clamp_enum(m->status, N_STATUSES)]++;
		if (m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_CANCELLED ||
		    m->group == EST__V1__WORKING_GROUP__GROUP_SOCIAL)
			continue;
		if ((p->measures[p->n_measures] = measure_copy(m)) == NULL)
			return -1;
		p->n_measures++;
		if (m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE &&
		    add_followup(p, c, w) != 0)
			return -1;
	}
	return add_measure_counts(p, counts);
}

/* A new flag of kind at the end of p->flags. */
static Est__V1__Flag *
flag_push(Est__V1__Picture *p, const char *kind)
{
	Est__V1__Flag **a = realloc(p->flags, (p->n_flags + 1) * sizeof *a);
	if (a == NULL)
		return NULL;
	p->flags = a;
	Est__V1__Flag *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	est__v1__flag__init(f);
	p->flags[p->n_flags++] = f;
	f->kind = strdup(kind);
	return f->kind != NULL ? f : NULL;
}

/* The spot of every incident of the trend weeks before the week (computed once, when needed). */
static int
spots_of_incidents(struct compile *c)
{
	if (c->inc_spot != NULL)
		return 0;
	c->inc_spot =
	    calloc(c->merged.n_incidents > 0 ? c->merged.n_incidents : 1, sizeof *c->inc_spot);
	if (c->inc_spot == NULL)
		return -1;
	for (uint32_t g = 0; g < c->merged.n_incidents; g++) {
		if (c->inc_k[g] >= K_FIRST && c->inc_k[g] < K_THIS &&
		    !spot_of(c, g, &c->inc_spot[g]))
			c->inc_spot[g].kind = 0;
	}
	return 0;
}

/* Weeks in a row right before the week in which slot had an incident at spot s. */
static unsigned
spot_streak(const struct compile *c, size_t slot, const struct spot *s)
{
	uint32_t mask = 0;
	unsigned n = 0;
	for (uint32_t g = 0; g < c->merged.n_incidents; g++) {
		const struct spot *t = &c->inc_spot[g];
		if (t->kind == 0 || t->kind != s->kind || t->a != s->a || t->b != s->b ||
		    !slot_has(c, slot, &c->cand[c->merged.incidents[g].earliest]))
			continue;
		mask |= 1u << c->inc_k[g];
	}
	for (int k = K_THIS - 1; k >= K_FIRST && (mask & (1u << k)); k--)
		n++;
	return n;
}

/* Whether a measure (not cancelled, not done before `since`) lies at the hotspot. */
static int
hotspot_has_measure(const struct compile *c, const struct spot *s, const Est__V1__Hotspot *h,
                    int64_t since)
{
	for (size_t i = 0; i < c->n_measures; i++) {
		const struct measure_where *w = &c->where[i];
		const Est__V1__Measure *m = w->v->m;
		if (m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_CANCELLED ||
		    (m->status == EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE &&
		     w->v->ended_at != 0 && w->v->ended_at < since))
			continue;
		if (s->kind == 1 && w->place == (uint32_t)s->a)
			return 1;
		if (h->position != NULL && m->position != NULL &&
		    merge_distance_m(h->position->lat, h->position->lon, m->position->lat,
		                     m->position->lon) <= c->rules->followup_radius_m)
			return 1;
	}
	return 0;
}

/* Flags hotspot h (at spot s) when it had incidents in each of the flag_weeks weeks before and no
 * measure. */
static int
flag_hotspot(Est__V1__Picture *p, struct compile *c, size_t slot, const struct spot *s,
             const Est__V1__Hotspot *h)
{
	unsigned need = c->rules->flag_weeks;
	if (need == 0)
		return 0;
	if (spots_of_incidents(c) != 0)
		return -1;
	unsigned streak = spot_streak(c, slot, s);
	if (streak < need || hotspot_has_measure(c, s, h, c->bound[K_THIS - need]))
		return 0;
	Est__V1__Flag *f = flag_push(p, "hotspot_without_measure");
	char detail[256];
	if (f == NULL)
		return -1;
	f->weeks = streak + 1;
	snprintf(detail, sizeof detail,
	         "incidents at %s in each of the last %u weeks and no measure within %.0f m",
	         h->place[0] != '\0' ? h->place : "this spot", streak + 1,
	         c->rules->followup_radius_m);
	f->detail = strdup(detail);
	f->place = strdup(h->place);
	if (f->detail == NULL || f->place == NULL)
		return -1;
	if (h->position != NULL &&
	    (f->position = position_new(h->position->lat, h->position->lon)) == NULL)
		return -1;
	return 0;
}

/* The time a measure covers: its own start (or when it started, or was created) to its end. */
static void
measure_span(const struct measure_view *v, int64_t *lo, int64_t *hi)
{
	const Est__V1__Measure *m = v->m;
	*lo = m->starts_at > 0 ? m->starts_at : v->started_at > 0 ? v->started_at : v->created_at;
	*hi = m->ends_at > 0 ? m->ends_at : INT64_MAX;
}

static int
measures_overlap(const struct compile *c, const struct measure_where *a,
                 const struct measure_where *b)
{
	const Est__V1__Measure *x = a->v->m, *y = b->v->m;
	int64_t alo, ahi, blo, bhi;
	if (x->assigned_org == NULL || y->assigned_org == NULL || x->assigned_org[0] == '\0' ||
	    y->assigned_org[0] == '\0' || strcmp(x->assigned_org, y->assigned_org) == 0)
		return 0;
	int same_place = (a->norm[0] != '\0' && strcmp(a->norm, b->norm) == 0) ||
	                 (x->position != NULL && y->position != NULL &&
	                  merge_distance_m(x->position->lat, x->position->lon, y->position->lat,
	                                   y->position->lon) <= c->rules->merge.distance_m);
	if (!same_place)
		return 0;
	measure_span(a->v, &alo, &ahi);
	measure_span(b->v, &blo, &bhi);
	return alo < bhi && blo < ahi;
}

static int
flag_overlap(Est__V1__Picture *p, const struct measure_where *a, const struct measure_where *b)
{
	const Est__V1__Measure *x = a->v->m, *y = b->v->m;
	Est__V1__Flag *f = flag_push(p, "overlapping_measures");
	char detail[256];
	if (f == NULL)
		return -1;
	f->measure_ids = calloc(2, sizeof *f->measure_ids);
	f->orgs = calloc(2, sizeof *f->orgs);
	if (f->measure_ids == NULL || f->orgs == NULL)
		return -1;
	f->n_measure_ids = f->n_orgs = 2;
	f->measure_ids[0] = strdup(x->measure_id != NULL ? x->measure_id : "");
	f->measure_ids[1] = strdup(y->measure_id != NULL ? y->measure_id : "");
	f->orgs[0] = strdup(x->assigned_org);
	f->orgs[1] = strdup(y->assigned_org);
	const char *place = x->place != NULL && x->place[0] != '\0' ? x->place
	                    : y->place != NULL                      ? y->place
	                                                            : "";
	f->place = strdup(place);
	snprintf(detail, sizeof detail, "measures %s (%s) and %s (%s) at the same place and time",
	         f->measure_ids[0] ? f->measure_ids[0] : "", f->orgs[0] ? f->orgs[0] : "",
	         f->measure_ids[1] ? f->measure_ids[1] : "", f->orgs[1] ? f->orgs[1] : "");
	f->detail = strdup(detail);
	if (!f->measure_ids[0] || !f->measure_ids[1] || !f->orgs[0] || !f->orgs[1] || !f->place ||
	    !f->detail)
		return -1;
	const Est__V1__Position *pos = x->position != NULL ? x->position : y->position;
	if (pos != NULL && (f->position = position_new(pos->lat, pos->lon)) == NULL)
		return -1;
	return 0;
}

/* Pairs of active measures of slot (not of the social group) from different orgs at one place and
 * time. */
static int
add_overlaps(Est__V1__Picture *p, const struct compile *c, size_t slot)
{
	for (size_t i = 0; i < c->n_measures; i++) {
		const struct measure_where *a = &c->where[i];
		if (!a->active || a->v->m->group == EST__V1__WORKING_GROUP__GROUP_SOCIAL ||
		    !measure_in_slot(c, slot, a->v->m))
			continue;
		for (size_t j = i + 1; j < c->n_measures; j++) {
			const struct measure_where *b = &c->where[j];
			if (!b->active || b->v->m->group == EST__V1__WORKING_GROUP__GROUP_SOCIAL ||
			    !measure_in_slot(c, slot, b->v->m) || !measures_overlap(c, a, b))
				continue;
			if (flag_overlap(p, a, b) != 0)
				return -1;
		}
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
	p->through_seq = c->in->through;
	if (p->area == NULL || p->week == NULL || add_categories(p, &c->tally[slot]) != 0 ||
	    add_score(p, &c->tally[slot], c->rules) != 0 || add_hotspots(p, c, slot) != 0 ||
	    add_upcoming(p, c, slot) != 0 || add_contributions(p, c, slot) != 0 ||
	    add_trend(p, c, &c->tally[slot]) != 0 || add_measures(p, c, slot) != 0 ||
	    add_overlaps(p, c, slot) != 0)
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
week_span(struct picture_snapshot *s, const char *id, char *err, size_t errlen)
{
	struct week w;
	if (week_parse(id, &s->week, err, errlen) != 0)
		return -1;
	w = s->week;
	for (int k = 0; k < K_THIS; k++)
		w = week_prev(w);
	for (int k = 0; k < SPAN_WEEKS; k++, w = week_next(w)) {
		int64_t end;
		s->weeks[k] = w;
		if (week_bounds(w, &s->bound[k], &end) != 0) {
			snprintf(err, errlen, "week: no local time for %s", id);
			return -1;
		}
		s->bound[k + 1] = end;
	}
	return 0;
}

static void
slots_map(struct compile *c, const char *const *areas, size_t n_areas)
{
	const struct picture_snapshot *in = c->in;
	c->n_areas = n_areas;
	c->n_slots = n_areas + 2;
	for (size_t a = 0; a < in->n_areas; a++) {
		c->slot_of[a] = n_areas;
		for (size_t i = 0; i < n_areas; i++) {
			if (strcmp(pool_get(&in->strings, in->areas[a]), areas[i]) == 0) {
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
	const struct picture_snapshot *in = c->in;
	for (size_t i = 0; i < in->n_orgs; i++) {
		size_t j = i;
		for (; j > 0; j--) {
			const char *prev = pool_get(&in->strings, in->orgs[c->org_order[j - 1]]);
			if (strcmp(prev, pool_get(&in->strings, in->orgs[i])) <= 0)
				break;
			c->org_order[j] = c->org_order[j - 1];
		}
		c->org_order[j] = (uint32_t)i;
	}
}

static int
compile_alloc(struct compile *c)
{
	size_t orgs = c->in->n_orgs > 0 ? c->in->n_orgs : 1;
	c->tally = calloc(c->n_slots, sizeof *c->tally);
	c->contrib = calloc(c->n_slots * orgs, sizeof *c->contrib);
	c->org_stamp = calloc(orgs, sizeof *c->org_stamp);
	c->org_order = calloc(orgs, sizeof *c->org_order);
	c->fu_counts = calloc(c->n_jobs > 0 ? c->n_jobs : 1, sizeof *c->fu_counts);
	return c->tally && c->contrib && c->org_stamp && c->org_order && c->fu_counts ? 0 : -1;
}

static void
compile_fini(struct compile *c)
{
	merge_result_fini(&c->merged);
	free(c->inc_spot);
	free(c->fu_counts);
	free(c->inc_k);
	free(c->week_inc);
	free(c->org_order);
	free(c->org_stamp);
	free(c->contrib);
	free(c->tally);
}

/* Counts, merges and tallies: everything the pictures are then built from. */
static int
compile_tally(struct compile *c)
{
	count_reports(c);
	if (merge_run(c->cand, c->n_cand, &c->rules->merge, &c->merged) != 0)
		return -1;
	if (c->merged.truncated)
		diag_say("pictures: more reports at one place and time than the merge compares "
		         "(%llu pairs); some of them are counted as incidents of their own",
		         (unsigned long long)c->merged.comparisons);
	size_t n_inc = c->merged.n_incidents > 0 ? c->merged.n_incidents : 1;
	c->week_inc = malloc(n_inc * sizeof *c->week_inc);
	c->inc_k = malloc(n_inc * sizeof *c->inc_k);
	if (c->week_inc == NULL || c->inc_k == NULL)
		return -1;
	for (size_t j = 0; j < c->n_jobs; j++) {
		if (fu_job_count(&c->jobs[j], &c->rules->merge, c->fu_counts[j]) != 0)
			return -1;
	}
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
picture_compile_snapshot(const struct picture_snapshot *in, const char *const *areas,
                         size_t n_areas, int64_t now, Est__V1__Picture **out, char *err,
                         size_t errlen)
{
	struct compile c;
	int rc = -1;
	memset(&c, 0, sizeof c);
	c.in = in;
	c.rules = &in->rules;
	c.week = in->week;
	memcpy(c.weeks, in->weeks, sizeof c.weeks);
	memcpy(c.bound, in->bound, sizeof c.bound);
	c.cand = in->cand;
	c.n_cand = in->n_cand;
	c.upcoming = in->upcoming;
	c.n_upcoming = in->n_upcoming;
	c.area_names = areas;
	c.n_measures = in->n_measures;
	c.where = in->where;
	c.jobs = in->jobs;
	c.n_jobs = in->n_jobs;
	for (size_t i = 0; i <= n_areas && i <= PICTURE_MAX_AREAS; i++)
		out[i] = NULL;
	if (n_areas > PICTURE_MAX_AREAS) {
		snprintf(err, errlen, "areas: more than %d", PICTURE_MAX_AREAS);
		return -1;
	}
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
	if (add_area_ranks(out, n_areas) != 0)
		goto out;
	err[0] = '\0';
	rc = 0;
out:
	for (size_t i = 0; rc != 0 && i <= n_areas; i++)
		picture_free(&out[i]);
	compile_fini(&c);
	return rc;
}

/* --- the snapshot: what a compile reads, taken from the store ----------------- */

static int
upcoming_push(struct picture_snapshot *s, const struct upcoming *u)
{
	if (s->n_upcoming == s->cap_upcoming) {
		size_t cap = s->cap_upcoming == 0 ? 64 : s->cap_upcoming * 2;
		struct upcoming *grown = realloc(s->upcoming, cap * sizeof *grown);
		if (grown == NULL)
			return -1;
		s->upcoming = grown;
		s->cap_upcoming = cap;
	}
	s->upcoming[s->n_upcoming++] = *u;
	return 0;
}

/* An upcoming event of the window, with its place and text copied out of the store's pool. */
static int
pick_upcoming(struct picture_snapshot *s, const struct picture_store *ps, size_t i,
              const struct merge_report *r)
{
	const struct ext *x = ext_of(ps, (uint32_t)i);
	const char *place = pool_get(&ps->pool, x != NULL ? x->place : 0);
	const char *desc = pool_get(&ps->pool, x != NULL ? x->desc : 0);
	struct upcoming u = {.lo = r->starts_at > 0 ? r->starts_at : r->observed_at, .r = *r};
	if (pool_put(&s->strings, place, strlen(place), &u.place) != 0 ||
	    pool_put(&s->strings, desc, strlen(desc), &u.desc) != 0)
		return -1;
	return upcoming_push(s, &u);
}

/*
 * The one pass over the store: the current reports of weeks w-12 .. w+1
 * as rec_expand gives them, and the upcoming events of the window. cand is
 * sized for the whole store but only what is picked is touched, then the
 * rest given back (a big block is mapped: untouched pages cost nothing).
 */
static int
pick_reports(struct picture_snapshot *s, const struct picture_store *ps)
{
	s->cand = malloc((ps->n > 0 ? ps->n : 1) * sizeof *s->cand);
	if (s->cand == NULL)
		return -1;
	size_t at = 0; /* ext_walk's cursor */
	for (size_t i = 0; i < ps->n; i++) {
		struct merge_report one, *r = &one;
		const struct rec *x = &ps->reps[i];
		const struct ext *row = ext_walk(ps, &at, i);
		int upcoming =
		    (x->flags & REC_CATEGORY) == EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT;
		if (x->flags & REC_WITHDRAWN)
			continue;
		/* Most of a long history lies outside the weeks: judged on the record alone. */
		int k = span_slot(s->bound, rec_observed(ps, i, row));
		if (k < 0 && !upcoming)
			continue;
		rec_expand_with(ps, i, row, &one);
		if (upcoming && upcoming_in_window(s, r) && pick_upcoming(s, ps, i, r) != 0)
			return -1;
		if (k >= 0)
			s->cand[s->n_cand++] = *r;
	}
	struct merge_report *fit =
	    realloc(s->cand, (s->n_cand > 0 ? s->n_cand : 1) * sizeof *s->cand);
	if (fit != NULL)
		s->cand = fit;
	if (s->n_upcoming > 1) /* none: upcoming is still NULL, which qsort must not be given */
		qsort(s->upcoming, s->n_upcoming, sizeof *s->upcoming, upcoming_cmp);
	return 0;
}

/* Copies of the names the compile prints: organisations, areas, the places cand names. */
static int
pick_names(struct picture_snapshot *s, const struct picture_store *ps)
{
	for (size_t i = 0; i < ps->n_orgs; i++) {
		const char *o = pool_get(&ps->pool, ps->orgs[i]);
		if (pool_put(&s->strings, o, strlen(o), &s->orgs[i]) != 0)
			return -1;
	}
	s->n_orgs = ps->n_orgs;
	for (size_t i = 0; i < ps->n_areas; i++) {
		const char *a = pool_get(&ps->pool, ps->areas[i]);
		if (pool_put(&s->strings, a, strlen(a), &s->areas[i]) != 0)
			return -1;
	}
	s->n_areas = ps->n_areas;
	/* One byte a place of the store marks those already copied; a week names few of them. */
	uint8_t *seen = calloc(ps->n_places > 0 ? ps->n_places : 1, 1);
	size_t cap = 0;
	int rc = seen != NULL ? 0 : -1;
	for (size_t i = 0; i < s->n_cand && rc == 0; i++) {
		uint32_t id = s->cand[i].place;
		if (id == 0 || id >= ps->n_places || seen[id])
			continue;
		seen[id] = 1;
		if (s->n_places == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			struct place_name *grown = realloc(s->places, cap * sizeof *grown);
			if (grown == NULL) {
				rc = -1;
				break;
			}
			s->places = grown;
		}
		const char *d = pool_get(&ps->pool, ps->places[id].display);
		s->places[s->n_places].id = id;
		rc = pool_put(&s->strings, d, strlen(d), &s->places[s->n_places].display);
		s->n_places++;
	}
	free(seen);
	if (rc == 0 && s->n_places > 0)
		qsort(s->places, s->n_places, sizeof *s->places, place_name_by_id);
	return rc;
}

/* Copies of the registry's measures (it replaces them as they change), located in the store. */
static int
pick_measures(struct picture_snapshot *s, const struct picture_store *ps,
              const struct measure_view *measures, size_t n_measures)
{
	size_t n = measures != NULL ? n_measures : 0;
	s->views = calloc(n > 0 ? n : 1, sizeof *s->views);
	s->where = calloc(n > 0 ? n : 1, sizeof *s->where);
	if (s->views == NULL || s->where == NULL)
		return -1;
	for (; s->n_measures < n; s->n_measures++) {
		struct measure_view *v = &s->views[s->n_measures];
		*v = measures[s->n_measures];
		if (v->m != NULL && (v->m = measure_copy(v->m)) == NULL)
			return -1;
	}
	measures_locate(s, ps);
	return followups_prepare(s, ps);
}

struct picture_snapshot *
picture_snapshot_take(const struct picture_store *ps, const struct picture_rules *rules,
                      const char *week, const struct measure_view *measures, size_t n_measures,
                      char *err, size_t errlen)
{
	struct picture_snapshot *s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->rules = *rules;
	s->through = ps->through;
	s->strings.buf = calloc(1, 4096);
	s->strings.cap = 4096;
	s->strings.len = 1; /* offset 0 is the empty string */
	if (week_span(s, week, err, errlen) != 0) {
		picture_snapshot_destroy(&s);
		return NULL;
	}
	if (s->strings.buf == NULL || pick_reports(s, ps) != 0 || pick_names(s, ps) != 0 ||
	    pick_measures(s, ps, measures, n_measures) != 0) {
		snprintf(err, errlen, "out of memory");
		picture_snapshot_destroy(&s);
	}
	return s;
}

size_t
picture_snapshot_bytes(const struct picture_snapshot *s)
{
	size_t n = sizeof *s + s->n_cand * sizeof *s->cand + s->cap_upcoming * sizeof *s->upcoming +
	           s->strings.cap + s->n_places * sizeof *s->places +
	           s->n_measures * (sizeof *s->views + sizeof *s->where + sizeof *s->jobs);
	for (size_t j = 0; j < s->n_jobs; j++)
		n += s->jobs[j].cap * sizeof *s->jobs[j].cand;
	return n;
}

void
picture_snapshot_destroy(struct picture_snapshot **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	struct picture_snapshot *s = *sp;
	for (size_t j = 0; s->jobs != NULL && j < s->n_jobs; j++)
		free(s->jobs[j].cand);
	free(s->jobs);
	for (size_t i = 0; i < s->n_measures; i++) {
		if (s->views[i].m != NULL)
			est__v1__measure__free_unpacked(
			    (Est__V1__Measure *)(uintptr_t)s->views[i].m, NULL);
	}
	free(s->views);
	free(s->where);
	free(s->places);
	free(s->strings.buf);
	free(s->upcoming);
	free(s->cand);
	free(s);
	*sp = NULL;
}

int
picture_compile(const struct picture_store *ps, const struct picture_rules *rules, const char *week,
                const char *const *areas, size_t n_areas, const struct measure_view *measures,
                size_t n_measures, int64_t now, Est__V1__Picture **out, char *err, size_t errlen)
{
	for (size_t i = 0; i <= n_areas && i <= PICTURE_MAX_AREAS; i++)
		out[i] = NULL;
	if (n_areas > PICTURE_MAX_AREAS) {
		snprintf(err, errlen, "areas: more than %d", PICTURE_MAX_AREAS);
		return -1;
	}
	struct picture_snapshot *s =
	    picture_snapshot_take(ps, rules, week, measures, n_measures, err, errlen);
	if (s == NULL)
		return -1;
	int rc = picture_compile_snapshot(s, areas, n_areas, now, out, err, errlen);
	picture_snapshot_destroy(&s);
	return rc;
}
