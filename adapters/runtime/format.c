/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format: the registry of partner formats, built from FORMAT_LIST in
 * format.h. See format.h for the translator interface.
 */
#include "runtime/format.h"

#include <string.h>

#define FORMAT_ENTRY(n) &format_##n,
static const struct format *const formats[] = {FORMAT_LIST(FORMAT_ENTRY)};
#undef FORMAT_ENTRY

const struct format *
format_find(const char *name)
{
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

const struct format *
format_at(size_t i)
{
	return i < sizeof formats / sizeof formats[0] ? formats[i] : NULL;
}
