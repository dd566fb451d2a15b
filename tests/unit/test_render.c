/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of est-feed's picture writers with hand-made pictures that
 * fill every field: HTML escaping of partner texts, the decimal comma,
 * CSV quoting, BOM, CRLF and the formula guard, the map projection staying
 * inside its box, English labels, sentences for empty sections, GeoJSON
 * structure, and the atomic file write.
 *
 * ESTHUB_RENDER_OUT=DIR also writes the hand-made page there, to look at.
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
#include <jansson.h>

#include "areamap.h"
#include "i18n.h"
#include "output.h"
#include "render.h"
#include "render_csv.h"
#include "render_geojson.h"
#include "render_html.h"
#include "render_text.h"
#include "svgmap.h"
#include "textbuf.h"
#include "wire/timefmt.h"

#define HOSTILE "<script>alert('x')</script> & \"Torget\""

/* A picture of Hageby, 2026-W47, with every field set; storage lives in the struct. */
struct fixture {
	Est__V1__Picture p;
	Est__V1__CategoryCount cats[3], *cat_ptrs[3];
	Est__V1__Hotspot hot[2], *hot_ptrs[2];
	Est__V1__Position pos[4];
	Est__V1__Category hot_cats[2];
	Est__V1__UpcomingEvent up, *up_ptrs[1];
	Est__V1__Measure ms[2], *ms_ptrs[2];
	Est__V1__ScorePart parts[2], *part_ptrs[2];
	Est__V1__Contribution contrib[2], *contrib_ptrs[2];
	Est__V1__WeekCount trend[12], *trend_ptrs[12];
	char trend_weeks[12][16];
	Est__V1__AreaRank ranks[5], *rank_ptrs[5];
	Est__V1__MeasureCount mc, *mc_ptrs[1];
	Est__V1__Followup fu, *fu_ptrs[1];
	Est__V1__Flag flag, *flag_ptrs[1];
	char *flag_ids[2], *flag_orgs[2];
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	Est__V1__Picture *p = &f->p;
	est__v1__picture__init(p);
	p->area = (char *)"hageby";
	p->week = (char *)"2026-W47";
	p->period_start = 1794783600; /* Monday 16 November 2026 00:00 CET */
	p->period_end = 1795388400;
	p->generated_at = 1795388400;
	p->through_seq = 120;
	p->priority_score = 7.78125;
	p->rank = 1;
	p->ranked_areas = 5;
	static const struct {
		Est__V1__Category c;
		uint32_t r, i, prev;
		double base;
	} cats[3] = {{EST__V1__CATEGORY__CATEGORY_GATHERING, 2, 1, 0, 0},
	             {EST__V1__CATEGORY__CATEGORY_VANDALISM, 3, 2, 3, 1.25},
	             {EST__V1__CATEGORY__CATEGORY_UPCOMING_EVENT, 1, 1, 3, 0.375}};
	for (int i = 0; i < 3; i++) {
		est__v1__category_count__init(&f->cats[i]);
		f->cats[i].category = cats[i].c;
		f->cats[i].reports = cats[i].r;
		f->cats[i].incidents = cats[i].i;
		f->cats[i].previous_week = cats[i].prev;
		f->cats[i].baseline = cats[i].base;
		f->cat_ptrs[i] = &f->cats[i];
	}
	p->n_categories = 3;
	p->categories = f->cat_ptrs;
	for (int i = 0; i < 4; i++)
		est__v1__position__init(&f->pos[i]);
	f->pos[0].lat = 58.5671, f->pos[0].lon = 16.1869;
	f->pos[1].lat = 58.5650, f->pos[1].lon = 16.1900;
	f->pos[2].lat = 58.5660, f->pos[2].lon = 16.1880;
	f->pos[3].lat = 58.5668, f->pos[3].lon = 16.1870;
	f->hot_cats[0] = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	f->hot_cats[1] = EST__V1__CATEGORY__CATEGORY_GATHERING;
	for (int i = 0; i < 2; i++) {
		est__v1__hotspot__init(&f->hot[i]);
		f->hot[i].position = &f->pos[i];
		f->hot[i].incidents = (uint32_t)(2 - i);
		f->hot[i].reports = (uint32_t)(3 - i);
		f->hot[i].org_count = 2;
		f->hot[i].n_categories = (size_t)(2 - i);
		f->hot[i].categories = f->hot_cats;
		f->hot_ptrs[i] = &f->hot[i];
	}
	f->hot[0].place = (char *)HOSTILE;
	f->hot[1].place = (char *)"Hageby centrum";
	p->n_hotspots = 2;
	p->hotspots = f->hot_ptrs;
	est__v1__upcoming_event__init(&f->up);
	f->up.place = (char *)"Hageby centrum";
	f->up.starts_at = 1795456800;
	f->up.ends_at = 1795467600;
	f->up.description = (char *)"=HYPERLINK(\"http://x\")";
	f->up.org = (char *)"municipality";
	f->up.area = (char *)"hageby";
	f->up_ptrs[0] = &f->up;
	p->n_upcoming = 1;
	p->upcoming = f->up_ptrs;
	for (int i = 0; i < 2; i++) {
		est__v1__measure__init(&f->ms[i]);
		f->ms_ptrs[i] = &f->ms[i];
		f->ms[i].area = (char *)"hageby";
	}
	f->ms[0].measure_id = (char *)"m-1";
	f->ms[0].kind = EST__V1__MEASURE_KIND__MEASURE_KIND_LIGHTING;
	f->ms[0].group = EST__V1__WORKING_GROUP__GROUP_SITUATIONAL;
	f->ms[0].status = EST__V1__MEASURE_STATUS__MEASURE_STATUS_DONE;
	f->ms[0].assigned_org = (char *)"housing";
	f->ms[0].place = (char *)"Gångtunneln; norra";
	f->ms[0].position = &f->pos[2];
	f->ms[0].description = (char *)"Ny belysning i gångtunneln";
	f->ms[1].measure_id = (char *)"m-2";
	f->ms[1].kind = EST__V1__MEASURE_KIND__MEASURE_KIND_PRESENCE;
	f->ms[1].group = EST__V1__WORKING_GROUP__GROUP_SITUATIONAL;
	f->ms[1].status = EST__V1__MEASURE_STATUS__MEASURE_STATUS_IN_PROGRESS;
	f->ms[1].assigned_org = (char *)"police";
	f->ms[1].description = (char *)"-1 patrull per kväll";
	p->n_measures = 2;
	p->measures = f->ms_ptrs;
	for (int i = 0; i < 2; i++) {
		est__v1__score_part__init(&f->parts[i]);
		f->part_ptrs[i] = &f->parts[i];
	}
	f->parts[0].label = (char *)"incidents";
	f->parts[0].category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	f->parts[0].amount = 2, f->parts[0].weight = 1, f->parts[0].points = 2;
	f->parts[1].label = (char *)"trend";
	f->parts[1].category = EST__V1__CATEGORY__CATEGORY_VANDALISM;
	f->parts[1].amount = 1.75, f->parts[1].weight = 0.5, f->parts[1].points = 0.875;
	p->n_score_parts = 2;
	p->score_parts = f->part_ptrs;
	for (int i = 0; i < 2; i++) {
		est__v1__contribution__init(&f->contrib[i]);
		f->contrib_ptrs[i] = &f->contrib[i];
	}
	f->contrib[0].org = (char *)"police", f->contrib[0].reports = 3;
	f->contrib[1].org = (char *)"municipality", f->contrib[1].reports = 2;
	p->n_contributions = 2;
	p->contributions = f->contrib_ptrs;
	for (int i = 0; i < 12; i++) {
		est__v1__week_count__init(&f->trend[i]);
		snprintf(f->trend_weeks[i], sizeof f->trend_weeks[i], "2026-W%02d", 36 + i);
		f->trend[i].week = f->trend_weeks[i];
		f->trend[i].reports = (uint32_t)(i % 5 + 1);
		f->trend[i].incidents = (uint32_t)(i % 3);
		f->trend_ptrs[i] = &f->trend[i];
	}
	p->n_trend = 12;
	p->trend = f->trend_ptrs;
	static const char *ids[5] = {"hageby", "city", "navestad", "marielund", "klockaretorpet"};
	static const double scores[5] = {7.78125, 2, 1.5, 1.5, 0.4375};
	static const uint32_t rk[5] = {1, 2, 3, 3, 5};
	for (int i = 0; i < 5; i++) {
		est__v1__area_rank__init(&f->ranks[i]);
		f->ranks[i].area = (char *)(uintptr_t)ids[i];
		f->ranks[i].priority_score = scores[i];
		f->ranks[i].rank = rk[i];
		f->rank_ptrs[i] = &f->ranks[i];
	}
	p->n_area_ranks = 5;
	p->area_ranks = f->rank_ptrs;
	est__v1__measure_count__init(&f->mc);
	f->mc.kind = EST__V1__MEASURE_KIND__MEASURE_KIND_PARENTAL_SUPPORT;
	f->mc.group = EST__V1__WORKING_GROUP__GROUP_SOCIAL;
	f->mc.status = EST__V1__MEASURE_STATUS__MEASURE_STATUS_IN_PROGRESS;
	f->mc.count = 2;
	f->mc_ptrs[0] = &f->mc;
	p->n_measure_counts = 1;
	p->measure_counts = f->mc_ptrs;
	est__v1__followup__init(&f->fu);
	f->fu.measure_id = (char *)"m-1";
	f->fu.radius_m = 150;
	f->fu.weeks = 4;
	f->fu.before_start = 1791410400, f->fu.before_end = 1793833200;
	f->fu.after_start = 1793833200, f->fu.after_end = 1796252400;
	f->fu.incidents_before = 5;
	f->fu.incidents_after = 1;
	f->fu_ptrs[0] = &f->fu;
	p->n_followups = 1;
	p->followups = f->fu_ptrs;
	est__v1__flag__init(&f->flag);
	f->flag.kind = (char *)"overlapping_measures";
	f->flag.place = (char *)"Hageby torg";
	f->flag.position = &f->pos[3];
	f->flag_ids[0] = (char *)"m-2", f->flag_ids[1] = (char *)"m-3";
	f->flag_orgs[0] = (char *)"police", f->flag_orgs[1] = (char *)"securitas";
	f->flag.n_measure_ids = 2, f->flag.measure_ids = f->flag_ids;
	f->flag.n_orgs = 2, f->flag.orgs = f->flag_orgs;
	f->flag_ptrs[0] = &f->flag;
	p->n_flags = 1;
	p->flags = f->flag_ptrs;
}

