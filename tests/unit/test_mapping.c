/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the category tables (adapters/runtime/mapping.c): how
 * values fold (case with Swedish letters, spaces, decomposed accents), the
 * shipped tables of the three partner formats, the default rule "*", skip,
 * unknown values, and the exact message for each kind of bad rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/mapping.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_fold(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		enum mapping_fold how;
		bool same;
	} cases[] = {
	    {"Skadegörelse", "SKADEGÖRELSE", MAPPING_FOLD_CASE, true},
	    {" skadegörelse ", "Skadegörelse", MAPPING_FOLD_CASE, true},
	    {"Otrygg   plats", "otrygg plats", MAPPING_FOLD_CASE, true},
	    {"Otrygg\tplats\r\n", "otrygg plats", MAPPING_FOLD_CASE, true},
	    {"Otrygg\xC2\xA0plats", "otrygg plats", MAPPING_FOLD_CASE, true}, /* no-break space */
	    {"Otryggplats", "Otrygg plats", MAPPING_FOLD_CASE, false},
	    {"ÅÄÖÉÜ", "åäöéü", MAPPING_FOLD_CASE, true},
	    {"Skadegorelse", "Skadegörelse", MAPPING_FOLD_CASE, false},
	    {"Skadegorelse", "Skadegörelse", MAPPING_FOLD_ACCENTS, true},
	    /* Decomposed: o + COMBINING DIAERESIS, A + COMBINING RING ABOVE. */
	    {"Skadego\xCC\x88relse", "SKADEGÖRELSE", MAPPING_FOLD_CASE, true},
	    {"A\xCC\x8A", "å", MAPPING_FOLD_CASE, true},
	    {"Norrko\xCC\x88ping city", "norrkoping city", MAPPING_FOLD_ACCENTS, true},
	    {"NORRKÖPING  CITY", "Norrköping city", MAPPING_FOLD_ACCENTS, true},
	    {"Bråk", "Brak", MAPPING_FOLD_CASE, false},
	    {"Bråk", "Brak", MAPPING_FOLD_ACCENTS, true},
	    /* The multiplication and division signs are no letter pair. */
	    {"\xC3\x97", "\xC3\xB7", MAPPING_FOLD_CASE, false},
	    {"", "   ", MAPPING_FOLD_CASE, true},
	    {NULL, "", MAPPING_FOLD_CASE, true},
	    {"a", "", MAPPING_FOLD_CASE, false},
	    /* Bytes that are not UTF-8 equal only themselves. */
	    {"\xFF", "\xFF", MAPPING_FOLD_CASE, true},
	    {"\xFF", "\xFE", MAPPING_FOLD_CASE, false},
	    {"\xC3", "\xC3\xA4", MAPPING_FOLD_CASE, false},
	    {"x\xC3", "x", MAPPING_FOLD_CASE, false},
	};
	for (size_t i = 0; i < N(cases); i++) {
		bool got = mapping_same(cases[i].a, cases[i].b, cases[i].how);
		if (got != cases[i].same)
			fail_msg("case %zu: \"%s\" vs \"%s\": expected %d", i,
			         cases[i].a ? cases[i].a : "(null)", cases[i].b, cases[i].same);
		assert_int_equal(mapping_same(cases[i].b, cases[i].a, cases[i].how), got);
	}
}

