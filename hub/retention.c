/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention: the rules of gallring (see retention.h, docs/retention.md).
 *
 * A plan keeps one 16-byte record per entry of a whole (a report or a
 * measure) and per entry alone that has expired: its seq, its label,
 * whether it has expired by now and, for a whole, a 64-bit hash of the
 * whole's key ((org, source_id) or measure_id) instead of the key itself.
 * Finishing sorts the records by hash and seq, so that each whole is one
 * run whose last record (the highest revision, the latest update: the log
 * never takes a lower revision after a higher one) decides for all of it.
 *
 * A run can hold two wholes whose keys hash alike. Where that could change
 * the outcome (a run of more than one record, some expired, some not) the
 * entries of the run are read again and the run is split by the real key,
 * so a collision costs a few reads, never a wrong purge. A run all expired
 * or all not goes or stays alike however it splits, and needs no reading.
 *
 * Why so small: the hub plans at start-up over the whole log before its
 * picture store loads. With a record of 32 bytes plus a malloc'd key per
 * entry (and glibc qsort's copy of the array) a log of a million reports
 * took the hub to about 112 MiB there; now such a plan is 16 MiB, in a
 * mapping of its own (plan_map), and the hub's peak is its picture store.
 */
#define _GNU_SOURCE /* mremap */
#include "retention.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "instance.h"
#include "wire/durable.h"

/*
 * hash: of the whole's key, with bit 0 set; 0 for an entry alone (only
 * expired ones are kept). word: seq << WORD_SEQ_SHIFT | flags | label.
 * Both in one order, so sorting by (hash, word) sorts by (hash, seq) and
 * puts the entries alone first.
 */
struct record {
	uint64_t hash;
	uint64_t word;
};

#define WORD_SEQ_SHIFT 8
#define WORD_EXPIRED   UINT64_C(0x80) /* its own time has passed by now */
#define WORD_GOES      UINT64_C(0x40) /* decided: it goes */
#define WORD_LABEL     UINT64_C(0x0f)
#define SEQ_MAX        (UINT64_MAX >> WORD_SEQ_SHIFT)
_Static_assert(RETENTION__LABELS <= 16, "a label must fit WORD_LABEL");

struct retention_plan {
	struct retention_rules rules;
	int64_t now;
	/* recs, and after finish seqs and labels, in a mapping of their own (plan_map) */
	void *map;
	size_t map_len;
	struct record *recs;
	size_t n, cap;
	uint64_t last_checkpoint; /* never purged */
	bool finished;
	retention_hash_fn hash;
	/* where the entries of a run are read again (retention_plan_reread) */
	retention_reread_fn reread;
	void *reread_arg;
	struct log *lg;             /* the log scanned, read again by log_reread */
	Est__V1__LogEntry *reentry; /* log_reread's last entry */
	/* after finish: the expired entries in seq order */
	const uint64_t *seqs;
	const uint8_t *labels;
	size_t n_expired;
};

/*
 * The plan's records live in a mapping of their own, not in malloc's heap.
 * glibc raises its mmap threshold to the size of any mapped block freed
 * (up to 32 MiB): after a plan of 16 MiB was freed, the picture store that
 * loads next grew its arrays inside the heap, copying, and the hub peaked
 * 9 MiB higher on a start with a purge than on one without. mremap grows
 * it by moving pages, not copying them. NULL when out of memory.
 */
static void *
plan_map(void *old, size_t old_len, size_t len)
{
	void *m = old == NULL
	              ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
	              : mremap(old, old_len, len, MREMAP_MAYMOVE);
	return m == MAP_FAILED ? NULL : m;
}

static const char *const label_names[RETENTION__LABELS] = {
    "reports/unspecified",
    "reports/gathering",
    "reports/vandalism",
    "reports/unsafe_place",
    "reports/upcoming_event",
    "reports/disorder",
    "reports/staff_incident",
    "reports/rumour",
    "reports/other",
    [RETENTION_MEASURE] = "measures",
    [RETENTION_PICTURE] = "pictures",
    [RETENTION_CHECKPOINT] = "checkpoints",
    [RETENTION_AUDIT] = "audit",
};

const char *
retention_label_name(enum retention_label label)
{
	return (unsigned)label < RETENTION__LABELS ? label_names[label] : "unknown";
}

void
retention_configure(const struct config *cfg, struct retention_rules *rules)
{
	memset(rules, 0, sizeof *rules);
	for (int c = 0; c < RETENTION_CATEGORIES; c++) {
		long own = cfg->report_category_days[c];
		rules->report_days[c] = own >= 0 ? own : cfg->reports_days;
	}
	rules->measures_days = cfg->measures_days;
	rules->pictures_days = cfg->pictures_days;
	rules->checkpoints_days = cfg->checkpoints_days;
	rules->audit_days = cfg->audit_days;
	int minute = 0;
	if (retention_clock_parse(cfg->purge_at, &minute, NULL, 0) == 0)
		rules->purge_minute = minute;
}

int
retention_clock_parse(const char *s, int *minute, char *err, size_t errlen)
{
	/* Exactly HH:MM: a daily time people write, nothing to guess. */
	bool digits = strlen(s) == 5 && s[2] == ':';
	for (int i = 0; digits && i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			digits = false;
	int h = digits ? (s[0] - '0') * 10 + (s[1] - '0') : 0;
	int m = digits ? (s[3] - '0') * 10 + (s[4] - '0') : 0;
	if (!digits || h > 23 || m > 59) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			         "\"%s\" is not a time of day; write HH:MM, 00:00..23:59 "
			         "(Europe/Stockholm)",
			         s);
		return -1;
	}
	*minute = h * 60 + m;
	return 0;
}

