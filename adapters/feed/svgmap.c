/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svgmap: see svgmap.h. The projection is the simple one of areamap_fit
 * (equirectangular, x scaled by cos(latitude)): at a town's scale it is
 * indistinguishable from a proper one, and it needs no library.
 */
#include "svgmap.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
svgmap_has_position(const Est__V1__Position *pos)
{
	return pos != NULL && isfinite(pos->lat) && isfinite(pos->lon) && pos->lat >= -90 &&
	       pos->lat <= 90 && pos->lon >= -180 && pos->lon <= 180 &&
	       !(pos->lat == 0 && pos->lon == 0);
}

/* The area's entry in the week's ranking, or NULL. */
static const Est__V1__AreaRank *
rank_of(const Est__V1__Picture *p, const char *id)
{
	for (size_t i = 0; i < p->n_area_ranks; i++)
		if (p->area_ranks[i]->area != NULL && strcmp(p->area_ranks[i]->area, id) == 0)
			return p->area_ranks[i];
	return NULL;
}

/* From a pale sand colour (no priority) to a deep red (the week's highest score). */
static void
fill_colour(double t, char *out, size_t outlen)
{
	static const double lo[3] = {0xfb, 0xf1, 0xdc}, hi[3] = {0xb7, 0x1c, 0x1c};
	t = fmin(fmax(t, 0), 1);
	snprintf(out, outlen, "#%02x%02x%02x", (unsigned)lround(lo[0] + (hi[0] - lo[0]) * t),
	         (unsigned)lround(lo[1] + (hi[1] - lo[1]) * t),
	         (unsigned)lround(lo[2] + (hi[2] - lo[2]) * t));
}

static double
max_score(const Est__V1__Picture *p)
{
	double best = 0;
	for (size_t i = 0; i < p->n_area_ranks; i++)
		best = fmax(best, p->area_ranks[i]->priority_score);
	return best;
}

static void
path_ring(struct textbuf *b, const struct projection *pr, const struct ring *r)
{
	for (size_t i = 0; i < r->n; i++) {
		double x, y;
		projection_apply(pr, r->lonlat[2 * i], r->lonlat[2 * i + 1], &x, &y);
		textbuf_printf(b, "%s%.1f %.1f", i == 0 ? "M" : " L", x, y);
	}
	textbuf_put(b, " Z");
}

/*
 * The label point of an area: above its first outer ring (centred on the
 * mean of its vertices), so the name never hides the hotspots inside it.
 */
static void
label_point(const struct projection *pr, const struct area_shape *a, double *x, double *y)
{
	const struct ring *r = &a->polys[0].rings[0];
	double sx = 0, north = -90;
	size_t n = r->n > 1 ? r->n - 1 : r->n; /* the closing point repeats the first */
	for (size_t i = 0; i < n; i++) {
		sx += r->lonlat[2 * i];
		north = fmax(north, r->lonlat[2 * i + 1]);
	}
	projection_apply(pr, sx / (double)n, north, x, y);
	*y = fmax(*y - 6, 12);
}

static void
draw_area(struct textbuf *b, const struct projection *pr, const struct area_shape *a,
          const Est__V1__Picture *p, double best, enum lang l)
{
	const Est__V1__AreaRank *r = rank_of(p, a->id);
	bool own = p->area != NULL && strcmp(p->area, a->id) == 0;
	char fill[16] = "#eeeeee";
	if (r != NULL)
		fill_colour(best > 0 ? r->priority_score / best : 0, fill, sizeof fill);
	textbuf_printf(b, "<path class=\"area%s\" data-area=\"", own ? " own" : "");
	textbuf_html(b, a->id);
	textbuf_printf(
	    b, "\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\" fill-rule=\"evenodd\" d=\"", fill,
	    own ? "#000" : "#777", own ? "3" : "1");
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < a->polys[i].n; j++)
			path_ring(b, pr, &a->polys[i].rings[j]);
	textbuf_put(b, "\"><title>");
	textbuf_html(b, a->name);
	if (r != NULL) {
		char score[32];
		i18n_number(l, r->priority_score, 2, score, sizeof score);
		textbuf_printf(b, ": %s %u, %s", i18n_words(l)->rank, (unsigned)r->rank, score);
	}
	textbuf_put(b, "</title></path>\n");
}

