/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the `municipality-csv` translator
 * (adapters/municipality/municipality_csv.c): tables of tricky inputs, each
 * with the exact records expected, one line a record (locator, outcome,
 * source id, category, area, UTC times); Swedish Excel's quirks (BOM, CRLF,
 * quoted `;`, quotes and line breaks, decimal comma, reordered and unknown
 * columns); both summer-time edges; SWEREF 99 TM; every error with its
 * line and column; files refused whole.
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
	fixture_setup(state, "municipality-csv", "v47.csv");
	/* The table an administrator would extend: a kategori/underkategori rule and a skip. */
	struct fixture *f = *state;
	char err[256];
	assert_int_equal(
	    mapping_add(f->map, "Skadegörelse/klotter", "vandalism/graffiti", err, sizeof err), 0);
	assert_int_equal(mapping_add(f->map, "Hittegods", "skip", err, sizeof err), 0);
	return 0;
}

/* Runs the translator over text (len bytes) as a file. Its return value. */
static int
translate(struct fixture *f, const char *text, size_t len, struct seen *s, char *err, size_t errlen)
{
	return fixture_translate(f, text, len, false, s, err, errlen);
}

struct csv_case {
	const char *name;
	const char *text;
	const char *want[SEEN_MAX]; /* the records, in order; NULL ends */
};