static struct areamap *
default_map(void)
{
	char err[256];
	struct areamap *m = areamap_parse(areamap_default_geojson, "built-in", err, sizeof err);
	if (m == NULL)
		fail_msg("%s", err);
	return m;
}

static char *
page(const Est__V1__Picture *p, enum lang l)
{
	struct areamap *m = default_map();
	struct textbuf b;
	textbuf_init(&b);
	render_html_page(&b, p, m, l);
	areamap_destroy(&m);
	assert_false(b.failed);
	return b.data; /* the caller frees */
}

static void
test_html_escapes_every_partner_text(void **state)
{
	(void)state;
	struct textbuf b;
	textbuf_init(&b);
	textbuf_html(&b, "<a href='x'>\"&\"</a>\x01\xff");
	assert_string_equal(b.data,
	                    "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt; \xef\xbf\xbd");
	textbuf_fini(&b);

	struct fixture f;
	fixture_init(&f);
	char *html = page(&f.p, LANG_SV);
	/* The only <script in the page would be the partner's: there is none. */
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(
	    html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Torget&quot;"));
	/* Self-contained: nothing is fetched from anywhere. */
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "@import"));
	assert_null(strstr(html, "url(http"));
	free(html);
}

static void
test_numbers_have_a_decimal_comma_in_swedish(void **state)
{
	(void)state;
	static const struct {
		double v;
		int dec;
		const char *sv, *en;
	} cases[] = {
	    {1.25, 2, "1,25", "1.25"},
	    {7.78125, 2, "7,78", "7.78"},
	    {3.0, 2, "3", "3"},
	    {0.375, 3, "0,375", "0.375"},
	    {-0.0001, 2, "0", "0"},
	    {1.5, 2, "1,5", "1.5"},
	    {58.5671, 5, "58,5671", "58.5671"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[48];
		i18n_number(LANG_SV, cases[i].v, cases[i].dec, out, sizeof out);
		assert_string_equal(out, cases[i].sv);
		i18n_number(LANG_EN, cases[i].v, cases[i].dec, out, sizeof out);
		assert_string_equal(out, cases[i].en);
	}
	struct fixture f;
	fixture_init(&f);
	char *html = page(&f.p, LANG_SV);
	assert_non_null(strstr(html, "<strong class=\"priority\">7,78</strong>"));
	assert_non_null(strstr(html, "<td class=\"n baseline\">1,25</td>"));
	free(html);
}

static void
test_weeks_and_dates_read_as_in_sweden(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(i18n_week(LANG_SV, "2026-W47", out, sizeof out), 0);
	assert_string_equal(out, "vecka 47, 2026");
	assert_int_equal(i18n_week(LANG_EN, "2026-W47", out, sizeof out), 0);
	assert_string_equal(out, "week 47, 2026");
	assert_int_equal(i18n_week(LANG_SV, "2026-W54", out, sizeof out), -1);
	assert_int_equal(i18n_week(LANG_SV, "../etc", out, sizeof out), -1);
	i18n_period(LANG_SV, 1794783600, 1795388400, out, sizeof out);
	assert_string_equal(out, "16–22 november 2026");
	/* 2026-W53 runs into 2027. */
	i18n_period(LANG_EN, 1798412400, 1799017200, out, sizeof out);
	assert_string_equal(out, "28 December 2026 – 3 January 2027");
}

static void
test_csv_quotes_guards_and_opens_in_swedish_excel(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Hageby", "Hageby"},
	    {"a;b", "\"a;b\""},
	    {"säger \"hej\"", "\"säger \"\"hej\"\"\""},
	    {"rad 1\nrad 2", "\"rad 1\nrad 2\""},
	    {"=1+1", "\"'=1+1\""},
	    {"+46 11", "\"'+46 11\""},
	    {"-1 patrull", "\"'-1 patrull\""},
	    {"@SUM(A1)", "\"'@SUM(A1)\""},
	    {" kant", "\" kant\""},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct textbuf b;
		textbuf_init(&b);
		render_csv_text(&b, cases[i].in);
		assert_string_equal(b.len ? b.data : "", cases[i].out);
		textbuf_fini(&b);
	}
	struct fixture f;
	fixture_init(&f);
	struct areamap *m = default_map();
	struct textbuf b;
	textbuf_init(&b);
	render_csv_categories(&b, &f.p, m, LANG_SV);
	const char *want = "\xef\xbb\xbf"
	                   "Område;Vecka;Kategori;Rapporter;Händelser;Föregående vecka;"
	                   "Baslinje (snitt 8 veckor)\r\n"
	                   "Hageby;2026-W47;Samling som skapar oro;2;1;0;0\r\n"
	                   "Hageby;2026-W47;Skadegörelse;3;2;3;1,25\r\n"
	                   "Hageby;2026-W47;Kommande händelse;1;1;3;0,375\r\n";
	assert_string_equal(b.data, want);
	textbuf_fini(&b);
	textbuf_init(&b);
	render_csv_categories(&b, &f.p, m, LANG_EN);
	assert_true(strncmp(b.data,
	                    "\xef\xbb\xbf"
	                    "Area;Week;Category;Reports;Incidents;Previous week;",
	                    strlen("\xef\xbb\xbf") + 49) == 0);
	assert_non_null(strstr(b.data, "Hageby;2026-W47;Vandalism;3;2;3;1.25\r\n"));
	textbuf_fini(&b);
	/* Places: every row has the header's 14 fields; the measure's text is guarded. */
	textbuf_init(&b);
	render_csv_places(&b, &f.p, m, LANG_SV);
	assert_non_null(strstr(b.data, "\"'-1 patrull per kväll\""));
	assert_non_null(strstr(b.data, "\"Gångtunneln; norra\";58,566;16,188;"));
	size_t lines = 0;
	for (char *line = b.data; line != NULL && *line; lines++) {
		char *end = strstr(line, "\r\n");
		assert_non_null(end);
		int seps = 0, quoted = 0;
		for (char *c = line; c < end; c++) {
			quoted ^= *c == '"';
			seps += *c == ';' && !quoted;
		}
		assert_int_equal(seps, 13);
		line = end + 2;
	}
	assert_int_equal(lines, 1 + 2 + 2);
	textbuf_fini(&b);
	areamap_destroy(&m);
}

