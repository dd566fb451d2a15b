/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of what est-feed writes for people and keeps on disk: the
 * plain summary line (Swedish or English labels, Stockholm time, UTF-8-safe
 * cuts, revisions that are update times shown as times) and
 * the --state file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "state.h"
#include "summary.h"
#include "wire/ids.h"
#include "wire/timefmt.h"

static void
report_entry(Est__V1__LogEntry *e, Est__V1__Report *r, const char *description)
{
	est__v1__log_entry__init(e);
	est__v1__report__init(r);
	e->seq = 42;
	e->logged_at = 1795637475; /* 2026-11-25 20:11:15 UTC = 21:11 in Stockholm (CET) */
	e->org = (char *)"police";
	e->topic = (char *)"hageby/reports";
	e->body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
	e->report = r;
	r->source_id = (char *)"512345";
	r->category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	r->subcategory = (char *)"klotter";
	r->area = (char *)"hageby";
	r->place = (char *)"Hageby centrum";
	r->description = (char *)(uintptr_t)description;
	r->observed_at = 1795466400; /* 2026-11-23 21:40 in Stockholm */
}

static void
test_summary_report(void **state)
{
	Est__V1__LogEntry e;
	Est__V1__Report r;
	report_entry(&e, &r, "Klotter på fasad mot gården.");
	char line[SUMMARY_LINE_MAX];
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(strstr(line, "42 hageby/reports police 2026-11-25 21:11 "));
	assert_non_null(strstr(line, "\"Hageby centrum\" observerad 2026-11-23 21:40"));
	assert_non_null(strstr(line, "Klotter på fasad mot gården."));
	assert_null(strchr(line, '\n'));
}

static void
test_summary_cuts_on_utf8_and_hides_controls(void **state)
{
	char text[800] = "";
	size_t len = 0;
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "åäö\n");
	Est__V1__LogEntry e;
	Est__V1__Report r;
	report_entry(&e, &r, text);
	for (size_t cap = 1; cap <= SUMMARY_LINE_MAX; cap++) {
		char line[SUMMARY_LINE_MAX];
		summary_line(&e, LANG_SV, line, cap);
		assert_true(strlen(line) < cap);
		assert_true(ids_utf8_valid(line, strlen(line)));
		assert_null(strchr(line, '\n'));
	}
}

/* Hageby's picture of 2026-W47 at rank, with score, through seq. */
static void
picture_entry(Est__V1__LogEntry *e, Est__V1__Picture *p, uint32_t rank, double score,
              uint64_t through)
{
	est__v1__log_entry__init(e);
	est__v1__picture__init(p);
	e->seq = 53;
	e->logged_at = 1795637475;
	e->org = (char *)"esthub";
	e->topic = (char *)"hageby/pictures";
	e->body_case = EST__V1__LOG_ENTRY__BODY_PICTURE;
	e->picture = p;
	p->week = (char *)"2026-W47";
	p->area = (char *)"hageby";
	p->rank = rank;
	p->priority_score = score;
	p->through_seq = through;
}

/* A picture's line: week, area, rank and the score with a Swedish decimal comma. */
static void
test_summary_picture(void **state)
{
	Est__V1__LogEntry e;
	Est__V1__Picture p;
	picture_entry(&e, &p, 1, 23.25, 51);
	char line[SUMMARY_LINE_MAX];
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(
	    strstr(line, "lägesbild 2026-W47 hageby rang 1 prioritet 23,25 t.o.m. seq 51"));
}

/* --lang en: the same line with English words and a decimal point; ids stay ids. */
static void
test_summary_in_english(void **state)
{
	Est__V1__LogEntry e;
	Est__V1__Report r;
	report_entry(&e, &r, "Klotter på fasad mot gården.");
	r.withdrawn = true;
	char line[SUMMARY_LINE_MAX];
	summary_line(&e, LANG_EN, line, sizeof line);
	assert_non_null(strstr(line, "42 hageby/reports police 2026-11-25 21:11 [withdrawn] "
	                             "vandalism/klotter hageby \"Hageby centrum\" observed "
	                             "2026-11-23 21:40: Klotter"));
	assert_null(strstr(line, "observerad"));

	Est__V1__Picture p;
	picture_entry(&e, &p, 2, 3.4, 120);
	summary_line(&e, LANG_EN, line, sizeof line);
	assert_non_null(
	    strstr(line, "picture 2026-W47 hageby rank 2 priority 3.40 through seq 120"));
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(
	    strstr(line, "lägesbild 2026-W47 hageby rang 2 prioritet 3,40 t.o.m. seq 120"));
}