/* The local time minute-of-day on the day days after the local day of t. */
static int64_t
due_on(int minute, int64_t t, int days)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	tm.tm_mday += days;
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1; /* let mktime find summer or winter time for that day */
	return (int64_t)mktime(&tm);
}

int64_t
retention_last_due(int minute, int64_t now)
{
	int64_t t = due_on(minute, now, 0);
	return t <= now ? t : due_on(minute, now, -1);
}

int64_t
retention_next_due(int minute, int64_t now)
{
	int64_t t = due_on(minute, now, 0);
	return t > now ? t : due_on(minute, now, 1);
}

/* FNV-1a over a, the unit separator and b, then mixed (splitmix64's finalizer) so that every bit
 * of the key moves every bit of the hash. */
static uint64_t
key_hash(const char *a, const char *b)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (const unsigned char *s = (const unsigned char *)a; *s != '\0'; s++)
		h = (h ^ *s) * UINT64_C(0x100000001b3);
	h = (h ^ 0x1f) * UINT64_C(0x100000001b3);
	for (const unsigned char *s = (const unsigned char *)b; *s != '\0'; s++)
		h = (h ^ *s) * UINT64_C(0x100000001b3);
	h ^= h >> 30;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	h ^= h >> 31;
	return h;
}

struct retention_plan *
retention_plan_new(const struct retention_rules *rules, int64_t now)
{
	struct retention_plan *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->rules = *rules;
	p->now = now;
	p->hash = key_hash;
	return p;
}

void
retention_plan_hash_for_tests(struct retention_plan *p, retention_hash_fn fn)
{
	p->hash = fn != NULL ? fn : key_hash;
}

void
retention_plan_reread(struct retention_plan *p, retention_reread_fn fn, void *arg)
{
	p->reread = fn;
	p->reread_arg = arg;
}

void
retention_plan_destroy(struct retention_plan **plan)
{
	if (plan == NULL || *plan == NULL)
		return;
	struct retention_plan *p = *plan;
	if (p->reentry != NULL)
		est__v1__log_entry__free_unpacked(p->reentry, NULL);
	if (p->map != NULL)
		munmap(p->map, p->map_len);
	free(p);
	*plan = NULL;
}

