/* SPDX-License-Identifier: Apache-2.0 */
/*
 * geo: places as partners write them. SWEREF 99 TM (EPSG:3006), the
 * municipal GIS's own system, converted to WGS 84 with PROJ (libproj; no
 * hand-written formulas); a plausibility check for positions in Sweden;
 * and EST area names as people write them ("Norrköping city",
 * "KLOCKARETORPET", "Navestad") to the contract's area ids, whatever their
 * case or accents. Which area a position lies in is decided by the hub
 * (point in polygon against the instance's areas.geojson), not here: an
 * adapter leaves `area` empty when the record gives only a position.
 */
#ifndef ESTHUB_ADAPTER_GEO_H
#define ESTHUB_ADAPTER_GEO_H

#include <stdbool.h>
#include <stddef.h>

/* Most aliases one geo holds (geo_area_alias). */
#define GEO_MAX_ALIASES 256

struct geo;

/*
 * A PROJ context and the EPSG:3006 -> EPSG:4326 transform, and the default
 * area names. NULL with the reason in err (PROJ cannot find its database:
 * is proj-data installed?). The caller owns the result; geo_destroy.
 */
struct geo *geo_new(char *err, size_t errlen);
/* Frees *g and sets it to NULL. NULL-safe. */
void geo_destroy(struct geo **g);

/*
 * SWEREF 99 TM northing and easting (metres) to WGS 84 latitude and
 * longitude (degrees). 0, or -1 with the reason in err.
 */
int geo_sweref_to_wgs84(struct geo *g, double north, double east, double *lat, double *lon,
                        char *err, size_t errlen);

/* Whether (lat, lon) lies in Sweden's bounding box (with a small margin). */
bool geo_in_sweden(double lat, double lon);

/*
 * Adds an alias: name (as people write it) for area id. A later alias for
 * the same name replaces the earlier one; a built-in name (geo_builtin_area_id)
 * keeps its area. 0, or -1 with the reason in err (unknown area id, empty
 * name, a built-in name of another area, more than GEO_MAX_ALIASES).
 */
int geo_area_alias(struct geo *g, const char *name, const char *id, char *err, size_t errlen);

/*
 * The area id for name, compared without case, accents (å ä ö é ü as a a o
 * e u), surrounding spaces or repeated inner spaces; the ids themselves and
 * the names of the Norrköping areas are known from the start. Returns a
 * static string (one of wire/ids.h's ids_areas), or NULL when nothing matches.
 */
const char *geo_area_id(const struct geo *g, const char *name);

/*
 * The area id for name among the built-in names alone (the ids, the areas'
 * names, "Norrköping centrum", "Centrum", "City"), compared as geo_area_id
 * does; NULL when none matches. Needs no geo: a configuration can be checked
 * without PROJ.
 */
const char *geo_builtin_area_id(const char *name);

/*
 * The i-th built-in name ("Hageby", "Norrköping city") and its area id,
 * for documentation; false past the last one.
 */
bool geo_builtin_name_at(size_t i, const char **name, const char **id);

#endif
