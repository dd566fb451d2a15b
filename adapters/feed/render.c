/* SPDX-License-Identifier: Apache-2.0 */
/* render: shared helpers of the picture writers (see render.h). */
#include "render.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "svgmap.h"
#include "wire/codec.h"

const char *
render_area_name(const struct areamap *m, enum lang l, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return "-";
	/* "all" is no polygon: its name is a word of the language, not of the areas file. */
	if (strcmp(id, "all") == 0)
		return i18n_area_builtin(l, id);
	const struct area_shape *a = areamap_find(m, id);
	if (a != NULL)
		return a->name;
	const char *b = i18n_area_builtin(l, id);
	return b != NULL ? b : id;
}

void
render_enum_key(const ProtobufCEnumDescriptor *d, const char *prefix, int v, char *out,
                size_t outlen)
{
	const char *name = wire_enum_name(d, v);
	if (name == NULL) {
		snprintf(out, outlen, "%d", v);
		return;
	}
	size_t plen = strlen(prefix);
	if (strncmp(name, prefix, plen) == 0)
		name += plen;
	size_t i = 0;
	for (; name[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	if (outlen > 0)
		out[i] = '\0';
}

static bool
area_id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int
render_base_name(const Est__V1__Picture *p, char *out, size_t outlen)
{
	int y, w;
	if (i18n_week_parse(p->week, &y, &w) != 0 || !area_id_ok(p->area))
		return -1;
	int n = snprintf(out, outlen, "%s-%s", p->week, p->area);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
render_position_text(enum lang l, const Est__V1__Position *pos, char *out, size_t outlen)
{
	if (!svgmap_has_position(pos))
		return -1;
	char lat[RENDER_POSITION_MAX / 2], lon[RENDER_POSITION_MAX / 2];
	i18n_number(l, pos->lat, 5, lat, sizeof lat);
	i18n_number(l, pos->lon, 5, lon, sizeof lon);
	snprintf(out, outlen, "%s; %s", lat, lon);
	return 0;
}
