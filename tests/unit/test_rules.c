/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the hub's pure rules: ids and topics, access (need-to-know),
 * report validation, areas (point in polygon) and hub.conf parsing.
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

#include "access.h"
#include "areas.h"
#include "config.h"
#include "validate.h"
#include "wire/ids.h"

static const int64_t NOW = 1764000000; /* 2025-11-24T16:00:00Z */

static void
test_topic_match(void **state)
{
	static const struct {
		const char *pattern, *topic;
		bool match;
	} cases[] = {
	    {"hageby/reports", "hageby/reports", true}, {"hageby/*", "hageby/measures", true},
	    {"*/pictures", "all/pictures", true},       {"*/*", "outside/reports", true},
	    {"hageby/*", "navestad/reports", false},    {"*/reports", "hageby/pictures", false},
	    {"hage*/reports", "hageby/reports", false}, {"hageby", "hageby/reports", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(ids_topic_match(cases[i].pattern, cases[i].topic), cases[i].match);
	assert_true(ids_topic_pattern_valid("*/*"));
	assert_true(ids_topic_pattern_valid("all/audit"));
	assert_false(ids_topic_pattern_valid("hageby/secrets"));
	assert_false(ids_topic_pattern_valid("gotham/reports"));
	assert_false(ids_topic_pattern_valid("hageby/reports/x"));
	assert_false(ids_topic_pattern_valid("/reports"));
}

static void
test_ids(void **state)
{
	assert_true(ids_group_valid("hageby/situational"));
	assert_true(ids_group_valid("city"));
	assert_false(ids_group_valid("city/social"));
	assert_false(ids_group_valid("hageby/police"));
	assert_true(ids_org_valid("housing"));
	assert_false(ids_org_valid("Housing"));
	assert_false(ids_org_valid(""));
	assert_false(ids_org_valid("a234567890123456789012345678901234"));
	assert_true(ids_client_name_valid("hageby_grupp-1"));
	assert_false(ids_client_name_valid("../etc"));
	assert_int_equal(ids_role_parse("adapter"), ROLE_ADAPTER);
	assert_int_equal(ids_role_parse("root"), ROLE_NONE);
}

static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"Skadegörelse", true},
	    {"\xe2\x82\xac", true},
	    {"\xf0\x9f\x98\x80", true},
	    {"\xc3", false},
	    {"\xc0\xaf", false},
	    {"\xed\xa0\x80", false},
	    {"\xf4\x90\x80\x80", false},
	    {"\xff", false},
	    {"a\x80", false},
	    {"\xe2\x82", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(ids_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].ok);
}

static struct cert_info
who(enum ids_role role, const char *org, const char *groups)
{
	struct cert_info c = {.role = role};
	snprintf(c.name, sizeof c.name, "t");
	snprintf(c.org, sizeof c.org, "%s", org);
	char err[256];
	if (groups)
		assert_int_equal(cert_parse_groups(groups, &c, err, sizeof err), 0);
	return c;
}

static void
test_access(void **state)
{
	struct cert_info sub = who(ROLE_SUBSCRIBER, "", "hageby/situational,city");
	struct cert_info adm = who(ROLE_ADMIN, "municipality", NULL);
	struct cert_info ada = who(ROLE_ADAPTER, "police", NULL);
	char why[200];
	assert_true(access_may_read(&sub, "hageby/reports"));
	assert_true(access_may_read(&sub, "city/pictures"));
	assert_true(access_may_read(&sub, "all/pictures"));
	assert_true(access_may_read(&sub, "all/checkpoints"));
	assert_false(access_may_read(&sub, "navestad/reports"));
	assert_false(access_may_read(&sub, "all/audit"));
	assert_false(access_may_read(&sub, "all/reports"));
	assert_false(access_may_read(&sub, "outside/reports"));
	assert_true(access_may_read(&adm, "all/audit"));
	assert_false(access_may_read(&ada, "hageby/reports"));
	assert_false(access_may_send(&sub, why, sizeof why));
	assert_non_null(strstr(why, "may not send"));
	assert_true(access_may_send(&ada, why, sizeof why));
	assert_true(access_may_send(&adm, why, sizeof why));
	assert_false(access_may_subscribe(&ada, why, sizeof why));
}

static struct areas *
default_areas(void)
{
	char path[4096];
	const char *src = getenv("ESTHUB_SOURCE_DIR");
	snprintf(path, sizeof path, "%s/config/areas.geojson", src ? src : "../..");
	int problems = 0;
	struct areas *a = areas_load(path, stderr, &problems);
	assert_int_equal(problems, 0);
	assert_non_null(a);
	return a;
}

