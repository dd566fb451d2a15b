/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of places as partners write them (adapters/runtime/geo.c):
 * SWEREF 99 TM to WGS 84 through PROJ against reference values computed
 * with PROJ's own cs2cs (`echo "N E" | cs2cs -f %.10f EPSG:3006
 * EPSG:4326`), the Sweden plausibility box, and area names in any case and
 * with or without accents, built-in and added.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/geo.h"
#include "wire/ids.h"

#define N(a)          (sizeof(a) / sizeof((a)[0]))
#define TOLERANCE_DEG 1e-6

static int
setup(void **state)
{
	char err[512];
	struct geo *g = geo_new(err, sizeof err);
	if (g == NULL)
		fail_msg("geo_new: %s", err);
	*state = g;
	return 0;
}

static int
teardown(void **state)
{
	struct geo *g = *state;
	geo_destroy(&g);
	assert_null(g);
	geo_destroy(&g); /* NULL-safe */
	geo_destroy(NULL);
	return 0;
}

static void
test_sweref(void **state)
{
	struct geo *g = *state;
	static const struct {
		const char *where;
		double north, east, lat, lon;
		bool in_sweden;
	} cases[] = {
	    {"Hageby centrum", 6492395.5489, 569165.1757, 58.5664999996, 16.1889999993, true},
	    {"Norrköping, city", 6495000, 568000, 58.5900700388, 16.1697545768, true},
	    {"Norrköping, Klockaretorpet", 6493400, 568400, 58.5756403240, 16.1761517028, true},
	    {"Norrköping, north", 6496500, 567900, 58.6035546898, 16.1684838671, true},
	    {"on the central meridian (15 E)", 6720000, 500000, 60.6158481100, 15.0, true},
	    {"Trelleborg", 6135000, 373000, 55.3449112669, 12.9972899447, true},
	    {"east of Haparanda, in Finland", 7453000, 912000, 66.9128817286, 24.4450364412, false},
	};
	for (size_t i = 0; i < N(cases); i++) {
		double lat = 0, lon = 0;
		char err[256];
		if (geo_sweref_to_wgs84(g, cases[i].north, cases[i].east, &lat, &lon, err,
		                        sizeof err) != 0)
			fail_msg("%s: %s", cases[i].where, err);
		if (fabs(lat - cases[i].lat) > TOLERANCE_DEG ||
		    fabs(lon - cases[i].lon) > TOLERANCE_DEG)
			fail_msg("%s: got %.10f %.10f, expected %.10f %.10f", cases[i].where, lat,
			         lon, cases[i].lat, cases[i].lon);
		assert_int_equal(geo_in_sweden(lat, lon), cases[i].in_sweden);
	}
}

static void
test_sweref_errors(void **state)
{
	struct geo *g = *state;
	static const struct {
		double north, east;
	} cases[] = {
	    {NAN, 568000},
	    {6495000, NAN},
	    {INFINITY, 568000},
	    {6495000, -INFINITY},
	};
	for (size_t i = 0; i < N(cases); i++) {
		double lat = -1, lon = -1;
		char err[256] = "";
		assert_int_equal(geo_sweref_to_wgs84(g, cases[i].north, cases[i].east, &lat, &lon,
		                                     err, sizeof err),
		                 -1);
		assert_string_equal(err, "SWEREF 99 TM coordinates must be finite numbers");
		assert_true(lat == -1 && lon == -1);
	}
	/* Swapped northing and easting still convert, to somewhere far from Sweden. */
	double lat, lon;
	char err[256];
	if (geo_sweref_to_wgs84(g, 568000, 6495000, &lat, &lon, err, sizeof err) == 0)
		assert_false(geo_in_sweden(lat, lon));
	/* The transformation keeps working after a failure. */
	assert_int_equal(geo_sweref_to_wgs84(g, 6495000, 568000, &lat, &lon, err, sizeof err), 0);
	assert_true(fabs(lat - 58.5900700388) < TOLERANCE_DEG);
}

static void
test_in_sweden(void **state)
{
	(void)state;
	static const struct {
		double lat, lon;
		bool in;
	} cases[] = {
	    {58.5665, 16.1890, true}, {55.0, 10.5, true},        {69.2, 24.3, true},
	    {54.99, 13.0, false},     {69.21, 20.0, false},      {60.0, 10.49, false},
	    {60.0, 24.31, false},     {16.1890, 58.5665, false}, /* lat and lon swapped */
	    {0.0, 0.0, false},        {NAN, 16.0, false},        {58.0, NAN, false},
	};
	for (size_t i = 0; i < N(cases); i++)
		if (geo_in_sweden(cases[i].lat, cases[i].lon) != cases[i].in)
			fail_msg("case %zu: %f %f", i, cases[i].lat, cases[i].lon);
}

static void
test_area_names(void **state)
{
	struct geo *g = *state;
	static const struct {
		const char *name, *id;
	} cases[] = {
	    {"Norrköping city", "city"},
	    {"NORRKÖPING CITY", "city"},
	    {"norrkoping  city ", "city"},
	    {"Norrko\xCC\x88ping city", "city"}, /* decomposed ö */
	    {"Norrköping centrum", "city"},
	    {"Centrum", "city"},
	    {"city", "city"},
	    {"CITY", "city"},
	    {"Klockaretorpet", "klockaretorpet"},
	    {"KLOCKARETORPET", "klockaretorpet"},
	    {"Navestad", "navestad"},
	    {"Nävestad", "navestad"},
	    {"Hageby", "hageby"},
	    {" hageby\t", "hageby"},
	    {"Marielund", "marielund"},
	    {"MARIELUND", "marielund"},
	    {"Hageby centrum", NULL},
	    {"Ingelsta", NULL},
	    {"Norrköping", NULL},
	    {"Norrköpingcity", NULL},
	    {"", NULL},
	    {NULL, NULL},
	};
	for (size_t i = 0; i < N(cases); i++) {
		const char *id = geo_area_id(g, cases[i].name);
		if (cases[i].id == NULL && id == NULL)
			continue;
		if (cases[i].id == NULL || id == NULL || strcmp(id, cases[i].id) != 0)
			fail_msg("\"%s\": got %s, expected %s",
			         cases[i].name ? cases[i].name : "(null)", id ? id : "NULL",
			         cases[i].id ? cases[i].id : "NULL");
		assert_string_equal(geo_builtin_area_id(cases[i].name), id);
	}
	/* Every built-in name is listed, and names an area. */
	const char *name, *id;
	size_t n = 0;
	for (; geo_builtin_name_at(n, &name, &id); n++)
		assert_true(ids_area_valid(id));
	assert_int_equal(n, 8);
}

static void
test_aliases(void **state)
{
	struct geo *g = *state;
	char err[256];
	assert_null(geo_area_id(g, "Innerstaden"));
	assert_int_equal(geo_area_alias(g, "Innerstaden", "city", err, sizeof err), 0);
	assert_int_equal(geo_area_alias(g, "Hageby centrum", "hageby", err, sizeof err), 0);
	assert_string_equal(geo_area_id(g, "INNERSTÄDEN"), "city");
	assert_string_equal(geo_area_id(g, "hageby  centrum"), "hageby");
	assert_null(geo_builtin_area_id("Innerstaden"));
	/* A later alias for the same name replaces it. */
	assert_int_equal(geo_area_alias(g, "innerstaden", "navestad", err, sizeof err), 0);
	assert_string_equal(geo_area_id(g, "Innerstaden"), "navestad");
	/* A built-in name for its own area is fine and changes nothing. */
	assert_int_equal(geo_area_alias(g, "Hageby", "hageby", err, sizeof err), 0);

	static const struct {
		const char *name, *id, *err;
	} bad[] = {
	    {"Ingelsta", "ingelsta",
	     "\"ingelsta\" is not an area id (marielund, hageby, navestad, klockaretorpet, city)"},
	    {"Ingelsta", "City",
	     "\"City\" is not an area id (marielund, hageby, navestad, klockaretorpet, city)"},
	    {"Ingelsta", NULL,
	     "\"\" is not an area id (marielund, hageby, navestad, klockaretorpet, city)"},
	    {"Centrum", "hageby", "\"Centrum\" is already a name of area city"},
	    {"HAGEBY", "city", "\"HAGEBY\" is already a name of area hageby"},
	    {"  ", "city", "the name is empty"},
	    {NULL, "city", "the name is empty"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		err[0] = '\0';
		assert_int_equal(geo_area_alias(g, bad[i].name, bad[i].id, err, sizeof err), -1);
		assert_string_equal(err, bad[i].err);
	}
	assert_string_equal(geo_area_id(g, "Centrum"), "city");
}

static void
test_alias_cap(void **state)
{
	struct geo *g = *state;
	char err[256], name[32];
	for (int i = 0; i < GEO_MAX_ALIASES; i++) {
		snprintf(name, sizeof name, "Gata %d", i);
		assert_int_equal(geo_area_alias(g, name, "hageby", err, sizeof err), 0);
	}
	assert_int_equal(geo_area_alias(g, "One more", "hageby", err, sizeof err), -1);
	assert_string_equal(err, "more than 256 area names");
	/* Replacing one is still possible. */
	assert_int_equal(geo_area_alias(g, "gata 3", "city", err, sizeof err), 0);
	assert_string_equal(geo_area_id(g, "Gata 3"), "city");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sweref, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sweref_errors, setup, teardown),
	    cmocka_unit_test(test_in_sweden),
	    cmocka_unit_test_setup_teardown(test_area_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alias_cap, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
