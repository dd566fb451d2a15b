/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mapping: a partner's own values (a Swedish category label, a police event
 * type, an Open311 service_code) to an EST category and subcategory, or to
 * "skip: not EST's business". Tables are configuration an administrator
 * edits (the [categories] section of an adapter's configuration file); each
 * format ships a default table used when the configuration gives none.
 * Values are compared without regard to case (Swedish letters included),
 * surrounding spaces or runs of inner spaces.
 *
 * A table may have a default rule, from "*" (MAPPING_DEFAULT): it applies to
 * every value without a rule of its own. Without one such a value is
 * MAP_UNKNOWN, and the translator reports the record as an error naming the
 * value's column (mapping_field). Of the shipped tables only open311's has a
 * default (`* = skip`: a dripping tap is not EST's business).
 *
 * The text folding used here is also the one geo.h compares area names with
 * (mapping_same with MAPPING_FOLD_ACCENTS). It depends on no locale.
 */
#ifndef ESTHUB_ADAPTER_MAPPING_H
#define ESTHUB_ADAPTER_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "est.pb-c.h"

/* The value of the default rule. */
#define MAPPING_DEFAULT "*"
/* Caps: rules in one table, bytes in one value, bytes in one subcategory. */
#define MAPPING_MAX_RULES       4096
#define MAPPING_VALUE_MAX       256
#define MAPPING_SUBCATEGORY_MAX 64

struct mapping;

enum mapping_action {
	MAP_UNKNOWN = 0, /* no rule for this value: the record is an error */
	MAP_REPORT,      /* translate with the rule's category and subcategory */
	MAP_SKIP,        /* not EST's business: skipped and counted */
};

/* A new empty table; NULL when out of memory. Caller owns; mapping_destroy. */
struct mapping *mapping_new(void);
/* Frees *m and sets it to NULL. NULL-safe. */
void mapping_destroy(struct mapping **m);

/*
 * Adds the rule from -> to, where to is "CATEGORY" or "CATEGORY/subcategory"
 * (CATEGORY the enum name without prefix, lower case: "vandalism",
 * "unsafe_place"; subcategory [a-z0-9_-], at most MAPPING_SUBCATEGORY_MAX
 * bytes) or "skip". from is the partner's value (UTF-8, at most
 * MAPPING_VALUE_MAX bytes), or "*" for the default rule. Spaces around
 * either are ignored. A later rule for the same value replaces the earlier
 * one (keeping its place). 0, or -1 with the reason in err ("\"vandalsm\"
 * is not a category (gathering, vandalism, ...) or skip").
 */
int mapping_add(struct mapping *m, const char *from, const char *to, char *err, size_t errlen);

/*
 * Looks value up: its own rule, else the default rule, else MAP_UNKNOWN.
 * MAP_REPORT sets *category and *subcategory (owned by m; "" when the rule
 * gives none); MAP_SKIP and MAP_UNKNOWN leave them alone. A NULL value is
 * looked up as "".
 */
enum mapping_action mapping_lookup(const struct mapping *m, const char *value,
                                   Est__V1__Category *category, const char **subcategory);

/* Number of rules, the default rule included. */
size_t mapping_size(const struct mapping *m);

/* Whether m has a rule of its own for from (compared as lookups do); "*" asks for the default. */
bool mapping_has(const struct mapping *m, const char *from);

/*
 * The i-th rule in the order added, for writing a table out: *from as it
 * was given (trimmed) and *to in the normal form "skip", "category" or
 * "category/subcategory"; both owned by m. false past the last rule.
 */
bool mapping_rule(const struct mapping *m, size_t i, const char **from, const char **to);

/* A new copy of m the caller owns; NULL when out of memory. */
struct mapping *mapping_copy(const struct mapping *m);

/*
 * The shipped default table of format (by its --format name), a new table
 * the caller owns; NULL when the format has no table ("json").
 */
struct mapping *mapping_default(const char *format);

/*
 * The partner's field the values of format's table come from ("kategori",
 * "type", "service_code"), for messages; NULL when the format has no table.
 */
const char *mapping_field(const char *format);

/* The category names rules use, "gathering, vandalism, ...", for messages and comments. */
void mapping_category_names(char *out, size_t outlen);

/* How mapping_same compares. */
enum mapping_fold {
	/*
	 * Case: ASCII and Latin-1 letters (Å Ä Ö É Ü ...) compare equal to their
	 * lower case; a, o, e, u followed by a combining ring, diaeresis or acute
	 * accent compare equal to å, ä, ö, é, ü (text copied from macOS).
	 */
	MAPPING_FOLD_CASE,
	/* Case as above, and accents too: å ä as a, ö ø as o, é as e, ü as u, ... */
	MAPPING_FOLD_ACCENTS,
};

/*
 * Whether a and b are the same text under how, ignoring surrounding white
 * space and counting a run of inner white space (no-break space included)
 * as one space. Bytes that are not UTF-8 compare as themselves.
 */
bool mapping_same(const char *a, const char *b, enum mapping_fold how);

#endif
