/* SPDX-License-Identifier: Apache-2.0 */
/*
 * areas: the instance's EST areas from areas.geojson (WGS 84 polygons with
 * id, name and groups in their properties), and which area a position lies
 * in (point in polygon, even-odd over every ring, so holes work).
 */
#ifndef ESTHUB_HUB_AREAS_H
#define ESTHUB_HUB_AREAS_H

#include <stdio.h>

struct areas;

/*
 * Reads path. Every problem is printed to diag (when not NULL) as
 * "path:line: key: reason" and counted in *problems. Returns the areas
 * (caller owns; areas_destroy) when there was no problem, else NULL.
 */
struct areas *areas_load(const char *path, FILE *diag, int *problems);
void areas_destroy(struct areas **a);

/* The id of the area containing (lat, lon), or "outside". */
const char *areas_locate(const struct areas *a, double lat, double lon);

/* Whether id is one of the loaded areas. */
int areas_has(const struct areas *a, const char *id);

/* The text of the default Norrköping areas (config/areas.geojson), built in. */
extern const char areas_default_geojson[];

#endif
