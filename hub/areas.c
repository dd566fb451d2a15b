/* SPDX-License-Identifier: Apache-2.0 */
/*
 * areas: EST area polygons and point-in-polygon (see areas.h). jansson reads
 * the GeoJSON; polygons are kept as flat arrays of (lon, lat) rings.
 */
#include "areas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wire/ids.h"

struct ring {
	size_t n;
	double *xy; /* lon0, lat0, lon1, lat1, ... */
};

struct area {
	char id[32];
	struct ring *rings;
	size_t n_rings;
	double min_lat, max_lat, min_lon, max_lon;
};

struct areas {
	struct area *v;
	size_t n;
};

struct loader {
	const char *path;
	FILE *diag;
	int *problems;
	char *text; /* the file, for line numbers */
};

/* The line of the n-th (0-based) occurrence of needle in the text, or 0. */
static int
line_of(const struct loader *ld, const char *needle, size_t nth)
{
	if (ld->text == NULL)
		return 0;
	const char *p = ld->text;
	for (size_t i = 0;; i++) {
		p = strstr(p, needle);
		if (p == NULL)
			return 0;
		if (i == nth)
			break;
		p++;
	}
	int line = 1;
	for (const char *q = ld->text; q < p; q++)
		line += *q == '\n';
	return line;
}

static void
problem(const struct loader *ld, int line, const char *key, const char *why)
{
	(*ld->problems)++;
	if (ld->diag)
		fprintf(ld->diag, "%s:%d: %s: %s\n", ld->path, line, key, why);
}

static int
load_ring(struct ring *r, json_t *coords)
{
	size_t n = json_array_size(coords);
	if (n < 4)
		return -1;
	r->xy = calloc(n * 2, sizeof *r->xy);
	if (r->xy == NULL)
		return -1;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		json_t *pt = json_array_get(coords, i);
		json_t *x = json_array_get(pt, 0), *y = json_array_get(pt, 1);
		if (!json_is_number(x) || !json_is_number(y))
			return -1;
		double lon = json_number_value(x), lat = json_number_value(y);
		if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
			return -1;
		r->xy[2 * i] = lon;
		r->xy[2 * i + 1] = lat;
	}
	return 0;
}

/* Appends the rings of one GeoJSON polygon (array of rings) to a. */
static int
load_polygon(struct area *a, json_t *poly)
{
	size_t n = json_array_size(poly);
	if (n == 0)
		return -1;
	struct ring *rings = realloc(a->rings, (a->n_rings + n) * sizeof *rings);
	if (rings == NULL)
		return -1;
	a->rings = rings;
	for (size_t i = 0; i < n; i++) {
		struct ring *r = &a->rings[a->n_rings++];
		memset(r, 0, sizeof *r);
		if (load_ring(r, json_array_get(poly, i)))
			return -1;
	}
	return 0;
}

static int
load_geometry(struct area *a, json_t *geom)
{
	const char *type = json_string_value(json_object_get(geom, "type"));
	json_t *coords = json_object_get(geom, "coordinates");
	if (type && strcmp(type, "Polygon") == 0)
		return load_polygon(a, coords);
	if (type && strcmp(type, "MultiPolygon") == 0 && json_array_size(coords) > 0) {
		for (size_t i = 0; i < json_array_size(coords); i++)
			if (load_polygon(a, json_array_get(coords, i)))
				return -1;
		return 0;
	}
	return -1;
}

static void
bounds(struct area *a)
{
	a->min_lat = a->min_lon = INFINITY;
	a->max_lat = a->max_lon = -INFINITY;
	for (size_t i = 0; i < a->n_rings; i++)
		for (size_t k = 0; k < a->rings[i].n; k++) {
			double lon = a->rings[i].xy[2 * k], lat = a->rings[i].xy[2 * k + 1];
			a->min_lon = fmin(a->min_lon, lon);
			a->max_lon = fmax(a->max_lon, lon);
			a->min_lat = fmin(a->min_lat, lat);
			a->max_lat = fmax(a->max_lat, lat);
		}
}

