/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the `police-json` translator (adapters/police/police_json.c):
 * a table of events, each with the exact record expected (index, outcome,
 * source id, category, area, UTC time, position); summaries skipped; types
 * the table skips or does not know; every error with its field; files
 * refused whole, without quoting their content.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "runtime/format.h"
#include "runtime/mapping.h"
#include "support/format_check.h"
#include "wire/timefmt.h"

static int
setup(void **state)
{
	return fixture_setup(state, "police-json", "polisen.json");
}

/*
 * Runs the translator over text as a file. JSON is written with ' for "
 * below, to be readable; each ' becomes " there. Its return value.
 */
static int
translate(struct fixture *f, const char *text, struct seen *s, char *err, size_t errlen)
{
	return fixture_translate(f, text, strlen(text), true, s, err, errlen);
}

#define AT  "'datetime': '2026-11-23 21:34:07 +01:00'"
#define GPS "'location': {'name': 'Norrköping', 'gps': '58.5669,16.1902'}"

static const struct {
	const char *event;
	const char *want;
} events[] = {
    {"{'id': 512345, " AT ", 'name': '23 november 21.34, Skadegörelse, Norrköping', "
     "'summary': 'Fönsterrutor krossade vid skola.', 'url': '/aktuellt/handelser/2026/november/"
     "23/x', 'type': 'Skadegörelse', " GPS "}",
     "1 report 512345 rev=0 vandalism/ area= at=2026-11-23T20:34:07Z pos=58.5669,16.1902"},
    {"{'id': 'P-2', 'datetime': '2026-06-10T12:00:00+02:00', 'type': 'Brand', 'summary': "
     "'Brand i soprum.\\r\\nRäddningstjänsten på plats.', 'location': {'name': 'Hageby', "
     "'gps': ' 58.5655 , 16.1838 '}}",
     "2 report P-2 rev=0 vandalism/fire area=hageby at=2026-06-10T10:00:00Z "
     "pos=58.5655,16.1838"},
    {"{'id': 512347, 'datetime': '2026-11-23 06:00:00 +01:00', 'name': '23 november 06.00, "
     "Sammanfattning natt, Östergötlands län', 'type': 'Sammanfattning natt', 'location': "
     "{'name': 'Östergötlands län', 'gps': '58.4108,15.6214'}}",
     "3 skipped 512347 a summary, not an event"},
    {"{'id': 512348, " AT ", 'name': 'Sammanfattning kväll och natt', 'type': 'Övrigt', " GPS "}",
     "4 skipped 512348 a summary, not an event"},
    {"{'id': 512349, " AT ", 'type': 'Trafikolycka', " GPS "}",
     "5 skipped 512349 not EST's business by the mapping rule for \"Trafikolycka\""},
    {"{'id': 512350, " AT ", 'type': 'Djur', " GPS "}",
     "6 error 512350 type: no mapping rule for \"Djur\""},
    {"{'id': 512351, 'datetime': '2026-11-23 21:34:07', 'type': 'Bråk', " GPS "}",
     "7 error 512351 datetime: not a date and time with its UTC offset (2026-11-23 21:34:07 "
     "+01:00)"},
    {"{'id': 512352, " AT ", 'type': 'Bråk', 'location': {'name': 'Berlin', 'gps': "
     "'52.52,13.40'}}",
     "8 error 512352 location.gps: the position lies outside Sweden"},
    {"{'id': 512353, " AT ", 'type': 'Bråk', 'location': {'name': 'Norrköping'}}",
     "9 error 512353 location.gps: missing, and location.name is no EST area: the event "
     "cannot be placed"},
    {"{'id': 512354, " AT ", 'type': 'Bråk', 'location': {'name': 'Navestad', 'gps': null}}",
     "10 report 512354 rev=0 disorder/ area=navestad at=2026-11-23T20:34:07Z"},
    {"{" AT ", 'type': 'Bråk', " GPS "}", "11 error - id: missing"},
    {"{'id': 1.5, " AT ", 'type': 'Bråk', " GPS "}", "12 error - id: not a whole number"},
    {"{'id': {'a': 1}, " AT ", 'type': 'Bråk', " GPS "}",
     "13 error - id: not a string or a whole number"},
    {"42", "14 error - -: not a JSON object"},
    {"{'id': 512355, " AT ", 'type': 'Bråk', 'location': {'gps': '58.5,16.1,3'}}",
     "15 error 512355 location.gps: not \"lat,lon\" in degrees"},
    {"{'id': 512356, " AT ", 'type': 'Bråk', 'summary': 'a\\u0000b', " GPS "}",
     "16 error 512356 summary: holds a NUL character"},
    {"{'id': 512357, " AT ", 'type': 'Bråk', 'location': 'Norrköping'}",
     "17 error 512357 location: not an object"},
    {"{'id': -3, " AT ", 'type': 'Bråk', " GPS "}", "18 error - id: a negative number"},
    {"{'id': 512358, " AT ", 'type': 5, " GPS "}", "19 error 512358 type: not a string"},
    {"{'id': 512359, " AT ", 'type': '  bråk ', " GPS "}",
     "20 report 512359 rev=0 disorder/ area= at=2026-11-23T20:34:07Z pos=58.5669,16.1902"},
    {"{'id': 512360, 'type': 'Sammanfattning natt'}", "21 skipped 512360 a summary, not an event"},
    {"{'id': 512361, 'datetime': '2026-02-30 12:00:00 +01:00', 'type': 'Bråk', " GPS "}",
     "22 error 512361 datetime: not a date and time with its UTC offset (2026-11-23 21:34:07 "
     "+01:00)"},
    {"{'id': 512362, 'datetime': '2026-11-23T20:34:07Z', 'type': 'Bråk', " GPS "}",
     "23 report 512362 rev=0 disorder/ area= at=2026-11-23T20:34:07Z pos=58.5669,16.1902"},
    {"{'id': '', " AT ", 'type': 'Bråk', " GPS "}", "24 error - id: missing"},
    {"{'id': 512363, " AT ", 'type': 'Bråk', 'location': {'gps': 'N58.5,E16.1'}}",
     "25 error 512363 location.gps: not \"lat,lon\" in degrees"},
    {"{'id': 512364, " AT ", " GPS "}", "26 error 512364 type: missing"},
};

