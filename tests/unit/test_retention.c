/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gallring (hub/retention.c, log_purge in hub/log.c): which
 * entries expire when, by kind and category; a report goes only as a whole
 * with all its revisions, a measure with all its updates; the last
 * checkpoint stays; 0 keeps for ever; the [retention] rows of hub.conf; the
 * daily time; and on a real store: purged bodies are gone, verify still
 * holds, a resent purged report is a DUPLICATE with the original seq.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "retention.h"
#include "wire/timefmt.h"

#define DAY INT64_C(86400)
#define NOW 1795000000 /* 2026-11-18 */

/* An entry with the storage it points to. */
struct ent {
	Est__V1__LogEntry e;
	Est__V1__Report r;
	Est__V1__Measure m;
	Est__V1__Checkpoint c;
	Est__V1__Picture p;
	Est__V1__AuditEvent a;
	char org[32], id[64], topic[64];
};

static void
report_at(struct ent *x, const char *org, const char *id, uint32_t rev, Est__V1__Category cat,
          int64_t observed_at)
{
	memset(x, 0, sizeof *x);
	est__v1__log_entry__init(&x->e);
	est__v1__report__init(&x->r);
	snprintf(x->org, sizeof x->org, "%s", org);
	snprintf(x->id, sizeof x->id, "%s", id);
	snprintf(x->topic, sizeof x->topic, "hageby/reports");
	x->r.source_id = x->id;
	x->r.revision = rev;
	x->r.category = cat;
	x->r.area = (char *)"hageby";
	x->r.observed_at = observed_at;
	x->r.description = (char *)"Klotter på fasaden";
	x->e.org = x->org;
	x->e.topic = x->topic;
	x->e.logged_at = NOW;
	x->e.body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
	x->e.report = &x->r;
}

static void
other_at(struct ent *x, Est__V1__LogEntry__BodyCase kind, const char *measure_id, int64_t logged_at)
{
	memset(x, 0, sizeof *x);
	est__v1__log_entry__init(&x->e);
	est__v1__measure__init(&x->m);
	est__v1__checkpoint__init(&x->c);
	est__v1__picture__init(&x->p);
	est__v1__audit_event__init(&x->a);
	snprintf(x->id, sizeof x->id, "%s", measure_id ? measure_id : "");
	x->e.org = (char *)"esthub";
	x->e.topic = (char *)"all/other";
	x->e.logged_at = logged_at;
	x->e.body_case = kind;
	x->m.measure_id = x->id;
	if (kind == EST__V1__LOG_ENTRY__BODY_MEASURE)
		x->e.measure = &x->m;
	else if (kind == EST__V1__LOG_ENTRY__BODY_CHECKPOINT)
		x->e.checkpoint = &x->c;
	else if (kind == EST__V1__LOG_ENTRY__BODY_AUDIT)
		x->e.audit = &x->a;
	else
		x->e.picture = &x->p;
}

static void
rules_all(struct retention_rules *r, long report_days)
{
	memset(r, 0, sizeof *r);
	for (int c = 0; c < RETENTION_CATEGORIES; c++)
		r->report_days[c] = report_days;
	r->measures_days = 730;
	r->pictures_days = 730;
	r->audit_days = 730;
	r->checkpoints_days = 0;
	r->purge_minute = 210;
}

/* The entries a plan of ents reads again (retention_reread_fn); counts the reads. */
struct reader {
	struct ent *ents;
	size_t n, reads;
};

static const Est__V1__LogEntry *
reread(void *arg, uint64_t seq, char *err, size_t errlen)
{
	struct reader *rd = arg;
	rd->reads++;
	if (seq < 1 || seq > rd->n) {
		snprintf(err, errlen, "seq %llu: no such entry", (unsigned long long)seq);
		return NULL;
	}
	return &rd->ents[seq - 1].e;
}

