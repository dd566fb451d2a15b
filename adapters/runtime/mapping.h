/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mapping: a partner's own values (a Swedish category label, a police event
 * type, an Open311 service_code) to an EST category and subcategory, or to
 * "skip: not EST's business". Tables are configuration an administrator
 * edits (the [categories] section of an adapter's configuration file); each
 * format ships a default table used when the configuration gives none.
 * Values are compared without regard to case (Swedish letters included),
 * surrounding spaces or runs of inner spaces.
 */
#ifndef ESTHUB_ADAPTER_MAPPING_H
#define ESTHUB_ADAPTER_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "est.pb-c.h"

struct mapping;

enum mapping_action {
	MAP_UNKNOWN = 0, /* no rule for this value: the record is an error */
	MAP_REPORT,	 /* translate with the rule's category and subcategory */
	MAP_SKIP,	 /* not EST's business: skipped and counted */
};

/* A new empty table; NULL when out of memory. Caller owns; mapping_destroy. */
struct mapping *mapping_new(void);
void mapping_destroy(struct mapping **m);

/*
 * Adds the rule from -> to, where to is "CATEGORY" or "CATEGORY/subcategory"
 * (CATEGORY the enum name without prefix, lower case: "vandalism",
 * "unsafe_place") or "skip". A later rule for the same value replaces the
 * earlier one. 0, or -1 with the reason in err ("\"vandalsm\" is not a
 * category (gathering, vandalism, ...)").
 */
int mapping_add(struct mapping *m, const char *from, const char *to, char *err, size_t errlen);

/*
 * Looks value up. MAP_REPORT sets *category and *subcategory (owned by m;
 * "" when the rule gives none); MAP_SKIP and MAP_UNKNOWN leave them alone.
 */
enum mapping_action mapping_lookup(const struct mapping *m, const char *value,
				   Est__V1__Category *category, const char **subcategory);

/* Number of rules. */
size_t mapping_size(const struct mapping *m);

/*
 * The shipped default table of format (by its --format name), a new table
 * the caller owns; NULL when the format has no table ("json").
 */
struct mapping *mapping_default(const char *format);

#endif
