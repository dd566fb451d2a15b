/* SPDX-License-Identifier: Apache-2.0 */
/* render_text: see render_text.h. */
#include "render_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* Appends s with every control character as a space, so a block keeps its lines. */
static void
plain(struct textbuf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;
		textbuf_putn(b, (c < 0x20 || c == 0x7f) ? " " : s, 1);
	}
}

/* Appends s padded with spaces to width characters (code points, not bytes: "Övrigt"). */
static void
padded(struct textbuf *b, const char *s, size_t width)
{
	size_t chars = 0;
	for (const char *q = s; *q; q++)
		chars += ((unsigned char)*q & 0xc0) != 0x80;
	plain(b, s);
	for (; chars < width; chars++)
		textbuf_put(b, " ");
}

/* The noun for n things: "1 rapport", "3 rapporter". */
static const char *
counted(enum lang l, uint32_t n, const char *sv_one, const char *sv_many, const char *en_one,
        const char *en_many)
{
	if (l == LANG_EN)
		return n == 1 ? en_one : en_many;
	return n == 1 ? sv_one : sv_many;
}

static int
top_cmp(const void *a, const void *b)
{
	const Est__V1__CategoryCount *x = *(const Est__V1__CategoryCount *const *)a;
	const Est__V1__CategoryCount *y = *(const Est__V1__CategoryCount *const *)b;
	if (x->incidents != y->incidents)
		return x->incidents > y->incidents ? -1 : 1;
	if (x->reports != y->reports)
		return x->reports > y->reports ? -1 : 1;
	return (int)x->category - (int)y->category;
}

static void
top_categories(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	const Est__V1__CategoryCount **sorted = calloc(p->n_categories + 1, sizeof *sorted);
	if (sorted == NULL) {
		b->failed = true;
		return;
	}
	if (p->n_categories > 0) /* categories is NULL then, and memcpy's source may not be */
		memcpy(sorted, p->categories, p->n_categories * sizeof *sorted);
	qsort(sorted, p->n_categories, sizeof *sorted, top_cmp);
	for (size_t i = 0; i < p->n_categories && i < RENDER_TEXT_TOP; i++) {
		const Est__V1__CategoryCount *c = sorted[i];
		char base[48];
		i18n_number(l, c->baseline, 2, base, sizeof base);
		textbuf_put(b, "  ");
		padded(b, i18n_category(l, (int)c->category), 26);
		textbuf_printf(
		    b, " %2u %s, %2u %s (%s %s, %s %u)\n", (unsigned)c->reports,
		    counted(l, c->reports, "rapport", "rapporter", "report", "reports"),
		    (unsigned)c->incidents,
		    counted(l, c->incidents, "händelse", "händelser", "incident", "incidents"),
		    w->vs_baseline, base, l == LANG_EN ? "previous week" : "förra veckan",
		    (unsigned)c->previous_week);
	}
	free(sorted);
}

static void
hotspots(struct textbuf *b, const Est__V1__Picture *p, enum lang l)
{
	const struct words *w = i18n_words(l);
	if (p->n_hotspots == 0)
		return;
	textbuf_printf(b, "  %s:\n", w->hotspots);
	for (size_t i = 0; i < p->n_hotspots; i++) {
		const Est__V1__Hotspot *h = p->hotspots[i];
		textbuf_printf(b, "    %zu. ", i + 1);
		if (h->place != NULL && h->place[0]) {
			plain(b, h->place);
		} else {
			/* No report named the place: where it is, as on the page. */
			char where[RENDER_POSITION_MAX];
			plain(b, w->unnamed_place);
			if (render_position_text(l, h->position, where, sizeof where) == 0)
				textbuf_printf(b, " %s %s", l == LANG_EN ? "at" : "vid", where);
		}
		textbuf_printf(
		    b, " (%u %s)\n", (unsigned)h->incidents,
		    counted(l, h->incidents, "händelse", "händelser", "incident", "incidents"));
	}
}

void
render_text_summary(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                    enum lang l)
{
	const struct words *w = i18n_words(l);
	char week[64], score[48];
	if (i18n_week(l, p->week, week, sizeof week) != 0)
		snprintf(week, sizeof week, "%s", p->week != NULL ? p->week : "-");
	i18n_number(l, p->priority_score, 2, score, sizeof score);
	plain(b, render_area_name(m, l, p->area));
	textbuf_printf(b, ", %s: ", week);
	if (p->rank > 0) {
		textbuf_printf(b, "%s %u", w->rank, (unsigned)p->rank);
		if (p->ranked_areas > 0)
			textbuf_printf(b, " %s %u", w->rank_of, (unsigned)p->ranked_areas);
		textbuf_put(b, ", ");
	}
	textbuf_printf(b, "%s %s\n", l == LANG_EN ? "priority score" : "prioritetspoäng", score);
	if (p->n_categories == 0)
		textbuf_printf(b, "  %s\n", w->no_categories);
	top_categories(b, p, l);
	hotspots(b, p, l);
}
