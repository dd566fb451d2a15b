/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the json format (adapters/json/json_lines.c): a line is a
 * Report, or a measure update when it has a "measureId" key; measure
 * statuses by their enum name or the command line's short form; every bad
 * line is one error naming its field, and the lines after it still count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/format.h"

#define MAX_SEEN 16

struct seen {
	char line[MAX_SEEN][320];
	size_t n;
};

/* Each record as one line of text: "LINE kind id detail". */
static int
remember(void *arg, const struct format_record *rec)
{
	struct seen *s = arg;
	assert_true(s->n < MAX_SEEN);
	char *out = s->line[s->n++];
	size_t outlen = sizeof s->line[0];
	unsigned long long n = (unsigned long long)rec->record;
	switch (rec->kind) {
	case FORMAT_REPORT:
		snprintf(out, outlen, "%llu report %s %u", n, rec->report->source_id,
		         (unsigned)rec->report->revision);
		break;
	case FORMAT_MEASURE:
		snprintf(out, outlen, "%llu measure %s %d %s", n, rec->measure->measure_id,
		         (int)rec->measure->status, rec->measure->outcome);
		break;
	case FORMAT_ERROR:
		snprintf(out, outlen, "%llu error %s %s", n, rec->source_id ? rec->source_id : "-",
		         rec->reason);
		break;
	case FORMAT_SKIPPED:
		snprintf(out, outlen, "%llu skipped", n);
		break;
	}
	return 0;
}

static void
translate(const char *text, struct seen *s)
{
	char err[256] = "";
	FILE *in = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	assert_non_null(in);
	memset(s, 0, sizeof *s);
	struct format_input input = {.in = in, .name = "t.jsonl", .emit = remember, .arg = s};
	assert_int_equal(format_json.read(&input, err, sizeof err), 0);
	fclose(in);
}

struct case_ {
	const char *line;
	const char *want; /* the record as remember() writes it, without "1 " */
};

static const struct case_ cases[] = {
    {"{\"sourceId\":\"a\",\"revision\":2,\"category\":\"CATEGORY_VANDALISM\"}", "report a 2"},
    {"{\"measureId\":\"m3\",\"status\":\"MEASURE_STATUS_DONE\",\"outcome\":\"Ny belysning "
     "uppsatt\"}",
     "measure m3 4 Ny belysning uppsatt"},
    {"{\"measureId\":\"m3\",\"status\":\"done\"}", "measure m3 4 "},
    {"{\"measureId\":\"m3\",\"status\":\"in_progress\"}", "measure m3 3 "},
    {"{\"measure_id\":\"m3\",\"status\":\"cancelled\",\"outcome\":\"Inte längre aktuellt\"}",
     "measure m3 5 Inte längre aktuellt"},
    {"{\"measureId\":\"m3\",\"outcome\":\"Uppföljning: lugnare\"}",
     "measure m3 0 Uppföljning: lugnare"},
    {"{\"measureId\":\"m3\",\"status\":4}", "measure m3 4 "},
    /* Other Measure fields are the mapping's: the hub refuses them unless equal. */
    {"{\"measureId\":\"m3\",\"status\":\"done\",\"area\":\"hageby\"}", "measure m3 4 "},
    {"{\"measureId\":\"m3\",\"status\":\"finished\"}",
     "error m3 status: not a measure status (proposed, decided, in_progress, done, cancelled, "
     "or MEASURE_STATUS_DONE and the like)"},
    {"{\"measureId\":\"m3\",\"status\":\"DONE\"}",
     "error m3 status: not a measure status (proposed, decided, in_progress, done, cancelled, "
     "or MEASURE_STATUS_DONE and the like)"},
    {"{\"measureId\":\"m3\",\"status\":\"unspecified\"}",
     "error m3 status: not a measure status (proposed, decided, in_progress, done, cancelled, "
     "or MEASURE_STATUS_DONE and the like)"},
    {"{\"measureId\":\"m3\",\"status\":\"MEASURE_STATUS_FINISHED\"}", "error m3 status:"},
    {"{\"measureId\":\"m3\",\"status\":99}", "error m3 status: not a known measure status"},
    {"{\"measureId\":\"m3\"}",
     "error m3 status: a measure update needs a new status or an outcome"},
    {"{\"measureId\":\"\",\"status\":\"done\"}",
     "error - measureId: required (the id the hub gave the measure, e.g. m3)"},
    {"{\"measureId\":7,\"status\":\"done\"}", "error - measureId:"},
    {"{\"measureId\":\"m3\",\"status\":\"done\",\"colour\":\"red\"}",
     "error m3 unknown field \"colour\""},
    {"{\"measureId\":\"m3\",\"status\":\"done\",\"status\":\"done\"}", "error - invalid JSON"},
    {"{\"measureId\":\"m3\",\"outcome\":3}", "error m3 outcome:"},
    {"[\"measureId\"]", "error - expected an object"},
    /* A NUL inside the id: the error names no cut-short id ("m"). */
    {"{\"measureId\":\"m\\u0000\",\"status\":\"done\"}",
     "error - measureId: string contains a NUL"},
};

static void
test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct seen s;
		translate(cases[i].line, &s);
		assert_int_equal(s.n, 1);
		const char *got = s.line[0] + 2; /* after "1 " */
		if (strncmp(got, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("%s\n  want %s\n  got  %s", cases[i].line, cases[i].want, got);
	}
}

/* A file mixing reports, updates and a bad line: each keeps its line number. */
static void
test_mixed_file(void **state)
{
	(void)state;
	struct seen s;
	translate("\xEF\xBB\xBF# the housing company's export\n"
	          "{\"sourceId\":\"HB-1\",\"category\":\"CATEGORY_VANDALISM\"}\r\n"
	          "\n"
	          "{\"measureId\":\"m1\",\"status\":\"done\",\"outcome\":\"Lampan bytt\"}\r\n"
	          "{\"measureId\":\"m2\",\"status\":\"klar\"}\n"
	          "{\"measureId\":\"m2\",\"status\":\"decided\"}",
	          &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.line[0], "2 report HB-1 0");
	assert_string_equal(s.line[1], "4 measure m1 4 Lampan bytt");
	assert_non_null(strstr(s.line[2], "5 error m2 status: not a measure status"));
	assert_string_equal(s.line[3], "6 measure m2 2 ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_mixed_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
