/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_geojson: a picture as a GeoJSON FeatureCollection (RFC 7946: WGS 84,
 * [lon, lat], exterior rings counter-clockwise) that QGIS opens as layers:
 * the area polygon(s) with the score, rank and counts as flat properties,
 * the hotspots as Points with their counts, the measures and flags that
 * have a position as Points. Every feature has a "feature" property saying
 * which of these it is ("area", "hotspot", "measure", "flag").
 */
#ifndef ESTHUB_FEED_RENDER_GEOJSON_H
#define ESTHUB_FEED_RENDER_GEOJSON_H

#include "areamap.h"
#include "est.pb-c.h"
#include "textbuf.h"

/* Appends the FeatureCollection of p to b. */
void render_geojson(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m);

#endif
