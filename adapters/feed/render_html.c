/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_html: the page of one picture (see render_html.h). Sections in the
 * order a working group reads them at its weekly meeting: where it stands
 * (score, rank and why), what happened (categories, trend), where (map,
 * hotspots), what is coming, what is being done (measures, follow-up),
 * what needs attention, and who contributed. An empty section says so in
 * a sentence. Charts are inline SVG with their figures also in a table, so
 * a printed page and a screen reader show the same numbers.
 */
#include "render_html.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "svgmap.h"
#include "wire/timefmt.h"

#define NUM_MAX 48

static const char page_css[] =
    "*{box-sizing:border-box}"
    "body{font-family:\"DejaVu Sans\",\"Liberation Sans\",Arial,Helvetica,sans-serif;"
    "color:#1d1d1b;margin:0 auto;max-width:60rem;padding:1.5rem;line-height:1.4;font-size:11pt}"
    "h1{font-size:1.7rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:1.4rem 0 .5rem;"
    "border-bottom:2px solid #1f4e79;padding-bottom:.15rem;color:#1f4e79}"
    ".meta{color:#555;margin:.1rem 0}"
    ".scorebox{font-size:1.2rem;background:#f3f6fa;border-left:6px solid #1f4e79;"
    "padding:.6rem .9rem;margin:1rem 0}"
    "table{border-collapse:collapse;width:100%;margin:.3rem 0 .6rem;font-size:.95em}"
    "th,td{text-align:left;padding:.25rem .45rem;border-bottom:1px solid #d6d6d6;"
    "vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "thead th{background:#eef2f7;border-bottom:2px solid #b8c4d4}"
    "svg{display:block;max-width:100%;height:auto;margin:.4rem 0}"
    "svg text{font-family:inherit;font-size:11px;fill:#1d1d1b}"
    "svg .label{font-size:12px;font-weight:bold;text-anchor:middle;paint-order:stroke;"
    "stroke:#fff;stroke-width:3px}"
    "svg .hotspot circle{fill:#1f4e79;stroke:#fff;stroke-width:2}"
    "svg .hotspot text{fill:#fff;font-weight:bold;text-anchor:middle}"
    "svg .legend{font-size:10px}"
    ".bar-r{fill:#1f4e79}.bar-i{fill:#c55a11}.bar-p{fill:#a5a5a5}"
    ".base{stroke:#1d1d1b;stroke-width:2}"
    ".key{display:inline-block;width:.8em;height:.8em;margin:0 .25em 0 .8em;"
    "vertical-align:middle}"
    ".empty{color:#555;font-style:italic}"
    ".note{color:#555;font-size:.9em;margin:.2rem 0}"
    "footer{margin-top:2rem;color:#777;font-size:.85em;border-top:1px solid #ccc;"
    "padding-top:.4rem}"
    "section{break-inside:avoid;page-break-inside:avoid}"
    "@page{size:A4;margin:14mm 12mm}"
    "@media print{body{max-width:none;padding:0;font-size:10pt}"
    "h2{break-after:avoid;page-break-after:avoid}"
    "svg,table,tr,.scorebox{break-inside:avoid;page-break-inside:avoid}"
    "section.map{break-before:auto}"
    "a{color:inherit;text-decoration:none}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static void
num(enum lang l, double v, int decimals, char *out)
{
	i18n_number(l, v, decimals, out, NUM_MAX);
}

static void
local_time(int64_t t, char *out, size_t outlen)
{
	if (t == 0)
		snprintf(out, outlen, "–");
	else
		timefmt_local(t, out, outlen);
}

static void
head(struct textbuf *b, enum lang l, const char *title)
{
	textbuf_printf(b,
	               "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	               "<title>",
	               i18n_lang_code(l));
	textbuf_html(b, title);
	textbuf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n", page_css);
}

static void
empty(struct textbuf *b, const char *sentence)
{
	textbuf_put(b, "<p class=\"empty\">");
	textbuf_html(b, sentence);
	textbuf_put(b, "</p>\n");
}

static void
section_open(struct textbuf *b, const char *cls, const char *title)
{
	textbuf_printf(b, "<section class=\"%s\">\n<h2>", cls);
	textbuf_html(b, title);
	textbuf_put(b, "</h2>\n");
}

static void
th(struct textbuf *b, const char *text, bool numeric)
{
	textbuf_put(b, numeric ? "<th class=\"n\">" : "<th>");
	textbuf_html(b, text);
	textbuf_put(b, "</th>");
}

static void
td_text(struct textbuf *b, const char *text)
{
	textbuf_put(b, "<td>");
	textbuf_html(b, text != NULL && text[0] != '\0' ? text : "–");
	textbuf_put(b, "</td>");
}

static void
td_num(struct textbuf *b, const char *cls, enum lang l, double v, int decimals)
{
	char n[NUM_MAX];
	num(l, v, decimals, n);
	textbuf_printf(b, "<td class=\"n %s\">%s</td>", cls, n);
}

/* ---- header and score ---------------------------------------------------- */

static void
title_of(const Est__V1__Picture *p, const struct areamap *m, enum lang l, char *out, size_t outlen)
{
	char week[64];
	if (i18n_week(l, p->week, week, sizeof week) != 0)
		snprintf(week, sizeof week, "%s", p->week != NULL ? p->week : "-");
	snprintf(out, outlen, "%s %s, %s", i18n_words(l)->picture, render_area_name(m, l, p->area),
	         week);
}

static void
header(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m, enum lang l,
       const char *title)
{
	const struct words *w = i18n_words(l);
	char period[96], when[32];
	i18n_period(l, p->period_start, p->period_end, period, sizeof period);
	local_time(p->generated_at, when, sizeof when);
	textbuf_printf(b, "<header>\n<h1 data-area=\"");
	textbuf_html(b, p->area);
	textbuf_printf(b, "\" data-week=\"");
	textbuf_html(b, p->week);
	textbuf_put(b, "\">");
	textbuf_html(b, title);
	textbuf_put(b, "</h1>\n<p class=\"meta\">");
	textbuf_html(b, w->period);
	textbuf_put(b, ": ");
	textbuf_html(b, period);
	textbuf_put(b, " · ");
	textbuf_html(b, w->area);
	textbuf_put(b, ": ");
	textbuf_html(b, render_area_name(m, l, p->area));
	textbuf_put(b, "</p>\n<p class=\"meta\">");
	textbuf_html(b, w->compiled);
	textbuf_printf(b, " %s, %s %llu</p>\n</header>\n", when, w->through_seq,
	               (unsigned long long)p->through_seq);
}

static void
score_line(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	char score[NUM_MAX];
	num(l, p->priority_score, 2, score);
	textbuf_printf(b, "<p class=\"scorebox\">%s <strong class=\"priority\">%s</strong>",
	               w->score, score);
	if (p->rank > 0) {
		textbuf_printf(b, " — %s <strong class=\"rank\">%u", w->rank, (unsigned)p->rank);
		if (p->ranked_areas > 0)
			textbuf_printf(b, " %s %u", w->rank_of, (unsigned)p->ranked_areas);
		textbuf_put(b, "</strong>");
	} else {
		textbuf_put(b, "<br><span class=\"note\">");
		textbuf_html(b, w->not_ranked);
		textbuf_put(b, "</span>");
	}
	textbuf_put(b, "</p>\n");
}

static void
score_parts(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "parts", w->score_explained);
	if (p->n_score_parts == 0) {
		empty(b, w->no_score_parts);
		textbuf_put(b, "</section>\n");
		return;
	}
	textbuf_put(b, "<table><thead><tr>");
	th(b, w->category, false);
	th(b, "", false);
	th(b, "×", true);
	th(b, w->points, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_score_parts; i++) {
		const Est__V1__ScorePart *sp = p->score_parts[i];
		char amount[NUM_MAX], weight[NUM_MAX];
		num(l, sp->amount, 3, amount);
		num(l, sp->weight, 3, weight);
		textbuf_put(b, "<tr>");
		td_text(b, i18n_category(l, (int)sp->category));
		td_text(b, i18n_part_label(l, sp->label));
		textbuf_printf(b, "<td class=\"n\">%s × %s</td>", amount, weight);
		td_num(b, "points", l, sp->points, 3);
		textbuf_put(b, "</tr>\n");
	}
	char total[NUM_MAX];
	num(l, p->priority_score, 3, total);
	textbuf_printf(b, "<tr><th colspan=\"3\">%s</th><th class=\"n\">%s</th></tr>\n", w->score,
	               total);
	textbuf_put(b, "</tbody></table>\n</section>\n");
}

