/* SPDX-License-Identifier: Apache-2.0 */
/*
 * areamap: the EST areas' WGS 84 polygons and display names, read from a
 * GeoJSON FeatureCollection (the instance's areas.geojson, or the default
 * Norrköping areas built into est-feed), for the maps and GeoJSON files.
 * Each Feature needs properties.id and a Polygon or MultiPolygon geometry;
 * properties.name is the display name (else the id).
 */
#ifndef ESTHUB_FEED_AREAMAP_H
#define ESTHUB_FEED_AREAMAP_H

#include <stddef.h>

struct ring {
	double *lonlat; /* n pairs: lon, lat */
	size_t n;
};

struct polygon {
	struct ring *rings; /* the first is the outer ring, the rest holes */
	size_t n;
};

struct area_shape {
	char *id;
	char *name;
	struct polygon *polys;
	size_t n;
};

struct areamap {
	struct area_shape *areas;
	size_t n;
};

/* The default areas (config/areas.geojson as built in). */
extern const char areamap_default_geojson[];

/*
 * Parses GeoJSON text; origin names it in errors. Returns the map (caller
 * owns; areamap_destroy) or NULL with "origin: feature N: what is wrong" in err.
 */
struct areamap *areamap_parse(const char *text, const char *origin, char *err, size_t errlen);
/* Reads and parses path (at most 16 MiB). */
struct areamap *areamap_load(const char *path, char *err, size_t errlen);
void areamap_destroy(struct areamap **m);

const struct area_shape *areamap_find(const struct areamap *m, const char *id);

/*
 * A simple projection that fits the areas into a width x height box:
 * equirectangular with x scaled by cos(mean latitude), north up, one scale
 * for both axes, margin on every side.
 */
struct projection {
	double lon0, lat0; /* the box's west and north edges */
	double kx;         /* cos(mean latitude) */
	double scale;      /* pixels per degree of latitude */
	double margin;
	double width, height; /* the whole box, margins included */
};

/*
 * Fits m's points (and the extra lon/lat pairs) into width pixels and at
 * most max_height; height follows the areas' shape. -1 when there are no points.
 */
int areamap_fit(const struct areamap *m, const double *extra_lonlat, size_t n_extra, double width,
                double max_height, double margin, struct projection *p);
void projection_apply(const struct projection *p, double lon, double lat, double *x, double *y);

#endif