static void
test_map_projection_stays_in_its_box(void **state)
{
	(void)state;
	struct areamap *m = default_map();
	assert_int_equal(m->n, 5);
	struct projection pr;
	assert_int_equal(areamap_fit(m, NULL, 0, 640, 420, 24, &pr), 0);
	assert_true(pr.height <= 420 + 1e-9);
	double minx = 1e9, maxx = -1e9, miny = 1e9, maxy = -1e9;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->areas[i].n; j++)
			for (size_t k = 0; k < m->areas[i].polys[j].n; k++) {
				const struct ring *r = &m->areas[i].polys[j].rings[k];
				for (size_t q = 0; q < r->n; q++) {
					double x, y;
					projection_apply(&pr, r->lonlat[2 * q],
					                 r->lonlat[2 * q + 1], &x, &y);
					minx = x < minx ? x : minx, maxx = x > maxx ? x : maxx;
					miny = y < miny ? y : miny, maxy = y > maxy ? y : maxy;
				}
			}
	assert_true(minx >= 24 - 1e-6 && maxx <= 640 - 24 + 1e-6);
	assert_true(miny >= 24 - 1e-6 && maxy <= pr.height - 24 + 1e-6);
	/* It fills the box on one axis at least (the other keeps the shape). */
	assert_true(maxx - minx > 591 || maxy - miny > pr.height - 49);
	/* North is up: the northernmost area (Marielund) lies above the southernmost (Hageby). */
	double xm, ym, xh, yh;
	projection_apply(&pr, 16.145, 58.61, &xm, &ym);
	projection_apply(&pr, 16.19, 58.565, &xh, &yh);
	assert_true(ym < yh);
	/* A hotspot far outside the areas widens the box rather than leaving it. */
	double far[2] = {16.30, 58.50};
	assert_int_equal(areamap_fit(m, far, 1, 640, 420, 24, &pr), 0);
	double x, y;
	projection_apply(&pr, far[0], far[1], &x, &y);
	assert_true(x >= 24 - 1e-6 && x <= 616 + 1e-6 && y >= 24 - 1e-6 &&
	            y <= pr.height - 24 + 1e-6);

	struct fixture f;
	fixture_init(&f);
	struct textbuf b;
	textbuf_init(&b);
	assert_int_equal(svgmap_write(&b, m, &f.p, LANG_SV), 0);
	assert_non_null(strstr(b.data, "class=\"area own\" data-area=\"hageby\""));
	assert_non_null(strstr(b.data, "data-area=\"klockaretorpet\""));
	assert_non_null(strstr(b.data, "<text x=")); /* numbered hotspots */
	/* The highest score gets the deepest colour. */
	assert_non_null(strstr(b.data, "data-area=\"hageby\" fill=\"#b71c1c\""));
	textbuf_fini(&b);
	areamap_destroy(&m);
}

