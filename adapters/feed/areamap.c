/* SPDX-License-Identifier: Apache-2.0 */
/*
 * areamap: the areas' polygons for maps (see areamap.h). The hub checks an
 * instance's areas.geojson thoroughly (hub/areas.c); here a file is read
 * only to draw it, so the checks are those that keep drawing safe: numbers
 * where numbers belong, rings of at least 4 points, latitudes and longitudes
 * in range.
 */
#include "areamap.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define AREAMAP_MAX_BYTES (16 * 1024 * 1024)

static void
area_fini(struct area_shape *a)
{
	for (size_t i = 0; i < a->n; i++) {
		for (size_t j = 0; j < a->polys[i].n; j++)
			free(a->polys[i].rings[j].lonlat);
		free(a->polys[i].rings);
	}
	free(a->polys);
	free(a->id);
	free(a->name);
}

void
areamap_destroy(struct areamap **m)
{
	if (m == NULL || *m == NULL)
		return;
	for (size_t i = 0; i < (*m)->n; i++)
		area_fini(&(*m)->areas[i]);
	free((*m)->areas);
	free(*m);
	*m = NULL;
}

/* One ring [[lon, lat], ...] into r; NULL or the reason. */
static const char *
parse_ring(json_t *j, struct ring *r)
{
	if (!json_is_array(j) || json_array_size(j) < 4)
		return "a ring must be an array of at least 4 [lon, lat] points";
	size_t n = json_array_size(j);
	r->lonlat = calloc(n * 2, sizeof(double));
	if (r->lonlat == NULL)
		return "out of memory";
	for (size_t i = 0; i < n; i++) {
		json_t *pt = json_array_get(j, i);
		json_t *lon = json_array_get(pt, 0), *lat = json_array_get(pt, 1);
		if (!json_is_array(pt) || !json_is_number(lon) || !json_is_number(lat))
			return "a point must be [lon, lat] with two numbers";
		double x = json_number_value(lon), y = json_number_value(lat);
		if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90))
			return "a point lies outside WGS 84 (lon -180..180, lat -90..90)";
		r->lonlat[2 * i] = x;
		r->lonlat[2 * i + 1] = y;
	}
	r->n = n;
	return NULL;
}

static const char *
parse_polygon(json_t *j, struct polygon *p)
{
	if (!json_is_array(j) || json_array_size(j) == 0)
		return "a polygon must be an array of rings";
	p->rings = calloc(json_array_size(j), sizeof *p->rings);
	if (p->rings == NULL)
		return "out of memory";
	for (size_t i = 0; i < json_array_size(j); i++) {
		p->n = i + 1;
		const char *why = parse_ring(json_array_get(j, i), &p->rings[i]);
		if (why != NULL)
			return why;
	}
	return NULL;
}

static const char *
parse_geometry(json_t *g, struct area_shape *a)
{
	const char *type = json_string_value(json_object_get(g, "type"));
	json_t *coords = json_object_get(g, "coordinates");
	if (type == NULL || !json_is_array(coords))
		return "geometry needs a type and coordinates";
	bool multi = strcmp(type, "MultiPolygon") == 0;
	if (!multi && strcmp(type, "Polygon") != 0)
		return "geometry must be a Polygon or a MultiPolygon";
	size_t n = multi ? json_array_size(coords) : 1;
	if (n == 0)
		return "a MultiPolygon needs at least one polygon";
	a->polys = calloc(n, sizeof *a->polys);
	if (a->polys == NULL)
		return "out of memory";
	for (size_t i = 0; i < n; i++) {
		a->n = i + 1;
		const char *why =
		    parse_polygon(multi ? json_array_get(coords, i) : coords, &a->polys[i]);
		if (why != NULL)
			return why;
	}
	return NULL;
}

static const char *
parse_feature(json_t *f, struct area_shape *a)
{
	json_t *props = json_object_get(f, "properties");
	const char *id = json_string_value(json_object_get(props, "id"));
	const char *name = json_string_value(json_object_get(props, "name"));
	if (id == NULL || id[0] == '\0')
		return "properties.id (the area id) is missing";
	a->id = strdup(id);
	a->name = strdup(name != NULL && name[0] != '\0' ? name : id);
	if (a->id == NULL || a->name == NULL)
		return "out of memory";
	return parse_geometry(json_object_get(f, "geometry"), a);
}