static void
load_feature(struct areas *as, struct loader *ld, json_t *f, size_t index)
{
	int line = line_of(ld, "\"Feature\"", index);
	json_t *props = json_object_get(f, "properties");
	const char *id = json_string_value(json_object_get(props, "id"));
	const char *name = json_string_value(json_object_get(props, "name"));
	json_t *groups = json_object_get(props, "groups");
	char key[64];
	snprintf(key, sizeof key, "features[%zu]", index);
	if (id == NULL || !ids_area_valid(id)) {
		problem(ld, line, key,
		        "properties.id must be one of marielund, hageby, navestad, "
		        "klockaretorpet, city");
		return;
	}
	if (name == NULL || *name == '\0')
		problem(ld, line, key, "properties.name missing (the name people write)");
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const char *g = json_string_value(json_array_get(groups, i));
		if (g == NULL || !ids_group_valid(g) || strncmp(g, id, strlen(id)) != 0)
			problem(ld, line, key,
			        "properties.groups: each must be AREA/situational, "
			        "AREA/social or AREA, of this area");
	}
	if (!json_is_array(groups))
		problem(ld, line, key, "properties.groups missing (a list of working groups)");
	for (size_t i = 0; i < as->n; i++)
		if (strcmp(as->v[i].id, id) == 0) {
			problem(ld, line, key, "area id appears twice");
			return;
		}
	struct area *a = &as->v[as->n++];
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s", id);
	if (load_geometry(a, json_object_get(f, "geometry")))
		problem(ld, line, key,
		        "geometry must be a Polygon or MultiPolygon of closed rings "
		        "of at least 4 [lon, lat] points in WGS 84 degrees");
	bounds(a);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[8192];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

struct areas *
areas_load(const char *path, FILE *diag, int *problems)
{
	struct loader ld = {.path = path, .diag = diag, .problems = problems};
	int before = *problems;
	ld.text = slurp(path);
	json_error_t jerr;
	json_t *root = ld.text ? json_loads(ld.text, 0, &jerr) : NULL;
	struct areas *as = NULL;
	if (ld.text == NULL) {
		problem(&ld, 0, "file", "cannot read");
		goto out;
	}
	if (root == NULL) {
		problem(&ld, jerr.line, "json", jerr.text);
		goto out;
	}
	json_t *features = json_object_get(root, "features");
	if (!json_is_array(features) || json_array_size(features) == 0) {
		problem(&ld, 1, "features", "missing: a FeatureCollection of the EST areas");
		goto out;
	}
	as = calloc(1, sizeof *as);
	if (as == NULL || (as->v = calloc(json_array_size(features), sizeof *as->v)) == NULL) {
		problem(&ld, 0, "file", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(features); i++)
		load_feature(as, &ld, json_array_get(features, i), i);
out:
	json_decref(root);
	free(ld.text);
	if (*problems != before)
		areas_destroy(&as);
	return as;
}

void
areas_destroy(struct areas **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	struct areas *as = *ap;
	for (size_t i = 0; as->v && i < as->n; i++) {
		for (size_t k = 0; k < as->v[i].n_rings; k++)
			free(as->v[i].rings[k].xy);
		free(as->v[i].rings);
	}
	free(as->v);
	free(as);
	*ap = NULL;
}

/* Even-odd crossing test of one ring. */
static int
ring_crossings(const struct ring *r, double lat, double lon)
{
	int inside = 0;
	for (size_t i = 0, j = r->n - 1; i < r->n; j = i++) {
		double xi = r->xy[2 * i], yi = r->xy[2 * i + 1];
		double xj = r->xy[2 * j], yj = r->xy[2 * j + 1];
		if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
			inside = !inside;
	}
	return inside;
}

const char *
areas_locate(const struct areas *as, double lat, double lon)
{
	for (size_t i = 0; i < as->n; i++) {
		const struct area *a = &as->v[i];
		if (lat < a->min_lat || lat > a->max_lat || lon < a->min_lon || lon > a->max_lon)
			continue;
		int inside = 0;
		for (size_t k = 0; k < a->n_rings; k++)
			inside ^= ring_crossings(&a->rings[k], lat, lon);
		if (inside)
			return a->id;
	}
	return "outside";
}

int
areas_has(const struct areas *as, const char *id)
{
	for (size_t i = 0; i < as->n; i++)
		if (strcmp(as->v[i].id, id) == 0)
			return 1;
	return 0;
}