/*
 * A revision that counts corrections is shown as one ("rev 2"); one that is
 * an update time in Unix seconds (Open311's updated_datetime) as that time.
 */
static void
test_summary_revision_count_or_time(void **state)
{
	Est__V1__LogEntry e;
	Est__V1__Report r;
	report_entry(&e, &r, "Klotter.");
	char line[SUMMARY_LINE_MAX];
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_null(strstr(line, "(rev"));
	r.revision = 2;
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(strstr(line, "observerad 2026-11-23 21:40 (rev 2): Klotter."));
	r.revision = 999999999u; /* the largest count */
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(strstr(line, "(rev 999999999)"));
	r.revision = 1795466400u; /* 2026-11-23 21:40 in Stockholm */
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(
	    strstr(line, "observerad 2026-11-23 21:40 (uppdaterad 2026-11-23 21:40): Klotter."));
	summary_line(&e, LANG_EN, line, sizeof line);
	assert_non_null(
	    strstr(line, "observed 2026-11-23 21:40 (updated 2026-11-23 21:40): Klotter."));
	r.revision = UINT32_MAX; /* 2106-02-07 07:28:15 UTC */
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(strstr(line, "(uppdaterad 2106-02-07 07:28)"));
}

/*
 * Ids in a line are partners' texts too (found by fuzz_feed_event: a report's
 * area was printed as it came): invalid UTF-8 or a control character in an
 * area or an organisation never breaks the line.
 */
static void
test_summary_ids_are_cleaned_like_texts(void **state)
{
	Est__V1__LogEntry e;
	Est__V1__Report r;
	report_entry(&e, &r, "Klotter.");
	r.area = (char *)"hage\nby\xff";
	char line[SUMMARY_LINE_MAX];
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_true(ids_utf8_valid(line, strlen(line)));
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "vandalism/klotter (ogiltig text) \"Hageby centrum\""));
	r.area = (char *)"hage\nby";
	summary_line(&e, LANG_SV, line, sizeof line);
	assert_non_null(strstr(line, "vandalism/klotter hage by \"Hageby centrum\""));

	Est__V1__Measure m;
	est__v1__measure__init(&m);
	e.body_case = EST__V1__LOG_ENTRY__BODY_MEASURE;
	e.measure = &m;
	m.measure_id = (char *)"m-12";
	m.kind = EST__V1__MEASURE_KIND__MEASURE_KIND_LIGHTING;
	m.area = (char *)"hageby\r";
	m.status = EST__V1__MEASURE_STATUS__MEASURE_STATUS_DECIDED;
	m.assigned_org = (char *)"hous\xc3ing";
	summary_line(&e, LANG_EN, line, sizeof line);
	assert_true(ids_utf8_valid(line, strlen(line)));
	assert_null(strpbrk(line, "\r\n"));
	assert_non_null(strstr(line, "measure m-12 lighting hageby  decided (invalid text)"));
}

static void
test_state_roundtrip(void **state)
{
	char dir[] = "/tmp/esthub-state-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], err[256];
	snprintf(path, sizeof path, "%s/feed.state", dir);
	uint64_t seq = 99;
	int code = 0;
	assert_int_equal(state_read(path, &seq, &code, err, sizeof err), 0);
	assert_int_equal(state_write(path, 18446744073709551615ULL, err, sizeof err), 0);
	assert_int_equal(state_read(path, &seq, &code, err, sizeof err), 1);
	assert_true(seq == 18446744073709551615ULL);
	assert_int_equal(state_write(path, 7, err, sizeof err), 0);
	assert_int_equal(state_read(path, &seq, &code, err, sizeof err), 1);
	assert_int_equal(seq, 7);
	FILE *f = fopen(path, "w");
	fputs("sju\n", f);
	fclose(f);
	assert_int_equal(state_read(path, &seq, &code, err, sizeof err), -1);
	assert_int_equal(code, 1);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary_report),
	    cmocka_unit_test(test_summary_cuts_on_utf8_and_hides_controls),
	    cmocka_unit_test(test_summary_picture),
	    cmocka_unit_test(test_summary_in_english),
	    cmocka_unit_test(test_summary_revision_count_or_time),
	    cmocka_unit_test(test_summary_ids_are_cleaned_like_texts),
	    cmocka_unit_test(test_state_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