/* The hash in force for the plans made by plan_of (NULL: the plan's own), and their reader. */
static retention_hash_fn test_hash;
static struct reader rd;

/* Plans ents (seq = index + 1) at now; returns the plan (caller destroys). */
static struct retention_plan *
plan_of(const struct retention_rules *rules, int64_t now, struct ent *ents, size_t n)
{
	char err[256];
	rd = (struct reader){ents, n, 0};
	struct retention_plan *p = retention_plan_new(rules, now);
	assert_non_null(p);
	retention_plan_hash_for_tests(p, test_hash);
	retention_plan_reread(p, reread, &rd);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(retention_plan_note(p, i + 1, &ents[i].e), 0);
	assert_int_equal(retention_plan_finish(p, err, sizeof err), 0);
	return p;
}

/* The expired seqs as "1,3,4". */
static void
seqs_text(const struct retention_plan *p, char *out, size_t outlen)
{
	size_t n = 0, used = 0;
	const uint64_t *s = retention_plan_seqs(p, &n);
	out[0] = '\0';
	for (size_t i = 0; i < n && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%llu", i ? "," : "",
		                         (unsigned long long)s[i]);
}

static void
expect_expired(const struct retention_rules *rules, int64_t now, struct ent *ents, size_t n,
               const char *want)
{
	char got[256];
	struct retention_plan *p = plan_of(rules, now, ents, n);
	seqs_text(p, got, sizeof got);
	assert_string_equal(got, want);
	retention_plan_destroy(&p);
	assert_null(p);
}

/* Reports expire by observed_at + their category's days; exactly at the boundary they go. */
static void
test_reports_by_category(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	rules.report_days[EST__V1__CATEGORY__CATEGORY_RUMOUR] = 90;
	struct ent e[4];
	report_at(&e[0], "police", "a", 1, EST__V1__CATEGORY__CATEGORY_RUMOUR, NOW - 91 * DAY);
	report_at(&e[1], "police", "b", 1, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 91 * DAY);
	report_at(&e[2], "police", "c", 1, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 365 * DAY);
	report_at(&e[3], "police", "d", 1, EST__V1__CATEGORY__CATEGORY_GATHERING,
	          NOW - 365 * DAY + 1);
	expect_expired(&rules, NOW, e, 4, "1,3");
	/* a year on, everything has */
	expect_expired(&rules, NOW + 400 * DAY, e, 4, "1,2,3,4");
	/* 0 keeps for ever */
	rules_all(&rules, 0);
	expect_expired(&rules, NOW + 40000 * DAY, e, 4, "");
}

/* An upcoming event counts from when it ends, not when it was announced. */
static void
test_event_counts_from_its_end(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 30);
	struct ent e[1];
	report_at(&e[0], "municipality", "ev", 1, EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT,
	          NOW - 60 * DAY);
	e[0].r.starts_at = NOW - 10 * DAY;
	e[0].r.ends_at = NOW - 5 * DAY;
	expect_expired(&rules, NOW, e, 1, "");
	expect_expired(&rules, NOW + 25 * DAY, e, 1, "1");
	e[0].r.ends_at = 0; /* no end: its start */
	expect_expired(&rules, NOW + 20 * DAY, e, 1, "1");
	expect_expired(&rules, NOW + 19 * DAY, e, 1, "");
}

/*
 * A report goes as a whole: a lower revision whose own time has passed
 * stays while the highest has not, and goes with it, whatever the lower
 * one's category said. Another organisation's report of the same
 * source_id is another whole.
 */