/* t + days; 0 (never) when days is 0 or t is unknown. */
static int64_t
expiry(int64_t t, long days)
{
	if (days <= 0 || t <= 0)
		return 0;
	return t + (int64_t)days * RETENTION_DAY_S;
}

/* The time a report's retention counts from: when it happened, or for an event when it ends. */
static int64_t
report_time(const Est__V1__Report *r)
{
	if (r->category == EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT) {
		if (r->ends_at > 0)
			return r->ends_at;
		if (r->starts_at > 0)
			return r->starts_at;
	}
	return r->observed_at;
}

/*
 * The two parts of the key of the whole e belongs to: (org, source_id) for
 * a report, ("", measure_id) for a measure; the key is a, the unit
 * separator, b. false for an entry decided alone.
 */
static bool
whole_key(const Est__V1__LogEntry *e, const char **a, const char **b)
{
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT && e->report != NULL) {
		*a = e->org != NULL ? e->org : "";
		*b = e->report->source_id != NULL ? e->report->source_id : "";
		return true;
	}
	if (e->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE && e->measure != NULL) {
		*a = "";
		*b = e->measure->measure_id != NULL ? e->measure->measure_id : "";
		return true;
	}
	return false;
}

/* The label of e and when it expires into *label and *expires_at (0: never); false for a kind
 * retention does not know (kept). */
static bool
entry_rule(const struct retention_rules *r, const Est__V1__LogEntry *e, int *label,
           int64_t *expires_at)
{
	switch (e->body_case) {
	case EST__V1__LOG_ENTRY__BODY_REPORT: {
		const Est__V1__Report *rep = e->report;
		if (rep == NULL)
			return false;
		int cat = (unsigned)rep->category < RETENTION_CATEGORIES ? (int)rep->category : 0;
		*label = RETENTION_REPORT + cat;
		*expires_at = expiry(report_time(rep), r->report_days[cat]);
		return true;
	}
	case EST__V1__LOG_ENTRY__BODY_MEASURE:
		if (e->measure == NULL)
			return false;
		*label = RETENTION_MEASURE;
		*expires_at = expiry(e->logged_at, r->measures_days);
		return true;
	case EST__V1__LOG_ENTRY__BODY_PICTURE:
		*label = RETENTION_PICTURE;
		*expires_at = expiry(e->logged_at, r->pictures_days);
		return true;
	case EST__V1__LOG_ENTRY__BODY_CHECKPOINT:
		*label = RETENTION_CHECKPOINT;
		*expires_at = expiry(e->logged_at, r->checkpoints_days);
		return true;
	case EST__V1__LOG_ENTRY__BODY_AUDIT:
		*label = RETENTION_AUDIT;
		*expires_at = expiry(e->logged_at, r->audit_days);
		return true;
	default:
		return false;
	}
}

int
retention_plan_note(struct retention_plan *p, uint64_t seq, const Est__V1__LogEntry *e)
{
	int label = 0;
	int64_t expires_at = 0;
	if (p->finished || seq > SEQ_MAX)
		return -1;
	if (!entry_rule(&p->rules, e, &label, &expires_at))
		return 0;
	bool expired = expires_at != 0 && expires_at <= p->now;
	const char *a = NULL, *b = NULL;
	bool whole = whole_key(e, &a, &b);
	if (label == RETENTION_CHECKPOINT && seq > p->last_checkpoint)
		p->last_checkpoint = seq;
	/* An entry alone that stays needs no record: nothing depends on it. */
	if (!whole && !expired)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		void *grown = plan_map(p->map, p->map_len, cap * sizeof *p->recs);
		if (grown == NULL)
			return -1;
		p->map = grown;
		p->map_len = cap * sizeof *p->recs;
		p->recs = grown;
		p->cap = cap;
	}
	struct record *rec = &p->recs[p->n++];
	rec->hash = whole ? p->hash(a, b) | 1 : 0;
	rec->word = seq << WORD_SEQ_SHIFT | (expired ? WORD_EXPIRED : 0) | (uint64_t)label;
	return 0;
}

