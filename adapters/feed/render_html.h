/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_html: a picture as one self-contained HTML page (inline CSS and
 * SVG only: no scripts, fonts, styles or images from anywhere), readable on
 * screen and printed on A4; and the index page that lists the pages of a
 * directory, newest week first. Every text from the picture is escaped.
 */
#ifndef ESTHUB_FEED_RENDER_HTML_H
#define ESTHUB_FEED_RENDER_HTML_H

#include <stddef.h>

#include "areamap.h"
#include "est.pb-c.h"
#include "i18n.h"
#include "textbuf.h"

/* Appends the whole page of p to b (b->failed tells whether it all fit). */
void render_html_page(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                      enum lang l);

/* One page in the index: its file name, week ("2026-W47") and area id. */
struct page_ref {
	char file[128];
	char week[16];
	char area[40];
};

/*
 * Appends the index page listing refs (sorted here: newest week first, then
 * the areas in the map's order with `all` first).
 */
void render_html_index(struct textbuf *b, struct page_ref *refs, size_t n, const struct areamap *m,
                       enum lang l);

#endif
