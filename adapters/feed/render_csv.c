/* SPDX-License-Identifier: Apache-2.0 */
/* render_csv: see render_csv.h. */
#include "render_csv.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "svgmap.h"

#define CSV_BOM "\xef\xbb\xbf"
#define CSV_SEP ";"
#define CSV_EOL "\r\n"

void
render_csv_text(struct textbuf *b, const char *text)
{
	if (text == NULL)
		text = "";
	/*
	 * Excel runs a cell that starts with = + - @ as a formula (and tab or
	 * CR can hide one); a partner's text must never do that. The quote
	 * makes it text, and Excel does not show it.
	 */
	bool guard = text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
	size_t n = strlen(text);
	bool quote = guard || strpbrk(text, ";\"\r\n") != NULL ||
	             (n > 0 && (text[0] == ' ' || text[n - 1] == ' '));
	if (!quote) {
		textbuf_put(b, text);
		return;
	}
	textbuf_put(b, "\"");
	if (guard)
		textbuf_put(b, "'");
	for (const char *s = text; *s; s++)
		if (*s == '"')
			textbuf_put(b, "\"\""); /* RFC 4180: a quote inside is doubled */
		else
			textbuf_putn(b, s, 1);
	textbuf_put(b, "\"");
}

static void
num_field(struct textbuf *b, enum lang l, double v, int decimals)
{
	char n[48];
	i18n_number(l, v, decimals, n, sizeof n);
	textbuf_put(b, n);
}

static void
header(struct textbuf *b, const char *const *names, size_t n)
{
	textbuf_put(b, CSV_BOM);
	for (size_t i = 0; i < n; i++) {
		if (i)
			textbuf_put(b, CSV_SEP);
		render_csv_text(b, names[i]);
	}
	textbuf_put(b, CSV_EOL);
}

void
render_csv_categories(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                      enum lang l)
{
	static const char *const sv[] = {"Område",
	                                 "Vecka",
	                                 "Kategori",
	                                 "Rapporter",
	                                 "Händelser",
	                                 "Föregående vecka",
	                                 "Baslinje (snitt 8 veckor)"};
	static const char *const en[] = {"Area",
	                                 "Week",
	                                 "Category",
	                                 "Reports",
	                                 "Incidents",
	                                 "Previous week",
	                                 "Baseline (8-week mean)"};
	header(b, l == LANG_EN ? en : sv, sizeof sv / sizeof sv[0]);
	for (size_t i = 0; i < p->n_categories; i++) {
		const Est__V1__CategoryCount *c = p->categories[i];
		render_csv_text(b, render_area_name(m, l, p->area));
		textbuf_put(b, CSV_SEP);
		render_csv_text(b, p->week);
		textbuf_put(b, CSV_SEP);
		render_csv_text(b, i18n_category(l, (int)c->category));
		textbuf_printf(b, CSV_SEP "%u" CSV_SEP "%u" CSV_SEP "%u" CSV_SEP,
		               (unsigned)c->reports, (unsigned)c->incidents,
		               (unsigned)c->previous_week);
		num_field(b, l, c->baseline, 3);
		textbuf_put(b, CSV_EOL);
	}
}

static void
place_position(struct textbuf *b, const Est__V1__Position *pos, enum lang l)
{
	if (svgmap_has_position(pos)) {
		num_field(b, l, pos->lat, 6);
		textbuf_put(b, CSV_SEP);
		num_field(b, l, pos->lon, 6);
	} else {
		textbuf_put(b, CSV_SEP);
	}
}

/* The columns every place row starts with: area, week, what, place, lat, lon. */
static void
place_row_start(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m, enum lang l,
                const char *what, const char *place, const Est__V1__Position *pos)
{
	render_csv_text(b, render_area_name(m, l, p->area));
	textbuf_put(b, CSV_SEP);
	render_csv_text(b, p->week);
	textbuf_put(b, CSV_SEP);
	render_csv_text(b, what);
	textbuf_put(b, CSV_SEP);
	render_csv_text(b, place);
	textbuf_put(b, CSV_SEP);
	place_position(b, pos, l);
}

static void
hotspot_row(struct textbuf *b, const Est__V1__Picture *p, const Est__V1__Hotspot *h,
            const struct areamap *m, enum lang l)
{
	place_row_start(b, p, m, l, l == LANG_EN ? "hotspot" : "brännpunkt", h->place, h->position);
	textbuf_printf(b, CSV_SEP "%u" CSV_SEP "%u" CSV_SEP "%u" CSV_SEP, (unsigned)h->incidents,
	               (unsigned)h->reports, (unsigned)h->org_count);
	char cats[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < h->n_categories && len < sizeof cats; i++) {
		int n = snprintf(cats + len, sizeof cats - len, "%s%s", i ? ", " : "",
		                 i18n_category(l, (int)h->categories[i]));
		if (n > 0)
			len += (size_t)n;
	}
	render_csv_text(b, cats);
	/* No measure kind, status, assignee or description for a hotspot. */
	textbuf_put(b, CSV_SEP CSV_SEP CSV_SEP CSV_SEP CSV_EOL);
}

static void
measure_row(struct textbuf *b, const Est__V1__Picture *p, const Est__V1__Measure *ms,
            const struct areamap *m, enum lang l)
{
	place_row_start(b, p, m, l, l == LANG_EN ? "measure" : "åtgärd", ms->place, ms->position);
	/* No incident, report, organisation or category counts for a measure. */
	textbuf_put(b, CSV_SEP CSV_SEP CSV_SEP CSV_SEP CSV_SEP);
	render_csv_text(b, i18n_kind(l, (int)ms->kind));
	textbuf_put(b, CSV_SEP);
	render_csv_text(b, i18n_status(l, (int)ms->status));
	textbuf_put(b, CSV_SEP);
	render_csv_text(b, ms->assigned_org);
	textbuf_put(b, CSV_SEP);
	render_csv_text(b, ms->outcome != NULL && ms->outcome[0] ? ms->outcome : ms->description);
	textbuf_put(b, CSV_EOL);
}

void
render_csv_places(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                  enum lang l)
{
	static const char *const sv_cols[] = {
	    "Område",     "Vecka",     "Typ",       "Plats",          "Latitud",
	    "Longitud",   "Händelser", "Rapporter", "Organisationer", "Kategorier",
	    "Åtgärdstyp", "Status",    "Ansvarig",  "Beskrivning"};
	static const char *const en_cols[] = {
	    "Area",         "Week",      "Type",        "Place",         "Latitude",
	    "Longitude",    "Incidents", "Reports",     "Organisations", "Categories",
	    "Measure kind", "Status",    "Assigned to", "Description"};
	header(b, l == LANG_EN ? en_cols : sv_cols, sizeof sv_cols / sizeof sv_cols[0]);
	for (size_t i = 0; i < p->n_hotspots; i++)
		hotspot_row(b, p, p->hotspots[i], m, l);
	for (size_t i = 0; i < p->n_measures; i++)
		measure_row(b, p, p->measures[i], m, l);
}