static void
test_default_tables(void **state)
{
	(void)state;
	static const struct {
		const char *format, *value;
		enum mapping_action action;
		Est__V1__Category category;
		const char *subcategory;
	} cases[] = {
	    {"municipality-csv", "Folksamling som skapar oro", MAP_REPORT,
	     EST__V1__CATEGORY__CATEGORY_GATHERING, ""},
	    {"municipality-csv", "SKADEGÖRELSE", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM,
	     ""},
	    {"municipality-csv", " otrygg  plats ", MAP_REPORT,
	     EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE, ""},
	    {"municipality-csv", "Kommande evenemang", MAP_REPORT,
	     EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT, ""},
	    {"municipality-csv", "Annan ordningsstörning", MAP_REPORT,
	     EST__V1__CATEGORY__CATEGORY_DISORDER, ""},
	    {"municipality-csv", "Incident mot personal", MAP_REPORT,
	     EST__V1__CATEGORY__CATEGORY_STAFF_INCIDENT, ""},
	    {"municipality-csv", "Ryktesspridning", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_RUMOUR,
	     ""},
	    {"municipality-csv", "övrigt", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_OTHER, ""},
	    {"municipality-csv", "Klotter", MAP_UNKNOWN, 0, NULL},
	    {"police-json", "Skadegörelse", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM, ""},
	    {"police-json", "Bråk", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_DISORDER, ""},
	    {"police-json", "Brand", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM, "fire"},
	    {"police-json", "Ordningslagen", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_DISORDER,
	     "public_order"},
	    {"police-json", "Narkotikabrott", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE,
	     "drugs"},
	    {"police-json", "Misshandel", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_DISORDER,
	     "assault"},
	    {"police-json", "VÅLD/HOT MOT TJÄNSTEMAN", MAP_REPORT,
	     EST__V1__CATEGORY__CATEGORY_STAFF_INCIDENT, ""},
	    {"police-json", "Olaga hot", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_DISORDER,
	     "threat"},
	    {"police-json", "Rån", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_DISORDER, "robbery"},
	    {"police-json", "Stöld", MAP_SKIP, 0, NULL},
	    {"police-json", "Inbrott", MAP_SKIP, 0, NULL},
	    {"police-json", "Trafikolycka", MAP_SKIP, 0, NULL},
	    {"police-json", "Övrigt", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_OTHER, ""},
	    {"police-json", "Sammanfattning natt", MAP_UNKNOWN, 0, NULL},
	    {"police-json", "Djur", MAP_UNKNOWN, 0, NULL},
	    {"open311", "KLOTTER", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM, "graffiti"},
	    {"open311", "klotter", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM, "graffiti"},
	    {"open311", "GLASKROSS", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM,
	     "broken_glass"},
	    {"open311", "BRAND", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM, "fire"},
	    {"open311", "BELYSNING", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE,
	     "broken_lighting"},
	    {"open311", "NEDSKRAPNING", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_UNSAFE_PLACE,
	     "littering"},
	    {"open311", "VISTELSE_TRAPPHUS", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_GATHERING,
	     "stairwell"},
	    {"open311", "INBROTT_FORRAD", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM,
	     "storage_break_in"},
	    {"open311", "SKADEGORELSE_OVRIG", MAP_REPORT, EST__V1__CATEGORY__CATEGORY_VANDALISM,
	     ""},
	    {"open311", "DROPPANDE_KRAN", MAP_SKIP, 0, NULL},
	    {"open311", "", MAP_SKIP, 0, NULL},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct mapping *m = mapping_default(cases[i].format);
		assert_non_null(m);
		Est__V1__Category cat = EST__V1__CATEGORY__CATEGORY_UNSPECIFIED;
		const char *sub = NULL;
		enum mapping_action a = mapping_lookup(m, cases[i].value, &cat, &sub);
		if (a != cases[i].action)
			fail_msg("case %zu: %s \"%s\": action %d, expected %d", i, cases[i].format,
			         cases[i].value, a, cases[i].action);
		assert_int_equal(cat, cases[i].category);
		if (cases[i].subcategory)
			assert_string_equal(sub, cases[i].subcategory);
		else
			assert_null(sub);
		mapping_destroy(&m);
		assert_null(m);
	}
	assert_null(mapping_default("json"));
	assert_null(mapping_default("nosuch"));
	assert_null(mapping_default(NULL));
	assert_string_equal(mapping_field("municipality-csv"), "kategori");
	assert_string_equal(mapping_field("police-json"), "type");
	assert_string_equal(mapping_field("open311"), "service_code");
	assert_null(mapping_field("json"));
}

