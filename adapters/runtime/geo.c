/* SPDX-License-Identifier: Apache-2.0 */
/*
 * geo: SWEREF 99 TM to WGS 84 with PROJ, and EST area names (see geo.h).
 * The only file that talks to PROJ. The transformation is set up once per
 * geo (proj_create_crs_to_crs reads proj.db) and normalised to the
 * (easting, northing) -> (longitude, latitude) axis order, so no code here
 * depends on how EPSG orders the axes of either system. Area names are
 * compared with mapping_same's accent folding, the one text folding of the
 * adapter runtime.
 */
#include "runtime/geo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proj.h>

#include "runtime/mapping.h"
#include "wire/ids.h"

#define SWEREF99_TM "EPSG:3006"
#define WGS84       "EPSG:4326"

/* Sweden's bounding box with a margin (degrees). */
#define SWEDEN_LAT_MIN 55.0
#define SWEDEN_LAT_MAX 69.2
#define SWEDEN_LON_MIN 10.5
#define SWEDEN_LON_MAX 24.3

/* The names of the Norrköping areas, as people write them, besides the ids themselves. */
static const struct {
	const char *name, *id;
} builtin_names[] = {
    {"Marielund", "marielund"},  {"Hageby", "hageby"},
    {"Navestad", "navestad"},    {"Klockaretorpet", "klockaretorpet"},
    {"Norrköping city", "city"}, {"Norrköping centrum", "city"},
    {"Centrum", "city"},         {"City", "city"},
};
#define N_BUILTIN (sizeof builtin_names / sizeof builtin_names[0])

struct alias {
	char *name;
	const char *id; /* one of ids_areas */
};

struct geo {
	PJ_CONTEXT *ctx;
	PJ *to_wgs84;
	struct alias aliases[GEO_MAX_ALIASES];
	size_t n_aliases;
};

/* The reason of PROJ's last failure in ctx. */
static const char *
proj_reason(PJ_CONTEXT *ctx)
{
	const char *s = proj_context_errno_string(ctx, proj_context_errno(ctx));
	return s && *s ? s : "unknown error";
}

struct geo *
geo_new(char *err, size_t errlen)
{
	struct geo *g = calloc(1, sizeof *g);
	if (g == NULL || (g->ctx = proj_context_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		geo_destroy(&g);
		return NULL;
	}
	/* Failures are reported through err by the caller, not printed by PROJ. */
	proj_log_level(g->ctx, PJ_LOG_NONE);
	PJ *crs_to_crs = proj_create_crs_to_crs(g->ctx, SWEREF99_TM, WGS84, NULL);
	if (crs_to_crs)
		g->to_wgs84 = proj_normalize_for_visualization(g->ctx, crs_to_crs);
	if (g->to_wgs84 == NULL) {
		snprintf(err, errlen,
		         "PROJ: cannot set up SWEREF 99 TM (" SWEREF99_TM ") to WGS 84 (" WGS84
		         "): %s (is proj-data installed?)",
		         proj_reason(g->ctx));
		geo_destroy(&g);
	}
	proj_destroy(crs_to_crs);
	return g;
}

void
geo_destroy(struct geo **g)
{
	if (g == NULL || *g == NULL)
		return;
	for (size_t i = 0; i < (*g)->n_aliases; i++)
		free((*g)->aliases[i].name);
	proj_destroy((*g)->to_wgs84);
	if ((*g)->ctx)
		proj_context_destroy((*g)->ctx);
	free(*g);
	*g = NULL;
}

int
geo_sweref_to_wgs84(struct geo *g, double north, double east, double *lat, double *lon, char *err,
                    size_t errlen)
{
	if (!isfinite(north) || !isfinite(east)) {
		snprintf(err, errlen, "SWEREF 99 TM coordinates must be finite numbers");
		return -1;
	}
	proj_errno_reset(g->to_wgs84);
	PJ_COORD in = proj_coord(east, north, 0, 0);
	PJ_COORD out = proj_trans(g->to_wgs84, PJ_FWD, in);
	int e = proj_errno(g->to_wgs84);
	if (e != 0 || !isfinite(out.xy.x) || !isfinite(out.xy.y)) {
		snprintf(err, errlen, "SWEREF 99 TM N %.3f E %.3f cannot be converted: %s", north,
		         east, e ? proj_context_errno_string(g->ctx, e) : "no result");
		proj_errno_reset(g->to_wgs84);
		return -1;
	}
	*lon = out.xy.x;
	*lat = out.xy.y;
	return 0;
}

bool
geo_in_sweden(double lat, double lon)
{
	/* Comparisons with NaN are false: NaN is not in Sweden. */
	return lat >= SWEDEN_LAT_MIN && lat <= SWEDEN_LAT_MAX && lon >= SWEDEN_LON_MIN &&
	       lon <= SWEDEN_LON_MAX;
}

/* The entry of ids_areas equal to id (exactly: ids are fixed), or NULL. */
static const char *
area_of_id(const char *id)
{
	for (size_t i = 0; id && i < ids_n_areas; i++)
		if (strcmp(ids_areas[i], id) == 0)
			return ids_areas[i];
	return NULL;
}

const char *
geo_builtin_area_id(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < ids_n_areas; i++)
		if (mapping_same(name, ids_areas[i], MAPPING_FOLD_ACCENTS))
			return ids_areas[i];
	for (size_t i = 0; i < N_BUILTIN; i++)
		if (mapping_same(name, builtin_names[i].name, MAPPING_FOLD_ACCENTS))
			return area_of_id(builtin_names[i].id);
	return NULL;
}