/* ---- categories: bar chart and table --------------------------------------- */

#define BAR_LABEL_W 190.0
#define BAR_W       390.0
#define BAR_ROW_H   46.0

static double
categories_max(const Est__V1__Picture *p)
{
	double m = 1;
	for (size_t i = 0; i < p->n_categories; i++) {
		const Est__V1__CategoryCount *c = p->categories[i];
		m = fmax(m,
		         fmax(fmax(c->reports, c->incidents), fmax(c->previous_week, c->baseline)));
	}
	return m;
}

static void
bar(struct textbuf *b, const char *cls, double y, double v, double scale, enum lang l)
{
	char n[NUM_MAX];
	num(l, v, 2, n);
	double w = v * scale;
	textbuf_printf(b,
	               "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\"/>"
	               "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
	               cls, BAR_LABEL_W, y, w, BAR_LABEL_W + w + 4, y + 9, n);
}

static void
bar_chart(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	double scale = BAR_W / categories_max(p);
	double height = (double)p->n_categories * BAR_ROW_H + 8;
	textbuf_printf(
	    b,
	    "<svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 %.0f\" "
	    "role=\"img\" aria-label=\"%s\">\n",
	    height, w->categories);
	for (size_t i = 0; i < p->n_categories; i++) {
		const Est__V1__CategoryCount *c = p->categories[i];
		double y = 4 + (double)i * BAR_ROW_H;
		textbuf_printf(b, "<text x=\"0\" y=\"%.1f\">", y + 20);
		textbuf_html(b, i18n_category(l, (int)c->category));
		textbuf_put(b, "</text>\n");
		bar(b, "bar-r", y, c->reports, scale, l);
		bar(b, "bar-i", y + 12, c->incidents, scale, l);
		bar(b, "bar-p", y + 24, c->previous_week, scale, l);
		double bx = BAR_LABEL_W + c->baseline * scale;
		textbuf_printf(
		    b, "<line class=\"base\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
		    bx, bx, y - 2, y + 36);
	}
	textbuf_put(b, "</svg>\n");
	textbuf_printf(
	    b,
	    "<p class=\"note\"><span class=\"key bar-r\" style=\"background:#1f4e79\"></span>%s"
	    "<span class=\"key\" style=\"background:#c55a11\"></span>%s"
	    "<span class=\"key\" style=\"background:#a5a5a5\"></span>%s. %s</p>\n",
	    w->reports, w->incidents, w->previous_week, w->chart_note);
}