static const struct csv_case cases[] = {
    {"Excel: BOM, CRLF, quoted ; and quotes and a line break, decimal comma, blank rows",
     "\xEF\xBB\xBF"
     "rapport_id;datum;tid;omrade;plats;kategori;underkategori;beskrivning;antal_personer;"
     "bedomning;latitud;longitud;rapportor_roll\r\n"
     "k-1;2026-11-23;21:40;Hageby;\"Hageby centrum; entrén\";Folksamling som skapar oro;;"
     "\"Grupp \"\"högljudd\"\"\r\nandra raden\";15;3;58,5671;16,1869;fältassistent\r\n"
     "k-2;2026-11-23;9.05;;Gamla torget;Skadegörelse;klotter;;;;58,5905;16,1838;"
     "trygghetsvärd\r\n"
     ";;;;;;;;;;;;\r\n"
     "\r\n"
     "k-3;2026-11-23 22:15;;navestad;;Övrigt;Öppet wifi;;;;;;\r\n"
     "k-4;2026-11-23;23:59;Norrköping city;;Otrygg plats;Belysning;;;2;;;\r\n"
     "k-5;2026-11-23;23:59;KLOCKARETORPET;;Skadegörelse;Parkmöbler;;1 500;5;;;",
     {"2 report k-1 rev=0 gathering/ area=hageby at=2026-11-23T20:40:00Z pos=58.5671,16.1869 "
      "people=15 sev=3",
      "4 report k-2 rev=0 vandalism/graffiti area= at=2026-11-23T08:05:00Z "
      "pos=58.5905,16.1838",
      "7 report k-3 rev=0 other/open_wifi area=navestad at=2026-11-23T21:15:00Z",
      "8 report k-4 rev=0 unsafe_place/broken_lighting area=city at=2026-11-23T22:59:00Z sev=2",
      "9 report k-5 rev=0 vandalism/parkmöbler area=klockaretorpet at=2026-11-23T22:59:00Z "
      "people=1500 sev=5"}},
    {"no BOM, LF, sep= line, columns reordered and renamed, unknown columns ignored",
     "sep=;\n"
     "Kategori;Extra kolumn;\"Rapport_ID\";Område;Tid;Datum;Longitud;Latitud;Bedömning\n"
     "Skadegörelse;vad som helst;m-1;Marielund;07:30;2026-11-17;16,1398;58,6041;2\n"
     "Skadegörelse;;m-2;;07:31:59;2026-11-17;16.1398;58.6041;\n",
     {"3 report m-1 rev=0 vandalism/ area=marielund at=2026-11-17T06:30:00Z "
      "pos=58.6041,16.1398 sev=2",
      "4 report m-2 rev=0 vandalism/ area= at=2026-11-17T06:31:59Z pos=58.6041,16.1398"}},
    {"summer time: the skipped March hour, the repeated October hour",
     "rapport_id;datum;tid;omrade;kategori;start;slut\r\n"
     "s-1;2026-03-29;01:59;Hageby;Otrygg plats;;\r\n"
     "s-2;2026-03-29;02:30;Hageby;Otrygg plats;;\r\n"
     "s-3;2026-03-29;03:00;Hageby;Otrygg plats;;\r\n"
     "s-4;2026-10-25;01:59;Hageby;Otrygg plats;;\r\n"
     "s-5;2026-10-25;02:30;Hageby;Otrygg plats;;\r\n"
     "s-6;2026-10-25;02:59;Hageby;Otrygg plats;;\r\n"
     "s-7;2026-10-25;03:00;Hageby;Otrygg plats;;\r\n"
     "s-8;2026-07-01;12:00;Hageby;Kommande evenemang;2026-10-25 02:30;2026-10-25 03:00\r\n"
     "s-9;2026-03-01;12:00;Hageby;Kommande evenemang;2026-03-29 02:00;2026-03-29 04:00\r\n",
     {"2 report s-1 rev=0 unsafe_place/ area=hageby at=2026-03-29T00:59:00Z",
      "3 error s-2 tid: does not exist in Europe/Stockholm (the hour skipped when summer "
      "time begins)",
      "4 report s-3 rev=0 unsafe_place/ area=hageby at=2026-03-29T01:00:00Z",
      "5 report s-4 rev=0 unsafe_place/ area=hageby at=2026-10-24T23:59:00Z",
      "6 report s-5 rev=0 unsafe_place/ area=hageby at=2026-10-25T00:30:00Z",
      "7 report s-6 rev=0 unsafe_place/ area=hageby at=2026-10-25T00:59:00Z",
      "8 report s-7 rev=0 unsafe_place/ area=hageby at=2026-10-25T02:00:00Z",
      "9 report s-8 rev=0 upcoming_event/ area=hageby at=2026-07-01T10:00:00Z "
      "starts=2026-10-25T00:30:00Z ends=2026-10-25T02:00:00Z",
      "10 error s-9 start: does not exist in Europe/Stockholm (the hour skipped when summer "
      "time begins)"}},
    {"SWEREF 99 TM with thousands separators, and its errors",
     "rapport_id;datum;tid;kategori;sweref_n;sweref_e;latitud;longitud\r\n"
     "w-1;2026-11-18;12:00;Skadegörelse;6 492 460,187;569 041,844;;\r\n"
     "w-2;2026-11-18;12:00;Skadegörelse;6\xC2\xA0"
     "496\xC2\xA0"
     "532;566\xC2\xA0"
     "232;;\r\n"
     "w-3;2026-11-18;12:00;Skadegörelse;6492460;;;\r\n"
     "w-4;2026-11-18;12:00;Skadegörelse;5000000;500000;;\r\n"
     "w-5;2026-11-18;12:00;Skadegörelse;6492460;569041;58,6;16,2\r\n",
     {"2 report w-1 rev=0 vandalism/ area= at=2026-11-18T11:00:00Z pos=58.5671,16.1869",
      "3 report w-2 rev=0 vandalism/ area= at=2026-11-18T11:00:00Z pos=58.6041,16.1398",
      "4 error w-3 sweref_e: missing, while sweref_n is given",
      "5 error w-4 sweref_n: the position lies outside Sweden",
      "6 report w-5 rev=0 vandalism/ area= at=2026-11-18T11:00:00Z pos=58.6000,16.2000"}},
    {"every error names its line and column; skips; the rest is still translated",
     "rapport_id;datum;tid;omrade;kategori;latitud;longitud;antal_personer;bedomning;start;"
     "slut;beskrivning\r\n"
     "e-1;2026-11-18;12:00;Hageby;Brandlarm;;;;;;;\r\n"
     ";2026-11-18;12:00;Hageby;Skadegörelse;;;;;;;\r\n"
     "e-3;2026-13-01;12:00;Hageby;Skadegörelse;;;;;;;\r\n"
     "e-4;18/11/2026;12:00;Hageby;Skadegörelse;;;;;;;\r\n"
     "e-5;2026-11-18;25:00;Hageby;Skadegörelse;;;;;;;\r\n"
     "e-6;2026-11-18;12:00;Atlantis;Skadegörelse;;;;;;;\r\n"
     "e-7;2026-11-18;12:00;;Skadegörelse;48,8566;2,3522;;;;;\r\n"
     "e-8;2026-11-18;12:00;;Skadegörelse;;;;;;;\r\n"
     "e-9;2026-11-18;12:00;;Skadegörelse;58,6;;;;;;\r\n"
     "e-10;2026-11-18;12:00;;Skadegörelse;58,57x;16,2;;;;;\r\n"
     "e-11;2026-11-18;12:00;Hageby;Skadegörelse;;;många;;;;\r\n"
     "e-12;2026-11-18;12:00;Hageby;Skadegörelse;;;;7;;;\r\n"
     "e-13;2026-11-18;12:00;Hageby;Kommande evenemang;;;;;2026-11-28 18:00;2026-11-28 "
     "17:00;\r\n"
     "e-14;2026-11-18;12:00;Hageby;Skadegörelse;;;;;;;Sk\xE5pet krossat\r\n"
     "e-15;2026-11-18;12:00;Hageby;Hittegods;;;;;;;\r\n"
     "e-16;2026-11-18;;Hageby;Skadegörelse;;;;;;;\r\n"
     "e-17;2026-11-18;12:00;Hageby;;;;;;;;\r\n"
     "e-18;;12:00;Hageby;Skadegörelse;;;;;;;\r\n"
     "e-19;2026-11-18;12:00;Hageby;Skadegörelse;;;;;2026-11-28;;\r\n"
     "e-20;2026-11-18;12:00;Hageby;Skadegörelse;;;12;4;;;Allt väl\r\n",
     {"2 error e-1 kategori: no mapping rule for \"Brandlarm\"",
      "3 error - rapport_id: missing",
      "4 error e-3 datum: not a date (YYYY-MM-DD)",
      "5 error e-4 datum: not a date (YYYY-MM-DD)",
      "6 error e-5 tid: not a time of day (HH:MM)",
      "7 error e-6 omrade: no EST area is called \"Atlantis\"",
      "8 error e-7 latitud: the position lies outside Sweden",
      "9 error e-8 omrade: missing, and no latitud/longitud or sweref_n/sweref_e: the report "
      "cannot be placed",
      "10 error e-9 longitud: missing, while latitud is given",
      "11 error e-10 latitud: not a number",
      "12 error e-11 antal_personer: not a whole number of people",
      "13 error e-12 bedomning: not an assessment from 1 to 5",
      "14 error e-13 slut: before start",
      "15 error e-14 beskrivning: not UTF-8 text (export as \"CSV UTF-8\")",
      "16 skipped e-15 not EST's business by the mapping rule for \"Hittegods\"",
      "17 error e-16 tid: missing",
      "18 error e-17 kategori: missing",
      "19 error e-18 datum: missing",
      "20 error e-19 start: not a date and time (YYYY-MM-DD HH:MM)",
      "21 report e-20 rev=0 vandalism/ area=hageby at=2026-11-18T11:00:00Z people=12 "
      "sev=4"}},
    {"badly quoted fields: the record's first line is named, the next line goes on",
     "rapport_id;datum;tid;omrade;kategori;beskrivning\r\n"
     "q-1;2026-11-18;12:00;Hageby;Skadegörelse;5\" skärm\r\n"
     "q-2;2026-11-18;12:00;Hageby;Skadegörelse;\"ok\" \r\n"
     "q-3;2026-11-18;12:00;Hageby;Skadegörelse;\"stängd\"x\r\n"
     "q-4;2026-11-18;12:00;Hageby;Skadegörelse;\"rad ett\r\nrad två\r\nrad tre\"\r\n"
     "q-5;2026-11-18;12:00;Hageby;Skadegörelse;\"aldrig stängd\r\nq-6;2026-11-18;12:00\r\n",
     {"2 error - -: badly quoted field: a quote inside an unquoted field, or text after a "
      "closing quote",
      "3 report q-2 rev=0 vandalism/ area=hageby at=2026-11-18T11:00:00Z",
      "4 error - -: badly quoted field: a quote inside an unquoted field, or text after a "
      "closing quote",
      "5 report q-4 rev=0 vandalism/ area=hageby at=2026-11-18T11:00:00Z",
      "8 error - -: a quoted field is not closed before the end of the file"}},
    {"a lone CR ends a line; NUL bytes in a field",
     "rapport_id;datum;tid;omrade;kategori;plats\r"
     "c-1;2026-11-18;12:00;Hageby;Skadegörelse;x\r"
     "c-2;2026-11-18;12:00;Hageby;Skadegörelse;a\0b\r\n",
     {"2 report c-1 rev=0 vandalism/ area=hageby at=2026-11-18T11:00:00Z",
      "3 error c-2 plats: holds a NUL byte"}},
    {"a header and nothing else", "rapport_id;datum;kategori\r\n", {NULL}},
};

