/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the personal-data scanner (hub/personal.c): a table of
 * texts that hold personal data (every spelling of personnummer and
 * samordningsnummer, phones, e-mail addresses, plates) with the span
 * expected, a table of ordinary report texts that must pass (dates, times,
 * years, amounts, postcodes, house numbers, roads, numbers failing Luhn),
 * masking (labels, several findings, UTF-8 around them, masked text clean
 * on a second scan) and personal_check_field's two modes. The personnummer
 * were made valid with the Luhn check digit (811218-9876 and 701063-2391
 * are Skatteverket's own examples).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "personal.h"

struct hit {
	const char *text;
	enum personal_kind kind;
	const char *found; /* the span expected */
};

static const struct hit hits[] = {
    /* personnummer, every common spelling */
    {"Anmälare 811218-9876 ringde", PERSONAL_ID, "811218-9876"},
    {"pnr 8112189876.", PERSONAL_ID, "8112189876"},
    {"född 19811218-9876", PERSONAL_ID, "19811218-9876"},
    {"198112189876", PERSONAL_ID, "198112189876"},
    {"(811218 9876)", PERSONAL_ID, "811218 9876"},
    {"personnr: 19811218 - 9876, hörd", PERSONAL_ID, "19811218 - 9876"},
    {"811218 -9876", PERSONAL_ID, "811218 -9876"},
    {"äldre man 121212+1212", PERSONAL_ID, "121212+1212"},
    {"850709–1232 (tankstreck)", PERSONAL_ID, "850709–1232"},
    {"skottårsdag 040229-4565", PERSONAL_ID, "040229-4565"},
    {"20040229-4565", PERSONAL_ID, "20040229-4565"},
    {"990101-0018", PERSONAL_ID, "990101-0018"},
    {"pnr:811218-9876", PERSONAL_ID, "811218-9876"},
    /* samordningsnummer: day + 60 */
    {"samordningsnr 701063-2391", PERSONAL_COORDINATION, "701063-2391"},
    {"19701063-2391", PERSONAL_COORDINATION, "19701063-2391"},
    {"7508612343", PERSONAL_COORDINATION, "7508612343"},
    /* phones */
    {"ring 070-123 45 67 efter kl 18", PERSONAL_PHONE, "070-123 45 67"},
    {"070 123 45 67", PERSONAL_PHONE, "070 123 45 67"},
    {"tel 0701234567", PERSONAL_PHONE, "0701234567"},
    {"+46 70 123 45 67", PERSONAL_PHONE, "+46 70 123 45 67"},
    {"+46701234567", PERSONAL_PHONE, "+46701234567"},
    {"+46 (0)70-123 45 67", PERSONAL_PHONE, "+46 (0)70-123 45 67"},
    {"0046 70 123 45 67", PERSONAL_PHONE, "0046 70 123 45 67"},
    {"+46 8 123 456 78", PERSONAL_PHONE, "+46 8 123 456 78"},
    {"växeln 011-12 34 56.", PERSONAL_PHONE, "011-12 34 56"},
    {"011-123456", PERSONAL_PHONE, "011-123456"},
    {"08-123 456 78", PERSONAL_PHONE, "08-123 456 78"},
    {"08 - 123 456 78", PERSONAL_PHONE, "08 - 123 456 78"},
    {"0120-123 45", PERSONAL_PHONE, "0120-123 45"},
    {"070\xc2\xa0"
     "123\xc2\xa0"
     "45\xc2\xa0"
     "67",
     PERSONAL_PHONE,
     "070\xc2\xa0"
     "123\xc2\xa0"
     "45\xc2\xa0"
     "67"},
    {"ring 073-12 34 567 ikväll", PERSONAL_PHONE, "073-12 34 567"},
    {"ring\xc2\xa0"
     "0701234567",
     PERSONAL_PHONE, "0701234567"},
    {"070\xe2\x80\x93"
     "123 45 67",
     PERSONAL_PHONE,
     "070\xe2\x80\x93"
     "123 45 67"},
    /* an invalid personnummer of ten digits can still be a phone */
    {"8112189875 och 0811218987", PERSONAL_PHONE, "0811218987"},
    /* e-mail */
    {"mejla anna.svensson@norrkoping.se.", PERSONAL_EMAIL, "anna.svensson@norrkoping.se"},
    {"<kalle+est@mail.hyresbostader.se>", PERSONAL_EMAIL, "kalle+est@mail.hyresbostader.se"},
    {"Åsa (asa_lund-2@x-y.example.com)", PERSONAL_EMAIL, "asa_lund-2@x-y.example.com"},
    {"åsa.öberg@kommun.se", PERSONAL_EMAIL, "åsa.öberg@kommun.se"},
    {"ABC123@polisen.se", PERSONAL_EMAIL, "ABC123@polisen.se"},
    /* vehicles */
    {"bil med reg ABC 123 stod kvar", PERSONAL_VEHICLE, "ABC 123"},
    {"regnr ABC123.", PERSONAL_VEHICLE, "ABC123"},
    {"moped MLB 12A", PERSONAL_VEHICLE, "MLB 12A"},
    {"XYZ-987 körde iväg", PERSONAL_VEHICLE, "XYZ-987"},
    {"bil: KGB\xc2\xa0"
     "555",
     PERSONAL_VEHICLE,
     "KGB\xc2\xa0"
     "555"},
};

/* Ordinary report text that must pass. */
static const char *const misses[] = {
    "2026-11-24",
    "observerat 2026-11-24 kl 22:15",
    "kl 22-23",
    "kl 22\xe2\x80\x93"
    "23 och 08\xe2\x80\x93"
    "10",
    "070-123 45", /* a mobile has ten digits */
    "kl 22.15-23.40",
    "kl 08-09 och 08.30",
    "år 2026, 1987 och 1999",
    "seq 1234567",
    "trapphus 12",
    "Hageby centrum 3B",
    "E4 vid Norrköping, RV 51 och väg 209",
    "v47 och vecka 48",
    "1 500 kr och 12 000 kronor",
    "1\u202f500 kr", /* a narrow no-break space between the digit groups */
    "602 23 Norrköping",
    "postnummer 60223",
    "8112189875",    /* Luhn fails, and no trunk 0 */
    "811218-9875",   /* Luhn fails */
    "811318-9870",   /* month 13 */
    "811200-9876",   /* day 0 */
    "811232-9872",   /* day 32 */
    "21811218-9876", /* century 21 */
    "polis-est-47-01",
    "5000-K123456-26",
    "556012-5790", /* organisation number: month 60 */
    "1795201500",  /* Unix time */
    "05-01-2026",
    "07 08 09 10",
    "0 70 12 34 56",
    "SEK 500",
    "lgh 1102, tel 123",
    "abc 123",    /* lower case: not a plate */
    "bil_XYZ987", /* inside an id */
    "AIQ 123",    /* I and Q are not used */
    "ABC 1234",
    "ABCD 123",
    "ABC 12O",
    "Ordningsstörning vid nattklubbskö, två personer omhändertogs. Lugnt efter 01.45.",
    "Samling av cirka 30 ungdomar vid entrén, gruppen skingrades cirka 20.40.",
    "anna@",
    "@kommun.se",
    "anna@localhost",
    "a@b.c",
    "x@1.23",
    "Brand i soprum, 2 bilar, 3 personer, 15000 besökare",
    "Platinumcars Arena (Nya Parken)",
    "",
};

static void
test_hits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
		const struct hit *h = &hits[i];
		struct personal_finding f;
		enum personal_kind k = personal_scan(h->text, strlen(h->text), &f);
		const char *want = strstr(h->text, h->found);
		assert_non_null(want);
		if (k != h->kind || f.start != (size_t)(want - h->text) ||
		    f.len != strlen(h->found))
			fail_msg("\"%s\": got kind %d at %zu+%zu, want %d \"%s\"", h->text, (int)k,
			         f.start, f.len, (int)h->kind, h->found);
		assert_int_equal(f.kind, k);
	}
}