static void
test_report_whole_with_revisions(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	rules.report_days[EST__V1__CATEGORY__CATEGORY_RUMOUR] = 30;
	struct ent e[5];
	report_at(&e[0], "police", "x", 1, EST__V1__CATEGORY__CATEGORY_RUMOUR, NOW - 100 * DAY);
	report_at(&e[1], "housing", "x", 1, EST__V1__CATEGORY__CATEGORY_RUMOUR, NOW - 100 * DAY);
	report_at(&e[2], "police", "y", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 400 * DAY);
	report_at(&e[3], "police", "x", 2, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 100 * DAY);
	report_at(&e[4], "police", "y", 2, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 10 * DAY);
	/* police/x rev 1 is an old rumour, but rev 2 (gathering, 365 days) decides */
	expect_expired(&rules, NOW, e, 5, "2");
	/* police/y: rev 1 is 400 days old, rev 2 is not: neither goes */
	expect_expired(&rules, NOW + 265 * DAY, e, 5, "1,2,4");
	expect_expired(&rules, NOW + 355 * DAY, e, 5, "1,2,3,4,5");
	struct retention_plan *p = plan_of(&rules, NOW + 355 * DAY, e, 5);
	struct retention_count c;
	retention_plan_count(p, RETENTION_REPORT + EST__V1__CATEGORY__CATEGORY_RUMOUR, &c);
	assert_int_equal(c.entries, 2);
	assert_int_equal(c.first_seq, 1);
	assert_int_equal(c.last_seq, 2);
	char text[512];
	assert_int_equal(retention_plan_format(p, text, sizeof text), 5);
	assert_non_null(strstr(text, "reports/rumour: 2 entries, seq 1..2\n"));
	assert_non_null(strstr(text, "reports/vandalism: 2 entries, seq 3, 5\n"));
	assert_non_null(strstr(text, "reports/gathering: 1 entry, seq 4\n"));
	retention_plan_destroy(&p);
}

/* Measures go with all their updates, once the latest is old enough. */
static void
test_measure_whole(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	rules.measures_days = 100;
	struct ent e[3];
	other_at(&e[0], EST__V1__LOG_ENTRY__BODY_MEASURE, "M-1", NOW - 200 * DAY);
	other_at(&e[1], EST__V1__LOG_ENTRY__BODY_MEASURE, "M-2", NOW - 150 * DAY);
	other_at(&e[2], EST__V1__LOG_ENTRY__BODY_MEASURE, "M-1", NOW - 50 * DAY);
	expect_expired(&rules, NOW, e, 3, "2");
	expect_expired(&rules, NOW + 50 * DAY, e, 3, "1,2,3");
}

/* Checkpoints: kept for ever by default; with a period, never the last one. */
static void
test_checkpoints_last_kept(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	struct ent e[4];
	other_at(&e[0], EST__V1__LOG_ENTRY__BODY_CHECKPOINT, NULL, NOW - 900 * DAY);
	other_at(&e[1], EST__V1__LOG_ENTRY__BODY_CHECKPOINT, NULL, NOW - 800 * DAY);
	other_at(&e[2], EST__V1__LOG_ENTRY__BODY_PICTURE, NULL, NOW - 800 * DAY);
	other_at(&e[3], EST__V1__LOG_ENTRY__BODY_CHECKPOINT, NULL, NOW - 700 * DAY);
	expect_expired(&rules, NOW, e, 4, "3");
	rules.checkpoints_days = 10;
	expect_expired(&rules, NOW, e, 4, "1,2,3");
}

/* A picture younger than pictures_days stays, even when every report behind it goes. */
static void
test_pictures_by_logged_at(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 30);
	rules.pictures_days = 730;
	struct ent e[2];
	report_at(&e[0], "police", "r", 1, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 60 * DAY);
	other_at(&e[1], EST__V1__LOG_ENTRY__BODY_PICTURE, NULL, NOW - 729 * DAY);
	expect_expired(&rules, NOW, e, 2, "1");
	expect_expired(&rules, NOW + DAY, e, 2, "1,2");
}

/* --- wholes whose keys hash alike -------------------------------------------------- */

/* Every key one hash: each whole collides with every other. */
static uint64_t
hash_one(const char *a, const char *b)
{
	(void)a;
	(void)b;
	return 0; /* also what marks an entry alone inside the plan: must not join them */
}