static void
test_english_labels(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	char *html = page(&f.p, LANG_EN);
	assert_non_null(strstr(html, "<html lang=\"en\">"));
	assert_non_null(strstr(html, "Situational picture Hageby, week 47, 2026"));
	assert_non_null(strstr(html, "Vandalism"));
	assert_non_null(strstr(html, "Lighting"));
	assert_non_null(strstr(html, "rank <strong class=\"rank\">1 of 5</strong>"));
	assert_null(strstr(html, "Skadegörelse"));
	assert_null(strstr(html, "vecka"));
	free(html);
	html = page(&f.p, LANG_SV);
	assert_non_null(strstr(html, "Lägesbild Hageby, vecka 47, 2026"));
	assert_non_null(strstr(html, "Samling som skapar oro"));
	assert_non_null(strstr(html, "Belysning"));
	assert_non_null(strstr(html, "Genomförd"));
	assert_non_null(strstr(html, "1 av 5"));
	assert_non_null(strstr(html, "@page{size:A4"));
	free(html);
	assert_string_equal(i18n_category(LANG_SV, EST__V1__CATEGORY__CATEGORY_STAFF_INCIDENT),
	                    "Händelse mot personal");
	assert_string_equal(i18n_category(LANG_EN, 99), "unknown");
}

static void
test_empty_sections_say_so(void **state)
{
	(void)state;
	Est__V1__Picture p;
	est__v1__picture__init(&p);
	p.area = (char *)"all";
	p.week = (char *)"2026-W47";
	char *html = page(&p, LANG_SV);
	assert_non_null(strstr(html, "Lägesbild Hela kommunen, vecka 47, 2026"));
	assert_non_null(strstr(html, "Ingen utveckling att visa än."));
	assert_non_null(strstr(html, "Inga åtgärder."));
	assert_non_null(strstr(html, "Inga brännpunkter denna vecka."));
	assert_non_null(strstr(html, "Inga rapporter denna vecka."));
	assert_non_null(strstr(html, "Hela kommunen rangordnas inte"));
	free(html);
}

