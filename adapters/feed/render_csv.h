/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_csv: a picture as CSV that Excel in Sweden opens as it is: UTF-8
 * with a BOM (else Excel guesses Windows-1252), `;` between fields (the list
 * separator of Swedish Windows), a decimal comma, CRLF line ends, quoting
 * per RFC 4180, and no formula injection (a text that starts with = + - @
 * tab or CR gets a leading '). Headers in Swedish, or English.
 *
 * Two files per picture: the categories (one row each) and the places
 * (hotspots and measures, one row each; a measure without a position still
 * gets its row).
 */
#ifndef ESTHUB_FEED_RENDER_CSV_H
#define ESTHUB_FEED_RENDER_CSV_H

#include "areamap.h"
#include "est.pb-c.h"
#include "i18n.h"
#include "textbuf.h"

/* Appends one text field (quoted when it must be, formula-guarded). */
void render_csv_text(struct textbuf *b, const char *text);

void render_csv_categories(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                           enum lang l);
void render_csv_places(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                       enum lang l);

#endif