/* Four hashes in all: many collisions, also between whole runs of revisions. */
static uint64_t
hash_four(const char *a, const char *b)
{
	return (uint64_t)(strlen(a) + strlen(b)) % 4 * UINT64_C(0x9e3779b97f4a7c15);
}

/*
 * Reports and measures of six wholes with one hash: each is still decided by
 * its own last entry. police/x has an old rumour, but its rev 2 is recent
 * (stays); housing/x and housing/z are old (go); M-1 was updated lately
 * (stays); the picture between them goes alone, the last checkpoint stays.
 * With the run taken for one whole, the last entry (a recent audit entry
 * is alone, so housing/z) would decide for all of them.
 */
static void
collision_entries(struct ent *e)
{
	report_at(&e[0], "police", "x", 1, EST__V1__CATEGORY__CATEGORY_RUMOUR, NOW - 100 * DAY);
	report_at(&e[1], "housing", "x", 1, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 400 * DAY);
	other_at(&e[2], EST__V1__LOG_ENTRY__BODY_MEASURE, "M-1", NOW - 800 * DAY);
	other_at(&e[3], EST__V1__LOG_ENTRY__BODY_PICTURE, NULL, NOW - 800 * DAY);
	report_at(&e[4], "police", "x", 2, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 10 * DAY);
	other_at(&e[5], EST__V1__LOG_ENTRY__BODY_MEASURE, "M-1", NOW - 10 * DAY);
	report_at(&e[6], "housing", "z", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 500 * DAY);
	other_at(&e[7], EST__V1__LOG_ENTRY__BODY_CHECKPOINT, NULL, NOW - 900 * DAY);
	other_at(&e[8], EST__V1__LOG_ENTRY__BODY_AUDIT, NULL, NOW - DAY);
}

static void
test_collision_split(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	rules.report_days[EST__V1__CATEGORY__CATEGORY_RUMOUR] = 30;
	rules.checkpoints_days = 10;
	struct ent e[9];
	collision_entries(e);
	static const retention_hash_fn hashes[] = {NULL, hash_one, hash_four};
	for (size_t h = 0; h < sizeof hashes / sizeof hashes[0]; h++) {
		test_hash = hashes[h];
		expect_expired(&rules, NOW, e, 9, "2,4,7");
		/* 800 days on everything but the last checkpoint has expired: nothing to read again
		 */
		expect_expired(&rules, NOW + 800 * DAY, e, 9, "1,2,3,4,5,6,7,9");
	}
	/* the run of six is read again once, by the reader given */
	test_hash = hash_one;
	struct retention_plan *p = plan_of(&rules, NOW, e, 9);
	assert_int_equal(rd.reads, 6);
	retention_plan_destroy(&p);
	/* with the real hash only the wholes of revisions that expired in part: police/x, M-1 */
	test_hash = NULL;
	p = plan_of(&rules, NOW, e, 9);
	assert_int_equal(rd.reads, 4);
	char text[512];
	assert_int_equal(retention_plan_format(p, text, sizeof text), 3);
	assert_string_equal(text, "reports/gathering: 1 entry, seq 2\n"
	                          "reports/vandalism: 1 entry, seq 7\n"
	                          "pictures: 1 entry, seq 4\n");
	retention_plan_destroy(&p);

	/* without a way to read the run again, finishing says so instead of guessing */
	char err[256] = "";
	p = retention_plan_new(&rules, NOW);
	assert_non_null(p);
	retention_plan_hash_for_tests(p, hash_one);
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(retention_plan_note(p, i + 1, &e[i].e), 0);
	assert_int_equal(retention_plan_finish(p, err, sizeof err), -1);
	assert_non_null(strstr(err, "one key hash"));
	retention_plan_destroy(&p);
	test_hash = NULL;
}