#define N_EVENTS (sizeof events / sizeof events[0])

/* Every event above in one array: each gets its own record, in order. */
static void
test_events(void **state)
{
	struct fixture *f = *state;
	size_t cap = 16384, n = 0;
	char *text = malloc(cap), err[512];
	assert_non_null(text);
	n += (size_t)snprintf(text, cap, "[\n");
	for (size_t i = 0; i < N_EVENTS; i++)
		n += (size_t)snprintf(text + n, cap - n, "  %s%s\n", events[i].event,
		                      i + 1 < N_EVENTS ? "," : "");
	assert_true(n + 2 < cap);
	snprintf(text + n, cap - n, "]\n");
	struct seen s = {0};
	int rc = translate(f, text, &s, err, sizeof err);
	if (rc != 0)
		fail_msg("read returned %d: %s", rc, err);
	for (size_t i = 0; i < s.n && i < N_EVENTS; i++)
		if (strcmp(s.line[i], events[i].want) != 0)
			fail_msg("event %zu:\n got: %s\nwant: %s", i + 1, s.line[i],
			         events[i].want);
	assert_int_equal(s.n, N_EVENTS);
	/* location.name is a town or an area, never a place (police_json.c) */
	assert_string_equal(s.place[0], "");
	assert_string_equal(s.description[0], "Fönsterrutor krossade vid skola.");
	assert_string_equal(s.description[1], "Brand i soprum.\nRäddningstjänsten på plats.");
	assert_string_equal(s.place[1], "");
	assert_string_equal(s.role[0], "");
	free(text);
}

/* Files that are no events feed are refused whole; nothing of their text is quoted. */
static void
test_refused(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text, *reason;
	} refused[] = {
	    {"{'id': 1, 'type': 'Brand'}", "expected a JSON array of events"},
	    {"rapport_id;datum;kategori\r\nk-1;2026-11-23;Brand\r\n", "not JSON (line 1"},
	    {"[{'id': 1, 'id': 2}]", "not JSON (line 1, column"},
	    {"", "not JSON"},
	    {"[{'id': 1}", "not JSON"},
	    {"[{'summary': 'Anna Andersson' x}]", "not JSON"},
	    {"[{'summary': 'Sk\xE5pet'}]", "not JSON"},
	    {"[] []", "not JSON"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		struct seen s = {0};
		char err[512];
		int rc = translate(f, refused[i].text, &s, err, sizeof err);
		if (rc != -1 || strstr(err, refused[i].reason) == NULL)
			fail_msg("case %zu: rc %d, err \"%s\", want -1 and \"%s\"", i, rc, err,
			         refused[i].reason);
		if (strncmp(err, "polisen.json: not a police events file: ", 40) != 0)
			fail_msg("case %zu: %s", i, err);
		if (strstr(err, "Anna") || strstr(err, "Brand"))
			fail_msg("case %zu: the reason quotes the file: %s", i, err);
		assert_int_equal(s.n, 0);
	}
}

/* A byte order mark and an empty array: nothing to do, no error. */
static void
test_empty(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};
	char err[512];
	assert_int_equal(translate(f, "\xEF\xBB\xBF[ ]\r\n", &s, err, sizeof err), 0);
	assert_int_equal(s.n, 0);
}

/* An emit that answers nonzero stops the translator, which returns that answer. */
static void
test_stop(void **state)
{
	struct fixture *f = *state;
	struct seen s = {.stop_at = 1};
	char err[512];
	assert_int_equal(
	    translate(f, "[{'id': 1, " AT ", 'type': 'Bråk', " GPS "}, {}]", &s, err, sizeof err),
	    7);
	assert_int_equal(s.n, 1);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_events, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_empty, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_stop, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