static void
category_table(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	textbuf_put(b, "<table class=\"categories\"><thead><tr>");
	th(b, w->category, false);
	th(b, w->reports, true);
	th(b, w->incidents, true);
	th(b, w->previous_week, true);
	th(b, w->baseline, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_categories; i++) {
		const Est__V1__CategoryCount *c = p->categories[i];
		char key[40];
		render_enum_key(&est__v1__category__descriptor, "CATEGORY_", (int)c->category, key,
		                sizeof key);
		textbuf_printf(b, "<tr data-category=\"%s\">", key);
		td_text(b, i18n_category(l, (int)c->category));
		td_num(b, "reports", l, c->reports, 0);
		td_num(b, "incidents", l, c->incidents, 0);
		td_num(b, "previous", l, c->previous_week, 0);
		td_num(b, "baseline", l, c->baseline, 2);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n");
}

static void
categories(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "categories", w->categories);
	if (p->n_categories == 0)
		empty(b, w->no_categories);
	else {
		bar_chart(b, p, l);
		category_table(b, p, l);
	}
	textbuf_put(b, "</section>\n");
}

/* ---- trend ----------------------------------------------------------------- */

#define TREND_W  640.0
#define TREND_H  200.0
#define TREND_X0 40.0
#define TREND_Y0 16.0
#define TREND_PH 150.0

