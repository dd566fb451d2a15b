/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention: the rules of gallring (see retention.h, docs/retention.md).
 *
 * A plan collects one record per entry with a body: its seq, its label,
 * when it expires and, for reports and measures, the key of the whole it
 * belongs to ((org, source_id) or measure_id). Finishing sorts the records
 * by key and seq, so that each whole is one run whose last record (the
 * highest revision, the latest update: the log never takes a lower
 * revision after a higher one) decides for all of it.
 */
#include "retention.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "instance.h"

struct record {
	uint64_t seq;
	int64_t expires_at; /* 0: never */
	char *key;          /* NULL: decided alone */
	int label;
};

struct retention_plan {
	struct retention_rules rules;
	int64_t now;
	struct record *recs;
	size_t n, cap;
	uint64_t last_checkpoint; /* never purged */
	/* after finish: the expired entries in seq order */
	uint64_t *seqs;
	int *labels;
	size_t n_expired;
};

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

struct retention_plan *
retention_plan_new(const struct retention_rules *rules, int64_t now)
{
	struct retention_plan *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->rules = *rules;
	p->now = now;
	return p;
}

void
retention_plan_destroy(struct retention_plan **plan)
{
	if (plan == NULL || *plan == NULL)
		return;
	struct retention_plan *p = *plan;
	for (size_t i = 0; i < p->n; i++)
		free(p->recs[i].key);
	free(p->recs);
	free(p->seqs);
	free(p->labels);
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

/* "org\x1fsource_id" or "\x1fmeasure_id": the key of a whole; caller frees. */
static char *
key_make(const char *a, const char *b)
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

/* Fills rec from e; false for a kind retention does not know (kept). */
static bool
record_fill(const struct retention_plan *p, struct record *rec, const Est__V1__LogEntry *e)
{
	const struct retention_rules *r = &p->rules;
	const char *org = e->org != NULL ? e->org : "";
	switch (e->body_case) {
	case EST__V1__LOG_ENTRY__BODY_REPORT: {
		const Est__V1__Report *rep = e->report;
		if (rep == NULL)
			return false;
		int cat = (unsigned)rep->category < RETENTION_CATEGORIES ? (int)rep->category : 0;
		rec->label = RETENTION_REPORT + cat;
		rec->expires_at = expiry(report_time(rep), r->report_days[cat]);
		rec->key = key_make(org, rep->source_id != NULL ? rep->source_id : "");
		return true;
	}
	case EST__V1__LOG_ENTRY__BODY_MEASURE:
		if (e->measure == NULL)
			return false;
		rec->label = RETENTION_MEASURE;
		rec->expires_at = expiry(e->logged_at, r->measures_days);
		rec->key =
		    key_make("", e->measure->measure_id != NULL ? e->measure->measure_id : "");
		return true;
	case EST__V1__LOG_ENTRY__BODY_PICTURE:
		rec->label = RETENTION_PICTURE;
		rec->expires_at = expiry(e->logged_at, r->pictures_days);
		return true;
	case EST__V1__LOG_ENTRY__BODY_CHECKPOINT:
		rec->label = RETENTION_CHECKPOINT;
		rec->expires_at = expiry(e->logged_at, r->checkpoints_days);
		return true;
	case EST__V1__LOG_ENTRY__BODY_AUDIT:
		rec->label = RETENTION_AUDIT;
		rec->expires_at = expiry(e->logged_at, r->audit_days);
		return true;
	default:
		return false;
	}
}

int
retention_plan_note(struct retention_plan *p, uint64_t seq, const Est__V1__LogEntry *e)
{
	struct record rec = {.seq = seq};
	if (!record_fill(p, &rec, e))
		return 0;
	if ((e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT ||
	     e->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE) &&
	    rec.key == NULL)
		return -1;
	if (rec.label == RETENTION_CHECKPOINT && seq > p->last_checkpoint)
		p->last_checkpoint = seq;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		struct record *grown = realloc(p->recs, cap * sizeof *grown);
		if (grown == NULL) {
			free(rec.key);
			return -1;
		}
		p->recs = grown;
		p->cap = cap;
	}
	p->recs[p->n++] = rec;
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

int
retention_plan_scan(struct retention_plan *p, struct log *lg, char *err, size_t errlen)
{
	struct scan sc = {p, err, errlen};
	return log_scan(lg, 1, log_head_seq(lg), scan_visit, &sc, err, errlen) == 0 ? 0 : -1;
}

/* Wholes together (by key), in seq order within; records alone (no key) first. */
static int
record_cmp(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	if ((x->key == NULL) != (y->key == NULL))
		return x->key == NULL ? -1 : 1;
	int c = x->key != NULL ? strcmp(x->key, y->key) : 0;
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
seq_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return *x < *y ? -1 : *x > *y;
}

static bool
expired(const struct retention_plan *p, const struct record *rec)
{
	if (rec->label == RETENTION_CHECKPOINT && rec->seq == p->last_checkpoint)
		return false;
	return rec->expires_at != 0 && rec->expires_at <= p->now;
}

int
retention_plan_finish(struct retention_plan *p)
{
	free(p->seqs);
	free(p->labels);
	p->seqs = NULL;
	p->labels = NULL;
	p->n_expired = 0;
	if (p->n > 0)
		qsort(p->recs, p->n, sizeof *p->recs, record_cmp);
	/* Pairs (seq, label) packed as seq * RETENTION__LABELS + label keep the label through the
	 * sort. */
	uint64_t *packed = malloc((p->n ? p->n : 1) * sizeof *packed);
	if (packed == NULL)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < p->n;) {
		size_t end = i + 1;
		if (p->recs[i].key != NULL)
			while (end < p->n && p->recs[end].key != NULL &&
			       strcmp(p->recs[end].key, p->recs[i].key) == 0)
				end++;
		/* the last of a whole decides for all of it */
		if (expired(p, &p->recs[end - 1]))
			for (size_t k = i; k < end; k++)
				packed[n++] =
				    p->recs[k].seq * RETENTION__LABELS + (uint64_t)p->recs[k].label;
		i = end;
	}
	qsort(packed, n, sizeof *packed, seq_cmp);
	p->seqs = malloc((n ? n : 1) * sizeof *p->seqs);
	p->labels = malloc((n ? n : 1) * sizeof *p->labels);
	if (p->seqs == NULL || p->labels == NULL) {
		free(packed);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		p->seqs[k] = packed[k] / RETENTION__LABELS;
		p->labels[k] = (int)(packed[k] % RETENTION__LABELS);
	}
	p->n_expired = n;
	free(packed);
	return 0;
}

const uint64_t *
retention_plan_seqs(const struct retention_plan *p, size_t *n)
{
	*n = p->n_expired;
	return p->seqs;
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
	if (rc == 0 && (rc = retention_plan_finish(*out)) != 0)
		snprintf(err, errlen, "out of memory planning the purge");
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
	char path[4096], tmp[4200];
	if (instance_path(path, sizeof path, dir, RETENTION_MARK) != 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	/* Written aside and renamed, so a crash leaves the old record or the new one. */
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "%lld\n", (long long)when);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}