static void
test_areas(void **state)
{
	struct areas *a = default_areas();
	assert_string_equal(areas_locate(a, 58.5665, 16.1890), "hageby");
	assert_string_equal(areas_locate(a, 58.5920, 16.1850), "city");
	assert_string_equal(areas_locate(a, 58.5830, 16.2400), "navestad");
	assert_string_equal(areas_locate(a, 58.5710, 16.1420), "klockaretorpet");
	assert_string_equal(areas_locate(a, 58.6070, 16.1440), "marielund");
	assert_string_equal(areas_locate(a, 59.3293, 18.0686), "outside"); /* Stockholm */
	assert_true(areas_has(a, "city"));
	assert_false(areas_has(a, "outside"));
	areas_destroy(&a);
	assert_null(a);
}

static void
test_areas_errors(void **state)
{
	char path[] = "/tmp/esthub-areas-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "{\"type\":\"FeatureCollection\",\"features\":[\n"
	                   "{\"type\":\"Feature\",\"properties\":{\"id\":\"gotham\"},\n"
	                   "\"geometry\":null}]}";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&buf, &len);
	int problems = 0;
	struct areas *a = areas_load(path, diag, &problems);
	fclose(diag);
	assert_null(a);
	assert_int_equal(problems, 1);
	assert_non_null(strstr(buf, ":2: features[0]: properties.id"));
	free(buf);
	unlink(path);
}

struct vcase {
	const char *name;
	void (*edit)(Est__V1__Report *r);
	const char *error; /* prefix expected, NULL: valid */
};

static void
e_none(Est__V1__Report *r)
{
	(void)r;
}
static void
e_no_source(Est__V1__Report *r)
{
	r->source_id = (char *)"";
}
static void
e_no_category(Est__V1__Report *r)
{
	r->category = 0;
}
static void
e_bad_category(Est__V1__Report *r)
{
	r->category = 99;
}
static void
e_no_observed(Est__V1__Report *r)
{
	r->observed_at = 0;
}
static void
e_future(Est__V1__Report *r)
{
	r->observed_at = NOW + 3 * 86400;
}
static void
e_millis(Est__V1__Report *r)
{
	r->observed_at = NOW * 1000;
}
static void
e_old(Est__V1__Report *r)
{
	r->observed_at = 12345;
}
static void
e_area(Est__V1__Report *r)
{
	r->area = (char *)"gotham";
}
static void
e_severity(Est__V1__Report *r)
{
	r->severity = 6;
}
static void
e_people(Est__V1__Report *r)
{
	r->people_count = 100001;
}
static void
e_utf8(Est__V1__Report *r)
{
	r->description = (char *)"bad \xc3(";
}
static void
e_control(Est__V1__Report *r)
{
	r->place = (char *)"a\x01"
	                   "b";
}
static void
e_ends(Est__V1__Report *r)
{
	r->starts_at = NOW;
	r->ends_at = NOW - 60;
}
static void
e_event(Est__V1__Report *r)
{
	r->category = EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT;
}
static void
e_newline(Est__V1__Report *r)
{
	r->description = (char *)"rad 1\nrad 2";
}
static void
e_outside(Est__V1__Report *r)
{
	r->area = (char *)"outside";
}

static Est__V1__Position pos_lat_bad = {PROTOBUF_C_MESSAGE_INIT(&est__v1__position__descriptor), 91,
                                        16};
static void
e_lat(Est__V1__Report *r)
{
	r->position = &pos_lat_bad;
}
static void
e_no_place(Est__V1__Report *r)
{
	r->area = (char *)"";
	r->position = NULL;
}

static void
test_validate(void **state)
{
	static const struct vcase cases[] = {
	    {"valid", e_none, NULL},
	    {"no source_id", e_no_source, "source_id: required"},
	    {"no category", e_no_category, "category: required"},
	    {"unknown category", e_bad_category, "category: unknown value 99"},
	    {"no observed_at", e_no_observed, "observed_at: required"},
	    {"future", e_future, "observed_at: 259200 s in the future"},
	    {"milliseconds", e_millis, "observed_at: "},
	    {"before 2000", e_old, "observed_at: 12345 is before 2000"},
	    {"unknown area", e_area, "area: unknown area"},
	    {"severity", e_severity, "severity: must be 1..5"},
	    {"people", e_people, "people_count: must be at most 100000"},
	    {"utf-8", e_utf8, "description: not valid UTF-8"},
	    {"control", e_control, "place: control character 0x01"},
	    {"ends before starts", e_ends, "ends_at: before starts_at"},
	    {"event without start", e_event, "starts_at: required for an upcoming event"},
	    {"newline allowed", e_newline, NULL},
	    {"outside allowed", e_outside, NULL},
	    {"lat out of range", e_lat, "position.lat: must be -90..90"},
	    {"no area, no position", e_no_place, "area: required when there is no position"},
	};
	struct areas *a = default_areas();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Est__V1__Report r;
		est__v1__report__init(&r);
		r.source_id = (char *)"K-1";
		r.category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
		r.area = (char *)"hageby";
		r.observed_at = NOW - 3600;
		cases[i].edit(&r);
		char err[200] = "";
		int rc = validate_report(&r, NULL, a, NOW, 86400, err, sizeof err);
		if (cases[i].error == NULL) {
			if (rc != 0)
				fail_msg("%s: unexpected error %s", cases[i].name, err);
		} else if (rc == 0 || strncmp(err, cases[i].error, strlen(cases[i].error)) != 0) {
			fail_msg("%s: expected \"%s...\", got \"%s\"", cases[i].name,
			         cases[i].error, err);
		}
	}
	areas_destroy(&a);
}