static void
test_cases(void **state)
{
	struct fixture *f = *state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct seen s = {0};
		char err[512];
		size_t len = strlen(cases[c].text);
		/* One case holds a NUL byte: its text runs to the last "\r\n". */
		if (strstr(cases[c].name, "NUL"))
			len += strlen(cases[c].text + len + 1) + 1;
		int rc = translate(f, cases[c].text, len, &s, err, sizeof err);
		if (rc != 0)
			fail_msg("%s: read returned %d: %s", cases[c].name, rc, err);
		size_t want = 0;
		while (want < SEEN_MAX && cases[c].want[want])
			want++;
		for (size_t i = 0; i < s.n && i < want; i++)
			if (strcmp(s.line[i], cases[c].want[i]) != 0)
				fail_msg("%s, record %zu:\n got: %s\nwant: %s", cases[c].name, i,
				         s.line[i], cases[c].want[i]);
		if (s.n != want)
			fail_msg("%s: %zu records, want %zu (last: %s)", cases[c].name, s.n, want,
			         s.n ? s.line[s.n - 1] : "-");
	}
}

/* The texts of the Excel case: quotes undoubled, line break kept, ';' inside quotes. */
static void
test_texts(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};
	char err[512];
	assert_int_equal(translate(f, cases[0].text, strlen(cases[0].text), &s, err, sizeof err),
	                 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.place[0], "Hageby centrum; entrén");
	assert_string_equal(s.description[0], "Grupp \"högljudd\"\nandra raden");
	assert_string_equal(s.role[0], "fältassistent");
	assert_string_equal(s.place[1], "Gamla torget");
	assert_string_equal(s.role[1], "trygghetsvärd");
}

