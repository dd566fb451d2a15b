/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_geojson: see render_geojson.h. Property names are English ids and
 * values are ids and numbers (no labels), so a GIS project keeps working
 * whatever language the pages are in.
 */
#include "render_geojson.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render.h"
#include "svgmap.h"

/* Twice the signed area of r in degrees: positive when counter-clockwise. */
static double
ring_area2(const struct ring *r)
{
	double a = 0;
	for (size_t i = 0; i + 1 < r->n; i++)
		a += r->lonlat[2 * i] * r->lonlat[2 * i + 3] -
		     r->lonlat[2 * i + 2] * r->lonlat[2 * i + 1];
	return a;
}

/* The ring as [[lon, lat], ...], turned so the outer ring is counter-clockwise and holes clockwise.
 */
static json_t *
ring_json(const struct ring *r, bool outer)
{
	json_t *a = json_array();
	bool ccw = ring_area2(r) > 0;
	bool reverse = outer ? !ccw : ccw;
	for (size_t k = 0; k < r->n; k++) {
		size_t i = reverse ? r->n - 1 - k : k;
		json_array_append_new(a, json_pack("[ff]", r->lonlat[2 * i], r->lonlat[2 * i + 1]));
	}
	return a;
}

static json_t *
area_geometry(const struct area_shape *s)
{
	json_t *polys = json_array();
	for (size_t i = 0; i < s->n; i++) {
		json_t *rings = json_array();
		for (size_t j = 0; j < s->polys[i].n; j++)
			json_array_append_new(rings, ring_json(&s->polys[i].rings[j], j == 0));
		json_array_append_new(polys, rings);
	}
	if (s->n == 1) {
		json_t *one = json_incref(json_array_get(polys, 0));
		json_decref(polys);
		return json_pack("{ssso}", "type", "Polygon", "coordinates", one); /* steals one */
	}
	return json_pack("{ssso}", "type", "MultiPolygon", "coordinates", polys);
}

static json_t *
point(const Est__V1__Position *pos)
{
	return json_pack("{ss s[ff]}", "type", "Point", "coordinates", pos->lon, pos->lat);
}