/*
 * Every hit is still found after any number of bytes before it (the scan
 * skips texts without a digit or '@' eight bytes at a time, so a finding
 * must not hide behind the bytes of a skipped word): letters, ":" (beside
 * the digits in ASCII), short words ("x.") and a two-byte letter.
 */
static void
test_hits_at_every_offset(void **state)
{
	(void)state;
	static const char *const fillers[] = {"a", ":", "x.", "\xc3\xa9"};
	char text[256];
	for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
		const struct hit *h = &hits[i];
		size_t at = (size_t)(strstr(h->text, h->found) - h->text);
		for (size_t fi = 0; fi < sizeof fillers / sizeof fillers[0]; fi++) {
			size_t fl = strlen(fillers[fi]);
			for (size_t k = 0; k <= 24; k++) {
				size_t n = 0;
				for (size_t j = 0; j < k; j++, n += fl)
					memcpy(text + n, fillers[fi], fl);
				n += (size_t)snprintf(text + n, sizeof text - n, " %s", h->text);
				assert_true(n < sizeof text);
				struct personal_finding f;
				enum personal_kind kind = personal_scan(text, n, &f);
				if (kind != h->kind || f.start != k * fl + 1 + at)
					fail_msg("\"%s\": got kind %d at %zu, want %d at %zu", text,
					         (int)kind, f.start, (int)h->kind, k * fl + 1 + at);
			}
		}
	}
}