/* Files that are no municipality export are refused whole, with a reason. */
static void
test_refused(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text;
		size_t len;
		const char *reason;
	} refused[] = {
	    {"", 0, "no header row with rapport_id, datum, kategori"},
	    {"\xEF\xBB\xBF", 3, "no header row with rapport_id, datum, kategori"},
	    {"k-1;2026-11-23;21:40;Hageby;Skadegörelse\r\n", 0,
	     "no header row with rapport_id, datum, kategori"},
	    {"rapport_id;tid;kategori\r\nk-1;21:40;Skadegörelse\r\n", 0,
	     "no header row with rapport_id, datum, kategori"},
	    {"rapport_id,datum,tid,kategori\r\nk-1,2026-11-23,21:40,Skadegörelse\r\n", 0,
	     "the header row is not separated by ';'"},
	    {"[{\"id\": 1, \"type\": \"Brand\"}]\n", 0,
	     "no header row with rapport_id, datum, kategori"},
	    {"\xFF\xFEr\0a\0p\0", 8, "UTF-16 text"},
	    {"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "the header row is not UTF-8 text"},
	    {"\x7f"
	     "ELF\x02\x01\x01\0\0\0",
	     10, "not a text file"},
	    {"PK\x03\x04\x14\0\x06\0", 8, "a ZIP file, such as an Excel workbook"},
	    {"rapport_id;datum;kategori;Datum\r\n", 0, "column datum appears twice"},
	    {"sep=;\r\n", 0, "no header row with rapport_id, datum, kategori"},
	    {"rapport_id;datum;kategori;omr\xE5"
	     "de\r\nk-1;2026-11-23;Sk\xE4reg\xF6relse;Hageby\r\n",
	     0, "the header row is not UTF-8 text (export as \"CSV UTF-8\")"},
	    {"\"rapport_id;datum;kategori\r\n", 0, "no header row"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		struct seen s = {0};
		char err[512];
		size_t len = refused[i].len ? refused[i].len : strlen(refused[i].text);
		int rc = translate(f, refused[i].text, len, &s, err, sizeof err);
		if (rc != -1 || strstr(err, refused[i].reason) == NULL)
			fail_msg("case %zu: rc %d, err \"%s\", want -1 and \"%s\"", i, rc, err,
			         refused[i].reason);
		if (strncmp(err, "v47.csv: ", 9) != 0)
			fail_msg("case %zu: the reason does not name the file: %s", i, err);
		assert_int_equal(s.n, 0);
	}
}

/* An emit that answers nonzero stops the translator, which returns that answer. */
static void
test_stop(void **state)
{
	struct fixture *f = *state;
	struct seen s = {.stop_at = 2};
	char err[512];
	assert_int_equal(translate(f, cases[0].text, strlen(cases[0].text), &s, err, sizeof err),
	                 7);
	assert_int_equal(s.n, 2);
}

/* Without a mapping table or geography the translator refuses rather than crash. */
static void
test_needs_table(void **state)
{
	struct fixture *f = *state;
	struct mapping *map = f->map;
	struct seen s = {0};
	char err[512];
	f->map = NULL;
	assert_int_equal(translate(f, cases[0].text, strlen(cases[0].text), &s, err, sizeof err),
	                 -1);
	f->map = map;
	assert_non_null(strstr(err, "mapping table"));
}

/* Local times need Europe/Stockholm: without timefmt_init the file is refused, not shifted. */
static void
test_needs_stockholm(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};
	char err[512];
	setenv("TZ", "UTC", 1);
	tzset();
	int rc = translate(f, cases[0].text, strlen(cases[0].text), &s, err, sizeof err);
	timefmt_init();
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "not Europe/Stockholm"));
	assert_int_equal(s.n, 0);
}

