/* SPDX-License-Identifier: Apache-2.0 */
/*
 * partner: what every partner translator needs alike: reading a partner's
 * JSON file (capped, byte order mark allowed, duplicate keys refused, no
 * partner text quoted back in errors) and cleaning texts for the report.
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

/*
 * Translates one item of a partner's JSON array (index from 1) and emits
 * it. Returns the emit's answer; 0 with *no_memory set when out of memory.
 */
typedef int (*partner_item_fn)(const struct format_input *input, uint64_t index, const json_t *o,
                               bool *no_memory);

/*
 * A translator's whole read for a JSON-array format: reads the array
 * (partner_json_array) and hands each item to one, in order. Returns 0 at
 * the end, the nonzero answer that stopped it, or -1 with the reason in err
 * (the file refused whole, out of memory).
 */
int partner_json_each(const struct format_input *input, const char *not_what, const char *items,
                      partner_item_fn one, char *err, size_t errlen);

/* Turns every control character of s into a space: for one-line fields. */
void partner_text_one_line(char *s);

/* Turns CRLF and CR into LF and every other control character but TAB into a space. */
void partner_text_multi_line(char *s);

#endif
