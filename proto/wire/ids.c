/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ids: the contract's fixed ids and their checks (see ids.h). Topics are
 * "AREA/KIND"; a pattern may put "*" for a whole segment.
 */
#include "wire/ids.h"

#include <stdint.h>
#include <string.h>

const char *const ids_areas[] = {"marielund", "hageby", "navestad", "klockaretorpet", "city"};
const size_t ids_n_areas = sizeof ids_areas / sizeof ids_areas[0];

static const char *const topic_kinds[] = {"reports", "measures", "pictures", "checkpoints",
                                          "audit"};
static const char *const role_names[] = {"none", "adapter", "subscriber", "admin"};

static bool
in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

enum ids_role
ids_role_parse(const char *s)
{
	for (int r = ROLE_ADAPTER; r <= ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum ids_role)r;
	return ROLE_NONE;
}

const char *
ids_role_name(enum ids_role r)
{
	return (r >= ROLE_NONE && r <= ROLE_ADMIN) ? role_names[r] : "none";
}

bool
ids_area_valid(const char *s)
{
	return in_list(s, ids_areas, ids_n_areas);
}

bool
ids_topic_area_valid(const char *s)
{
	return ids_area_valid(s) || strcmp(s, "all") == 0 || strcmp(s, "outside") == 0;
}

bool
ids_topic_kind_valid(const char *s)
{
	return in_list(s, topic_kinds, sizeof topic_kinds / sizeof topic_kinds[0]);
}

/* Whether s is 1..max characters, each a lower-case letter, a digit or in extra. */
static bool
charset_valid(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)))
			return false;
	}
	return true;
}

bool
ids_org_valid(const char *s)
{
	return charset_valid(s, IDS_ORG_MAX, "-");
}

bool
ids_client_name_valid(const char *s)
{
	return charset_valid(s, IDS_NAME_MAX, "_-");
}

bool
ids_group_valid(const char *s)
{
	const char *slash = strchr(s, '/');
	if (slash == NULL)
		return ids_area_valid(s);
	size_t alen = (size_t)(slash - s);
	char area[32];
	if (alen == 0 || alen >= sizeof area)
		return false;
	memcpy(area, s, alen);
	area[alen] = '\0';
	if (!ids_area_valid(area) || strcmp(area, "city") == 0)
		return false;
	return strcmp(slash + 1, "situational") == 0 || strcmp(slash + 1, "social") == 0;
}

/* Splits "A/B" into its two segments; false when the form is wrong. */
static bool
split_topic(const char *t, char *area, size_t alen, const char **kind)
{
	const char *slash = strchr(t, '/');
	if (slash == NULL || strlen(t) > IDS_TOPIC_MAX)
		return false;
	size_t n = (size_t)(slash - t);
	if (n == 0 || n >= alen || strchr(slash + 1, '/') != NULL)
		return false;
	memcpy(area, t, n);
	area[n] = '\0';
	*kind = slash + 1;
	return true;
}

bool
ids_topic_pattern_valid(const char *pattern)
{
	char area[IDS_TOPIC_MAX + 1];
	const char *kind;
	if (!split_topic(pattern, area, sizeof area, &kind))
		return false;
	bool area_ok = strcmp(area, "*") == 0 || ids_topic_area_valid(area);
	bool kind_ok = strcmp(kind, "*") == 0 || ids_topic_kind_valid(kind);
	return area_ok && kind_ok;
}

bool
ids_topic_match(const char *pattern, const char *topic)
{
	char parea[IDS_TOPIC_MAX + 1], tarea[IDS_TOPIC_MAX + 1];
	const char *pkind, *tkind;
	if (!split_topic(pattern, parea, sizeof parea, &pkind) ||
	    !split_topic(topic, tarea, sizeof tarea, &tkind))
		return false;
	bool area_ok = strcmp(parea, "*") == 0 || strcmp(parea, tarea) == 0;
	bool kind_ok = strcmp(pkind, "*") == 0 || strcmp(pkind, tkind) == 0;
	return area_ok && kind_ok;
}

#define BYTES_ONES  UINT64_C(0x0101010101010101)
#define BYTES_HIGHS UINT64_C(0x8080808080808080)

/*
 * Whether some byte of the eight in x is a control character (below 0x20,
 * or 0x7f). (x - 0x20 each) & ~x & 0x80 each is non-zero exactly when some
 * byte of x is below 0x20 (bytes from 0x80 up have their top bit cleared by
 * ~x), and the same of x ^ 0x7f each when some byte is 0x7f.
 */
static inline bool
word_has_control(uint64_t x)
{
	uint64_t del = x ^ (0x7f * BYTES_ONES);
	return (((x - 0x20 * BYTES_ONES) & ~x & BYTES_HIGHS) |
	        ((del - BYTES_ONES) & ~del & BYTES_HIGHS)) != 0;
}

size_t
ids_first_control(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	/*
	 * Eight bytes at a time while none is a control character (byte at a
	 * time was 3.7% of the receiving thread's samples).
	 */
	while (i < len) {
		if (len - i >= sizeof(uint64_t)) {
			uint64_t x;
			memcpy(&x, p + i, sizeof x);
			if (!word_has_control(x)) {
				i += sizeof x;
				continue;
			}
		}
		for (size_t end = len - i > sizeof(uint64_t) ? i + sizeof(uint64_t) : len; i < end;
		     i++)
			if (p[i] < 0x20 || p[i] == 0x7f)
				return i;
	}
	return len;
}

size_t
ids_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/*
 * The length of the multi-byte UTF-8 character at p[i] (its lead byte is
 * 0x80 or above): 2 to 4, or 0 when it is not valid UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut
 * off by the end of the text).
 */
static size_t
utf8_multibyte(const unsigned char *p, size_t i, size_t len)
{
	unsigned c = p[i], min, cp;
	size_t n;
	if ((c & 0xE0) == 0xC0)
		n = 1, min = 0x80, cp = c & 0x1F;
	else if ((c & 0xF0) == 0xE0)
		n = 2, min = 0x800, cp = c & 0x0F;
	else if ((c & 0xF8) == 0xF0)
		n = 3, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (i + n >= len) /* the sequence runs past the end */
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((p[i + k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i + k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n + 1;
}

bool
ids_text_scan(const char *s, size_t len, size_t *control)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	*control = len;
	while (i < len) {
		/*
		 * Most text is printable ASCII: eight bytes at a time while no top
		 * bit is set and no control character is among them (byte at a
		 * time was 3% of the hub).
		 */
		if (len - i >= sizeof(uint64_t)) {
			uint64_t x;
			memcpy(&x, p + i, sizeof x);
			if (!(x & BYTES_HIGHS) && !word_has_control(x)) {
				i += sizeof x;
				continue;
			}
		}
		/* Through these eight bytes a character at a time (the last may run past them). */
		for (size_t end = len - i > sizeof(uint64_t) ? i + sizeof(uint64_t) : len;
		     i < end;) {
			unsigned c = p[i];
			if (c < 0x80) {
				if ((c < 0x20 || c == 0x7f) && *control == len)
					*control = i;
				i++;
				continue;
			}
			size_t n = utf8_multibyte(p, i, len);
			if (n == 0)
				return false;
			i += n;
		}
	}
	return true;
}

bool
ids_utf8_valid(const char *s, size_t len)
{
	size_t control;
	return ids_text_scan(s, len, &control);
}