static void
test_misses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
		struct personal_finding f;
		enum personal_kind k = personal_scan(misses[i], strlen(misses[i]), &f);
		if (k != PERSONAL_NONE)
			fail_msg("\"%s\": found kind %d at %zu+%zu (\"%.*s\")", misses[i], (int)k,
			         f.start, f.len, (int)f.len, misses[i] + f.start);
	}
}

/* The sample week's texts (config/sample/week) hold no personal data. */
static void
test_sample_week_is_clean(void **state)
{
	(void)state;
	static const char *const files[] = {"municipality.jsonl", "police.jsonl", "housing.jsonl"};
	const char *src = getenv("ESTHUB_SOURCE_DIR");
	if (src == NULL)
		skip();
	for (size_t i = 0; i < 3; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/config/sample/week/%s", src, files[i]);
		FILE *fp = fopen(path, "r");
		assert_non_null(fp);
		char line[8192];
		int n = 0;
		while (fgets(line, sizeof line, fp)) {
			struct personal_finding f;
			n++;
			if (personal_scan(line, strlen(line), &f) != PERSONAL_NONE)
				fail_msg("%s:%d: kind %d \"%.*s\"", files[i], n, (int)f.kind,
				         (int)f.len, line + f.start);
		}
		fclose(fp);
		assert_true(n > 5);
	}
}

