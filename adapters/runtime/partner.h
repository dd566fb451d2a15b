/* SPDX-License-Identifier: Apache-2.0 */
/*
 * partner: what every partner translator needs alike: reading a partner's
 * JSON file (capped, byte order mark allowed, duplicate keys refused, no
 * partner text quoted back in errors), the record a JSON item becomes with
 * the steps the JSON formats share (id, category by the mapping table),
 * and cleaning texts for the report.
 */
#ifndef ESTHUB_ADAPTER_PARTNER_H
#define ESTHUB_ADAPTER_PARTNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime/format.h"

/* Largest partner file read. */
#define PARTNER_FILE_MAX (64L * 1024 * 1024)

/*
 * Reads input's whole stream as one JSON array. On failure returns NULL
 * with the reason in err, naming the file and saying it is "NOT_WHAT" (e.g.
 * "not a police events file") and, for a JSON value that is not an array,
 * "expected a JSON array of ITEMS". The caller owns the result (json_decref).
 */
json_t *partner_json_array(const struct format_input *input, const char *not_what,
                           const char *items, char *err, size_t errlen);

/* How many texts of one record a translator may keep (partner_keep). */
#define PARTNER_OWNED 4

/*
 * One item of a partner's JSON array on its way to a report: the report,
 * what it points into, and the outcome so far. A translator fills it with
 * the helpers below; those that fail set kind, field and reason, and
 * return -1, so a translation is a chain of calls that stops at the first.
 */
struct partner_rec {
	Est__V1__Report r;
	Est__V1__Position pos;
	char number[32];            /* a numeric id as decimal text */
	char sub[80];               /* the subcategory the mapping table gave */
	char area[32];              /* an area id the translator found by name */
	char *owned[PARTNER_OWNED]; /* copies of the item's texts (partner_keep) */
	size_t n_owned;
	char why[256]; /* a reason written for this item (partner_echo) */
	enum format_kind kind;
	const char *field;
	const char *reason;
	bool no_memory;
};

/* Translates item o into rec (kind FORMAT_REPORT unless a helper said otherwise). */
typedef void (*partner_translate_fn)(struct partner_rec *rec, const struct format_input *input,
                                     const json_t *o);

/*
 * A translator's whole read for a JSON-array format: reads the array
 * (partner_json_array), and for each item in order a fresh record,
 * translate, then the record emitted (the report, the error or the skip)
 * and its texts freed. Returns 0 at the end, the nonzero answer of the emit
 * that stopped it, or -1 with the reason in err (the file refused whole,
 * out of memory).
 */
int partner_json_each(const struct format_input *input, const char *not_what, const char *items,
                      partner_translate_fn translate, char *err, size_t errlen);

/* Marks rec refused: field (may be NULL) and reason. Returns -1. */
int partner_fail(struct partner_rec *rec, const char *field, const char *reason);

/* A copy of s without surrounding white space, kept by rec; NULL (no_memory) when out of room. */
char *partner_keep(struct partner_rec *rec, const char *s);

/*
 * The string member key of o in *out, NULL when absent or null. -1 (an
 * error naming field) when it is there but not a string, or holds a NUL.
 */
int partner_member_text(struct partner_rec *rec, const json_t *o, const char *key,
                        const char *field, const char **out);

/* "what \"value\"", or "what this value" for a long one, written into rec->why. */
const char *partner_echo(struct partner_rec *rec, const char *what, const char *value);

/* The partner's id from member key: a whole number, or a string (trimmed, one line). */
int partner_rec_id(struct partner_rec *rec, const json_t *o, const char *key);

/* The category and subcategory of the partner's code in member key, by the mapping table. */
int partner_rec_category(struct partner_rec *rec, const struct mapping *map, const json_t *o,
                         const char *key);

/* Turns every control character of s into a space: for one-line fields. */
void partner_text_one_line(char *s);

/* Turns CRLF and CR into LF and every other control character but TAB into a space. */
void partner_text_multi_line(char *s);

#endif