static void
trend_line(struct textbuf *b, const Est__V1__Picture *p, bool incidents, double step, double top)
{
	textbuf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\"%s points=\"",
	               incidents ? "#c55a11" : "#1f4e79",
	               incidents ? " stroke-dasharray=\"6 4\"" : "");
	for (size_t i = 0; i < p->n_trend; i++) {
		double v = incidents ? p->trend[i]->incidents : p->trend[i]->reports;
		textbuf_printf(b, "%s%.1f,%.1f", i ? " " : "", TREND_X0 + (double)i * step,
		               TREND_Y0 + TREND_PH - v / top * TREND_PH);
	}
	textbuf_put(b, "\"/>\n");
}

static void
trend_chart(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	double top = 1;
	for (size_t i = 0; i < p->n_trend; i++)
		top = fmax(top, fmax(p->trend[i]->reports, p->trend[i]->incidents));
	top = ceil(top);
	double step = p->n_trend > 1 ? (TREND_W - TREND_X0 - 20) / (double)(p->n_trend - 1) : 0;
	textbuf_printf(
	    b,
	    "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	    "role=\"img\" aria-label=\"%s\">\n",
	    TREND_W, TREND_H, i18n_words(l)->trend);
	for (int g = 0; g <= 2; g++) {
		double v = top * g / 2, y = TREND_Y0 + TREND_PH - v / top * TREND_PH;
		char n[NUM_MAX];
		num(l, v, 1, n);
		textbuf_printf(
		    b,
		    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		    "<text x=\"0\" y=\"%.1f\">%s</text>\n",
		    TREND_X0, TREND_W - 10, y, y, y + 4, n);
	}
	for (size_t i = 0; i < p->n_trend; i++) {
		int y, wk;
		double x = TREND_X0 + (double)i * step;
		if (i18n_week_parse(p->trend[i]->week, &y, &wk) == 0)
			textbuf_printf(
			    b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">v%d</text>\n", x,
			    TREND_H - 12, wk);
	}
	trend_line(b, p, false, step, top);
	trend_line(b, p, true, step, top);
	textbuf_put(b, "</svg>\n");
}

static void
trend_table(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	textbuf_put(b, "<table class=\"trend\"><thead><tr>");
	th(b, w->week, false);
	for (size_t i = 0; i < p->n_trend; i++) {
		int y, wk;
		textbuf_put(b, "<th class=\"n\">");
		if (i18n_week_parse(p->trend[i]->week, &y, &wk) == 0)
			textbuf_printf(b, "%d", wk);
		else
			textbuf_html(b, p->trend[i]->week);
		textbuf_put(b, "</th>");
	}
	textbuf_put(b, "</tr></thead><tbody><tr>");
	th(b, w->reports, false);
	for (size_t i = 0; i < p->n_trend; i++)
		td_num(b, "reports", l, p->trend[i]->reports, 0);
	textbuf_put(b, "</tr><tr>");
	th(b, w->incidents, false);
	for (size_t i = 0; i < p->n_trend; i++)
		td_num(b, "incidents", l, p->trend[i]->incidents, 0);
	textbuf_put(b, "</tr></tbody></table>\n");
}

static void
trend(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "trend", w->trend);
	if (p->n_trend == 0) {
		empty(b, w->no_trend);
	} else {
		trend_chart(b, p, l);
		textbuf_printf(b, "<p class=\"note\">%s</p>\n", w->trend_note);
		trend_table(b, p, l);
	}
	textbuf_put(b, "</section>\n");
}

/* ---- map, ranks and hotspots ---------------------------------------------- */