struct scan {
	struct retention_plan *p;
	char *err;
	size_t errlen;
};

static int
scan_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
           const uint8_t *hash)
{
	struct scan *sc = arg;
	(void)topic;
	(void)hash;
	if (body == NULL)
		return 0; /* purged already */
	Est__V1__LogEntry *e = est__v1__log_entry__unpack(NULL, body_len, body);
	if (e == NULL) {
		snprintf(sc->err, sc->errlen, "seq %llu: undecodable entry (run estctl verify)",
		         (unsigned long long)seq);
		return -1;
	}
	int rc = retention_plan_note(sc->p, seq, e);
	est__v1__log_entry__free_unpacked(e, NULL);
	if (rc != 0)
		snprintf(sc->err, sc->errlen, "seq %llu: out of memory planning the purge",
		         (unsigned long long)seq);
	return rc;
}

/* log_scan's visitor for one entry read again: keeps it decoded in the plan. */
static int
reread_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
             const uint8_t *hash)
{
	struct retention_plan *p = arg;
	(void)seq;
	(void)topic;
	(void)hash;
	if (body != NULL)
		p->reentry = est__v1__log_entry__unpack(NULL, body_len, body);
	return 0;
}

/* A plan's reader over the log it scanned (retention_reread_fn). */
static const Est__V1__LogEntry *
log_reread(void *arg, uint64_t seq, char *err, size_t errlen)
{
	struct retention_plan *p = arg;
	if (p->reentry != NULL)
		est__v1__log_entry__free_unpacked(p->reentry, NULL);
	p->reentry = NULL;
	if (log_scan(p->lg, seq, seq, reread_visit, p, err, errlen) != 0)
		return NULL;
	if (p->reentry == NULL)
		/* Only a purge by the hub while estctl's dry run plans beside it gets here. */
		snprintf(err, errlen,
		         "seq %llu: its content is gone or undecodable since the plan read it "
		         "(purged meanwhile? try again; else run estctl verify)",
		         (unsigned long long)seq);
	return p->reentry;
}

int
retention_plan_scan(struct retention_plan *p, struct log *lg, char *err, size_t errlen)
{
	struct scan sc = {p, err, errlen};
	p->lg = lg;
	retention_plan_reread(p, log_reread, p);
	return log_scan(lg, 1, log_head_seq(lg), scan_visit, &sc, err, errlen) == 0 ? 0 : -1;
}

/* --- sorting in place -----------------------------------------------------------
 * qsort would do, but glibc's copies the whole array into a buffer of its
 * own size to merge-sort it: 16 MiB more for a million entries, at the
 * moment the plan is largest. An introsort needs no memory.
 */

static inline bool
rec_less(const struct record *x, const struct record *y)
{
	return x->hash != y->hash ? x->hash < y->hash : x->word < y->word;
}

static inline void
rec_swap(struct record *x, struct record *y)
{
	struct record t = *x;
	*x = *y;
	*y = t;
}

static void
heap_sift(struct record *a, size_t n, size_t i)
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < n && rec_less(&a[big], &a[l]))
			big = l;
		if (r < n && rec_less(&a[big], &a[r]))
			big = r;
		if (big == i)
			return;
		rec_swap(&a[i], &a[big]);
		i = big;
	}
}

static void
heap_sort(struct record *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		heap_sift(a, n, i);
	for (size_t end = n; end-- > 1;) {
		rec_swap(&a[0], &a[end]);
		heap_sift(a, end, 0);
	}
}

#define SORT_SMALL 16

/* Quicksort down to runs of SORT_SMALL (left for records_sort's insertion sort); a heap sort where
 * the pivots keep going wrong, so never worse than n log n. */