static json_t *
feature(json_t *geometry, json_t *props)
{
	return json_pack("{ss so so}", "type", "Feature", "geometry", geometry, "properties",
	                 props);
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

static const char *
key(const ProtobufCEnumDescriptor *d, const char *prefix, int v, char *buf, size_t len)
{
	render_enum_key(d, prefix, v, buf, len);
	return buf;
}

/* The counts of the picture's own area: totals and one pair per category. */
static void
add_counts(json_t *props, const Est__V1__Picture *p)
{
	unsigned reports = 0, incidents = 0;
	for (size_t i = 0; i < p->n_categories; i++) {
		const Est__V1__CategoryCount *c = p->categories[i];
		char k[40], name[64];
		key(&est__v1__category__descriptor, "CATEGORY_", (int)c->category, k, sizeof k);
		snprintf(name, sizeof name, "reports_%s", k);
		json_object_set_new(props, name, json_integer(c->reports));
		snprintf(name, sizeof name, "incidents_%s", k);
		json_object_set_new(props, name, json_integer(c->incidents));
		reports += c->reports;
		incidents += c->incidents;
	}
	json_object_set_new(props, "reports", json_integer(reports));
	json_object_set_new(props, "incidents", json_integer(incidents));
}

static const Est__V1__AreaRank *
rank_of(const Est__V1__Picture *p, const char *id)
{
	for (size_t i = 0; i < p->n_area_ranks; i++)
		if (p->area_ranks[i]->area != NULL && strcmp(p->area_ranks[i]->area, id) == 0)
			return p->area_ranks[i];
	return NULL;
}

/* The own area (with counts), or for `all` every area of the map with its rank. */
static void
add_areas(json_t *features, const Est__V1__Picture *p, const struct areamap *m)
{
	bool all = p->area != NULL && strcmp(p->area, "all") == 0;
	for (size_t i = 0; m != NULL && i < m->n; i++) {
		const struct area_shape *s = &m->areas[i];
		bool own = p->area != NULL && strcmp(p->area, s->id) == 0;
		if (!own && !all)
			continue;
		json_t *props = json_pack("{ss ss ss ss}", "feature", "area", "area", s->id, "name",
		                          s->name, "week", str(p->week));
		const Est__V1__AreaRank *r = rank_of(p, s->id);
		if (own) {
			json_object_set_new(props, "priority_score", json_real(p->priority_score));
			json_object_set_new(props, "rank", json_integer(p->rank));
			json_object_set_new(props, "ranked_areas", json_integer(p->ranked_areas));
			add_counts(props, p);
		} else if (r != NULL) {
			json_object_set_new(props, "priority_score", json_real(r->priority_score));
			json_object_set_new(props, "rank", json_integer(r->rank));
		}
		json_array_append_new(features, feature(area_geometry(s), props));
	}
}

static void
add_hotspots(json_t *features, const Est__V1__Picture *p)
{
	for (size_t i = 0; i < p->n_hotspots; i++) {
		const Est__V1__Hotspot *h = p->hotspots[i];
		if (!svgmap_has_position(h->position))
			continue;
		char cats[512] = "";
		size_t len = 0;
		for (size_t j = 0; j < h->n_categories && len < sizeof cats; j++) {
			char k[40];
			key(&est__v1__category__descriptor, "CATEGORY_", (int)h->categories[j], k,
			    sizeof k);
			int n = snprintf(cats + len, sizeof cats - len, "%s%s", j ? "," : "", k);
			if (n > 0)
				len += (size_t)n;
		}
		json_t *props =
		    json_pack("{ss sI ss ss ss sI sI sI ss}", "feature", "hotspot", "number",
		              (json_int_t)(i + 1), "area", str(p->area), "week", str(p->week),
		              "place", str(h->place), "incidents", (json_int_t)h->incidents,
		              "reports", (json_int_t)h->reports, "org_count",
		              (json_int_t)h->org_count, "categories", cats);
		json_array_append_new(features, feature(point(h->position), props));
	}
}

static void
add_measures(json_t *features, const Est__V1__Picture *p)
{
	for (size_t i = 0; i < p->n_measures; i++) {
		const Est__V1__Measure *ms = p->measures[i];
		if (!svgmap_has_position(ms->position))
			continue;
		char kind[40], status[40], group[40];
		json_t *props = json_pack(
		    "{ss ss ss ss ss ss ss ss ss}", "feature", "measure", "measure_id",
		    str(ms->measure_id), "area", str(ms->area), "place", str(ms->place), "kind",
		    key(&est__v1__measure_kind__descriptor, "MEASURE_KIND_", (int)ms->kind, kind,
		        sizeof kind),
		    "status",
		    key(&est__v1__measure_status__descriptor, "MEASURE_STATUS_", (int)ms->status,
		        status, sizeof status),
		    "group",
		    key(&est__v1__working_group__descriptor, "GROUP_", (int)ms->group, group,
		        sizeof group),
		    "org", str(ms->assigned_org), "description", str(ms->description));
		json_array_append_new(features, feature(point(ms->position), props));
	}
}

static void
add_flags(json_t *features, const Est__V1__Picture *p)
{
	for (size_t i = 0; i < p->n_flags; i++) {
		const Est__V1__Flag *f = p->flags[i];
		if (!svgmap_has_position(f->position))
			continue;
		json_t *props = json_pack("{ss ss ss sI}", "feature", "flag", "flag", str(f->kind),
		                          "place", str(f->place), "weeks", (json_int_t)f->weeks);
		json_array_append_new(features, feature(point(f->position), props));
	}
}

void
render_geojson(struct textbuf *b, const Est__V1__Picture *p, const struct areamap *m)
{
	json_t *features = json_array();
	char name[64];
	if (render_base_name(p, name, sizeof name) != 0)
		snprintf(name, sizeof name, "picture");
	add_areas(features, p, m);
	add_hotspots(features, p);
	add_measures(features, p);
	add_flags(features, p);
	json_t *root = json_pack("{ss ss so}", "type", "FeatureCollection", "name", name,
	                         "features", features);
	char *text =
	    root != NULL ? json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) : NULL;
	if (text == NULL)
		b->failed = true;
	else
		textbuf_put(b, text);
	textbuf_put(b, "\n");
	free(text);
	json_decref(root);
}