static void
area_ranks(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m, enum lang l)
{
	const struct words *w = i18n_words(l);
	if (p->n_area_ranks == 0) {
		empty(b, w->map_no_ranks);
		return;
	}
	textbuf_put(b, "<table class=\"ranks\"><thead><tr>");
	th(b, w->rank, true);
	th(b, w->area, false);
	th(b, w->score, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_area_ranks; i++) {
		const Est__V1__AreaRank *r = p->area_ranks[i];
		textbuf_put(b, "<tr data-area=\"");
		textbuf_html(b, r->area);
		textbuf_printf(b, "\"><td class=\"n\">%u</td>", (unsigned)r->rank);
		td_text(b, render_area_name(m, l, r->area));
		td_num(b, "score", l, r->priority_score, 2);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n");
}

static void
categories_list(struct textbuf *b, const Est__V1__Hotspot *h, enum lang l)
{
	textbuf_put(b, "<td>");
	for (size_t i = 0; i < h->n_categories; i++) {
		textbuf_put(b, i ? ", " : "");
		textbuf_html(b, i18n_category(l, (int)h->categories[i]));
	}
	textbuf_put(b, "</td>");
}

static void
position_cell(struct textbuf *b, const Est__V1__Position *pos, enum lang l)
{
	char where[RENDER_POSITION_MAX];
	if (render_position_text(l, pos, where, sizeof where) != 0) {
		td_text(b, NULL);
		return;
	}
	textbuf_printf(b, "<td class=\"n\">%s</td>", where);
}

static void
hotspot_table(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	textbuf_put(b, "<table class=\"hotspots\"><thead><tr>");
	th(b, "#", true);
	th(b, w->place, false);
	th(b, w->incidents, true);
	th(b, w->reports, true);
	th(b, w->orgs, true);
	th(b, w->categories, false);
	th(b, w->position, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_hotspots; i++) {
		const Est__V1__Hotspot *h = p->hotspots[i];
		textbuf_printf(b, "<tr><td class=\"n\">%zu</td>", i + 1);
		td_text(b, h->place != NULL && h->place[0] ? h->place : w->unnamed_place);
		td_num(b, "incidents", l, h->incidents, 0);
		td_num(b, "reports", l, h->reports, 0);
		td_num(b, "orgs", l, h->org_count, 0);
		categories_list(b, h, l);
		position_cell(b, h->position, l);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n");
}

static void
map_section(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "map", w->map);
	if (svgmap_write(b, m, p, l) == 0)
		textbuf_printf(b, "<p class=\"note\">%s</p>\n", w->map_note);
	area_ranks(b, p, m, l);
	textbuf_put(b, "</section>\n");
	section_open(b, "hotspots", w->hotspots);
	if (p->n_hotspots == 0)
		empty(b, w->no_hotspots);
	else
		hotspot_table(b, p, l);
	textbuf_put(b, "</section>\n");
}

/* ---- upcoming events -------------------------------------------------------- */

static void
upcoming(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "upcoming", w->upcoming);
	if (p->n_upcoming == 0) {
		empty(b, w->no_upcoming);
		textbuf_put(b, "</section>\n");
		return;
	}
	textbuf_put(b, "<table><thead><tr>");
	th(b, w->starts, false);
	th(b, w->ends, false);
	th(b, w->place, false);
	th(b, w->area, false);
	th(b, w->org, false);
	th(b, w->description, false);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_upcoming; i++) {
		const Est__V1__UpcomingEvent *u = p->upcoming[i];
		char s[32], e[32];
		local_time(u->starts_at, s, sizeof s);
		local_time(u->ends_at, e, sizeof e);
		textbuf_put(b, "<tr>");
		td_text(b, s);
		td_text(b, e);
		td_text(b, u->place);
		td_text(b, u->area != NULL && u->area[0] ? render_area_name(m, l, u->area) : NULL);
		td_text(b, u->org);
		td_text(b, u->description);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n</section>\n");
}

/* ---- measures, follow-up, counts -------------------------------------------- */

static void
measure_row(struct textbuf *b, const Est__V1__Measure *ms, enum lang l)
{
	char s[32], e[32], period[80] = "";
	local_time(ms->starts_at, s, sizeof s);
	local_time(ms->ends_at, e, sizeof e);
	if (ms->starts_at != 0 || ms->ends_at != 0)
		snprintf(period, sizeof period, "%s – %s", s, e);
	textbuf_put(b, "<tr data-measure=\"");
	textbuf_html(b, ms->measure_id);
	textbuf_put(b, "\">");
	td_text(b, ms->measure_id);
	td_text(b, i18n_kind(l, (int)ms->kind));
	td_text(b, i18n_status(l, (int)ms->status));
	td_text(b, ms->group != EST__V1__WORKING_GROUP__GROUP_UNSPECIFIED
	               ? i18n_group(l, (int)ms->group)
	               : NULL);
	td_text(b, ms->assigned_org);
	td_text(b, ms->place);
	td_text(b, period);
	td_text(b, ms->outcome != NULL && ms->outcome[0] ? ms->outcome : ms->description);
	textbuf_put(b, "</tr>\n");
}