/* A reader that fails: finishing fails with its reason, nothing is decided. */
static const Est__V1__LogEntry *
reread_fails(void *arg, uint64_t seq, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "seq %llu: cannot read", (unsigned long long)seq);
	return NULL;
}

static void
test_collision_reread_fails(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	struct ent e[2];
	report_at(&e[0], "police", "a", 1, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - 400 * DAY);
	report_at(&e[1], "police", "b", 1, EST__V1__CATEGORY__CATEGORY_GATHERING, NOW - DAY);
	char err[256] = "";
	struct retention_plan *p = retention_plan_new(&rules, NOW);
	assert_non_null(p);
	retention_plan_hash_for_tests(p, hash_one);
	retention_plan_reread(p, reread_fails, NULL);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(retention_plan_note(p, i + 1, &e[i].e), 0);
	assert_int_equal(retention_plan_finish(p, err, sizeof err), -1);
	assert_string_equal(err, "seq 1: cannot read");
	retention_plan_destroy(&p);
}

/* A small random number generator, the same sequence on every run. */
static uint32_t
lcg(uint64_t *x)
{
	*x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (uint32_t)(*x >> 33);
}

#define MANY 3000

/*
 * Many wholes with many revisions, interleaved, between entries alone, at
 * random ages: the plan against a plain reading of the rules (each entry
 * of a whole goes when the last entry of its key has expired), with the
 * real hash, four hashes and one; enough entries that the plan's own sort
 * partitions many times.
 */
static void
test_many_wholes(void **state)
{
	(void)state;
	struct retention_rules rules;
	rules_all(&rules, 365);
	rules.report_days[EST__V1__CATEGORY__CATEGORY_RUMOUR] = 30;
	rules.checkpoints_days = 100;
	struct ent *e = calloc(MANY, sizeof *e);
	bool *want = calloc(MANY, sizeof *want);
	assert_non_null(e);
	assert_non_null(want);
	uint64_t x = 42;
	uint32_t rev[64] = {0};
	size_t last_checkpoint = 0;
	for (size_t i = 0; i < MANY; i++) {
		uint32_t kind = lcg(&x) % 10, w = lcg(&x) % 64;
		int64_t age = (int64_t)(lcg(&x) % 900) * DAY;
		char id[16];
		snprintf(id, sizeof id, "w%u", (unsigned)(w % 32));
		if (kind < 6) /* reports of 64 wholes: two orgs with the same 32 ids */
			report_at(&e[i], w < 32 ? "police" : "housing", id, ++rev[w],
			          lcg(&x) % 2 ? EST__V1__CATEGORY__CATEGORY_RUMOUR
			                      : EST__V1__CATEGORY__CATEGORY_GATHERING,
			          NOW - age);
		else if (kind < 8) /* measures of 32 ids, the same as the reports' */
			other_at(&e[i], EST__V1__LOG_ENTRY__BODY_MEASURE, id, NOW - age);
		else if (kind < 9)
			other_at(&e[i], EST__V1__LOG_ENTRY__BODY_PICTURE, NULL, NOW - age);
		else
			other_at(&e[i], EST__V1__LOG_ENTRY__BODY_CHECKPOINT, NULL, NOW - age);
		if (kind == 9)
			last_checkpoint = i;
	}
	/* the rules read plainly: O(n^2), the whole's last entry found by its key */
	char expect[MANY * 6] = "", got[MANY * 6];
	size_t used = 0;
	for (size_t i = 0; i < MANY; i++) {
		const Est__V1__LogEntry *ei = &e[i].e;
		size_t last = i;
		bool whole = ei->body_case == EST__V1__LOG_ENTRY__BODY_REPORT ||
		             ei->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE;
		for (size_t j = i + 1; whole && j < MANY; j++) {
			const Est__V1__LogEntry *ej = &e[j].e;
			if (ej->body_case != ei->body_case)
				continue;
			if (ei->body_case == EST__V1__LOG_ENTRY__BODY_REPORT
			        ? strcmp(ej->org, ei->org) == 0 &&
			              strcmp(ej->report->source_id, ei->report->source_id) == 0
			        : strcmp(ej->measure->measure_id, ei->measure->measure_id) == 0)
				last = j;
		}
		const Est__V1__LogEntry *el = &e[last].e;
		long days = rules.pictures_days;
		int64_t t = el->logged_at;
		if (el->body_case == EST__V1__LOG_ENTRY__BODY_REPORT) {
			days = rules.report_days[el->report->category];
			t = el->report->observed_at;
		} else if (el->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE) {
			days = rules.measures_days;
		} else if (el->body_case == EST__V1__LOG_ENTRY__BODY_CHECKPOINT) {
			days = i == last_checkpoint ? 0 : rules.checkpoints_days;
		}
		want[i] = days > 0 && t + days * DAY <= NOW;
		if (want[i])
			used += (size_t)snprintf(expect + used, sizeof expect - used, "%s%zu",
			                         used ? "," : "", i + 1);
	}
	assert_true(used > 1000 && used < sizeof expect - 1); /* some go, some stay */
	static const retention_hash_fn hashes[] = {NULL, hash_four, hash_one};
	for (size_t h = 0; h < sizeof hashes / sizeof hashes[0]; h++) {
		test_hash = hashes[h];
		struct retention_plan *p = plan_of(&rules, NOW, e, MANY);
		seqs_text(p, got, sizeof got);
		assert_string_equal(got, expect);
		retention_plan_destroy(&p);
	}
	test_hash = NULL;
	free(want);
	free(e);
}

