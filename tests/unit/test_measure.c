/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the measure registry and lifecycle (hub/measure.c): every
 * transition of the lifecycle, allowed or refused with its message; the
 * working group of every kind, and none in city; judging new measures and
 * changes against a real log (written with log_append, report seqs looked
 * up in it); ids m1, m2, ...; the views' start and end times; a registry
 * rebuilt from the log equal to the one kept current; and need-to-know of
 * social measures (access_may_read_entry).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "measure.h"
#include "wire/cert.h"

#define S(x) EST__V1__MEASURE_STATUS__MEASURE_STATUS_##x
#define K(x) EST__V1__MEASURE_KIND__MEASURE_KIND_##x
#define G(x) EST__V1__WORKING_GROUP__GROUP_##x

/* --- lifecycle ------------------------------------------------------------------ */

/* Every (from, to): NULL when allowed, else the whole message for measure m3. */
static const struct {
	int from, to;
	const char *refused;
} transitions[] = {
    {S(PROPOSED), S(PROPOSED), NULL},
    {S(PROPOSED), S(DECIDED), NULL},
    {S(PROPOSED), S(IN_PROGRESS),
     "measure m3 is proposed; a proposed measure must be decided before it can go to "
     "in_progress"},
    {S(PROPOSED), S(DONE),
     "measure m3 is proposed; a proposed measure must be decided before it can go to done"},
    {S(PROPOSED), S(CANCELLED), NULL},
    {S(DECIDED), S(PROPOSED), "measure m3 is decided; a measure cannot go back to proposed"},
    {S(DECIDED), S(DECIDED), NULL},
    {S(DECIDED), S(IN_PROGRESS), NULL},
    {S(DECIDED), S(DONE), NULL},
    {S(DECIDED), S(CANCELLED), NULL},
    {S(IN_PROGRESS), S(PROPOSED),
     "measure m3 is in_progress; a measure cannot go back to proposed"},
    {S(IN_PROGRESS), S(DECIDED), "measure m3 is in_progress; a measure cannot go back to decided"},
    {S(IN_PROGRESS), S(IN_PROGRESS), NULL},
    {S(IN_PROGRESS), S(DONE), NULL},
    {S(IN_PROGRESS), S(CANCELLED), NULL},
    {S(DONE), S(PROPOSED),
     "measure m3 is done; a done measure is final and cannot go to proposed (only its outcome "
     "may still change)"},
    {S(DONE), S(DECIDED),
     "measure m3 is done; a done measure is final and cannot go to decided (only its outcome "
     "may still change)"},
    {S(DONE), S(IN_PROGRESS),
     "measure m3 is done; a done measure is final and cannot go to in_progress (only its "
     "outcome may still change)"},
    {S(DONE), S(DONE), NULL},
    {S(DONE), S(CANCELLED),
     "measure m3 is done; a done measure is final and cannot go to cancelled (only its "
     "outcome may still change)"},
    {S(CANCELLED), S(PROPOSED),
     "measure m3 is cancelled; a cancelled measure cannot go to proposed"},
    {S(CANCELLED), S(DECIDED), "measure m3 is cancelled; a cancelled measure cannot go to decided"},
    {S(CANCELLED), S(IN_PROGRESS),
     "measure m3 is cancelled; a cancelled measure cannot go to in_progress"},
    {S(CANCELLED), S(DONE), "measure m3 is cancelled; a cancelled measure cannot go to done"},
    {S(CANCELLED), S(CANCELLED), NULL},
    {S(DECIDED), S(UNSPECIFIED), "status: not a status a measure can go to (unspecified)"},
    {S(DECIDED), 99, "status: not a status a measure can go to (unknown)"},
};

static void
test_lifecycle_table(void **state)
{
	(void)state;
	/* The table covers every pair of the five statuses. */
	assert_int_equal(sizeof transitions / sizeof transitions[0], 27);
	for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
		char err[256] = "";
		int rc = measure_may_change("m3", transitions[i].from, transitions[i].to, err,
		                            sizeof err);
		if (transitions[i].refused == NULL) {
			if (rc != 0)
				fail_msg("%s -> %s refused: %s",
				         measure_status_word(transitions[i].from),
				         measure_status_word(transitions[i].to), err);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(err, transitions[i].refused);
		}
	}
}