struct areamap *
areamap_parse(const char *text, const char *origin, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "%s:%d: not JSON: %s", origin, jerr.line, jerr.text);
		return NULL;
	}
	json_t *features = json_object_get(root, "features");
	struct areamap *m = calloc(1, sizeof *m);
	const char *why = NULL;
	size_t bad = 0;
	if (m == NULL) {
		why = "out of memory";
	} else if (!json_is_array(features) || json_array_size(features) == 0) {
		why = "not a FeatureCollection with features";
	} else {
		size_t n = json_array_size(features);
		m->areas = calloc(n, sizeof *m->areas);
		if (m->areas == NULL)
			why = "out of memory";
		for (size_t i = 0; why == NULL && i < n; i++) {
			m->n = i + 1;
			bad = i + 1;
			why = parse_feature(json_array_get(features, i), &m->areas[i]);
		}
	}
	json_decref(root);
	if (why != NULL) {
		if (bad > 0)
			snprintf(err, errlen, "%s: feature %zu: %s", origin, bad, why);
		else
			snprintf(err, errlen, "%s: %s", origin, why);
		areamap_destroy(&m);
	}
	return m;
}

struct areamap *
areamap_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(AREAMAP_MAX_BYTES + 1);
	size_t n = text != NULL ? fread(text, 1, AREAMAP_MAX_BYTES + 1, f) : 0;
	bool failed = ferror(f) != 0;
	fclose(f);
	struct areamap *m = NULL;
	if (text == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (failed)
		snprintf(err, errlen, "%s: cannot read", path);
	else if (n > AREAMAP_MAX_BYTES)
		snprintf(err, errlen, "%s: larger than %d bytes", path, AREAMAP_MAX_BYTES);
	else {
		text[n] = '\0';
		m = areamap_parse(text, path, err, errlen);
	}
	free(text);
	return m;
}

const struct area_shape *
areamap_find(const struct areamap *m, const char *id)
{
	for (size_t i = 0; m != NULL && id != NULL && i < m->n; i++)
		if (strcmp(m->areas[i].id, id) == 0)
			return &m->areas[i];
	return NULL;
}

struct bounds {
	double w, e, s, n;
	bool any;
};

static void
bounds_add(struct bounds *b, double lon, double lat)
{
	if (!b->any) {
		b->w = b->e = lon;
		b->s = b->n = lat;
		b->any = true;
		return;
	}
	b->w = fmin(b->w, lon);
	b->e = fmax(b->e, lon);
	b->s = fmin(b->s, lat);
	b->n = fmax(b->n, lat);
}

int
areamap_fit(const struct areamap *m, const double *extra_lonlat, size_t n_extra, double width,
            double max_height, double margin, struct projection *p)
{
	struct bounds b = {0};
	for (size_t i = 0; m != NULL && i < m->n; i++)
		for (size_t j = 0; j < m->areas[i].n; j++)
			for (size_t k = 0; k < m->areas[i].polys[j].n; k++) {
				const struct ring *r = &m->areas[i].polys[j].rings[k];
				for (size_t q = 0; q < r->n; q++)
					bounds_add(&b, r->lonlat[2 * q], r->lonlat[2 * q + 1]);
			}
	for (size_t i = 0; i < n_extra; i++)
		bounds_add(&b, extra_lonlat[2 * i], extra_lonlat[2 * i + 1]);
	if (!b.any)
		return -1;
	double kx = cos((b.s + b.n) / 2 * M_PI / 180);
	/* A single point (or a line) has no extent: give it a small one so the scale is finite. */
	double dx = fmax((b.e - b.w) * kx, 1e-4), dy = fmax(b.n - b.s, 1e-4);
	double inner_w = width - 2 * margin, inner_h = max_height - 2 * margin;
	double scale = fmin(inner_w / dx, inner_h / dy);
	p->lon0 = b.w - ((inner_w / scale - (b.e - b.w) * kx) / 2) / kx;
	p->lat0 = b.n;
	p->kx = kx;
	p->scale = scale;
	p->margin = margin;
	p->width = width;
	p->height = dy * scale + 2 * margin;
	return 0;
}

void
projection_apply(const struct projection *p, double lon, double lat, double *x, double *y)
{
	*x = p->margin + (lon - p->lon0) * p->kx * p->scale;
	*y = p->margin + (p->lat0 - lat) * p->scale;
}