static void
measure_table(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	textbuf_put(b, "<table class=\"measures\"><thead><tr>");
	th(b, "Id", false);
	th(b, w->kind, false);
	th(b, w->status, false);
	th(b, w->group, false);
	th(b, w->assigned, false);
	th(b, w->place, false);
	th(b, w->period, false);
	th(b, w->description, false);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_measures; i++)
		measure_row(b, p->measures[i], l);
	textbuf_put(b, "</tbody></table>\n");
}

static void
followup_table(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	textbuf_printf(b, "<h3>%s</h3>\n", w->followup);
	if (p->n_followups == 0) {
		empty(b, w->no_followups);
		return;
	}
	textbuf_put(b, "<table class=\"followups\"><thead><tr>");
	th(b, "Id", false);
	th(b, w->before, false);
	th(b, w->incidents, true);
	th(b, w->after, false);
	th(b, w->incidents, true);
	th(b, w->within_m, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_followups; i++) {
		const Est__V1__Followup *f = p->followups[i];
		char bp[96], ap[96], radius[NUM_MAX];
		i18n_period(l, f->before_start, f->before_end, bp, sizeof bp);
		i18n_period(l, f->after_start, f->after_end, ap, sizeof ap);
		num(l, f->radius_m, 0, radius);
		textbuf_put(b, "<tr>");
		td_text(b, f->measure_id);
		td_text(b, bp);
		td_num(b, "before", l, f->incidents_before, 0);
		td_text(b, ap);
		td_num(b, "after", l, f->incidents_after, 0);
		textbuf_printf(b, "<td class=\"n\">%s m, %u %s</td>", radius, (unsigned)f->weeks,
		               w->weeks_without);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n");
}

static void
measure_counts(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	if (p->n_measure_counts == 0)
		return;
	textbuf_printf(b, "<h3>%s</h3>\n", w->measure_counts);
	textbuf_put(b, "<table class=\"measure-counts\"><thead><tr>");
	th(b, w->kind, false);
	th(b, w->group, false);
	th(b, w->status, false);
	th(b, w->count, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_measure_counts; i++) {
		const Est__V1__MeasureCount *c = p->measure_counts[i];
		textbuf_put(b, "<tr>");
		td_text(b, i18n_kind(l, (int)c->kind));
		td_text(b, i18n_group(l, (int)c->group));
		td_text(b, i18n_status(l, (int)c->status));
		td_num(b, "count", l, c->count, 0);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n");
}

static void
measures(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "measures", w->measures);
	if (p->n_measures == 0 && p->n_measure_counts == 0)
		empty(b, w->no_measures);
	if (p->n_measures > 0)
		measure_table(b, p, l);
	measure_counts(b, p, l);
	followup_table(b, p, l);
	textbuf_put(b, "</section>\n");
}

/* ---- flags and contributions ------------------------------------------------ */

static void
flag_item(struct textbuf *b, const Est__V1__Flag *f, enum lang l)
{
	const struct words *w = i18n_words(l);
	bool hotspot = f->kind != NULL && strcmp(f->kind, "hotspot_without_measure") == 0;
	bool overlap = f->kind != NULL && strcmp(f->kind, "overlapping_measures") == 0;
	textbuf_put(b, "<li><strong>");
	textbuf_html(b, hotspot ? w->flag_hotspot : overlap ? w->flag_overlap : f->kind);
	textbuf_put(b, "</strong>: ");
	textbuf_html(b, f->place != NULL && f->place[0] ? f->place : w->unnamed_place);
	if (f->weeks > 0)
		textbuf_printf(b, ", %u %s", (unsigned)f->weeks, w->weeks_without);
	for (size_t i = 0; i < f->n_measure_ids; i++) {
		textbuf_put(b, i ? ", " : " (");
		textbuf_html(b, f->measure_ids[i]);
		if (i < f->n_orgs) {
			textbuf_put(b, ": ");
			textbuf_html(b, f->orgs[i]);
		}
		textbuf_put(b, i + 1 == f->n_measure_ids ? ")" : "");
	}
	textbuf_put(b, "</li>\n");
}

static void
flags(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "flags", w->flags);
	if (p->n_flags == 0) {
		empty(b, w->no_flags);
	} else {
		textbuf_put(b, "<ul>\n");
		for (size_t i = 0; i < p->n_flags; i++)
			flag_item(b, p->flags[i], l);
		textbuf_put(b, "</ul>\n");
	}
	textbuf_put(b, "</section>\n");
}