static void
test_group_by_kind(void **state)
{
	(void)state;
	static const struct {
		int kind, group;
	} table[] = {
	    {K(PRESENCE), G(SITUATIONAL)},    {K(LIGHTING), G(SITUATIONAL)},
	    {K(VEGETATION), G(SITUATIONAL)},  {K(WIFI), G(SITUATIONAL)},
	    {K(CLEANUP), G(SITUATIONAL)},     {K(OUTREACH), G(SOCIAL)},
	    {K(SKILLS_TRAINING), G(SOCIAL)},  {K(LEISURE), G(SOCIAL)},
	    {K(PARENTAL_SUPPORT), G(SOCIAL)}, {K(OTHER), G(SITUATIONAL)},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		assert_int_equal(measure_group_of("hageby", table[i].kind), table[i].group);
		assert_int_equal(measure_group_of("marielund", table[i].kind), table[i].group);
		assert_int_equal(measure_group_of("city", table[i].kind), G(UNSPECIFIED));
	}
	assert_string_equal(measure_kind_word(K(PARENTAL_SUPPORT)), "parental_support");
	assert_string_equal(measure_status_word(S(IN_PROGRESS)), "in_progress");
	assert_string_equal(measure_group_word(G(SOCIAL)), "social");
}

/* --- the registry over a real log ------------------------------------------------ */

