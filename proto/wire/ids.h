/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ids: the fixed ids of the contract (areas, groups, roles, organisations,
 * client names, topics) and their checks. Pure functions, no allocation.
 */
#ifndef ESTHUB_WIRE_IDS_H
#define ESTHUB_WIRE_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define IDS_ORG_MAX    32
#define IDS_NAME_MAX   64
#define IDS_TOPIC_MAX  64
#define IDS_GROUPS_MAX 16

/* The five EST areas, in the contract's order. */
extern const char *const ids_areas[];
extern const size_t ids_n_areas;

enum ids_role { ROLE_NONE = 0, ROLE_ADAPTER, ROLE_SUBSCRIBER, ROLE_ADMIN };

/* "adapter", "subscriber", "admin" -> role; ROLE_NONE otherwise. */
enum ids_role ids_role_parse(const char *s);
const char *ids_role_name(enum ids_role r);

/* One of the five EST areas. */
bool ids_area_valid(const char *s);
/* An area, or "all", or "outside": what may stand before the / of a topic. */
bool ids_topic_area_valid(const char *s);
/* [a-z0-9-]{1,32} */
bool ids_org_valid(const char *s);
/* [a-z0-9_-]{1,64} */
bool ids_client_name_valid(const char *s);
/* AREA/situational, AREA/social for every area but city, or a bare AREA. */
bool ids_group_valid(const char *s);
/* reports, measures, pictures, checkpoints, audit */
bool ids_topic_kind_valid(const char *s);

/*
 * Whether pattern is a valid topic pattern: AREA/KIND where each segment is
 * a valid value or "*". The entry topics themselves pass too.
 */
bool ids_topic_pattern_valid(const char *pattern);
/* Whether topic (never a pattern) matches pattern ("*" matches one whole segment). */
bool ids_topic_match(const char *pattern, const char *topic);

/* Whether s is len bytes of valid UTF-8 (no overlongs, no surrogates). */
bool ids_utf8_valid(const char *s, size_t len);

/*
 * The index of the first control character in s (a byte below 0x20, or
 * 0x7f), or len when there is none. Bytes of multi-byte UTF-8 characters
 * are never control characters.
 */
size_t ids_first_control(const char *s, size_t len);

/*
 * Both of the above in one pass, for text fields: false when s is not valid
 * UTF-8; else true, with *control the index of the first control character
 * (len when there is none). ids_utf8_valid is this without *control.
 */
bool ids_text_scan(const char *s, size_t len, size_t *control);

/*
 * Copies the string src into dst (cap bytes, at least 1) as
 * snprintf(dst, cap, "%s", src) would, cut short to fit, and returns the
 * length copied: for the per-report copies where snprintf's formatting
 * showed in profiles (4.6% of the receiving thread's samples).
 */
size_t ids_copy(char *dst, size_t cap, const char *src);

#endif