static void
intro_sort(struct record *a, size_t n, int depth)
{
	while (n > SORT_SMALL) {
		if (depth-- == 0) {
			heap_sort(a, n);
			return;
		}
		size_t m = n / 2;
		if (rec_less(&a[m], &a[0]))
			rec_swap(&a[m], &a[0]);
		if (rec_less(&a[n - 1], &a[0]))
			rec_swap(&a[n - 1], &a[0]);
		if (rec_less(&a[n - 1], &a[m]))
			rec_swap(&a[n - 1], &a[m]);
		/* Hoare's partition around the median of three; the keys are distinct (seq). */
		struct record pivot = a[m];
		size_t i = 0, j = n - 1;
		for (;;) {
			while (rec_less(&a[i], &pivot))
				i++;
			while (rec_less(&pivot, &a[j]))
				j--;
			if (i >= j)
				break;
			rec_swap(&a[i], &a[j]);
			i++;
			j--;
		}
		/* [0, j] <= pivot <= [j + 1, n): the smaller side by recursion, the larger in the
		 * loop */
		size_t left = j + 1;
		if (left < n - left) {
			intro_sort(a, left, depth);
			a += left;
			n -= left;
		} else {
			intro_sort(a + left, n - left, depth);
			n = left;
		}
	}
}