/* hub.conf's [retention]: defaults, an override, and what is refused. */
static void
test_config_rows(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_retention.XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/hub.conf", dir);
	struct config cfg;
	struct retention_rules rules;
	config_defaults(&cfg);
	retention_configure(&cfg, &rules);
	assert_int_equal(rules.report_days[EST__V1__CATEGORY__CATEGORY_RUMOUR], 365);
	assert_int_equal(rules.measures_days, 730);
	assert_int_equal(rules.checkpoints_days, 0);
	assert_int_equal(rules.purge_minute, 3 * 60 + 30);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[retention]\nreports_days = 200\nreport_rumour_days = 90\npurge_at = 23:05\n");
	fclose(f);
	assert_int_equal(config_load(&cfg, path, stderr), 0);
	retention_configure(&cfg, &rules);
	assert_int_equal(rules.report_days[EST__V1__CATEGORY__CATEGORY_RUMOUR], 90);
	assert_int_equal(rules.report_days[EST__V1__CATEGORY__CATEGORY_GATHERING], 200);
	assert_int_equal(rules.purge_minute, 23 * 60 + 5);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[retention]\nreports_days = -1\npurge_at = 3:30\n");
	fclose(f);
	assert_int_equal(config_load(&cfg, path, NULL), 2);
	unlink(path);
	rmdir(dir);
}

static void
test_clock(void **state)
{
	(void)state;
	int m = -1;
	char err[160];
	assert_int_equal(retention_clock_parse("00:00", &m, err, sizeof err), 0);
	assert_int_equal(m, 0);
	assert_int_equal(retention_clock_parse("23:59", &m, err, sizeof err), 0);
	assert_int_equal(m, 23 * 60 + 59);
	static const char *const bad[] = {"24:00", "03:60", "3:30", "03.30", "", "03:30 ", "ab:cd"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(retention_clock_parse(bad[i], &m, err, sizeof err), -1);
		assert_non_null(strstr(err, "HH:MM"));
	}
	/* 2026-11-18 12:00 local (+01:00): last 03:30 that day, next the day after */
	int64_t noon = 1795000000 - 1795000000 % DAY + 11 * 3600;
	int64_t last = retention_last_due(210, noon), next = retention_next_due(210, noon);
	assert_true(last <= noon && next > noon);
	assert_int_equal(next - last, DAY);
	char when[32];
	timefmt_local(last, when, sizeof when);
	assert_string_equal(when + 11, "03:30");
	/* across the change to summer time (2026-03-29) the day is 23 hours */
	int64_t t = 0;
	assert_int_equal(timefmt_parse("2026-03-27T12:00", &t, err, sizeof err), 0);
	assert_int_equal(retention_next_due(210, t + DAY) - retention_next_due(210, t), 23 * 3600);
	/* exactly at the time it is due now, and next a day later */
	assert_int_equal(retention_last_due(210, last), last);
	assert_int_equal(retention_next_due(210, last), last + DAY);
}