static void
test_validate_assigns_area(void **state)
{
	struct areas *a = default_areas();
	Est__V1__Position pos;
	Est__V1__Report r;
	est__v1__position__init(&pos);
	est__v1__report__init(&r);
	r.source_id = (char *)"P-1";
	r.category = EST__V1__CATEGORY__CATEGORY_GATHERING;
	r.observed_at = NOW;
	r.position = &pos;
	pos.lat = 58.5830;
	pos.lon = 16.2400;
	char err[200];
	assert_int_equal(validate_report(&r, NULL, a, NOW, 86400, err, sizeof err), 0);
	assert_string_equal(r.area, "navestad");
	free(r.area);
	r.area = (char *)(uintptr_t)protobuf_c_empty_string; /* as unpacked */
	pos.lat = 57.7;
	pos.lon = 11.97; /* Göteborg */
	assert_int_equal(validate_report(&r, NULL, a, NOW, 86400, err, sizeof err), 0);
	assert_string_equal(r.area, "outside");
	free(r.area);
	areas_destroy(&a);
}

static char *
config_problems(const char *text, int *n)
{
	char path[] = "/tmp/esthub-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&buf, &len);
	struct config c;
	*n = config_load(&c, path, diag);
	fclose(diag);
	unlink(path);
	return buf;
}

static void
test_config(void **state)
{
	int n;
	char *out = config_problems("[hub]\ningest = tcp://127.0.0.1:9\n\n[limits]\n"
	                            "max_frame_bytes = 5\nmax_fram_bytes = 4096\n"
	                            "max_future_seconds = ten\n",
	                            &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(out, ":5: limits.max_frame_bytes: must be 1024..67108864, got 5"));
	assert_non_null(strstr(out, ":6: limits.max_fram_bytes: unknown key"));
	assert_non_null(
	    strstr(out, ":7: limits.max_future_seconds: \"ten\" is not a whole number"));
	free(out);
	out = config_problems("[feed]\ncache_entries = 64\n", &n);
	assert_int_equal(n, 0);
	free(out);
	out = config_problems("[limits]\ncommit_thread = sometimes\n", &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "limits.commit_thread: must be one of auto|on|off"));
	free(out);
	out = config_problems("not ini at all\n", &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, ":1: syntax error"));
	free(out);
}

static void
test_config_default_roundtrip(void **state)
{
	char path[] = "/tmp/esthub-conf-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	char err[256];
	assert_int_equal(config_write_default(path, "tcp://127.0.0.1:*", NULL, err, sizeof err), 0);
	struct config c, d;
	assert_int_equal(config_load(&c, path, stderr), 0);
	config_defaults(&d);
	assert_string_equal(c.ingest, "tcp://127.0.0.1:*");
	assert_string_equal(c.feed, d.feed);
	assert_int_equal(c.max_frame_bytes, d.max_frame_bytes);
	assert_int_equal(c.cache_entries, d.cache_entries);
	assert_int_equal(c.commit_thread, CONFIG_COMMIT_AUTO);
	/* Comments are wrapped: inih reads at most 200 bytes a line, a terminal shows 80. */
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	int lines = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lines++;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) > 78)
			fail_msg("line %d has %zu columns: %s", lines, strlen(line), line);
	}
	fclose(f);
	assert_true(lines > 50);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topic_match), cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_utf8),        cmocka_unit_test(test_access),
	    cmocka_unit_test(test_areas),       cmocka_unit_test(test_areas_errors),
	    cmocka_unit_test(test_validate),    cmocka_unit_test(test_validate_assigns_area),
	    cmocka_unit_test(test_config),      cmocka_unit_test(test_config_default_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
