/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the `open311` translator (adapters/open311/open311.c): a
 * table of service requests, each with the exact record expected (index,
 * outcome, source id, revision, category, UTC time, position); revisions
 * from updated_datetime; codes the table skips; a closed request is no
 * withdrawal; every error with its field; files refused whole.
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
	return fixture_setup(state, "open311", "hyresbostader.json");
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

#define REQ(id, code)                                                                              \
	"{'service_request_id': '" id "', 'status': 'open', 'service_code': '" code "', "
#define AT                                                                                         \
	"'requested_datetime': '2026-11-23T21:40:00+01:00', 'updated_datetime': "                  \
	"'2026-11-24T08:02:00+01:00'"
#define WHERE "'address': 'Hagebygatan 12', 'lat': 58.5671, 'long': 16.1899"

static const struct {
	const char *request;
	const char *want;
} requests[] = {
    {REQ("HB-2026-118822", "KLOTTER") "'status_notes': '', 'service_name': 'Klotter', "
                                      "'description': 'Klotter på fasad mot gården.', " AT
                                      ", " WHERE
                                      ", 'agency_responsible': 'Hyresbostäder', 'media_url': ''}",
     "1 report HB-2026-118822 rev=1795503720 vandalism/graffiti area= at=2026-11-23T20:40:00Z "
     "pos=58.5671,16.1899"},
    {REQ("HB-2026-118823", "DROPPANDE_KRAN") AT ", " WHERE "}",
     "2 skipped HB-2026-118823 not EST's business by the mapping rule for \"DROPPANDE_KRAN\""},
    {"{'service_request_id': 'HB-2026-118822', 'status': 'closed', 'service_code': "
     "'KLOTTER', 'description': 'Klotter sanerat.', 'requested_datetime': "
     "'2026-11-23T21:40:00+01:00', 'updated_datetime': '2026-11-25T10:15:00+01:00', " WHERE "}",
     "3 report HB-2026-118822 rev=1795598100 vandalism/graffiti area= "
     "at=2026-11-23T20:40:00Z pos=58.5671,16.1899"},
    {"{'service_request_id': 118824, 'service_code': 'belysning', 'requested_datetime': "
     "'2026-06-10T12:00:00+02:00', 'lat': '58.5702', 'long': '16.1841'}",
     "4 report 118824 rev=1781085600 unsafe_place/broken_lighting area= "
     "at=2026-06-10T10:00:00Z pos=58.5702,16.1841"},
    {REQ("HB-5", "KLOTTER") "'updated_datetime': '2026-11-24T08:02:00+01:00', " WHERE "}",
     "5 error HB-5 requested_datetime: missing"},
    {REQ("HB-6", "KLOTTER") "'requested_datetime': '2026-11-23T21:40:00', " WHERE "}",
     "6 error HB-6 requested_datetime: not an ISO 8601 time with its UTC offset "
     "(2026-11-23T21:40:00+01:00)"},
    {REQ("HB-7", "KLOTTER") "'requested_datetime': '2026-11-23T21:40:00+01:00', "
                            "'updated_datetime': 'i går', " WHERE "}",
     "7 error HB-7 updated_datetime: not an ISO 8601 time with its UTC offset "
     "(2026-11-23T21:40:00+01:00)"},
    {REQ("HB-8", "KLOTTER") AT ", 'lat': 52.52, 'long': 13.40}",
     "8 error HB-8 lat: the position lies outside Sweden"},
    {REQ("HB-9", "KLOTTER") AT ", 'address': 'Hagebygatan 12'}",
     "9 error HB-9 lat: missing: the request cannot be placed"},
    {REQ("HB-10", "KLOTTER") AT ", 'lat': 58.5671, 'long': 'sexton'}",
     "10 error HB-10 long: not a number"},
    {"{'service_code': 'KLOTTER', " AT ", " WHERE "}", "11 error - service_request_id: missing"},
    {"{'service_request_id': true, 'service_code': 'KLOTTER', " AT ", " WHERE "}",
     "12 error - service_request_id: not a string or a whole number"},
    {"{'service_request_id': 'HB-13', " AT ", " WHERE "}", "13 error HB-13 service_code: missing"},
    {"[]", "14 error - -: not a JSON object"},
    {REQ("HB-15", "KLOTTER") "'requested_datetime': '1969-12-31T23:00:00+01:00', "
                             "'updated_datetime': '1969-12-31T23:59:59+00:00', " WHERE "}",
     "15 error HB-15 updated_datetime: outside 1970..2106, the revisions this adapter can "
     "number"},
    {REQ("HB-16", "VISTELSE_TRAPPHUS") "'requested_datetime': '2026-11-23T20:40:00Z', "
                                       "'description': 'Ungdomar i trapphuset\\nsent.', " WHERE "}",
     "16 report HB-16 rev=1795466400 gathering/stairwell area= at=2026-11-23T20:40:00Z "
     "pos=58.5671,16.1899"},
    {"{'service_request_id': 17.5, 'service_code': 'KLOTTER', " AT ", " WHERE "}",
     "17 error - service_request_id: not a whole number"},
    {"{'service_request_id': -18, 'service_code': 'KLOTTER', " AT ", " WHERE "}",
     "18 error - service_request_id: a negative number"},
};