static void
test_geojson_is_rfc7946(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct areamap *m = default_map();
	struct textbuf b;
	textbuf_init(&b);
	render_geojson(&b, &f.p, m);
	json_error_t jerr;
	json_t *root = json_loads(b.data, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "type")), "FeatureCollection");
	json_t *features = json_object_get(root, "features");
	/* Own area, two hotspots, one measure with a position, one flag. */
	assert_int_equal(json_array_size(features), 5);
	json_t *area = json_array_get(features, 0);
	json_t *props = json_object_get(area, "properties");
	assert_string_equal(json_string_value(json_object_get(props, "area")), "hageby");
	assert_int_equal(json_integer_value(json_object_get(props, "rank")), 1);
	assert_int_equal(json_integer_value(json_object_get(props, "reports")), 6);
	assert_int_equal(json_integer_value(json_object_get(props, "incidents_vandalism")), 2);
	json_t *ring =
	    json_array_get(json_object_get(json_object_get(area, "geometry"), "coordinates"), 0);
	double a2 = 0;
	for (size_t i = 0; i + 1 < json_array_size(ring); i++) {
		json_t *p0 = json_array_get(ring, i), *p1 = json_array_get(ring, i + 1);
		a2 +=
		    json_real_value(json_array_get(p0, 0)) *
		        json_real_value(json_array_get(p1, 1)) -
		    json_real_value(json_array_get(p1, 0)) * json_real_value(json_array_get(p0, 1));
	}
	assert_true(a2 > 0); /* counter-clockwise */
	json_t *hot = json_array_get(features, 1);
	json_t *coords = json_object_get(json_object_get(hot, "geometry"), "coordinates");
	assert_true(json_real_value(json_array_get(coords, 0)) == 16.1869); /* lon first */
	assert_true(json_real_value(json_array_get(coords, 1)) == 58.5671);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(hot, "properties"), "place")),
	    HOSTILE);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(hot, "properties"), "categories")),
	    "vandalism,gathering");
	json_decref(root);
	textbuf_fini(&b);
	areamap_destroy(&m);
}