/* --- on a real store --------------------------------------------------------- */

struct seen {
	uint64_t with_body, purged;
};

static int
count_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
            const uint8_t *hash)
{
	(void)seq;
	(void)topic;
	(void)body_len;
	(void)hash;
	struct seen *s = arg;
	if (body == NULL)
		s->purged++;
	else
		s->with_body++;
	return 0;
}

static void
append(struct log *lg, struct ent *x, Est__V1__Status want, uint64_t want_seq)
{
	struct log_item it = {.entry = &x->e};
	char err[256];
	assert_int_equal(log_append(lg, &it, 1, NOW, err, sizeof err), 0);
	assert_int_equal(it.status, want);
	assert_int_equal(it.seq, want_seq);
}

static void
test_purge_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_retention.XXXXXX", path[128], err[256], why[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/log.db", dir);
	struct log *lg = NULL;
	assert_int_equal(log_open(&lg, path, LOG_CREATE, err, sizeof err), 0);
	struct ent e[4];
	report_at(&e[0], "police", "old", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM,
	          NOW - 500 * DAY);
	report_at(&e[1], "police", "new", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - DAY);
	report_at(&e[2], "police", "old", 2, EST__V1__CATEGORY__CATEGORY_VANDALISM,
	          NOW - 400 * DAY);
	other_at(&e[3], EST__V1__LOG_ENTRY__BODY_CHECKPOINT, NULL, 0);
	for (uint64_t i = 0; i < 4; i++)
		append(lg, &e[i], EST__V1__STATUS__STATUS_ACCEPTED, i + 1);

	struct retention_rules rules;
	rules_all(&rules, 365);
	rules.checkpoints_days = 1;
	struct retention_plan *plan = NULL;
	/* a dry run changes nothing */
	assert_int_equal(retention_purge(lg, &rules, NOW, 1, &plan, err, sizeof err), 0);
	char text[512];
	assert_int_equal(retention_plan_format(plan, text, sizeof text), 2);
	assert_string_equal(text, "reports/vandalism: 2 entries, seq 1, 3\n");
	retention_plan_destroy(&plan);
	struct seen s = {0};
	assert_int_equal(log_scan(lg, 1, 4, count_visit, &s, err, sizeof err), 0);
	assert_int_equal(s.purged, 0);

	/* the purge: both revisions of police/old, not the last checkpoint (logged at NOW) */
	assert_int_equal(retention_purge(lg, &rules, NOW + 2 * DAY, 0, &plan, err, sizeof err), 0);
	size_t n = 0;
	const uint64_t *seqs = retention_plan_seqs(plan, &n);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 3);
	retention_plan_destroy(&plan);
	memset(&s, 0, sizeof s);
	assert_int_equal(log_scan(lg, 1, 4, count_visit, &s, err, sizeof err), 0);
	assert_int_equal(s.purged, 2);
	assert_int_equal(s.with_body, 2);
	uint64_t bad = 0, purged = 9;
	assert_int_equal(log_verify(lg, &bad, why, sizeof why), 0);
	/* again: nothing more to do */
	assert_int_equal(log_purge(lg, seqs, 0, &purged, err, sizeof err), 0);
	uint64_t again[] = {1, 3, 99};
	assert_int_equal(log_purge(lg, again, 3, &purged, err, sizeof err), 0);
	assert_int_equal(purged, 0);

	/* a resent purged report is still a duplicate of the original seq; its other content is not
	 */
	append(lg, &e[0], EST__V1__STATUS__STATUS_DUPLICATE, 1);
	append(lg, &e[2], EST__V1__STATUS__STATUS_DUPLICATE, 3);
	e[2].r.description = (char *)"Annan text";
	append(lg, &e[2], EST__V1__STATUS__STATUS_REJECTED, 0);
	log_close(&lg);

	/* reopened (the writer checks the head) and read-only: still verifies; read-only cannot
	 * purge */
	assert_int_equal(log_open(&lg, path, 0, err, sizeof err), 0);
	log_close(&lg);
	assert_int_equal(log_open(&lg, path, LOG_READONLY, err, sizeof err), 0);
	assert_int_equal(log_verify(lg, &bad, why, sizeof why), 0);
	assert_int_equal(log_purge(lg, again, 1, &purged, err, sizeof err), -1);
	assert_non_null(strstr(err, "read-only"));
	log_close(&lg);
	char rm[256];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