struct counter {
	int reports, others;
	uint64_t last_record;
	bool in_order;
};

static int
count(void *arg, const struct format_record *rec)
{
	struct counter *c = arg;
	if (rec->kind == FORMAT_REPORT)
		c->reports++;
	else
		c->others++;
	/* Each row below spans two lines: rows start on lines 2, 4, 6, ... */
	if (rec->record != c->last_record + 2)
		c->in_order = false;
	c->last_record = rec->record;
	return 0;
}

/* Runs the translator over text with count as its emit. */
static int
count_file(struct fixture *f, const char *text, size_t n, struct counter *c, char *err,
           size_t errlen)
{
	FILE *in = tmpfile();
	assert_non_null(in);
	assert_int_equal(fwrite(text, 1, n, in), n);
	rewind(in);
	*c = (struct counter){.last_record = 0, .in_order = true};
	struct format_input input = {
	    .in = in, .name = "long.csv", .emit = count, .arg = c, .map = f->map, .geo = f->geo};
	int rc = format_find("municipality-csv")->read(&input, err, errlen);
	fclose(in);
	return rc;
}

/* A file of many read blocks: records across block boundaries keep their lines. */
static void
test_long_file(void **state)
{
	struct fixture *f = *state;
	size_t cap = 300 * 1024, n = 0;
	char *text = malloc(cap), err[512];
	assert_non_null(text);
	n += (size_t)snprintf(text, cap, "rapport_id;datum;tid;omrade;kategori;beskrivning\r\n");
	int rows = 0;
	while (n + 200 < cap)
		n += (size_t)snprintf(
		    text + n, cap - n,
		    "l-%d;2026-11-18;12:00;Hageby;Skadegörelse;\"rad\r\nrad %d\"\r\n", rows, rows),
		    rows++;
	struct counter c;
	assert_int_equal(count_file(f, text, n, &c, err, sizeof err), 0);
	assert_int_equal(c.reports, rows);
	assert_int_equal(c.others, 0);
	assert_true(c.in_order);
	free(text);
}

/* Past 64 MiB a file is refused; a row past 1 MiB is an error of its own. */
static void
test_caps(void **state)
{
	struct fixture *f = *state;
	size_t row = 1024 * 1024 + 16, rows = 66, n = 0;
	char *text = malloc(64 + rows * row), err[512];
	assert_non_null(text);
	size_t header = (size_t)snprintf(text, 64, "rapport_id;datum;kategori;beskrivning\r\n");
	n = header;
	for (size_t i = 0; i < rows; i++) {
		memcpy(text + n, "x;2026-11-18;Brand;", 19);
		memset(text + n + 19, 'x', row - 21);
		memcpy(text + n + row - 2, "\r\n", 2);
		n += row;
	}
	struct counter c;
	assert_int_equal(count_file(f, text, n, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than 64 MiB"));
	assert_int_equal(c.reports, 0);
	/* One row alone: an error naming the record, not a refusal. */
	size_t one = header + row;
	assert_int_equal(count_file(f, text, one, &c, err, sizeof err), 0);
	assert_int_equal(c.others, 1);
	free(text);
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cases, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_texts, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_stop, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_needs_table, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_needs_stockholm, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_long_file, setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_caps, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
