/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: what est-feed receives from the hub. Decodes the input as a
 * FeedEvent with est-feed's cap and makes of its entry everything est-feed
 * makes for people, in Swedish and in English: the line an entry, the JSON
 * line, and for a picture the terminal summary, the HTML page, both CSV
 * files and the GeoJSON. The texts in them come from partners, so beyond
 * not crashing: a line is one line of valid UTF-8 that fits its buffer, the
 * page never holds a tag of the partners' making ("<script" is the probe:
 * the page has no script of its own), and the GeoJSON parses.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "areamap.h"
#include "follow.h"
#include "render_csv.h"
#include "render_geojson.h"
#include "render_html.h"
#include "render_text.h"
#include "summary.h"
#include "textbuf.h"
#include "wire/codec.h"
#include "wire/ids.h"
#include "wire/json.h"
#include "wire/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct areamap *map;

static bool
has_script(const char *s)
{
	for (; (s = strchr(s, '<')) != NULL; s++) {
		static const char probe[] = "script";
		size_t i = 0;
		while (probe[i] && s[1 + i] && tolower((unsigned char)s[1 + i]) == probe[i])
			i++;
		if (probe[i] == '\0')
			return true;
	}
	return false;
}

static void
line(const Est__V1__LogEntry *e, enum lang l)
{
	/* Cut short at a few sizes and whole (the unit test tries every size on one text). */
	static const size_t caps[] = {1, 2, 7, 64, 200, SUMMARY_LINE_MAX};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		char out[SUMMARY_LINE_MAX];
		summary_line(e, l, out, caps[i]);
		size_t n = strlen(out);
		if (n >= caps[i] || !ids_utf8_valid(out, n) || strpbrk(out, "\n\r") != NULL)
			abort();
	}
}

static void
picture(const Est__V1__Picture *p, enum lang l)
{
	struct textbuf b;
	textbuf_init(&b);
	render_html_page(&b, p, map, l);
	if (!b.failed && has_script(b.data))
		abort();
	textbuf_fini(&b);

	textbuf_init(&b);
	render_text_summary(&b, p, map, l);
	textbuf_fini(&b);

	textbuf_init(&b);
	render_csv_categories(&b, p, map, l);
	render_csv_places(&b, p, map, l);
	textbuf_fini(&b);

	if (l == LANG_SV) { /* GeoJSON has no language */
		textbuf_init(&b);
		render_geojson(&b, p, map);
		if (!b.failed) {
			json_error_t jerr;
			json_t *root = json_loads(b.data, 0, &jerr);
			if (root == NULL)
				abort();
			json_decref(root);
		}
		textbuf_fini(&b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (map == NULL) {
		timefmt_init();
		char err[256];
		map = areamap_parse(areamap_default_geojson, "built-in", err, sizeof err);
		if (map == NULL)
			abort();
	}
	char err[256];
	Est__V1__FeedEvent *ev = (Est__V1__FeedEvent *)wire_unpack(
	    &est__v1__feed_event__descriptor, data, size, FOLLOW_MAX_EVENT_BYTES, err, sizeof err);
	if (ev == NULL)
		return 0;
	if (ev->body_case == EST__V1__FEED_EVENT__BODY_ENTRY && ev->entry != NULL) {
		const Est__V1__LogEntry *e = ev->entry;
		line(e, LANG_SV);
		line(e, LANG_EN);
		free(wire_to_json_text(&e->base));
		if (e->body_case == EST__V1__LOG_ENTRY__BODY_PICTURE && e->picture != NULL) {
			picture(e->picture, LANG_SV);
			picture(e->picture, LANG_EN);
		}
	}
	est__v1__feed_event__free_unpacked(ev, NULL);
	return 0;
}