static void
contributions(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	section_open(b, "contributions", w->contributions);
	if (p->n_contributions == 0) {
		empty(b, w->no_contributions);
		textbuf_put(b, "</section>\n");
		return;
	}
	textbuf_put(b, "<table><thead><tr>");
	th(b, w->org, false);
	th(b, w->reports, true);
	th(b, w->incidents, true);
	th(b, w->confirmed, true);
	textbuf_put(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < p->n_contributions; i++) {
		const Est__V1__Contribution *c = p->contributions[i];
		textbuf_put(b, "<tr>");
		td_text(b, c->org);
		td_num(b, "reports", l, c->reports, 0);
		td_num(b, "incidents", l, c->incidents, 0);
		td_num(b, "confirmed", l, c->confirmed, 0);
		textbuf_put(b, "</tr>\n");
	}
	textbuf_put(b, "</tbody></table>\n</section>\n");
}

void
render_html_page(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m, enum lang l)
{
	char title[256];
	title_of(p, m, l, title, sizeof title);
	head(b, l, title);
	header(b, p, m, l, title);
	score_line(b, p, l);
	score_parts(b, p, l);
	categories(b, p, l);
	trend(b, p, l);
	map_section(b, p, m, l);
	upcoming(b, p, m, l);
	measures(b, p, l);
	flags(b, p, l);
	contributions(b, p, l);
	textbuf_printf(b, "<footer>%s</footer>\n</body>\n</html>\n", i18n_words(l)->generated_by);
}

/* ---- index ------------------------------------------------------------------ */

static const struct areamap *sort_map;

/* Position of an area in the listing: `all` first, then the map's order, then the rest. */
static size_t
area_order(const char *id)
{
	if (strcmp(id, "all") == 0)
		return 0;
	for (size_t i = 0; sort_map != NULL && i < sort_map->n; i++)
		if (strcmp(sort_map->areas[i].id, id) == 0)
			return i + 1;
	return SIZE_MAX;
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct page_ref *x = a, *y = b;
	int c = strcmp(y->week, x->week); /* "YYYY-Www" sorts as text: newest first */
	if (c != 0)
		return c;
	size_t ox = area_order(x->area), oy = area_order(y->area);
	if (ox != oy)
		return ox < oy ? -1 : 1;
	return strcmp(x->area, y->area);
}

void
render_html_index(struct textbuf *b, struct page_ref *refs, size_t n, const struct areamap *m,
                  enum lang l)
{
	const struct words *w = i18n_words(l);
	sort_map = m;
	qsort(refs, n, sizeof *refs, ref_cmp);
	sort_map = NULL;
	head(b, l, w->index_title);
	textbuf_printf(b, "<h1>%s</h1>\n<p class=\"note\">%s</p>\n", w->index_title, w->index_note);
	if (n == 0)
		empty(b, w->no_pages);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(refs[i].week, refs[i - 1].week) != 0) {
			char week[64];
			if (i18n_week(l, refs[i].week, week, sizeof week) != 0)
				snprintf(week, sizeof week, "%s", refs[i].week);
			textbuf_printf(b, "%s<h2>", i ? "</ul>\n" : "");
			textbuf_html(b, week);
			textbuf_put(b, "</h2>\n<ul class=\"pages\">\n");
		}
		textbuf_put(b, "<li><a href=\"");
		textbuf_html(b, refs[i].file);
		textbuf_put(b, "\">");
		textbuf_html(b, render_area_name(m, l, refs[i].area));
		textbuf_put(b, "</a></li>\n");
	}
	if (n > 0)
		textbuf_put(b, "</ul>\n");
	textbuf_printf(b, "<footer>%s</footer>\n</body>\n</html>\n", w->generated_by);
}
