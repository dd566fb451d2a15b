/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_text: a picture as a short block of plain text for a terminal
 * (est-feed --summary): the area, week, rank and score, the categories
 * with most incidents against their baseline, and the hotspots. Control
 * characters in partner texts become spaces.
 */
#ifndef ESTHUB_FEED_RENDER_TEXT_H
#define ESTHUB_FEED_RENDER_TEXT_H

#include "areamap.h"
#include "est.pb-c.h"
#include "i18n.h"
#include "textbuf.h"

/* The categories shown in the block, most incidents (then reports) first. */
#define RENDER_TEXT_TOP 3

void render_text_summary(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m,
                         enum lang l);

#endif