static void
test_summary_and_index(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct areamap *m = default_map();
	struct textbuf b;
	textbuf_init(&b);
	render_text_summary(&b, &f.p, m, LANG_SV);
	assert_non_null(
	    strstr(b.data, "Hageby, vecka 47, 2026: rang 1 av 5, prioritetspoäng 7,78\n"));
	/* Most incidents first: vandalism (2) before gathering (1). */
	char *v = strstr(b.data, "Skadegörelse"), *g = strstr(b.data, "Samling");
	assert_true(v != NULL && g != NULL && v < g);
	assert_non_null(strstr(b.data, "baslinje 1,25"));
	assert_non_null(strstr(b.data, "    2. Hageby centrum (1 händelse)\n"));
	textbuf_fini(&b);

	/* A hotspot no report named: where it is, so that it can be found without the page. */
	f.hot[1].place = (char *)"";
	textbuf_init(&b);
	render_text_summary(&b, &f.p, m, LANG_SV);
	assert_non_null(
	    strstr(b.data, "    2. (plats utan namn) vid 58,565; 16,19 (1 händelse)\n"));
	textbuf_fini(&b);
	textbuf_init(&b);
	render_text_summary(&b, &f.p, m, LANG_EN);
	assert_non_null(strstr(b.data, "    2. (unnamed place) at 58.565; 16.19 (1 incident)\n"));
	textbuf_fini(&b);
	f.hot[1].position = NULL;
	textbuf_init(&b);
	render_text_summary(&b, &f.p, m, LANG_SV);
	assert_non_null(strstr(b.data, "    2. (plats utan namn) (1 händelse)\n"));
	textbuf_fini(&b);

	struct page_ref refs[3] = {{"2026-W46-hageby.html", "2026-W46", "hageby"},
	                           {"2026-W47-hageby.html", "2026-W47", "hageby"},
	                           {"2026-W47-all.html", "2026-W47", "all"}};
	textbuf_init(&b);
	render_html_index(&b, refs, 3, m, LANG_SV);
	char *w47all = strstr(b.data, "2026-W47-all.html"),
	     *w47 = strstr(b.data, "2026-W47-hageby.html"),
	     *w46 = strstr(b.data, "2026-W46-hageby.html");
	assert_true(w47all != NULL && w47 != NULL && w46 != NULL && w47all < w47 && w47 < w46);
	textbuf_fini(&b);
	areamap_destroy(&m);
}

