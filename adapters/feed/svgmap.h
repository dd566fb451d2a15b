/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svgmap: the map of a picture as inline SVG: every area of the map
 * coloured by its priority in the week (Picture.area_ranks), the picture's
 * own area outlined, the hotspots as numbered circles (numbered as in the
 * page's hotspot table). No external resources.
 */
#ifndef ESTHUB_FEED_SVGMAP_H
#define ESTHUB_FEED_SVGMAP_H

#include "areamap.h"
#include "est.pb-c.h"
#include "i18n.h"
#include "textbuf.h"

#define SVGMAP_WIDTH      640.0
#define SVGMAP_MAX_HEIGHT 420.0
#define SVGMAP_MARGIN     24.0

/* Whether a hotspot has a position worth drawing (not the unset 0, 0). */
int svgmap_has_position(const Est__V1__Position *pos);

/*
 * Appends <svg>…</svg> for p to b. Returns 0, or -1 (nothing appended)
 * when there is nothing to draw (no areas and no positions).
 */
int svgmap_write(struct textbuf *b, const struct areamap *m, const Est__V1__Picture *p,
                 enum lang l);

#endif