static void
test_mask(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		size_t n;
	} cases[] = {
	    {"Inget här", "Inget här", 0},
	    {"811218-9876", "[personnummer]", 1},
	    {"Mannen (811218-9876, tel 070-123 45 67) körde ABC 123, anna@x.se vet mer.",
	     "Mannen ([personnummer], tel [telefonnummer]) körde [registreringsnummer], "
	     "[e-post] vet mer.",
	     4},
	    {"åäö701063-2391öåä", "åäö701063-2391öåä", 0}, /* inside a word: not a number */
	    {"å 701063-2391 ö", "å [samordningsnummer] ö", 1},
	    {"Åsa: åsa@ö.se, Örjan: 0046 8 123 456 78!", "Åsa: [e-post], Örjan: [telefonnummer]!",
	     2},
	    {"811218-9876+46701234567", "[personnummer][telefonnummer]", 2},
	    {"811218-9876 811218-9876", "[personnummer] [personnummer]", 2},
	    {"x.se-ABC123 a@x.se-ABC123", "x.se-[registreringsnummer] a@x.se-[registreringsnummer]",
	     2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t out_len = 0, n = 99;
		char *m = personal_mask(cases[i].in, strlen(cases[i].in), &out_len, &n);
		assert_non_null(m);
		if (strcmp(m, cases[i].out) != 0 || n != cases[i].n)
			fail_msg("\"%s\": got \"%s\" (%zu), want \"%s\" (%zu)", cases[i].in, m, n,
			         cases[i].out, cases[i].n);
		assert_int_equal(out_len, strlen(m));
		assert_int_equal(personal_scan(m, out_len, NULL), PERSONAL_NONE);
		free(m);
	}
}

/* A NUL inside the text is a byte like any other; the scan keeps to len. */
static void
test_embedded_nul_and_bounds(void **state)
{
	(void)state;
	const char text[] = "x\0"
	                    "811218-9876";
	struct personal_finding f;
	assert_int_equal(personal_scan(text, sizeof text - 1, &f), PERSONAL_ID);
	assert_int_equal(f.start, 2);
	/* Cut short, the number is incomplete. */
	assert_int_equal(personal_scan(text, sizeof text - 2, &f), PERSONAL_NONE);
	assert_int_equal(personal_scan("070-123 45 6", 11, &f), PERSONAL_NONE);
	assert_int_equal(personal_scan(NULL, 0, &f), PERSONAL_NONE);
}

static void
test_check_field(void **state)
{
	(void)state;
	char err[200];
	char *masked = (char *)1;
	assert_int_equal(personal_check_field("place", "Hageby centrum", PERSONAL_REJECT, &masked,
	                                      err, sizeof err),
	                 0);
	assert_null(masked);
	const char *text = "Vittne 19811218-9876 hörde";
	assert_int_equal(
	    personal_check_field("description", text, PERSONAL_REJECT, &masked, err, sizeof err),
	    -1);
	assert_null(masked);
	assert_string_equal(err,
	                    "description: contains what looks like a Swedish personal identity "
	                    "number (at byte 7); personal data must not be sent to the shared "
	                    "log");
	assert_null(strstr(err, "9876"));
	assert_int_equal(
	    personal_check_field("description", text, PERSONAL_MASK, &masked, err, sizeof err), 1);
	assert_string_equal(masked, "Vittne [personnummer] hörde");
	free(masked);
	assert_int_equal(personal_check_field("reporter_role", "ring 08-123 456 78",
	                                      PERSONAL_REJECT, &masked, err, sizeof err),
	                 -1);
	assert_string_equal(err, "reporter_role: contains what looks like a phone number (at byte "
	                         "5); personal data must not be sent to the shared log");
}

/* Linear time: a long text of near-misses scans quickly. */
static void
test_long_text(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	char *s = malloc(n);
	assert_non_null(s);
	static const char piece[] = "a.b-c+d 0 07 070 ABC 12 811218 ";
	for (size_t i = 0; i < n; i++)
		s[i] = piece[i % (sizeof piece - 1)];
	assert_int_equal(personal_scan(s, n, NULL), PERSONAL_NONE);
	memset(s, 'a', n);
	assert_int_equal(personal_scan(s, n, NULL), PERSONAL_NONE);
	memset(s, '.', n);
	assert_int_equal(personal_scan(s, n, NULL), PERSONAL_NONE);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hits),        cmocka_unit_test(test_hits_at_every_offset),
	    cmocka_unit_test(test_misses),      cmocka_unit_test(test_sample_week_is_clean),
	    cmocka_unit_test(test_mask),        cmocka_unit_test(test_embedded_nul_and_bounds),
	    cmocka_unit_test(test_check_field), cmocka_unit_test(test_long_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