/*
 * On a real store, with one hash for every key: the plan reads the
 * colliding entries again from the log (log_scan) and decides each whole
 * by its own last revision; the purge then removes exactly those.
 */
static void
test_collision_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_retention.XXXXXX", path[128], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/log.db", dir);
	struct log *lg = NULL;
	assert_int_equal(log_open(&lg, path, LOG_CREATE, err, sizeof err), 0);
	struct ent e[6];
	report_at(&e[0], "police", "p", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 500 * DAY);
	report_at(&e[1], "housing", "q", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 500 * DAY);
	report_at(&e[2], "police", "p", 2, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - DAY);
	other_at(&e[3], EST__V1__LOG_ENTRY__BODY_MEASURE, "M-9", 0);
	report_at(&e[4], "housing", "q", 2, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 400 * DAY);
	report_at(&e[5], "police", "r", 1, EST__V1__CATEGORY__CATEGORY_VANDALISM, NOW - 2 * DAY);
	for (uint64_t i = 0; i < 6; i++)
		append(lg, &e[i], EST__V1__STATUS__STATUS_ACCEPTED, i + 1);
	struct retention_rules rules;
	rules_all(&rules, 365);
	struct retention_plan *p = retention_plan_new(&rules, NOW);
	assert_non_null(p);
	retention_plan_hash_for_tests(p, hash_one);
	assert_int_equal(retention_plan_scan(p, lg, err, sizeof err), 0);
	assert_int_equal(retention_plan_finish(p, err, sizeof err), 0);
	size_t n = 0;
	const uint64_t *seqs = retention_plan_seqs(p, &n);
	/* housing/q goes with both revisions; police/p (rev 2 recent), M-9 and police/r stay */
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[1], 5);
	uint64_t purged = 0;
	assert_int_equal(log_purge(lg, seqs, n, &purged, err, sizeof err), 0);
	assert_int_equal(purged, 2);
	retention_plan_destroy(&p);
	struct seen s = {0};
	assert_int_equal(log_scan(lg, 1, 6, count_visit, &s, err, sizeof err), 0);
	assert_int_equal(s.purged, 2);
	log_close(&lg);
	char rm[256];
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reports_by_category),
	    cmocka_unit_test(test_event_counts_from_its_end),
	    cmocka_unit_test(test_report_whole_with_revisions),
	    cmocka_unit_test(test_measure_whole),
	    cmocka_unit_test(test_checkpoints_last_kept),
	    cmocka_unit_test(test_pictures_by_logged_at),
	    cmocka_unit_test(test_collision_split),
	    cmocka_unit_test(test_collision_reread_fails),
	    cmocka_unit_test(test_many_wholes),
	    cmocka_unit_test(test_config_rows),
	    cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_purge_store),
	    cmocka_unit_test(test_collision_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