struct fx {
	char dir[64];
	char path[128];
	struct log *lg;
	struct measures *ms;
	int64_t now;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char err[256];
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_measure.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/store.db", fx->dir);
	if (log_open(&fx->lg, fx->path, LOG_CREATE, err, sizeof err) != 0)
		return -1;
	fx->ms = measures_new();
	fx->now = 1795000000;
	*state = fx;
	return fx->ms ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char p[160];
	measures_destroy(&fx->ms);
	assert_null(fx->ms);
	log_close(&fx->lg);
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", fx->path, suffixes[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Appends one report entry (seq returned). */
static uint64_t
add_report(struct fx *fx, const char *sid)
{
	Est__V1__Report r;
	Est__V1__LogEntry e;
	struct log_item it = {0};
	char err[256];
	est__v1__report__init(&r);
	r.source_id = (char *)(uintptr_t)sid;
	r.category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	r.area = (char *)"hageby";
	r.observed_at = fx->now - 3600;
	est__v1__log_entry__init(&e);
	e.org = (char *)"police";
	e.topic = (char *)"hageby/reports";
	e.body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
	e.report = &r;
	it.entry = &e;
	assert_int_equal(log_append(fx->lg, &it, 1, fx->now, err, sizeof err), 0);
	return it.seq;
}

/* Logs a judged draft as org would and takes it into the registry; returns its seq. */
static uint64_t
commit(struct fx *fx, struct measure_draft *d, const char *org)
{
	struct measure_entry me;
	struct log_item it = {0};
	char err[256];
	char topic[80];
	measure_entry_init(&me, d, org);
	snprintf(topic, sizeof topic, "%s/measures", d->m.area);
	assert_string_equal(me.topic, topic);
	assert_string_equal(me.entry.org, org);
	it.entry = &me.entry;
	assert_int_equal(log_append(fx->lg, &it, 1, fx->now, err, sizeof err), 0);
	assert_int_equal(measures_take(fx->ms, it.seq, it.body, it.body_len, err, sizeof err), 0);
	return it.seq;
}

static void
new_measure(Est__V1__Measure *m, const char *area, int kind, const char *org)
{
	est__v1__measure__init(m);
	m->area = (char *)(uintptr_t)area;
	m->kind = kind;
	m->assigned_org = (char *)(uintptr_t)org;
}

static void
test_add_assigns_ids_groups_and_status(void **state)
{
	struct fx *fx = *state;
	Est__V1__Measure m;
	struct measure_draft d;
	char err[256] = "";
	uint64_t r1 = add_report(fx, "r1"), r2 = add_report(fx, "r2");
	uint64_t seqs[] = {r1, r2};

	new_measure(&m, "hageby", K(LIGHTING), "housing");
	m.report_seqs = seqs;
	m.n_report_seqs = 2;
	m.starts_at = fx->now + 86400;
	m.ends_at = fx->now + 2 * 86400;
	assert_int_equal(measures_judge_add(fx->ms, fx->lg, &m, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	assert_string_equal(d.m.measure_id, "m1");
	assert_int_equal(d.m.group, G(SITUATIONAL));
	assert_int_equal(d.m.status, S(PROPOSED));
	uint64_t s1 = commit(fx, &d, "esthub");

	new_measure(&m, "hageby", K(OUTREACH), "municipality");
	m.status = S(DECIDED);
	assert_int_equal(measures_judge_add(fx->ms, fx->lg, &m, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	assert_string_equal(d.m.measure_id, "m2");
	assert_int_equal(d.m.group, G(SOCIAL));
	assert_int_equal(d.m.status, S(DECIDED));
	commit(fx, &d, "esthub");

	new_measure(&m, "city", K(OUTREACH), "police");
	assert_int_equal(measures_judge_add(fx->ms, fx->lg, &m, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	assert_string_equal(d.m.measure_id, "m3");
	assert_int_equal(d.m.group, G(UNSPECIFIED));
	commit(fx, &d, "esthub");

	size_t n;
	const struct measure_view *v = measures_views(fx->ms, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].m->measure_id, "m1");
	assert_int_equal(v[0].first_seq, s1);
	assert_int_equal(v[0].last_seq, s1);
	assert_int_equal(v[0].created_at, fx->now);
	assert_int_equal(v[0].m->n_report_seqs, 2);
	assert_int_equal(v[0].m->report_seqs[1], r2);
	assert_int_equal(v[0].started_at, 0);
	assert_int_equal(v[0].ended_at, 0);
	assert_ptr_equal(measures_find(fx->ms, "m2"), &v[1]);
	assert_null(measures_find(fx->ms, "m4"));
}

static void
test_add_refusals(void **state)
{
	struct fx *fx = *state;
	uint64_t r1 = add_report(fx, "r1");
	Est__V1__Measure first;
	struct measure_draft d;
	char err[256];
	new_measure(&first, "hageby", K(CLEANUP), "housing");
	assert_int_equal(measures_judge_add(fx->ms, fx->lg, &first, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	uint64_t mseq = commit(fx, &d, "esthub");
	uint64_t missing = mseq + 5, listed[] = {r1, r1}, measure_seq[] = {mseq},
	         not_in_log[] = {missing}, zero[] = {0};
	struct {
		const char *area, *org, *id;
		int kind, status, group;
		int64_t starts, ends;
		uint64_t *seqs;
		size_t n_seqs;
		const char *want;
	} cases[] = {
	    {"all", "police", "", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "area: unknown area \"all\" (one of marielund, hageby, navestad, klockaretorpet, "
	     "city)"},
	    {"outside", "police", "", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "area: unknown area \"outside\" (one of marielund, hageby, navestad, klockaretorpet, "
	     "city)"},
	    {"", "police", "", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "area: required (one of marielund, hageby, navestad, klockaretorpet, city)"},
	    {"Hageby C", "police", "", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "area: unknown area (one of marielund, hageby, navestad, klockaretorpet, city)"},
	    {"hageby", "police", "", 0, 0, 0, 0, 0, NULL, 0, "kind: required"},
	    {"hageby", "police", "", 77, 0, 0, 0, 0, NULL, 0, "kind: not a known measure kind"},
	    {"hageby", "", "", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "assigned_org: required (the organisation that carries it out)"},
	    {"hageby", "Polisen", "", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "assigned_org: not an organisation id ([a-z0-9-], 1 to 32)"},
	    {"hageby", "police", "m7", K(PRESENCE), 0, 0, 0, 0, NULL, 0,
	     "measure_id: the hub assigns it; leave it empty"},
	    {"hageby", "police", "", K(PRESENCE), S(IN_PROGRESS), 0, 0, 0, NULL, 0,
	     "status: a new measure is proposed or decided"},
	    {"hageby", "police", "", K(OUTREACH), 0, G(SITUATIONAL), 0, 0, NULL, 0,
	     "group: outreach measures belong to the social group (it follows from the kind)"},
	    {"hageby", "police", "", K(PRESENCE), 0, 0, 2000, 1000, NULL, 0,
	     "ends_at: before starts_at"},
	    {"hageby", "police", "", K(PRESENCE), 0, 0, 0, 0, not_in_log, 1, NULL},
	    {"hageby", "police", "", K(PRESENCE), 0, 0, 0, 0, zero, 1, NULL},
	    {"hageby", "police", "", K(PRESENCE), 0, 0, 0, 0, measure_seq, 1, NULL},
	    {"hageby", "police", "", K(PRESENCE), 0, 0, 0, 0, listed, 2, NULL},
	};
	char want[4][160];
	snprintf(want[0], sizeof want[0], "report_seqs: seq %llu is not in the log (head is %llu)",
	         (unsigned long long)missing, (unsigned long long)mseq);
	snprintf(want[1], sizeof want[1], "report_seqs: seq 0 is not in the log (head is %llu)",
	         (unsigned long long)mseq);
	snprintf(want[2], sizeof want[2], "report_seqs: seq %llu is not a report entry",
	         (unsigned long long)mseq);
	snprintf(want[3], sizeof want[3], "report_seqs: seq %llu is listed twice",
	         (unsigned long long)r1);
	size_t nc = sizeof cases / sizeof cases[0];
	for (size_t i = 0; i < 4; i++)
		cases[nc - 4 + i].want = want[i];
	for (size_t i = 0; i < nc; i++) {
		Est__V1__Measure m;
		new_measure(&m, cases[i].area, cases[i].kind, cases[i].org);
		m.measure_id = (char *)(uintptr_t)cases[i].id;
		m.status = cases[i].status;
		m.group = cases[i].group;
		m.starts_at = cases[i].starts;
		m.ends_at = cases[i].ends;
		m.report_seqs = cases[i].seqs;
		m.n_report_seqs = cases[i].n_seqs;
		err[0] = '\0';
		assert_int_equal(measures_judge_add(fx->ms, fx->lg, &m, &d, err, sizeof err),
		                 MEASURE_REFUSED);
		assert_string_equal(err, cases[i].want);
	}
	size_t n;
	measures_views(fx->ms, &n);
	assert_int_equal(n, 1);
}

/* Judges and commits a change of id by org (NULL: admin); returns the verdict. */
static int
change(struct fx *fx, const char *id, int status, const char *outcome, const char *org, char *err,
       size_t errlen)
{
	Est__V1__Measure m;
	struct measure_draft d;
	est__v1__measure__init(&m);
	m.measure_id = (char *)(uintptr_t)id;
	m.status = status;
	m.outcome = (char *)(uintptr_t)(outcome ? outcome : "");
	int v = measures_judge_set(fx->ms, &m, org, &d, NULL, err, errlen);
	if (v == MEASURE_CHANGED)
		commit(fx, &d, org ? org : "esthub");
	return v;
}

static void
test_changes_and_views(void **state)
{
	struct fx *fx = *state;
	Est__V1__Measure m;
	struct measure_draft d;
	char err[256] = "";
	new_measure(&m, "hageby", K(LIGHTING), "housing");
	assert_int_equal(measures_judge_add(fx->ms, fx->lg, &m, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	commit(fx, &d, "esthub");
	new_measure(&m, "hageby", K(PRESENCE), "police");
	m.starts_at = 1790000000;
	m.ends_at = 1790086400;
	m.status = S(DECIDED);
	assert_int_equal(measures_judge_add(fx->ms, fx->lg, &m, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	commit(fx, &d, "esthub");

	/* Another org, unknown ids, a fixed field. */
	assert_int_equal(change(fx, "m1", S(DECIDED), NULL, "police", err, sizeof err),
	                 MEASURE_REFUSED);
	assert_string_equal(err, "measure m1 is not assigned to your organisation (police)");
	assert_int_equal(change(fx, "m9", S(DECIDED), NULL, NULL, err, sizeof err),
	                 MEASURE_REFUSED);
	assert_string_equal(err, "measure_id: unknown measure \"m9\"");
	assert_int_equal(change(fx, "M 1", S(DECIDED), NULL, NULL, err, sizeof err),
	                 MEASURE_REFUSED);
	assert_string_equal(err, "measure_id: unknown measure");
	assert_int_equal(change(fx, "", S(DECIDED), NULL, NULL, err, sizeof err), MEASURE_REFUSED);
	assert_string_equal(err, "measure_id: required (the id the hub gave, e.g. m3)");
	Est__V1__Measure upd;
	est__v1__measure__init(&upd);
	upd.measure_id = (char *)"m1";
	upd.area = (char *)"navestad";
	assert_int_equal(measures_judge_set(fx->ms, &upd, NULL, &d, NULL, err, sizeof err),
	                 MEASURE_REFUSED);
	assert_string_equal(
	    err, "area: cannot be changed by an update (only status and outcome may change)");
	upd.area = (char *)"hageby"; /* equal to the measure's: fine */
	upd.kind = K(LIGHTING);
	upd.status = S(DECIDED);
	assert_int_equal(measures_judge_set(fx->ms, &upd, "housing", &d, NULL, err, sizeof err),
	                 MEASURE_CHANGED);

	/* m1 by its own org: proposed -> decided -> in_progress -> done. */
	fx->now += 100;
	assert_int_equal(change(fx, "m1", S(IN_PROGRESS), NULL, "housing", err, sizeof err),
	                 MEASURE_REFUSED);
	assert_int_equal(change(fx, "m1", S(DECIDED), NULL, "housing", err, sizeof err),
	                 MEASURE_CHANGED);
	assert_int_equal(change(fx, "m1", S(DECIDED), NULL, "housing", err, sizeof err),
	                 MEASURE_UNCHANGED);
	fx->now += 100;
	int64_t progress = fx->now;
	assert_int_equal(change(fx, "m1", S(IN_PROGRESS), NULL, "housing", err, sizeof err),
	                 MEASURE_CHANGED);
	fx->now += 100;
	int64_t over = fx->now;
	assert_int_equal(
	    change(fx, "m1", S(DONE), "Ny belysning uppsatt", "housing", err, sizeof err),
	    MEASURE_CHANGED);
	assert_int_equal(
	    change(fx, "m1", S(DONE), "Ny belysning uppsatt", "housing", err, sizeof err),
	    MEASURE_UNCHANGED);
	assert_int_equal(change(fx, "m1", 0, "Ny belysning uppsatt", NULL, err, sizeof err),
	                 MEASURE_UNCHANGED);
	assert_int_equal(change(fx, "m1", S(CANCELLED), NULL, "housing", err, sizeof err),
	                 MEASURE_REFUSED);
	/* After done, only the outcome. */
	fx->now += 100;
	assert_int_equal(change(fx, "m1", 0, "Belysningen fungerar", NULL, err, sizeof err),
	                 MEASURE_CHANGED);
	const struct measure_view *v1 = measures_find(fx->ms, "m1");
	assert_int_equal(v1->m->status, S(DONE));
	assert_string_equal(v1->m->outcome, "Belysningen fungerar");
	assert_int_equal(v1->started_at, progress);
	assert_int_equal(v1->ended_at, over);

	/* m2 decided -> done directly: its own times count. */
	assert_int_equal(change(fx, "m2", S(DONE), NULL, NULL, err, sizeof err), MEASURE_CHANGED);
	const struct measure_view *v2 = measures_find(fx->ms, "m2");
	assert_int_equal(v2->started_at, 1790000000);
	assert_int_equal(v2->ended_at, 1790086400);
	assert_int_equal(change(fx, "m2", S(IN_PROGRESS), NULL, NULL, err, sizeof err),
	                 MEASURE_REFUSED);

	/* A registry rebuilt from the log equals the one kept current. */
	struct measures *again = measures_new();
	assert_int_equal(measures_load(again, fx->lg, err, sizeof err), 0);
	size_t n1, n2;
	const struct measure_view *a = measures_views(fx->ms, &n1);
	const struct measure_view *b = measures_views(again, &n2);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++) {
		assert_string_equal(a[i].m->measure_id, b[i].m->measure_id);
		assert_int_equal(a[i].m->status, b[i].m->status);
		assert_string_equal(a[i].m->outcome, b[i].m->outcome);
		assert_int_equal(a[i].first_seq, b[i].first_seq);
		assert_int_equal(a[i].last_seq, b[i].last_seq);
		assert_int_equal(a[i].created_at, b[i].created_at);
		assert_int_equal(a[i].started_at, b[i].started_at);
		assert_int_equal(a[i].ended_at, b[i].ended_at);
	}
	/* The next id continues after the highest in the log. */
	new_measure(&m, "navestad", K(WIFI), "municipality");
	assert_int_equal(measures_judge_add(again, fx->lg, &m, &d, err, sizeof err),
	                 MEASURE_CHANGED);
	assert_string_equal(d.m.measure_id, "m3");
	measures_destroy(&again);
}

/* --- need-to-know ----------------------------------------------------------------- */

static struct cert_info
who(enum ids_role role, const char *groups)
{
	struct cert_info c = {.role = role};
	char err[256];
	snprintf(c.name, sizeof c.name, "t");
	if (groups)
		assert_int_equal(cert_parse_groups(groups, &c, err, sizeof err), 0);
	return c;
}

static void
test_social_measures_need_the_social_group(void **state)
{
	(void)state;
	struct cert_info sit = who(ROLE_SUBSCRIBER, "hageby/situational");
	struct cert_info soc = who(ROLE_SUBSCRIBER, "hageby/social");
	struct cert_info whole = who(ROLE_SUBSCRIBER, "hageby");
	struct cert_info other = who(ROLE_SUBSCRIBER, "navestad/social");
	struct cert_info admin = who(ROLE_ADMIN, NULL);
	struct cert_info adapter = who(ROLE_ADAPTER, NULL);
	const char *t = "hageby/measures";
	assert_true(access_may_read_entry(&sit, t, G(SITUATIONAL)));
	assert_false(access_may_read_entry(&sit, t, G(SOCIAL)));
	assert_true(access_may_read_entry(&sit, t, G(UNSPECIFIED)));
	assert_true(access_may_read_entry(&soc, t, G(SOCIAL)));
	assert_true(access_may_read_entry(&soc, t, G(SITUATIONAL)));
	assert_true(access_may_read_entry(&whole, t, G(SOCIAL)));
	assert_false(access_may_read_entry(&other, t, G(SOCIAL)));
	assert_false(access_may_read_entry(&other, t, G(SITUATIONAL)));
	assert_true(access_may_read_entry(&admin, t, G(SOCIAL)));
	assert_false(access_may_read_entry(&adapter, t, G(SITUATIONAL)));
	/* Entries other than measures carry no group. */
	assert_true(access_may_read_entry(&sit, "hageby/reports", 0));
	assert_false(access_may_read_entry(&sit, "all/audit", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle_table),
	    cmocka_unit_test(test_group_by_kind),
	    cmocka_unit_test_setup_teardown(test_add_assigns_ids_groups_and_status, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_add_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_and_views, setup, teardown),
	    cmocka_unit_test(test_social_measures_need_the_social_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