static void
test_bad_rules(void **state)
{
	(void)state;
	char long_value[MAPPING_VALUE_MAX + 2];
	memset(long_value, 'x', sizeof long_value - 1);
	long_value[sizeof long_value - 1] = '\0';
	static const char *const not_a_category =
	    " is not a category (gathering, vandalism, unsafe_place, upcoming_event, disorder, "
	    "staff_incident, rumour, other) or skip";
	const struct {
		const char *from, *to, *err;
	} cases[] = {
	    {"Skadegörelse", "vandalsm", "\"vandalsm\""},
	    {"Skadegörelse", "unspecified", "\"unspecified\""},
	    {"Skadegörelse", "vandalism, fire", "\"vandalism, fire\""},
	    {"Skadegörelse", "", "no category given (category, category/subcategory or skip)"},
	    {"Skadegörelse", "   ", "no category given (category, category/subcategory or skip)"},
	    {"", "vandalism", "the value is empty"},
	    {"  ", "vandalism", "the value is empty"},
	    {"\xFF", "vandalism", "the value is not UTF-8"},
	    {long_value, "vandalism", "the value is too long"},
	    {"Brand", "vandalism/", "subcategory \"\" must be 1..64 characters a-z, 0-9, _ or -"},
	    {"Brand", "vandalism/Fire",
	     "subcategory \"Fire\" must be 1..64 characters a-z, 0-9, _ or -"},
	    {"Brand", "vandalism/fire/big",
	     "subcategory \"fire/big\" must be 1..64 characters a-z, 0-9, _ or -"},
	    {"Brand", "skip/fire", "skip takes no subcategory"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct mapping *m = mapping_new();
		char err[512] = "";
		char want[512];
		assert_int_equal(mapping_add(m, cases[i].from, cases[i].to, err, sizeof err), -1);
		if (cases[i].err[0] == '"')
			snprintf(want, sizeof want, "%s%s", cases[i].err, not_a_category);
		else
			snprintf(want, sizeof want, "%s", cases[i].err);
		assert_string_equal(err, want);
		assert_int_equal(mapping_size(m), 0);
		mapping_destroy(&m);
	}
}

static void
test_normal_form(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to, *stored_from, *stored_to;
	} cases[] = {
	    {" Brand ", " Vandalism / fire ", "Brand", "vandalism/fire"},
	    {"Bråk", "CATEGORY_DISORDER", "Bråk", "disorder"},
	    {"Stöld", "SKIP", "Stöld", "skip"},
	    {"*", " skip ", "*", "skip"},
	    {"Otrygg   plats", "unsafe_place/broken-lighting_2", "Otrygg   plats",
	     "unsafe_place/broken-lighting_2"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct mapping *m = mapping_new();
		char err[256];
		const char *from, *to;
		assert_int_equal(mapping_add(m, cases[i].from, cases[i].to, err, sizeof err), 0);
		assert_true(mapping_rule(m, 0, &from, &to));
		assert_string_equal(from, cases[i].stored_from);
		assert_string_equal(to, cases[i].stored_to);
		assert_false(mapping_rule(m, 1, &from, &to));
		mapping_destroy(&m);
	}
}

static void
test_default_rule_and_replace(void **state)
{
	(void)state;
	struct mapping *m = mapping_new();
	char err[256];
	Est__V1__Category cat = 0;
	const char *sub = NULL;
	assert_int_equal(mapping_add(m, "Brand", "vandalism/fire", err, sizeof err), 0);
	assert_int_equal(mapping_lookup(m, "Okänt", &cat, &sub), MAP_UNKNOWN);
	assert_false(mapping_has(m, "*"));
	/* The default rule answers for every value without its own, and only for those. */
	assert_int_equal(mapping_add(m, " * ", "other/unmapped", err, sizeof err), 0);
	assert_true(mapping_has(m, "*"));
	assert_int_equal(mapping_lookup(m, "Okänt", &cat, &sub), MAP_REPORT);
	assert_int_equal(cat, EST__V1__CATEGORY__CATEGORY_OTHER);
	assert_string_equal(sub, "unmapped");
	assert_int_equal(mapping_lookup(m, NULL, &cat, &sub), MAP_REPORT);
	assert_int_equal(mapping_lookup(m, "BRAND", &cat, &sub), MAP_REPORT);
	assert_string_equal(sub, "fire");
	/* "*" as a partner's value is no rule of its own: it takes the default. */
	assert_int_equal(mapping_lookup(m, "*", &cat, &sub), MAP_REPORT);
	assert_string_equal(sub, "unmapped");
	/* A later rule for the same value replaces the earlier one in its place. */
	assert_int_equal(mapping_add(m, "BRAND", "skip", err, sizeof err), 0);
	assert_int_equal(mapping_add(m, "*", "skip", err, sizeof err), 0);
	assert_int_equal(mapping_size(m), 2);
	assert_int_equal(mapping_lookup(m, "brand", &cat, &sub), MAP_SKIP);
	assert_int_equal(mapping_lookup(m, "Okänt", &cat, &sub), MAP_SKIP);
	const char *from, *to;
	assert_true(mapping_rule(m, 0, &from, &to));
	assert_string_equal(from, "BRAND");
	assert_true(mapping_has(m, " brand"));
	assert_false(mapping_has(m, "Bränd"));
	/* A failed add leaves the table as it was. */
	assert_int_equal(mapping_add(m, "brand", "nonsense", err, sizeof err), -1);
	assert_int_equal(mapping_lookup(m, "brand", &cat, &sub), MAP_SKIP);

	struct mapping *copy = mapping_copy(m);
	assert_non_null(copy);
	assert_int_equal(mapping_size(copy), 2);
	assert_int_equal(mapping_lookup(copy, "Okänt", &cat, &sub), MAP_SKIP);
	mapping_destroy(&copy);
	mapping_destroy(&m);
	mapping_destroy(&m); /* NULL-safe */
	mapping_destroy(NULL);
}

static void
test_cap(void **state)
{
	(void)state;
	struct mapping *m = mapping_new();
	char err[256], from[32];
	for (int i = 0; i < MAPPING_MAX_RULES; i++) {
		snprintf(from, sizeof from, "CODE_%d", i);
		assert_int_equal(mapping_add(m, from, "vandalism", err, sizeof err), 0);
	}
	assert_int_equal(mapping_add(m, "ONE_MORE", "vandalism", err, sizeof err), -1);
	assert_string_equal(err, "more than 4096 rules");
	/* Replacing an existing rule is still possible at the cap. */
	assert_int_equal(mapping_add(m, "code_7", "skip", err, sizeof err), 0);
	assert_int_equal(mapping_size(m), MAPPING_MAX_RULES);
	mapping_destroy(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_default_tables),
	    cmocka_unit_test(test_bad_rules),
	    cmocka_unit_test(test_normal_form),
	    cmocka_unit_test(test_default_rule_and_replace),
	    cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