static void
test_files_are_written_whole_or_not_at_all(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-render-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct fixture f;
	fixture_init(&f);
	struct output_opts o = {.html_dir = dir, .csv_dir = dir, .geojson_dir = dir};
	char err[1024];
	struct output *out = output_new(&o, err, sizeof err);
	assert_non_null(out);
	Est__V1__LogEntry e;
	est__v1__log_entry__init(&e);
	e.seq = 5;
	e.body_case = EST__V1__LOG_ENTRY__BODY_PICTURE;
	e.picture = &f.p;
	assert_int_equal(output_entry(out, &e, err, sizeof err), 0);
	static const char *names[] = {"2026-W47-hageby.html", "index.html", "2026-W47-hageby.csv",
	                              "2026-W47-hageby-places.csv", "2026-W47-hageby.geojson"};
	char path[512];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		assert_int_equal(access(path, R_OK), 0);
		unlink(path);
	}
	const char *keep = getenv("ESTHUB_RENDER_OUT");
	output_destroy(&out);
	/* A picture whose area could be a path gets no file. */
	f.p.area = (char *)"../x";
	o.html_dir = dir;
	out = output_new(&o, err, sizeof err);
	assert_int_equal(output_entry(out, &e, err, sizeof err), 0);
	output_destroy(&out);
	assert_int_equal(rmdir(dir), 0);
	/* A directory that cannot be made is named with the reason. */
	struct output_opts bad = {.html_dir = "/dev/null/pages"};
	assert_null(output_new(&bad, err, sizeof err));
	assert_string_equal(err, "/dev/null: not a directory");
	struct textbuf b;
	textbuf_init(&b);
	textbuf_put(&b, "x");
	assert_int_equal(textbuf_write_file(&b, "/nonexistent-dir/a.html", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/a.html.tmp."));
	assert_non_null(strstr(err, "No such file or directory"));
	textbuf_fini(&b);
	if (keep != NULL) {
		fixture_init(&f);
		o = (struct output_opts){.html_dir = keep, .csv_dir = keep, .geojson_dir = keep};
		out = output_new(&o, err, sizeof err);
		assert_non_null(out);
		assert_int_equal(output_entry(out, &e, err, sizeof err), 0);
		o.lang = LANG_EN;
		output_destroy(&out);
	}
}

static void
test_areas_file_errors_name_the_feature(void **state)
{
	(void)state;
	char err[256];
	struct areamap *m = areamap_parse("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
	                                  "\"Feature\",\"properties\":{\"id\":\"a\"},\"geometry\":{"
	                                  "\"type\":\"Point\",\"coordinates\":[1,2]}}]}",
	                                  "areas.geojson", err, sizeof err);
	assert_null(m);
	assert_string_equal(
	    err, "areas.geojson: feature 1: geometry must be a Polygon or a MultiPolygon");
	m = areamap_parse("[", "x.geojson", err, sizeof err);
	assert_null(m);
	assert_non_null(strstr(err, "x.geojson:1: not JSON"));
}

static int
setup(void **state)
{
	(void)state;
	timefmt_init();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_escapes_every_partner_text),
	    cmocka_unit_test(test_numbers_have_a_decimal_comma_in_swedish),
	    cmocka_unit_test(test_weeks_and_dates_read_as_in_sweden),
	    cmocka_unit_test(test_csv_quotes_guards_and_opens_in_swedish_excel),
	    cmocka_unit_test(test_map_projection_stays_in_its_box),
	    cmocka_unit_test(test_english_labels),
	    cmocka_unit_test(test_empty_sections_say_so),
	    cmocka_unit_test(test_geojson_is_rfc7946),
	    cmocka_unit_test(test_summary_and_index),
	    cmocka_unit_test(test_files_are_written_whole_or_not_at_all),
	    cmocka_unit_test(test_areas_file_errors_name_the_feature),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