static void
draw_label(struct textbuf *b, const struct projection *pr, const struct area_shape *a,
           const Est__V1__Picture *p)
{
	const Est__V1__AreaRank *r = rank_of(p, a->id);
	double x, y;
	label_point(pr, a, &x, &y);
	textbuf_printf(b, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", x, y);
	textbuf_html(b, a->name);
	if (r != NULL && r->rank > 0)
		textbuf_printf(b, " (%u)", (unsigned)r->rank);
	textbuf_put(b, "</text>\n");
}

static void
draw_hotspots(struct textbuf *b, const struct projection *pr, const Est__V1__Picture *p)
{
	for (size_t i = 0; i < p->n_hotspots; i++) {
		const Est__V1__Hotspot *h = p->hotspots[i];
		if (!svgmap_has_position(h->position))
			continue;
		double x, y;
		projection_apply(pr, h->position->lon, h->position->lat, &x, &y);
		textbuf_printf(b,
		               "<g class=\"hotspot\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"10\"/>"
		               "<text x=\"%.1f\" y=\"%.1f\">%zu</text><title>",
		               x, y, x, y + 4, i + 1);
		textbuf_html(b, h->place);
		textbuf_put(b, "</title></g>\n");
	}
}

static void
draw_legend(struct textbuf *b, const struct projection *pr, enum lang l)
{
	const struct words *w = i18n_words(l);
	double y = pr->height - 14;
	char lo[16], hi[16];
	fill_colour(0, lo, sizeof lo);
	fill_colour(1, hi, sizeof hi);
	textbuf_printf(b,
	               "<defs><linearGradient id=\"prio\"><stop offset=\"0\" stop-color=\"%s\"/>"
	               "<stop offset=\"1\" stop-color=\"%s\"/></linearGradient></defs>"
	               "<rect x=\"%.1f\" y=\"%.1f\" width=\"120\" height=\"8\" fill=\"url(#prio)\" "
	               "stroke=\"#777\" stroke-width=\"0.5\"/>"
	               "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>"
	               "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
	               lo, hi, pr->margin, y, pr->margin, y - 3, w->map_legend_low,
	               pr->margin + 124, y + 8, w->map_legend_high);
}

int
svgmap_write(struct textbuf *b, const struct areamap *m, const Est__V1__Picture *p, enum lang l)
{
	double *extra = calloc(p->n_hotspots + 1, 2 * sizeof(double));
	if (extra == NULL) {
		b->failed = true;
		return -1;
	}
	size_t n_extra = 0;
	for (size_t i = 0; i < p->n_hotspots; i++)
		if (svgmap_has_position(p->hotspots[i]->position)) {
			extra[2 * n_extra] = p->hotspots[i]->position->lon;
			extra[2 * n_extra + 1] = p->hotspots[i]->position->lat;
			n_extra++;
		}
	struct projection pr;
	/* Room at the bottom for the legend. */
	int rc =
	    areamap_fit(m, extra, n_extra, SVGMAP_WIDTH, SVGMAP_MAX_HEIGHT, SVGMAP_MARGIN, &pr);
	free(extra);
	if (rc != 0)
		return -1;
	pr.height += 20;
	textbuf_printf(
	    b,
	    "<svg class=\"map\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	    "role=\"img\" aria-label=\"%s\">\n",
	    pr.width, pr.height, i18n_words(l)->map);
	double best = max_score(p);
	for (size_t i = 0; m != NULL && i < m->n; i++)
		draw_area(b, &pr, &m->areas[i], p, best, l);
	for (size_t i = 0; m != NULL && i < m->n; i++)
		draw_label(b, &pr, &m->areas[i], p);
	draw_hotspots(b, &pr, p);
	draw_legend(b, &pr, l);
	textbuf_put(b, "</svg>\n");
	return 0;
}
