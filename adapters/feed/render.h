/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render: what the writers of pages and files for a picture share: the
 * display name of an area, the stable key of a category ("unsafe_place"),
 * the file name of a picture's outputs (WEEK-AREA.EXT), which is also what
 * keeps a hostile area or week out of the path, and a position as people read it.
 */
#ifndef ESTHUB_FEED_RENDER_H
#define ESTHUB_FEED_RENDER_H

#include <stddef.h>

#include "areamap.h"
#include "est.pb-c.h"
#include "i18n.h"

/* "Hageby", "Hela kommunen": the areas file's name, else the built-in one, else the id. */
const char *render_area_name(const struct areamap *m, enum lang l, const char *id);

/* The enum name in lower case without its prefix: CATEGORY_UNSAFE_PLACE -> "unsafe_place". */
void render_enum_key(const ProtobufCEnumDescriptor *d, const char *prefix, int v, char *out,
                     size_t outlen);

/*
 * "2026-W47-hageby" for p into out. -1 when the week is not YYYY-Www or the
 * area is not [a-z0-9_-]{1,32}: such a picture gets no file, because its
 * name would not be predictable (or safe) as a path.
 */
int render_base_name(const Est__V1__Picture *p, char *out, size_t outlen);

/* "58,56695; 16,1872" (five decimals at most, the language's decimal sign); -1 without one. */
#define RENDER_POSITION_MAX 112
int render_position_text(enum lang l, const Est__V1__Position *pos, char *out, size_t outlen);

#endif