bool
geo_builtin_name_at(size_t i, const char **name, const char **id)
{
	if (i >= N_BUILTIN)
		return false;
	*name = builtin_names[i].name;
	*id = builtin_names[i].id;
	return true;
}

/* The index of the alias for name, or g->n_aliases when there is none. */
static size_t
alias_find(const struct geo *g, const char *name)
{
	size_t i = 0;
	while (i < g->n_aliases && !mapping_same(g->aliases[i].name, name, MAPPING_FOLD_ACCENTS))
		i++;
	return i;
}

/* "marielund, hageby, ..." for messages. */
static void
area_ids(char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ids_n_areas && used < outlen; i++) {
		int n = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", ids_areas[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int
geo_area_alias(struct geo *g, const char *name, const char *id, char *err, size_t errlen)
{
	const char *area = area_of_id(id);
	if (area == NULL) {
		char ids[128];
		area_ids(ids, sizeof ids);
		snprintf(err, errlen, "\"%.64s\" is not an area id (%s)", id ? id : "", ids);
		return -1;
	}
	if (name == NULL || mapping_same(name, "", MAPPING_FOLD_ACCENTS)) {
		snprintf(err, errlen, "the name is empty");
		return -1;
	}
	const char *builtin = geo_builtin_area_id(name);
	if (builtin) {
		if (builtin == area)
			return 0;
		snprintf(err, errlen, "\"%.64s\" is already a name of area %s", name, builtin);
		return -1;
	}
	size_t i = alias_find(g, name);
	if (i < g->n_aliases) {
		g->aliases[i].id = area;
		return 0;
	}
	if (g->n_aliases == GEO_MAX_ALIASES) {
		snprintf(err, errlen, "more than %d area names", GEO_MAX_ALIASES);
		return -1;
	}
	char *copy = strdup(name);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->aliases[g->n_aliases++] = (struct alias){.name = copy, .id = area};
	return 0;
}

const char *
geo_area_id(const struct geo *g, const char *name)
{
	const char *id = geo_builtin_area_id(name);
	if (id || g == NULL || name == NULL)
		return id;
	size_t i = alias_find(g, name);
	return i < g->n_aliases ? g->aliases[i].id : NULL;
}