static void
records_sort(struct record *a, size_t n)
{
	int depth = 0;
	for (size_t k = n; k > 1; k >>= 1)
		depth += 2;
	intro_sort(a, n, depth);
	for (size_t i = 1; i < n; i++) {
		struct record x = a[i];
		size_t j = i;
		for (; j > 0 && rec_less(&x, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* --- deciding -------------------------------------------------------------------- */

static uint64_t
rec_seq(const struct record *rec)
{
	return rec->word >> WORD_SEQ_SHIFT;
}

/* One record of a run being split: the real key of its whole and where it is. */
struct member {
	char *key;
	size_t at;
};

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c != 0)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* "a\x1fb": the key whole_key gives, as one string (the hash's input); caller frees. */
static char *
key_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *k = malloc(la + lb + 2);
	if (k != NULL) {
		memcpy(k, a, la);
		k[la] = '\x1f';
		memcpy(k + la + 1, b, lb + 1);
	}
	return k;
}

/*
 * The records [i, end) share a hash and are neither all expired nor all
 * not: reads their entries again and splits the run by the real key, each
 * whole decided by its own last record (the members of one key stay in seq
 * order). Sets WORD_GOES on what goes. 0, or -1 with err.
 */
static int
run_split(struct retention_plan *p, size_t i, size_t end, char *err, size_t errlen)
{
	size_t k = end - i;
	if (p->reread == NULL) {
		snprintf(err, errlen,
		         "two entries with one key hash (seq %llu, %llu) and no way to read them "
		         "again (retention_plan_reread)",
		         (unsigned long long)rec_seq(&p->recs[i]),
		         (unsigned long long)rec_seq(&p->recs[i + 1]));
		return -1;
	}
	struct member *m = calloc(k, sizeof *m);
	if (m == NULL) {
		snprintf(err, errlen, "out of memory planning the purge");
		return -1;
	}
	int rc = 0;
	for (size_t j = 0; rc == 0 && j < k; j++) {
		uint64_t seq = rec_seq(&p->recs[i + j]);
		const Est__V1__LogEntry *e = p->reread(p->reread_arg, seq, err, errlen);
		const char *a = NULL, *b = NULL;
		m[j].at = i + j;
		if (e == NULL) {
			rc = -1;
		} else if (!whole_key(e, &a, &b)) {
			snprintf(err, errlen,
			         "seq %llu: read again it is no report or measure any more (run "
			         "estctl verify)",
			         (unsigned long long)seq);
			rc = -1;
		} else if ((m[j].key = key_text(a, b)) == NULL) {
			snprintf(err, errlen, "out of memory planning the purge");
			rc = -1;
		}
	}
	if (rc == 0) {
		qsort(m, k, sizeof *m, member_cmp);
		for (size_t s = 0; s < k;) {
			size_t e = s + 1;
			while (e < k && strcmp(m[e].key, m[s].key) == 0)
				e++;
			if (p->recs[m[e - 1].at].word & WORD_EXPIRED)
				for (size_t j = s; j < e; j++)
					p->recs[m[j].at].word |= WORD_GOES;
			s = e;
		}
	}
	for (size_t j = 0; j < k; j++)
		free(m[j].key);
	free(m);
	return rc;
}

/* Marks what goes of the records [i, end) of one hash (end == i + 1 for an entry alone). */
static int
run_decide(struct retention_plan *p, size_t i, size_t end, char *err, size_t errlen)
{
	struct record *r = p->recs;
	if (r[i].hash == 0) {
		/* alone, kept only when expired; the last checkpoint never goes */
		if (!((r[i].word & WORD_LABEL) == RETENTION_CHECKPOINT &&
		      rec_seq(&r[i]) == p->last_checkpoint))
			r[i].word |= WORD_GOES;
		return 0;
	}
	size_t expired = 0;
	for (size_t j = i; j < end; j++)
		expired += (r[j].word & WORD_EXPIRED) != 0;
	if (expired != 0 && expired != end - i)
		return run_split(p, i, end, err, errlen);
	/* One whole, or several that go or stay alike: the last decides for all. */
	if (expired != 0)
		for (size_t j = i; j < end; j++)
			r[j].word |= WORD_GOES;
	return 0;
}

int
retention_plan_finish(struct retention_plan *p, char *err, size_t errlen)
{
	if (p->finished)
		return 0;
	struct record *r = p->recs;
	records_sort(r, p->n);
	/*
	 * What goes is moved to the front as it is decided (out <= i: never over
	 * a record not yet decided), with hash 0, so that sorting that front
	 * sorts it by seq.
	 */
	size_t out = 0;
	for (size_t i = 0; i < p->n;) {
		size_t end = i + 1;
		if (r[i].hash != 0)
			while (end < p->n && r[end].hash == r[i].hash)
				end++;
		if (run_decide(p, i, end, err, errlen) != 0)
			return -1;
		for (size_t j = i; j < end; j++)
			if (r[j].word & WORD_GOES)
				r[out++] =
				    (struct record){0, r[j].word & ~(WORD_GOES | WORD_EXPIRED)};
		i = end;
	}
	records_sort(r, out);
	/*
	 * The result in the records' own mapping, each step writing only over
	 * records already read: the words (seq and label) of record k at 8k, the
	 * labels after all words, then the words made seqs.
	 */
	uint64_t *words = (uint64_t *)(void *)r;
	for (size_t k = 0; k < out; k++)
		words[k] = r[k].word;
	uint8_t *labels = (uint8_t *)(words + out);
	for (size_t k = 0; k < out; k++)
		labels[k] = (uint8_t)(words[k] & WORD_LABEL);
	for (size_t k = 0; k < out; k++)
		words[k] >>= WORD_SEQ_SHIFT;
	/* Hands back what the result does not need: in place (no MREMAP_MAYMOVE), so when it cannot
	 * the mapping just stays larger. */
	size_t need = out * (sizeof *words + 1);
	if (need == 0 && p->map != NULL) {
		munmap(p->map, p->map_len);
		p->map = NULL;
		words = NULL;
		labels = NULL;
	} else if (p->map != NULL && mremap(p->map, p->map_len, need, 0) != MAP_FAILED) {
		p->map_len = need;
	}
	p->recs = NULL;
	p->n = p->cap = 0;
	p->seqs = words;
	p->labels = labels;
	p->n_expired = out;
	p->finished = true;
	return 0;
}

const uint64_t *
retention_plan_seqs(const struct retention_plan *p, size_t *n)
{
	static const uint64_t none[1];
	*n = p->n_expired;
	return p->seqs != NULL ? p->seqs : none;
}

void
retention_plan_count(const struct retention_plan *p, enum retention_label label,
                     struct retention_count *out)
{
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k < p->n_expired; k++) {
		if (p->labels[k] != (int)label)
			continue;
		if (out->entries == 0)
			out->first_seq = p->seqs[k];
		out->last_seq = p->seqs[k];
		out->entries++;
	}
}

/* Appends to out at *used, never past outlen (a long plan is cut, never overrun). */
__attribute__((format(printf, 4, 5))) static void
put(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
	if (*used + 1 >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(out + *used, outlen - *used, fmt, ap);
	va_end(ap);
	if (w > 0)
		*used += (size_t)w < outlen - *used ? (size_t)w : outlen - *used - 1;
}

#define RANGES_SHOWN 8

/* ", 2..4, 9" for one label: consecutive seqs of that label (none of another between) are one
 * range. */
static void
format_ranges(const struct retention_plan *p, int label, char *out, size_t outlen, size_t *used)
{
	int shown = 0;
	for (size_t k = 0; k < p->n_expired; k++) {
		if (p->labels[k] != label)
			continue;
		size_t end = k;
		while (end + 1 < p->n_expired && p->labels[end + 1] == label &&
		       p->seqs[end + 1] == p->seqs[end] + 1)
			end++;
		if (shown == RANGES_SHOWN) {
			put(out, outlen, used, ", ...");
			return;
		}
		if (end == k)
			put(out, outlen, used, "%s%llu", shown ? ", " : " ",
			    (unsigned long long)p->seqs[k]);
		else
			put(out, outlen, used, "%s%llu..%llu", shown ? ", " : " ",
			    (unsigned long long)p->seqs[k], (unsigned long long)p->seqs[end]);
		shown++;
		k = end;
	}
}

uint64_t
retention_plan_format(const struct retention_plan *p, char *out, size_t outlen)
{
	size_t used = 0;
	uint64_t total = 0;
	if (outlen > 0)
		out[0] = '\0';
	for (int label = 0; label < RETENTION__LABELS; label++) {
		struct retention_count c;
		retention_plan_count(p, (enum retention_label)label, &c);
		if (c.entries == 0)
			continue;
		total += c.entries;
		put(out, outlen, &used, "%s: %llu entr%s, seq", label_names[label],
		    (unsigned long long)c.entries, c.entries == 1 ? "y" : "ies");
		format_ranges(p, label, out, outlen, &used);
		put(out, outlen, &used, "\n");
	}
	if (total == 0)
		put(out, outlen, &used, "nothing has expired\n");
	return total;
}

int
retention_purge(struct log *lg, const struct retention_rules *rules, int64_t now, int dry_run,
                struct retention_plan **out, char *err, size_t errlen)
{
	*out = retention_plan_new(rules, now);
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory planning the purge");
		return -1;
	}
	size_t n = 0;
	uint64_t purged = 0;
	int rc = retention_plan_scan(*out, lg, err, errlen);
	if (rc == 0)
		rc = retention_plan_finish(*out, err, errlen);
	const uint64_t *seqs = rc == 0 ? retention_plan_seqs(*out, &n) : NULL;
	if (rc == 0 && !dry_run)
		rc = log_purge(lg, seqs, n, &purged, err, errlen);
	if (rc != 0)
		retention_plan_destroy(out);
	return rc;
}

int64_t
retention_last_run(const char *dir)
{
	char path[4096], line[32];
	if (instance_path(path, sizeof path, dir, RETENTION_MARK) != 0)
		return 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char *got = fgets(line, sizeof line, f);
	fclose(f);
	if (got == NULL)
		return 0;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(line, &end, 10);
	/* Anything but a plain number counts as never: the worst that does is one purge too many.
	 */
	if (errno != 0 || end == line || (*end != '\n' && *end != '\0') || v < 0)
		return 0;
	return (int64_t)v;
}

int
retention_mark_run(const char *dir, int64_t when, char *err, size_t errlen)
{
	char path[4096];
	if (instance_path(path, sizeof path, dir, RETENTION_MARK) != 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	/* Written aside and renamed, so a crash or a power cut leaves the old record or the new
	 * one. */
	char text[32];
	int len = snprintf(text, sizeof text, "%lld\n", (long long)when);
	return durable_replace(path, text, (size_t)len, err, errlen);
}