#define N_REQUESTS (sizeof requests / sizeof requests[0])

/* Every request above in one array: each gets its own record, in order. */
static void
test_requests(void **state)
{
	struct fixture *f = *state;
	size_t cap = 16384, n = 0;
	char *text = malloc(cap), err[512];
	assert_non_null(text);
	n += (size_t)snprintf(text, cap, "[\n");
	for (size_t i = 0; i < N_REQUESTS; i++)
		n += (size_t)snprintf(text + n, cap - n, "  %s%s\n", requests[i].request,
		                      i + 1 < N_REQUESTS ? "," : "");
	assert_true(n + 2 < cap);
	snprintf(text + n, cap - n, "]\n");
	struct seen s = {0};
	int rc = translate(f, text, &s, err, sizeof err);
	if (rc != 0)
		fail_msg("read returned %d: %s", rc, err);
	for (size_t i = 0; i < s.n && i < N_REQUESTS; i++)
		if (strcmp(s.line[i], requests[i].want) != 0)
			fail_msg("request %zu:\n got: %s\nwant: %s", i + 1, s.line[i],
			         requests[i].want);
	assert_int_equal(s.n, N_REQUESTS);
	assert_string_equal(s.place[0], "Hagebygatan 12");
	assert_string_equal(s.description[0], "Klotter på fasad mot gården.");
	assert_string_equal(s.description[2], "Klotter sanerat.");
	assert_string_equal(s.description[15], "Ungdomar i trapphuset\nsent.");
	free(text);
}

/* Files that are no service requests are refused whole. */
static void
test_refused(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text, *reason;
	} refused[] = {
	    {"{'service_requests': []}", "expected a JSON array of service requests"},
	    {"rapport_id;datum;kategori\r\n", "not JSON (line 1"},
	    {"[{'service_code': 'A', 'service_code': 'B'}]", "not JSON (line 1, column"},
	    {"", "not JSON"},
	    {"<?xml version='1.0'?><service_requests/>", "not JSON"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		struct seen s = {0};
		char err[512];
		int rc = translate(f, refused[i].text, &s, err, sizeof err);
		if (rc != -1 || strstr(err, refused[i].reason) == NULL)
			fail_msg("case %zu: rc %d, err \"%s\", want -1 and \"%s\"", i, rc, err,
			         refused[i].reason);
		if (strncmp(err, "hyresbostader.json: not an Open311 service request file: ", 57) !=
		    0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(s.n, 0);
	}
}

/* The format carries its own revisions; the outbox must keep the partner's order. */
static void
test_registry(void **state)
{
	(void)state;
	assert_true(format_find("open311")->own_revision);
	assert_false(format_find("police-json")->own_revision);
	assert_false(format_find("municipality-csv")->own_revision);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_requests, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, fixture_teardown),
	    cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
